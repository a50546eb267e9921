/* Reading the relocation records of program sections (.rel<section>): each becomes an
 * ayac_reloc on the function that contains the instruction, classified the way libbpf
 * does (map, global data, bpf-to-bpf call, function address, extern). reloc.c applies
 * them once maps have fds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf.h"

static struct ayac_prog *function_at(struct ayac_obj *obj, size_t sec_idx, size_t insn_idx)
{
	size_t i;

	for (i = 0; i < obj->nr_all_progs; i++) {
		struct ayac_prog *p = obj->progs[i];
		if ((size_t)p->sec_idx == sec_idx && insn_idx >= p->sec_insn_off &&
		    insn_idx < p->sec_insn_off + p->sec_insn_cnt)
			return p;
	}
	return NULL;
}

static int find_map_idx(const struct ayac_obj *obj, size_t sec_idx, size_t sec_offset, bool data)
{
	size_t i;

	for (i = 0; i < obj->nr_maps; i++) {
		const struct ayac_map *m = obj->maps[i];
		if ((size_t)m->sec_idx != sec_idx || (m->kind != AYAC_MAP_USER) != data)
			continue;
		if (data || m->sec_offset == sec_offset)
			return (int)i;
	}
	return -1;
}

static int classify(struct ayac_obj *obj, struct ayac_elf *elf, const struct bpf_insn *insn,
		    const GElf_Sym *sym, struct ayac_reloc *r, const char *where)
{
	const char *sym_name = ayac_elf_sym_name(elf, sym);
	bool is_call = insn->code == (BPF_JMP | BPF_CALL);
	size_t shndx = sym->st_shndx;

	r->sym_off = (__s64)sym->st_value;
	if (!is_call && insn->code != (BPF_LD | BPF_IMM | BPF_DW))
		return ayac_seterr(AYAC_EBADELF, "%s: relocation against '%s' on an instruction that "
				   "is neither ld_imm64 nor call (code 0x%x)", where, sym_name, insn->code);
	if (shndx == SHN_UNDEF) {
		if (GELF_ST_BIND(sym->st_info) == STB_LOCAL)
			return ayac_seterr(AYAC_EBADELF, "%s: relocation against undefined local '%s'",
					   where, sym_name);
		r->type = AYAC_RELOC_EXTERN;
		return 0;
	}
	if (shndx >= elf->nsecs || shndx >= SHN_LORESERVE)
		return ayac_seterr(AYAC_EBADELF, "%s: relocation against '%s' in special section 0x%zx "
				   "(an uninitialized global? initialize it)", where, sym_name, shndx);
	if (is_call || elf->secs[shndx].kind == AYAC_SEC_PROG) {
		if (is_call && insn->src_reg != BPF_PSEUDO_CALL)
			return ayac_seterr(AYAC_EBADELF, "%s: relocated call to '%s' is not a bpf-to-bpf "
					   "call", where, sym_name);
		if (elf->secs[shndx].kind != AYAC_SEC_PROG || sym->st_value % BPF_INSN_SZ ||
		    (!is_call && insn->imm % (int)BPF_INSN_SZ))
			return ayac_seterr(AYAC_EBADELF, "%s: bad %s relocation against '%s'", where,
					   is_call ? "call" : "function address", sym_name);
		r->type = is_call ? AYAC_RELOC_CALL : AYAC_RELOC_SUBPROG_ADDR;
		r->sym_sec = shndx;
		return 0;
	}
	if (shndx == elf->maps_idx || shndx == elf->legacy_maps_idx) {
		r->type = AYAC_RELOC_MAP;
		r->map_idx = find_map_idx(obj, shndx, sym->st_value, false);
	} else if (ayac_elf_sec_is_data(elf, shndx)) {
		r->type = AYAC_RELOC_DATA;
		r->map_idx = find_map_idx(obj, shndx, 0, true);
	} else {
		return ayac_seterr(AYAC_EBADELF, "%s: relocation against '%s' in section '%s', which "
				   "holds no maps, variables or functions", where, sym_name,
				   elf->secs[shndx].name);
	}
	if (r->map_idx < 0)
		return ayac_seterr(AYAC_EBADELF, "%s: no map for relocation against '%s'", where, sym_name);
	return 0;
}

static int add_reloc(struct ayac_prog *prog, const struct ayac_reloc *r)
{
	struct ayac_reloc *v = ayac_reallocarray(prog->relocs, prog->nr_relocs + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	prog->relocs = v;
	v[prog->nr_relocs++] = *r;
	return 0;
}

static int read_one(struct ayac_obj *obj, struct ayac_elf *elf, size_t target, const GElf_Rel *rel)
{
	const struct ayac_elf_sec *sec = &elf->secs[target];
	struct bpf_insn insn;
	struct ayac_reloc r = { .sym_idx = (int)GELF_R_SYM(rel->r_info) };
	struct ayac_prog *prog;
	size_t insn_idx;
	char where[256];
	GElf_Sym sym;
	int err;

	if (rel->r_offset % BPF_INSN_SZ || rel->r_offset >= sec->shdr.sh_size)
		return ayac_seterr(AYAC_EBADELF, "section '%s': relocation offset %lu outside the "
				   "section or misaligned", sec->name, (unsigned long)rel->r_offset);
	insn_idx = rel->r_offset / BPF_INSN_SZ;
	prog = function_at(obj, target, insn_idx);
	if (!prog)
		return ayac_seterr(AYAC_EBADELF, "section '%s': relocation at offset %lu is in no "
				   "function", sec->name, (unsigned long)rel->r_offset);
	snprintf(where, sizeof(where), "program '%s' (%s) instruction %zu", prog->name,
		 prog->sec_name, insn_idx - prog->sec_insn_off);
	if ((err = ayac_elf_sym(elf, (size_t)r.sym_idx, &sym)))
		return ayac_errctx("%s", where);
	/* Section data need not be 8-aligned in the file: copy, never cast in place. */
	memcpy(&insn, (const char *)sec->data->d_buf + rel->r_offset, sizeof(insn));
	if (insn.code == (BPF_LD | BPF_IMM | BPF_DW) &&
	    insn_idx + 1 >= prog->sec_insn_off + prog->sec_insn_cnt)
		return ayac_seterr(AYAC_EBADELF, "%s: ld_imm64 cut off by the end of the function", where);
	if ((err = classify(obj, elf, &insn, &sym, &r, where)))
		return err;
	r.insn_idx = insn_idx - prog->sec_insn_off;
	return add_reloc(prog, &r);
}

