/* Applying CO-RE relocations: for each .BTF.ext core_relo record of a function placed
 * into a program, resolve it against the target BTFs (core_cands.c, core_calc.c) and
 * patch the instruction as libbpf does: an ALU immediate, a load/store offset (and its
 * size where that is safe), or an ld_imm64 value. A relocation the target cannot
 * satisfy poisons its instruction (an invalid helper call), so the program fails only
 * if the verifier reaches it, and the error then names the relocation. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_priv.h"

/* The helper id of a poisoned instruction: libbpf's 0xbad2310 ("bad relo"). */
#define POISON_IMM 195896080

struct ayac_core_poison {
	size_t insn;  /* index in the program's insns */
	char *what;   /* "CO-RE relocation #n (...): why" */
};

/* One relocation being applied. */
struct relo {
	struct ayac_obj *obj;
	struct ayac_prog *main;
	struct bpf_core_relo rec;
	__u32 idx;                 /* record index within its section, as libbpf numbers them */
	size_t at, avail;          /* instruction in main->insns; instructions left in the function */
	struct core_spec local, cand;
	struct core_res res;
	char desc[256];            /* "field_byte_offset of struct x.a.b" */
	char why[256];             /* why it was poisoned */
};

/* ---- resolving ------------------------------------------------------------------------- */

static const char *type_name(const struct ayac_btf *btf, __u32 id)
{
	const struct btf_type *t = ayac_btf_type(btf, id);
	const char *s = t ? ayac_btf_str(btf, t->name_off) : NULL;

	return s && *s ? s : "<anon>";
}

static int ambiguity(struct relo *r, const struct core_targets *tg, const struct core_cand *a,
		     const struct core_cand *b, __u64 va, __u64 vb)
{
	const struct btf_type *lt = ayac_btf_type(r->local.btf, r->local.root_id);

	return ayac_seterr(AYAC_ECORE, "%s %s: candidates [%u] %s and [%u] %s in the target BTF "
			   "(%s) give different answers (%llu, %llu)",
			   lt ? ayac_btf_kind_name(btf_kind_of(lt)) : "type",
			   type_name(r->local.btf, r->local.root_id), a->id,
			   type_name(tg->t[a->target].btf, a->id), b->id,
			   type_name(tg->t[b->target].btf, b->id), tg->label,
			   (unsigned long long)va, (unsigned long long)vb);
}

/* Why no candidate satisfied the relocation. fail_at: the local access step at which
 * the candidate that got furthest stopped matching (field relocations). */
static void explain_poison(struct relo *r, const struct core_targets *tg, size_t ncands,
			   __u32 fail_at)
{
	const struct core_spec *l = &r->local;
	const struct btf_type *lt = ayac_btf_type(l->btf, l->root_id);
	const char *name = type_name(l->btf, l->root_id);
	const struct core_acc *a = fail_at < l->len ? &l->acc[fail_at] : NULL;
	int elen = (int)core_essential_len(name);

	if (ncands == 0)
		snprintf(r->why, sizeof(r->why), "the target BTF (%s) has no %s named '%.*s'",
			 tg->label, lt ? ayac_btf_kind_name(btf_kind_of(lt)) : "type", elen, name);
	else if (core_kind_is_enumval(l->kind))
		snprintf(r->why, sizeof(r->why), "enum '%.*s' of the target BTF (%s) has no value '%.*s'",
			 elen, name, tg->label, (int)core_essential_len(l->acc[0].name), l->acc[0].name);
	else if (a && a->name)
		snprintf(r->why, sizeof(r->why), "the target BTF (%s) has no compatible field '%s' in "
			 "'%s'", tg->label, a->name, type_name(l->btf, a->type_id));
	else if (a)
		snprintf(r->why, sizeof(r->why), "index [%u] is out of range in the target BTF (%s)",
			 a->idx, tg->label);
	else
		snprintf(r->why, sizeof(r->why), "no candidate in the target BTF (%s) matches",
			 tg->label);
}

/* Match every candidate; all that match must agree. Non-matching ones are dropped
 * from the object's candidate list (libbpf does the same). */
