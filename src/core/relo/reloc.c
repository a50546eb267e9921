/* Building each program's final instructions: its own code, then every function it
 * calls (or takes the address of) appended once, calls patched to the new distances,
 * maps and globals turned into fds, func_info/line_info rebased to where each function
 * landed. Runs after maps exist, before programs load. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "relo.h"
#include "elf/elf.h"

struct build {
	struct ayac_obj *obj;
	struct ayac_prog *main;
	struct ayac_prog **placed;   /* functions in the order they were laid out */
	size_t nr_placed;
};

static struct ayac_prog *function_starting_at(const struct ayac_obj *obj, size_t sec, size_t idx)
{
	size_t i;

	for (i = 0; i < obj->nr_all_progs; i++)
		if ((size_t)obj->progs[i]->sec_idx == sec && obj->progs[i]->sec_insn_off == idx)
			return obj->progs[i];
	return NULL;
}

static const struct ayac_reloc *reloc_at(const struct ayac_prog *fn, size_t insn_idx)
{
	size_t i;

	for (i = 0; i < fn->nr_relocs; i++)
		if (fn->relocs[i].insn_idx == insn_idx)
			return &fn->relocs[i];
	return NULL;
}

static size_t base_of(const struct build *b, const struct ayac_prog *fn)
{
	return fn == b->main ? 0 : fn->sub_insn_off;
}

static int relocate_function(struct build *b, struct ayac_prog *fn);

static int place_function(struct build *b, struct ayac_prog *fn)
{
	const struct ayac_elf_sec *sec = &b->obj->elf->secs[fn->sec_idx];
	struct ayac_prog *m = b->main;
	struct bpf_insn *insns;
	struct ayac_prog **placed;

	insns = ayac_reallocarray(m->insns, m->insn_cnt + fn->sec_insn_cnt, sizeof(*insns));
	if (!insns)
		return -ENOMEM;
	m->insns = insns;
	placed = ayac_reallocarray(b->placed, b->nr_placed + 1, sizeof(*placed));
	if (!placed)
		return -ENOMEM;
	b->placed = placed;
	b->placed[b->nr_placed++] = fn;
	memcpy(m->insns + m->insn_cnt, (const char *)sec->data->d_buf + fn->sec_insn_off * BPF_INSN_SZ,
	       fn->sec_insn_cnt * BPF_INSN_SZ);
	fn->sub_insn_off = m->insn_cnt;
	fn->appended_to = m;
	m->insn_cnt += fn->sec_insn_cnt;
	return relocate_function(b, fn);
}

static int apply_data_reloc(struct build *b, struct ayac_prog *fn, const struct ayac_reloc *r)
{
	struct bpf_insn *insn = &b->main->insns[base_of(b, fn) + r->insn_idx];
	const struct ayac_map *map;

	if (r->type == AYAC_RELOC_EXTERN)
		return ayac_extern_relocate(b->obj, b->main, insn, r);
	map = b->obj->maps[r->map_idx];
	if (map->fd < 0)
		return ayac_seterr(EINVAL, "program '%s' uses map '%s', which was not created",
				   b->main->name, map->name);
	if (r->type == AYAC_RELOC_MAP) {
		insn->src_reg = BPF_PSEUDO_MAP_FD;
		insn->imm = map->fd;
	} else {
		/* Global variables: the address is map value + offset; clang left the offset
		 * in imm for section-symbol relocations and in the symbol for named ones. */
		insn[1].imm = insn[0].imm + (int)r->sym_off;
		insn[0].src_reg = BPF_PSEUDO_MAP_VALUE;
		insn[0].imm = map->fd;
	}
	return 0;
}

/* The callee of a bpf-to-bpf call or function-address load at insn_idx of fn. */
static int callee_of(struct build *b, struct ayac_prog *fn, size_t i, const struct ayac_reloc *r,
		     struct ayac_prog **out)
{
	const struct bpf_insn *insn = &b->main->insns[base_of(b, fn) + i];
	size_t sec = (size_t)fn->sec_idx;
	long long idx = (long long)fn->sec_insn_off + (long long)i + insn->imm + 1;

	if (r && r->type == AYAC_RELOC_CALL) {
		sec = r->sym_sec;
		idx = r->sym_off / BPF_INSN_SZ + insn->imm + 1;
	} else if (r && r->type == AYAC_RELOC_SUBPROG_ADDR) {
		sec = r->sym_sec;
		idx = (r->sym_off + insn->imm) / BPF_INSN_SZ;
	}
	*out = idx >= 0 ? function_starting_at(b->obj, sec, (size_t)idx) : NULL;
	if (!*out)
		return ayac_seterr(AYAC_EBADELF, "program '%s': call at instruction %zu of '%s' "
				   "targets no function start", b->main->name, i, fn->name);
	return 0;
}