int ayac_elf_rel_count(const struct ayac_elf *elf, size_t rel_idx, size_t *n)
{
	const struct ayac_elf_sec *sec = &elf->secs[rel_idx];

	if (sec->shdr.sh_link != elf->symtab_idx || sec->shdr.sh_entsize != sizeof(Elf64_Rel) ||
	    !sec->data)
		return ayac_seterr(AYAC_EBADELF, "relocation section '%s' is corrupt", sec->name);
	*n = sec->data->d_size / sizeof(Elf64_Rel);
	return 0;
}

int ayac_elf_rel_at(const struct ayac_elf *elf, size_t rel_idx, size_t i, GElf_Rel *rel)
{
	const struct ayac_elf_sec *sec = &elf->secs[rel_idx];

	if (i > INT32_MAX || !gelf_getrel(sec->data, (int)i, rel))
		return ayac_seterr(AYAC_EBADELF, "section '%s': unreadable relocation %zu", sec->name, i);
	return 0;
}

static int read_section_relocs(struct ayac_obj *obj, struct ayac_elf *elf, size_t idx)
{
	const struct ayac_elf_sec *sec = &elf->secs[idx];
	size_t target = sec->shdr.sh_info, i, n;
	GElf_Rel rel;
	int err;

	if (target == 0 || target >= elf->nsecs)
		return ayac_seterr(AYAC_EBADELF, "relocation section '%s' targets section %zu of %zu",
				   sec->name, target, elf->nsecs);
	if (target == elf->maps_idx)
		return ayac_elf_read_map_slots(obj, elf, idx);
	if (elf->secs[target].kind == AYAC_SEC_STRUCT_OPS)
		return ayac_elf_read_struct_ops_relocs(obj, elf, idx);
	if (elf->secs[target].kind != AYAC_SEC_PROG)
		return 0; /* debug info and BTF sections: nothing for the loader */
	err = ayac_elf_rel_count(elf, idx, &n);
	for (i = 0; !err && i < n; i++)
		if (!(err = ayac_elf_rel_at(elf, idx, i, &rel)))
			err = read_one(obj, elf, target, &rel);
	return err;
}

int ayac_elf_read_relocs(struct ayac_obj *obj, struct ayac_elf *elf)
{
	size_t i;
	int err;

	for (i = 1; i < elf->nsecs; i++)
		if (elf->secs[i].kind == AYAC_SEC_RELO && (err = read_section_relocs(obj, elf, i)))
			return err;
	return 0;
}