static int resolve_cands(struct relo *r, const struct core_targets *tg, struct core_cands *cands)
{
	struct core_res cres;
	__u64 best_bits = 0;
	size_t i, j = 0, n = cands->n;
	__u32 fail_at = 0;
	int m;

	for (i = 0; i < n; i++) {
		struct core_cand c = cands->c[i];

		m = core_spec_match(&r->local, tg->t[c.target].btf, c.id, &r->cand);
		if (m < 0)
			return ayac_errctx("candidate [%u] %s", c.id, type_name(tg->t[c.target].btf, c.id));
		if (m == 0) {
			if (r->cand.len > fail_at)
				fail_at = r->cand.len;
			continue;
		}
		if (core_calc(&r->local, &r->cand, &cres))
			return ayac_errctx("candidate [%u] %s", c.id, type_name(tg->t[c.target].btf, c.id));
		if (j == 0) {
			r->res = cres;
			best_bits = r->cand.bit_off;
		} else if (r->cand.bit_off != best_bits) {
			return ambiguity(r, tg, &cands->c[0], &c, best_bits / 8, r->cand.bit_off / 8);
		} else if (cres.poison != r->res.poison || cres.new_val != r->res.new_val) {
			return ambiguity(r, tg, &cands->c[0], &c, r->res.new_val, cres.new_val);
		}
		cands->c[j++] = c;
	}
	if (j > 0) {
		cands->n = j;
		return 0;
	}
	if (core_calc(&r->local, NULL, &r->res))
		return -ayac_errnum();
	if (r->res.poison)
		explain_poison(r, tg, n, fail_at);
	return 0;
}

static int resolve(struct relo *r)
{
	struct core_targets tg;
	struct core_cands *cands;
	const struct btf_type *lt;
	int err;

	if (r->rec.kind == BPF_CORE_TYPE_ID_LOCAL) {
		memset(&r->res, 0, sizeof(r->res));
		r->res.orig_val = r->res.new_val = r->local.root_id;
		return 0;
	}
	lt = ayac_btf_type(r->local.btf, r->local.root_id);
	if (!lt || !lt->name_off)
		return ayac_seterr(AYAC_ECORE, "relocations against anonymous types are not supported");
	if ((err = core_targets_get(r->obj, &tg)))
		return err;
	if (tg.n == 0)
		return ayac_seterr(AYAC_ECORE, "no target BTF: the object was opened with btf = false");
	if ((err = core_cands_get(r->obj, &tg, r->local.root_id, &cands)))
		return err;
	return resolve_cands(r, &tg, cands);
}

/* ---- patching ------------------------------------------------------------------------- */

static void poison_insn(struct bpf_insn *insn)
{
	insn->code = BPF_JMP | BPF_CALL;
	insn->dst_reg = 0;
	insn->src_reg = 0;
	insn->off = 0;
	insn->imm = POISON_IMM;
}

static int mem_bytes(__u8 code)
{
	switch (BPF_SIZE(code)) {
	case BPF_DW: return 8;
	case BPF_W: return 4;
	case BPF_H: return 2;
	default: return 1;
	}
}

static int mem_size_code(__u32 bytes)
{
	switch (bytes) {
	case 8: return BPF_DW;
	case 4: return BPF_W;
	case 2: return BPF_H;
	case 1: return BPF_B;
	default: return -1;
	}
}

static int patch_alu(struct bpf_insn *insn, const struct core_res *res)
{
	if (BPF_SRC(insn->code) != BPF_K)
		return ayac_seterr(AYAC_ECORE, "the instruction (code 0x%02x) has a register operand, "
				   "not an immediate", insn->code);
	if (res->validate && (__u64)(__s64)insn->imm != res->orig_val)
		return ayac_seterr(AYAC_ECORE, "the instruction holds %d, the object's BTF says %llu",
				   insn->imm, (unsigned long long)res->orig_val);
	if (res->new_val > UINT32_MAX && (__s64)res->new_val < INT32_MIN)
		return ayac_seterr(AYAC_ECORE, "value %llu does not fit a 32-bit immediate",
				   (unsigned long long)res->new_val);
	insn->imm = (__s32)res->new_val;
	return 0;
}

