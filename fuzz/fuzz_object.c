/* Fuzz target: opening a BPF ELF object, as ayac.open(bytes) does — sections, symbols,
 * programs, .maps and legacy maps, data sections and globals, externs, relocation
 * records, .BTF and .BTF.ext — then what load does with them before it reaches the
 * kernel: every program's instructions built (subprograms appended, map and global
 * references patched, CO-RE against the object's own BTF, extern patching, the
 * probe_read rewrite for kernels without bpf_probe_read_kernel) and the object's BTF
 * rewritten for a kernel that lacks every newer BTF kind.
 *
 * Maps get made-up fd numbers for the build (nothing is created) and lose them before
 * the object is freed; feature answers come from AYAC_FEATURES; bpf(2) and
 * perf_event_open(2) abort (fuzz_forbid_kernel). Input: the object's bytes. Seeds:
 * spec/bpf objects and the libbpf-tools corpus. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "internal.h"
#include "model.h"
#include "elf/elf.h"
#include "elf/elf_externs.h"
#include "relo/core_priv.h"
#include "relo/relo.h"

#define FAKE_FD_BASE 100000
/* Every BTF kind the sanitizer knows about, missing. */
#define ALL_MISSING 0xff
/* How ayac_btf_sanitized says that what it wrote failed the check. */
#define NOT_PARSED "sanitize BTF: the rewritten BTF does not parse"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* the answer the probe_read rewrite asks for, without probing */
	setenv("AYAC_FEATURES", "probe_read_kernel=0", 1);
	fuzz_forbid_kernel();
	return 0;
}

/* Bytes the parser says are inside a buffer are read, so that ASan sees a wrong bound:
 * all of a small buffer, the first and last 64 KiB of a large one (a .bss image can be
 * hundreds of MiB of zero pages nobody needs to fault in). */
static unsigned touch(const void *p, size_t n)
{
	const unsigned char *b = p;
	unsigned sum = 0;
	size_t i, edge = 65536;

	for (i = 0; i < n; i++) {
		if (i == edge && n > 2 * edge)
			i = n - edge;
		sum += b[i];
	}
	return sum;
}

static void walk_progs(struct ayac_obj *obj)
{
	const struct ayac_elf *elf = obj->elf;
	size_t i, j;

	for (i = 0; i < obj->nr_all_progs; i++) {
		const struct ayac_prog *p = obj->progs[i];
		const struct ayac_elf_sec *sec = &elf->secs[p->sec_idx];

		if ((p->sec_insn_off + p->sec_insn_cnt) * BPF_INSN_SZ > sec->shdr.sh_size || !sec->data)
			fuzz_fail("program '%s' lies outside section '%s'", p->name, sec->name);
		touch((const char *)sec->data->d_buf + p->sec_insn_off * BPF_INSN_SZ,
		      p->sec_insn_cnt * BPF_INSN_SZ);
		for (j = 0; j < p->nr_relocs; j++) {
			const struct ayac_reloc *r = &p->relocs[j];
			if (r->insn_idx >= p->sec_insn_cnt)
				fuzz_fail("program '%s': relocation at instruction %zu of %zu", p->name,
					  r->insn_idx, p->sec_insn_cnt);
			if ((r->type == AYAC_RELOC_MAP || r->type == AYAC_RELOC_DATA) &&
			    (r->map_idx < 0 || (size_t)r->map_idx >= obj->nr_maps))
				fuzz_fail("program '%s': relocation names map %d of %zu", p->name,
					  r->map_idx, obj->nr_maps);
		}
		if (i < obj->nr_progs && ayac_obj_prog_by_name(obj, p->name) == NULL)
			fuzz_fail("program '%s' not found by its name", p->name);
	}
}

static void walk_maps(struct ayac_obj *obj)
{
	size_t i, size;
	bool writable;
	__u64 bytes;

	for (i = 0; i < obj->nr_maps; i++) {
		struct ayac_map *m = obj->maps[i];
		void *data = ayac_map_data(m, &size, &writable);

		if (m->kind != AYAC_MAP_USER && m->kind != AYAC_MAP_KCONFIG && !data)
			fuzz_fail("data map '%s' has no initial image", m->name);
		if (data)
			touch(data, size);
		if (obj->btf && m->btf_key_type_id)
			ayac_btf_resolve_size(obj->btf, m->btf_key_type_id, &bytes);
		if (obj->btf && m->btf_value_type_id)
			ayac_btf_resolve_size(obj->btf, m->btf_value_type_id, &bytes);
		if (!ayac_obj_map_by_name(obj, m->name))
			fuzz_fail("map '%s' not found by its name", m->name);
		if (m->inner)
			touch(m->inner->name, strlen(m->inner->name));
	}
}

