/* Fuzz target: CO-RE relocation on a fuzzed pair of BTFs — the object's own BTF and
 * .BTF.ext records (local side) against a target BTF, as a load does against vmlinux:
 * access strings parsed in the local BTF, candidates found by essential name in the
 * target, each matched field by field, the values computed, and the function's
 * instructions patched or poisoned.
 *
 * Input: a u32 length n, n bytes of a BPF ELF object, then the target's raw BTF (empty:
 * the object's own BTF). Seeds: spec/bpf and libbpf-tools objects paired with the .BTF
 * of other objects. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "internal.h"
#include "elf/elf.h"
#include "relo/core_priv.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_forbid_kernel();
	return 0;
}

static bool set_target(struct ayac_obj *obj, const uint8_t *data, size_t size)
{
	struct ayac_core_state *st = core_state(obj);
	const void *raw = data;
	__u32 raw_size = (__u32)size;

	if (!st)
		return false;
	if (size == 0)
		raw = ayac_btf_raw(obj->btf, &raw_size);
	st->override_btf = ayac_btf_parse(raw, raw_size, NULL);
	if (!st->override_btf)
		return false;
	st->override = (struct ayac_btf_target){ st->override_btf, NULL, -1 };
	return true;
}

/* One function relocated on its own, as if it were the program. */
static void relocate(struct ayac_obj *obj, struct ayac_prog *fn)
{
	const struct ayac_elf_sec *sec = &obj->elf->secs[fn->sec_idx];

	fn->insns = malloc(fn->sec_insn_cnt * BPF_INSN_SZ);
	if (!fn->insns)
		return;
	memcpy(fn->insns, (const char *)sec->data->d_buf + fn->sec_insn_off * BPF_INSN_SZ,
	       fn->sec_insn_cnt * BPF_INSN_SZ);
	fn->insn_cnt = fn->sec_insn_cnt;
	if (ayac_core_relocate(obj, fn, fn, 0)) {
		fuzz_check_error("CO-RE relocation");
		return;
	}
	if (!fn->nr_core_poisons)
		return;
	/* A verifier log that reached the first poisoned call must be explained. */
	fn->log = strdup("0: (85) call unknown#195896080\ninvalid func unknown#195896080\n");
	if (fn->log && (!ayac_core_explain_reject(fn) || ayac_errnum() != AYAC_ECORE))
		fuzz_fail("function '%s': %zu poisoned relocations, not explained", fn->name,
			  fn->nr_core_poisons);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ayac_open_opts opts = { .btf_path = "<fuzz target BTF>" };
	const uint8_t *elf;
	size_t elf_size, i;
	struct ayac_obj *obj;

	if (!fuzz_take(&data, &size, &elf, &elf_size))
		return 0;
	obj = ayac_obj_open_mem(elf, elf_size, "fuzz", &opts);
	if (!obj)
		return 0; /* the object target covers this */
	if (obj->btf && obj->btf_ext && set_target(obj, data, size))
		for (i = 0; i < obj->nr_all_progs; i++)
			relocate(obj, obj->progs[i]);
	ayac_obj_free(obj);
	return 0;
}