/* 1: the load/store must be poisoned instead. */
static int patch_mem(struct bpf_insn *insn, const struct core_res *res)
{
	int code;

	if (res->validate && (__u64)(__s64)insn->off != res->orig_val)
		return ayac_seterr(AYAC_ECORE, "the instruction's offset is %d, the object's BTF says "
				   "%llu", insn->off, (unsigned long long)res->orig_val);
	if (res->new_val > SHRT_MAX)
		return ayac_seterr(ERANGE, "offset %llu does not fit a load/store's 16-bit offset",
				   (unsigned long long)res->new_val);
	if (res->fail_memsz)
		return 1;
	insn->off = (__s16)res->new_val;
	if (res->new_sz == res->orig_sz)
		return 0;
	if (mem_bytes(insn->code) != (int)res->orig_sz)
		return ayac_seterr(AYAC_ECORE, "the instruction accesses %d bytes, the field has %u",
				   mem_bytes(insn->code), res->orig_sz);
	if ((code = mem_size_code(res->new_sz)) < 0)
		return ayac_seterr(AYAC_ECORE, "the field has %u bytes in the target BTF, which no "
				   "load/store can access", res->new_sz);
	insn->code = (__u8)(BPF_MODE(insn->code) | code | BPF_CLASS(insn->code));
	return 0;
}

static int patch_ldimm64(struct bpf_insn *insn, const struct core_res *res)
{
	__u64 imm;

	if (insn[0].src_reg || insn[0].off || insn[1].code || insn[1].dst_reg || insn[1].src_reg ||
	    insn[1].off)
		return ayac_seterr(AYAC_ECORE, "the ld_imm64 instruction is not a plain constant");
	imm = (__u32)insn[0].imm | (__u64)(__u32)insn[1].imm << 32;
	if (res->validate && imm != res->orig_val)
		return ayac_seterr(AYAC_ECORE, "the instruction holds %llu, the object's BTF says %llu",
				   (unsigned long long)imm, (unsigned long long)res->orig_val);
	insn[0].imm = (__s32)(__u32)res->new_val;
	insn[1].imm = (__s32)(__u32)(res->new_val >> 32);
	return 0;
}

/* 0 patched, 1 poisoned, negative error. */
static int patch(struct relo *r)
{
	struct bpf_insn *insn = &r->main->insns[r->at];
	bool ldimm64 = insn->code == (BPF_LD | BPF_IMM | BPF_DW);
	int err = 0;

	if (ldimm64 && r->avail < 2)
		return ayac_seterr(AYAC_EBADELF, "ld_imm64 at the end of the function");
	if (!r->res.poison) {
		switch (BPF_CLASS(insn->code)) {
		case BPF_ALU: case BPF_ALU64:
			return patch_alu(insn, &r->res);
		case BPF_LDX: case BPF_ST: case BPF_STX:
			if ((err = patch_mem(insn, &r->res)) <= 0)
				return err;
			snprintf(r->why, sizeof(r->why), "the field has %u bytes in the target BTF, %u in "
				 "the object's, and only unsigned integers and pointers can be read "
				 "with another size", r->res.new_sz, r->res.orig_sz);
			break;
		case BPF_LD:
			if (ldimm64)
				return patch_ldimm64(insn, &r->res);
			/* fall through */
		default:
			return ayac_seterr(AYAC_ECORE, "instruction %zu (code 0x%02x) is not one a "
					   "CO-RE relocation can patch", r->at, insn->code);
		}
	}
	if (ldimm64)
		poison_insn(insn + 1);
	poison_insn(insn);
	return 1;
}

static int remember_poison(struct relo *r)
{
	struct ayac_prog *p = r->main;
	struct ayac_core_poison *grown;
	char *what;

	if (asprintf(&what, "CO-RE relocation #%u (%s) cannot be satisfied: %s", r->idx, r->desc,
		     r->why) < 0)
		return ayac_seterr(ENOMEM, "out of memory");
	grown = ayac_reallocarray(p->core_poisons, p->nr_core_poisons + 1, sizeof(*grown));
	if (!grown) {
		free(what);
		return -ENOMEM;
	}
	p->core_poisons = grown;
	p->core_poisons[p->nr_core_poisons++] = (struct ayac_core_poison){ r->at, what };
	return 0;
}

/* ---- the records of a function ---------------------------------------------------------- */

static int apply(struct relo *r)
{
	const struct ayac_btf *btf = r->obj->btf;
	const char *access = ayac_btf_str(btf, r->rec.access_str_off);
	int err;

	if (core_spec_parse(btf, r->rec.type_id, r->rec.kind, access, &r->local)) {
		const char *kind = core_kind_name(r->rec.kind);

		return ayac_errctx("program '%s': CO-RE relocation #%u (%s of type [%u], access '%s')",
				   r->main->name, r->idx, kind ? kind : "unknown kind", r->rec.type_id,
				   access ? access : "?");
	}
	core_describe(&r->local, r->desc, sizeof(r->desc));
	err = resolve(r);
	if (!err)
		err = patch(r);
	if (err < 0)
		return ayac_errctx("program '%s': CO-RE relocation #%u (%s)", r->main->name, r->idx,
				   r->desc);
	return err ? remember_poison(r) : 0;
}