static bool is_call_site(const struct bpf_insn *insn, const struct ayac_reloc *r)
{
	if (insn->code == (BPF_JMP | BPF_CALL))
		return insn->src_reg == BPF_PSEUDO_CALL;
	return r && r->type == AYAC_RELOC_SUBPROG_ADDR;
}

static int relocate_function(struct build *b, struct ayac_prog *fn)
{
	size_t i;
	int err;

	for (i = 0; i < fn->nr_relocs; i++) {
		const struct ayac_reloc *r = &fn->relocs[i];
		if (r->type != AYAC_RELOC_CALL && r->type != AYAC_RELOC_SUBPROG_ADDR &&
		    (err = apply_data_reloc(b, fn, r)))
			return err;
	}
	for (i = 0; i < fn->sec_insn_cnt; i++) {
		const struct ayac_reloc *r = reloc_at(fn, i);
		struct bpf_insn *insn = &b->main->insns[base_of(b, fn) + i];
		struct ayac_prog *callee;
		bool ldimm64 = insn->code == (BPF_LD | BPF_IMM | BPF_DW);

		if (is_call_site(insn, r)) {
			if ((err = callee_of(b, fn, i, r, &callee)))
				return err;
			if (callee != b->main && callee->appended_to != b->main &&
			    (err = place_function(b, callee)))
				return err;
			insn = &b->main->insns[base_of(b, fn) + i]; /* placing reallocated */
			insn->imm = (int)((long long)base_of(b, callee) - (long long)(base_of(b, fn) + i) - 1);
			if (ldimm64)
				insn->src_reg = BPF_PSEUDO_FUNC;
		}
		if (ldimm64)
			i++;
	}
	return 0;
}

/* Copies the .BTF.ext records of each placed function with insn_off (bytes in the
 * section) turned into instruction indexes in the built program. */
static int rebase_records(struct build *b, const struct ayac_btf_ext_info *info, size_t size,
			  void **out, __u32 *count)
{
	size_t f, r, n = 0;
	char *recs = NULL;

	for (f = 0; f < b->nr_placed; f++) {
		const struct ayac_prog *fn = b->placed[f];
		const struct ayac_btf_ext_sec *sec = ayac_btf_ext_find(info, fn->sec_name);
		for (r = 0; sec && r < sec->num; r++) {
			const char *rec = (const char *)sec->recs + r * sec->rec_size;
			__u32 off;
			char *grown;

			memcpy(&off, rec, sizeof(off));
			if (off % BPF_INSN_SZ || off / BPF_INSN_SZ < fn->sec_insn_off ||
			    off / BPF_INSN_SZ >= fn->sec_insn_off + fn->sec_insn_cnt)
				continue;
			grown = ayac_reallocarray(recs, n + 1, size);
			if (!grown) {
				free(recs);
				return -ENOMEM;
			}
			recs = grown;
			memcpy(recs + n * size, rec, size);
			off = (__u32)(off / BPF_INSN_SZ - fn->sec_insn_off + base_of(b, fn));
			memcpy(recs + n * size, &off, sizeof(off));
			n++;
		}
	}
	*out = recs;
	*count = (__u32)n;
	return 0;
}

static int build_program(struct ayac_obj *obj, struct ayac_prog *prog)
{
	struct build b = { .obj = obj, .main = prog };
	int err;

	free(prog->insns);
	free(prog->func_info);
	free(prog->line_info);
	prog->insns = NULL;
	prog->func_info = NULL;
	prog->line_info = NULL;
	prog->insn_cnt = 0;
	prog->func_info_cnt = prog->line_info_cnt = 0;
	err = place_function(&b, prog);
	for (size_t f = 0; !err && f < b.nr_placed; f++)
		err = ayac_core_relocate(obj, prog, b.placed[f], base_of(&b, b.placed[f]));
	if (!err && obj->btf_ext) {
		err = rebase_records(&b, &obj->btf_ext->func_info, sizeof(struct bpf_func_info),
				     (void **)&prog->func_info, &prog->func_info_cnt);
		if (!err)
			err = rebase_records(&b, &obj->btf_ext->line_info, sizeof(struct bpf_line_info),
					     (void **)&prog->line_info, &prog->line_info_cnt);
	}
	free(b.placed);
	for (size_t i = 0; i < obj->nr_all_progs; i++)
		obj->progs[i]->appended_to = NULL;
	return err;
}

int ayac_obj_relocate(struct ayac_obj *obj)
{
	size_t i;
	int err;

	for (i = 0; i < obj->nr_progs; i++) {
		struct ayac_prog *prog = obj->progs[i];
		if (!prog->autoload && !prog->ext_deferred)
			continue;
		if ((err = build_program(obj, prog)))
			return err;
	}
	return 0;
}