static void walk_globals(struct ayac_obj *obj)
{
	const struct ayac_elf *elf = obj->elf;
	struct ayac_global g;
	size_t i, size;
	bool writable;

	for (i = 0; i < elf->nr_globals; i++) {
		void *data;

		if (ayac_obj_find_global(obj, elf->globals[i].name, &g))
			continue; /* a variable of a section without a map */
		data = ayac_map_data(g.map, &size, &writable);
		if ((size_t)g.offset + g.size > size)
			fuzz_fail("global '%s': %u bytes at %u in a %zu-byte map", g.name, g.size,
				  g.offset, size);
		if (data)
			touch((char *)data + g.offset, g.size);
	}
	if (obj->externs) {
		for (i = 0; i < obj->externs->n; i++) {
			const struct ayac_extern *e = &obj->externs->v[i];
			const struct ayac_map *k = obj->externs->kconfig;
			if (e->kind == AYAC_EXT_KCONFIG &&
			    (!k || (__u64)e->data_off + e->size > k->def.value_size))
				fuzz_fail("extern '%s': %u bytes at %u outside the .kconfig map", e->name,
					  e->size, e->data_off);
		}
	}
}

/* The CO-RE target for the build: a second copy of the object's own BTF. */
static bool own_btf_as_target(struct ayac_obj *obj)
{
	struct ayac_core_state *st;
	const void *raw;
	__u32 size;

	if (!obj->btf)
		return true;
	if (!(st = core_state(obj)))
		return false;
	raw = ayac_btf_raw(obj->btf, &size);
	st->override_btf = ayac_btf_parse(raw, size, NULL);
	if (!st->override_btf)
		fuzz_fail("the object's own BTF does not parse again: %s", ayac_errmsg());
	st->override = (struct ayac_btf_target){ st->override_btf, NULL, -1 };
	return true;
}

static void build(struct ayac_obj *obj)
{
	size_t i, j;

	if (!own_btf_as_target(obj))
		return;
	for (i = 0; i < obj->nr_maps; i++)
		obj->maps[i]->fd = FAKE_FD_BASE + (int)i;
	if (ayac_obj_relocate(obj))
		fuzz_check_error("build programs");
	for (i = 0; i < obj->nr_progs; i++) {
		struct ayac_prog *p = obj->progs[i];
		ayac_prog_fixups(p);
		touch(p->insns, p->insn_cnt * BPF_INSN_SZ);
		for (j = 0; j < p->func_info_cnt; j++)
			if (p->func_info[j].insn_off >= p->insn_cnt)
				fuzz_fail("program '%s': func_info at %u of %zu instructions", p->name,
					  p->func_info[j].insn_off, p->insn_cnt);
		for (j = 0; j < p->line_info_cnt; j++)
			if (p->line_info[j].insn_off >= p->insn_cnt)
				fuzz_fail("program '%s': line_info at %u of %zu instructions", p->name,
					  p->line_info[j].insn_off, p->insn_cnt);
	}
	for (i = 0; i < obj->nr_maps; i++)
		obj->maps[i]->fd = -1;
}

/* The BTF a kernel without func, datasec, float, tags or enum64 gets at load. */
static void sanitize(const struct ayac_obj *obj)
{
	struct ayac_btf *copy;

	if (!obj->btf || !ayac_btf_needs_sanitize(obj->btf, ALL_MISSING))
		return;
	copy = ayac_btf_sanitized(obj->btf, ALL_MISSING);
	if (!copy && strncmp(ayac_errmsg(), NOT_PARSED, strlen(NOT_PARSED)) == 0)
		fuzz_fail("the object's BTF, sanitized, does not parse: %s", ayac_errmsg());
	ayac_btf_free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ayac_open_opts opts = { .btf_path = "<fuzz: the object's own BTF>" };
	struct ayac_obj *obj = ayac_obj_open_mem(data, size, "fuzz", &opts);

	if (!obj) {
		fuzz_check_error("open");
		return 0;
	}
	walk_progs(obj);
	walk_maps(obj);
	walk_globals(obj);
	sanitize(obj);
	build(obj);
	ayac_obj_free(obj);
	return 0;
}