static void poisons_clear(struct ayac_prog *prog)
{
	size_t i;

	for (i = 0; i < prog->nr_core_poisons; i++)
		free(prog->core_poisons[i].what);
	free(prog->core_poisons);
	prog->core_poisons = NULL;
	prog->nr_core_poisons = 0;
}

int ayac_core_relocate(struct ayac_obj *obj, struct ayac_prog *main, const struct ayac_prog *fn,
		       size_t base)
{
	const struct ayac_btf_ext_sec *sec;
	struct relo *r;
	__u32 i;
	int err = 0;

	if (fn == main)
		poisons_clear(main); /* the program is being built afresh */
	if (!obj->btf_ext || !obj->btf)
		return 0;
	sec = ayac_btf_ext_find(&obj->btf_ext->core_relo, fn->sec_name);
	if (!sec)
		return 0;
	if (!(r = ayac_calloc(1, sizeof(*r))))
		return -ENOMEM;
	for (i = 0; !err && i < sec->num; i++) {
		size_t idx;

		memcpy(&r->rec, (const char *)sec->recs + (size_t)i * sec->rec_size, sizeof(r->rec));
		idx = r->rec.insn_off / BPF_INSN_SZ;
		if (idx < fn->sec_insn_off || idx >= fn->sec_insn_off + fn->sec_insn_cnt)
			continue; /* another function of the section */
		if (r->rec.insn_off % BPF_INSN_SZ) {
			err = ayac_seterr(AYAC_EBTF, "program '%s': CO-RE relocation #%u: instruction "
					  "offset %u is not a multiple of 8", main->name, i, r->rec.insn_off);
			break;
		}
		r->obj = obj;
		r->main = main;
		r->idx = i;
		r->at = base + (idx - fn->sec_insn_off);
		r->avail = fn->sec_insn_cnt - (idx - fn->sec_insn_off);
		err = apply(r);
	}
	free(r);
	return err;
}

/* ---- explaining a verifier rejection ------------------------------------------------------ */

/* The instruction index of "N: (85) call unknown#195896080" closest before the
 * verifier's "invalid func unknown#195896080". */
static bool poisoned_call_reached(const char *log, size_t *insn)
{
	const char *end = strstr(log, "invalid func unknown#195896080"), *line;
	bool found = false;

	for (line = log; end && line < end; line = strchr(line, '\n') + 1) {
		unsigned long long n;
		unsigned code;
		int len = 0;

		if (sscanf(line, "%llu: (%x) call unknown#195896080%n", &n, &code, &len) == 2 && len) {
			*insn = (size_t)n;
			found = true;
		}
		if (!strchr(line, '\n'))
			break;
	}
	return found;
}

bool ayac_core_explain_reject(const struct ayac_prog *prog)
{
	const struct ayac_core_poison *p = NULL;
	size_t insn = 0, i;

	if (!prog->nr_core_poisons || !prog->log || !strstr(prog->log, "unknown#195896080"))
		return false;
	if (poisoned_call_reached(prog->log, &insn))
		for (i = 0; i < prog->nr_core_poisons && !p; i++)
			if (prog->core_poisons[i].insn == insn)
				p = &prog->core_poisons[i];
	if (!p && prog->nr_core_poisons == 1)
		p = &prog->core_poisons[0];
	if (p)
		ayac_seterr(AYAC_ECORE, "load program '%s' (%s): %s; the verifier reached the "
			    "poisoned instruction %zu", prog->name, prog->sec_name, p->what, p->insn);
	else
		ayac_seterr(AYAC_ECORE, "load program '%s' (%s): the verifier reached an instruction "
			    "poisoned by one of %zu unsatisfiable CO-RE relocations, first: %s",
			    prog->name, prog->sec_name, prog->nr_core_poisons, prog->core_poisons[0].what);
	return true;
}

void ayac_core_prog_free(struct ayac_prog *prog)
{
	poisons_clear(prog);
}
