/* The CO-RE engine: what one relocation record computes, from the object's (local) BTF
 * and a candidate type of a target BTF. Pure: no I/O, no kernel, no allocation; errors
 * are AYAC_ECORE/AYAC_EBTF messages without context (core_reloc.c adds the program and
 * the relocation). The rules are libbpf's (relo_core.c), which is the reference for
 * what every kind means; every id, index and offset taken from the input is bounded. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core_priv.h"

/* Typedef chains and nested type comparisons, as libbpf and the kernel. */
#define CORE_MAX_DEPTH 32

/* calc_* results beyond 0 / -errno: the target cannot satisfy the relocation. */
#define CALC_POISON 1

static const struct btf_type void_type; /* id 0: kind UNKN, no name */

static const char *const kind_names[] = {
	[BPF_CORE_FIELD_BYTE_OFFSET] = "field_byte_offset",
	[BPF_CORE_FIELD_BYTE_SIZE] = "field_byte_size",
	[BPF_CORE_FIELD_EXISTS] = "field_exists",
	[BPF_CORE_FIELD_SIGNED] = "field_signed",
	[BPF_CORE_FIELD_LSHIFT_U64] = "field_lshift_u64",
	[BPF_CORE_FIELD_RSHIFT_U64] = "field_rshift_u64",
	[BPF_CORE_TYPE_ID_LOCAL] = "type_id_local",
	[BPF_CORE_TYPE_ID_TARGET] = "type_id_target",
	[BPF_CORE_TYPE_EXISTS] = "type_exists",
	[BPF_CORE_TYPE_SIZE] = "type_size",
	[BPF_CORE_ENUMVAL_EXISTS] = "enumval_exists",
	[BPF_CORE_ENUMVAL_VALUE] = "enumval_value",
	[BPF_CORE_TYPE_MATCHES] = "type_matches",
};

const char *core_kind_name(__u32 kind)
{
	return kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind] : NULL;
}

bool core_kind_is_field(__u32 kind)
{
	return kind <= BPF_CORE_FIELD_RSHIFT_U64;
}

bool core_kind_is_type(__u32 kind)
{
	return (kind >= BPF_CORE_TYPE_ID_LOCAL && kind <= BPF_CORE_TYPE_SIZE) ||
	       kind == BPF_CORE_TYPE_MATCHES;
}

bool core_kind_is_enumval(__u32 kind)
{
	return kind == BPF_CORE_ENUMVAL_EXISTS || kind == BPF_CORE_ENUMVAL_VALUE;
}

/* "task_struct___old" -> 11: the name up to a "___" that has a non-underscore on each
 * side (the last such separator). */
size_t core_essential_len(const char *name)
{
	long n = (long)strlen(name), i;

	for (i = n - 5; i >= 0; i--)
		if (name[i] != '_' && name[i + 1] == '_' && name[i + 2] == '_' && name[i + 3] == '_' &&
		    name[i + 4] != '_')
			return (size_t)i + 1;
	return (size_t)n;
}

/* ---- BTF helpers ------------------------------------------------------------------ */

static bool is_composite(const struct btf_type *t)
{
	return btf_kind_of(t) == BTF_KIND_STRUCT || btf_kind_of(t) == BTF_KIND_UNION;
}

static bool is_any_enum(const struct btf_type *t)
{
	return btf_kind_of(t) == BTF_KIND_ENUM || btf_kind_of(t) == BTF_KIND_ENUM64;
}

bool core_kinds_compat(const struct btf_type *a, const struct btf_type *b)
{
	return btf_kind_of(a) == btf_kind_of(b) || (is_any_enum(a) && is_any_enum(b));
}

static bool is_chain(const struct btf_type *t)
{
	switch (btf_kind_of(t)) {
	case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT: case BTF_KIND_TYPE_TAG:
		return true;
	default:
		return false;
	}
}

static const struct btf_type *type_at(const struct ayac_btf *btf, __u32 id)
{
	return id ? ayac_btf_type(btf, id) : &void_type;
}

const struct btf_type *core_skip_mods(const struct ayac_btf *btf, __u32 id, __u32 *out_id)
{
	int depth;

	for (depth = 0; depth < CORE_MAX_DEPTH; depth++) {
		const struct btf_type *t = type_at(btf, id);

		if (!t)
			return NULL;
		if (!is_chain(t)) {
			if (out_id)
				*out_id = id;
			return t;
		}
		id = t->type;
	}
	ayac_seterr(AYAC_EBTF, "BTF type [%u]: typedef/modifier chain longer than %d (a loop?)", id,
		    CORE_MAX_DEPTH);
	return NULL;
}

static const char *name_at(const struct ayac_btf *btf, __u32 off)
{
	const char *s = ayac_btf_str(btf, off);

	return s ? s : "";
}

static __u32 member_bit_off(const struct btf_type *t, __u32 i)
{
	__u32 off = btf_members_of(t)[i].offset;

	return btf_kflag_of(t) ? BTF_MEMBER_BIT_OFFSET(off) : off;
}

static __u32 member_bitfield_size(const struct btf_type *t, __u32 i)
{
	return btf_kflag_of(t) ? BTF_MEMBER_BITFIELD_SIZE(btf_members_of(t)[i].offset) : 0;
}

static __u32 enum_name_off(const struct btf_type *t, __u32 i)
{
	if (btf_kind_of(t) == BTF_KIND_ENUM64)
		return ((const struct btf_enum64 *)(t + 1))[i].name_off;
	return btf_enums_of(t)[i].name_off;
}

static bool same_essential_name(const char *a, const char *b)
{
	size_t la = core_essential_len(a), lb = core_essential_len(b);

	return la == lb && strncmp(a, b, la) == 0;
}

/* bit_off += idx * size * 8, refusing what does not fit in 64 bits. */
static int add_elem_bits(__u64 *bit_off, __u32 idx, __u64 size)
{
	__u64 bits;

	if (__builtin_mul_overflow(size, (__u64)idx, &bits) ||
	    __builtin_mul_overflow(bits, 8, &bits) || __builtin_add_overflow(*bit_off, bits, bit_off))
		return ayac_seterr(AYAC_ECORE, "offset of element %u overflows", idx);
	return 0;
}

/* A zero-length array as the last member of a struct: any index is in range. */
static bool is_flex(const struct ayac_btf *btf, const struct core_acc *holder,
		    const struct btf_array *a)
{
	const struct btf_type *t;

	if (!holder->name || a->nelems > 0)
		return false;
	t = ayac_btf_type(btf, holder->type_id);
	return t && holder->idx + 1 == btf_vlen_of(t);
}

/* ---- the local side: access strings ------------------------------------------------ */

static int parse_indexes(const char *access, struct core_spec *spec)
{
	const char *s = access;

	if (!s || !*s)
		return ayac_seterr(AYAC_ECORE, "empty access string");
	for (;;) {
		const char *start = s;
		__u64 v = 0;

		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (__u64)(*s++ - '0');
			if (v > INT32_MAX)
				return ayac_seterr(AYAC_ECORE, "access string '%s': index too large", access);
		}
		if (s == start || (*s && *s != ':'))
			return ayac_seterr(AYAC_ECORE, "malformed access string '%s'", access);
		if (spec->raw_len == CORE_SPEC_MAX)
			return ayac_seterr(AYAC_ECORE, "access string '%s' deeper than %d", access,
					   CORE_SPEC_MAX);
		spec->raw[spec->raw_len++] = (__u32)v;
		if (!*s++)
			return 0;
	}
}

static int parse_member(struct core_spec *spec, const struct btf_type *t, __u32 idx, __u32 *id)
{
	const struct ayac_btf *btf = spec->btf;
	const struct btf_member *m;

	if (idx >= btf_vlen_of(t))
		return ayac_seterr(AYAC_ECORE, "member #%u of %s [%u] '%s': it has %u", idx,
				   ayac_btf_kind_name(btf_kind_of(t)), *id, name_at(btf, t->name_off),
				   btf_vlen_of(t));
	m = btf_members_of(t) + idx;
	spec->bit_off += member_bit_off(t, idx);
	if (m->name_off) {
		const char *name = name_at(btf, m->name_off);

		if (!*name)
			return ayac_seterr(AYAC_ECORE, "member #%u of [%u] has a bad name", idx, *id);
		spec->acc[spec->len++] = (struct core_acc){ *id, idx, name };
	}
	*id = m->type;
	return 0;
}

static int parse_element(struct core_spec *spec, const struct btf_type *t, __u32 idx, __u32 *id)
{
	const struct btf_array *a = btf_array_of(t);
	__u64 sz;

	if (!core_skip_mods(spec->btf, a->type, id))
		return -ayac_errnum();
	if (!is_flex(spec->btf, &spec->acc[spec->len - 1], a) && idx >= a->nelems)
		return ayac_seterr(AYAC_ECORE, "array index %u out of range (%u elements)", idx,
				   a->nelems);
	spec->acc[spec->len++] = (struct core_acc){ *id, idx, NULL };
	if (ayac_btf_resolve_size(spec->btf, *id, &sz))
		return -ayac_errnum();
	return add_elem_bits(&spec->bit_off, idx, sz);
}

/* One step down from a struct/union (member raw[i]) or an array (element raw[i]). */
static int parse_step(struct core_spec *spec, __u32 i, __u32 *id)
{
	const struct btf_type *t = core_skip_mods(spec->btf, *id, id);

	if (!t)
		return -ayac_errnum();
	if (is_composite(t))
		return parse_member(spec, t, spec->raw[i], id);
	if (btf_kind_of(t) == BTF_KIND_ARRAY)
		return parse_element(spec, t, spec->raw[i], id);
	return ayac_seterr(AYAC_ECORE, "step %u of the access reaches a %s [%u], not a struct, union "
			   "or array", i, ayac_btf_kind_name(btf_kind_of(t)), *id);
}

int core_spec_parse(const struct ayac_btf *btf, __u32 type_id, __u32 kind, const char *access,
		    struct core_spec *spec)
{
	const struct btf_type *t;
	__u32 id, i;
	__u64 sz;

	memset(spec, 0, sizeof(*spec));
	spec->btf = btf;
	spec->root_id = type_id;
	spec->kind = kind;
	if (!core_kind_name(kind))
		return ayac_seterr(AYAC_ECORE, "unknown relocation kind %u", kind);
	if (!type_id || !(t = ayac_btf_type(btf, type_id)))
		return ayac_seterr(AYAC_ECORE, "local type id %u is not in the object's BTF", type_id);
	if (core_kind_is_type(kind)) {
		if (!access || strcmp(access, "0") != 0)
			return ayac_seterr(AYAC_ECORE, "access string '%s' for a type relocation "
					   "(want \"0\")", access ? access : "");
		return 0;
	}
	if (parse_indexes(access, spec))
		return -ayac_errnum();
	if (!(t = core_skip_mods(btf, type_id, &id)))
		return -ayac_errnum();
	spec->acc[0] = (struct core_acc){ id, spec->raw[0], NULL };
	spec->len = 1;
	if (core_kind_is_enumval(kind)) {
		if (!is_any_enum(t) || spec->raw_len > 1 || spec->raw[0] >= btf_vlen_of(t))
			return ayac_seterr(AYAC_ECORE, "access string '%s' names no enumerator of [%u]",
					   access, type_id);
		spec->acc[0].name = name_at(btf, enum_name_off(t, spec->raw[0]));
		return 0;
	}
	if (ayac_btf_resolve_size(btf, id, &sz) || add_elem_bits(&spec->bit_off, spec->raw[0], sz))
		return -ayac_errnum();
	for (i = 1; i < spec->raw_len; i++)
		if (parse_step(spec, i, &id))
			return -ayac_errnum();
	return 0;
}

/* ---- compatibility of types ---------------------------------------------------------- */

/* Two field types, for field relocations: composites always, pointers and floats
 * always, enums/forwards by essential name (or one anonymous), ints unless they are
 * old-style bitfield ints, arrays by element. */
static int fields_compat(const struct ayac_btf *lb, __u32 lid, const struct ayac_btf *tb, __u32 tid)
{
	int depth;

	for (depth = 0; depth < CORE_MAX_DEPTH; depth++) {
		const struct btf_type *lt = core_skip_mods(lb, lid, &lid);
		const struct btf_type *tt = core_skip_mods(tb, tid, &tid);
		const char *ln, *tn;

		if (!lt || !tt)
			return -ayac_errnum();
		if (is_composite(lt) && is_composite(tt))
			return 1;
		if (!core_kinds_compat(lt, tt))
			return 0;
		switch (btf_kind_of(lt)) {
		case BTF_KIND_PTR: case BTF_KIND_FLOAT:
			return 1;
		case BTF_KIND_FWD: case BTF_KIND_ENUM: case BTF_KIND_ENUM64:
			ln = name_at(lb, lt->name_off);
			tn = name_at(tb, tt->name_off);
			return !*ln || !*tn || same_essential_name(ln, tn);
		case BTF_KIND_INT:
			return BTF_INT_OFFSET(btf_int_encoding_of(lt)) == 0 &&
			       BTF_INT_OFFSET(btf_int_encoding_of(tt)) == 0;
		case BTF_KIND_ARRAY:
			lid = btf_array_of(lt)->type;
			tid = btf_array_of(tt)->type;
			break;
		default:
			return 0;
		}
	}
	return ayac_seterr(AYAC_ECORE, "field types nested deeper than %d", CORE_MAX_DEPTH);
}

/* Type relocations other than TYPE_MATCHES: same kinds all the way down through
 * pointers, arrays and function prototypes. */
static int types_compat(const struct ayac_btf *lb, __u32 lid, const struct ayac_btf *tb, __u32 tid,
			int level)
{
	const struct btf_type *lt = type_at(lb, lid), *tt = type_at(tb, tid);
	int depth, err;
	__u16 i;

	if (!lt || !tt)
		return -ayac_errnum();
	if (!core_kinds_compat(lt, tt))
		return 0;
	for (depth = 0; depth < CORE_MAX_DEPTH; depth++) {
		if (!(lt = core_skip_mods(lb, lid, &lid)) || !(tt = core_skip_mods(tb, tid, &tid)))
			return -ayac_errnum();
		if (!core_kinds_compat(lt, tt))
			return 0;
		switch (btf_kind_of(lt)) {
		case BTF_KIND_UNKN: case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		case BTF_KIND_ENUM: case BTF_KIND_FWD: case BTF_KIND_ENUM64:
			return 1;
		case BTF_KIND_INT:
			return BTF_INT_OFFSET(btf_int_encoding_of(lt)) == 0 &&
			       BTF_INT_OFFSET(btf_int_encoding_of(tt)) == 0;
		case BTF_KIND_PTR:
			lid = lt->type;
			tid = tt->type;
			break;
		case BTF_KIND_ARRAY:
			lid = btf_array_of(lt)->type;
			tid = btf_array_of(tt)->type;
			break;
		case BTF_KIND_FUNC_PROTO:
			if (btf_vlen_of(lt) != btf_vlen_of(tt))
				return 0;
			for (i = 0; i < btf_vlen_of(lt); i++) {
				__u32 lp, tp;

				if (level <= 0)
					return ayac_seterr(AYAC_ECORE, "function prototypes nested too deep");
				if (!core_skip_mods(lb, btf_params_of(lt)[i].type, &lp) ||
				    !core_skip_mods(tb, btf_params_of(tt)[i].type, &tp))
					return -ayac_errnum();
				if ((err = types_compat(lb, lp, tb, tp, level - 1)) <= 0)
					return err;
			}
			lid = lt->type;
			tid = tt->type;
			break;
		default:
			return 0;
		}
	}
	return ayac_seterr(AYAC_ECORE, "types nested deeper than %d", CORE_MAX_DEPTH);
}

/* ---- TYPE_MATCHES -------------------------------------------------------------------- */

static bool names_match(const struct ayac_btf *lb, __u32 loff, const struct ayac_btf *tb, __u32 toff)
{
	const char *ln = name_at(lb, loff), *tn = name_at(tb, toff);

	if (!*tn)
		return !*ln;
	return same_essential_name(ln, tn);
}

/* Every local enumerator has a namesake in the target; sizes equal. */
static int enums_match(const struct ayac_btf *lb, const struct btf_type *lt,
		       const struct ayac_btf *tb, const struct btf_type *tt)
{
	__u32 i, j;

	if (lt->size != tt->size || btf_vlen_of(lt) > btf_vlen_of(tt))
		return 0;
	for (i = 0; i < btf_vlen_of(lt); i++) {
		for (j = 0; j < btf_vlen_of(tt); j++)
			if (names_match(lb, enum_name_off(lt, i), tb, enum_name_off(tt, j)))
				break;
		if (j == btf_vlen_of(tt))
			return 0;
	}
	return 1;
}

static int types_match(const struct ayac_btf *lb, __u32 lid, const struct ayac_btf *tb, __u32 tid,
		       bool behind_ptr, int level);

/* Every local member has a namesake in the target whose type matches. */
static int composites_match(const struct ayac_btf *lb, const struct btf_type *lt,
			    const struct ayac_btf *tb, const struct btf_type *tt, bool behind_ptr,
			    int level)
{
	const struct btf_member *lm = btf_members_of(lt), *tm = btf_members_of(tt);
	__u32 i, j;
	int r = 0;

	if (btf_vlen_of(lt) > btf_vlen_of(tt))
		return 0;
	for (i = 0; i < btf_vlen_of(lt); i++) {
		for (j = 0, r = 0; j < btf_vlen_of(tt) && r == 0; j++) {
			if (!names_match(lb, lm[i].name_off, tb, tm[j].name_off))
				continue;
			if ((r = types_match(lb, lm[i].type, tb, tm[j].type, behind_ptr, level - 1)) < 0)
				return r;
		}
		if (r == 0)
			return 0;
	}
	return 1;
}

/* One level of TYPE_MATCHES for kinds that end the walk: 1, 0, or -1 to go on. */
static int match_leaf(const struct ayac_btf *lb, const struct btf_type *lt,
		      const struct ayac_btf *tb, const struct btf_type *tt, bool behind_ptr, int level)
{
	__u16 lk = btf_kind_of(lt), tk = btf_kind_of(tt);

	switch (lk) {
	case BTF_KIND_UNKN:
		return lk == tk;
	case BTF_KIND_FWD:
		if (behind_ptr && lk != tk)
			return (tk == BTF_KIND_STRUCT && !btf_kflag_of(lt)) ||
			       (tk == BTF_KIND_UNION && btf_kflag_of(lt));
		return lk == tk && btf_kflag_of(lt) == btf_kflag_of(tt);
	case BTF_KIND_ENUM: case BTF_KIND_ENUM64:
		return is_any_enum(tt) && enums_match(lb, lt, tb, tt);
	case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		if (behind_ptr)
			return lk == tk || (tk == BTF_KIND_FWD &&
					    (lk == BTF_KIND_UNION) == btf_kflag_of(tt));
		return lk == tk ? composites_match(lb, lt, tb, tt, behind_ptr, level) : 0;
	case BTF_KIND_INT:
		return lk == tk && lt->size == tt->size &&
		       (BTF_INT_ENCODING(btf_int_encoding_of(lt)) & BTF_INT_SIGNED) ==
			       (BTF_INT_ENCODING(btf_int_encoding_of(tt)) & BTF_INT_SIGNED);
	case BTF_KIND_PTR: case BTF_KIND_ARRAY: case BTF_KIND_FUNC_PROTO:
		return lk == tk ? -1 : 0;
	default:
		return 0;
	}
}

static int types_match(const struct ayac_btf *lb, __u32 lid, const struct ayac_btf *tb, __u32 tid,
		       bool behind_ptr, int level)
{
	const struct btf_type *lt, *tt;
	int depth, r;
	__u16 i;

	if (level <= 0)
		return ayac_seterr(AYAC_ECORE, "types nested deeper than %d", CORE_MAX_DEPTH);
	for (depth = 0; depth < CORE_MAX_DEPTH; depth++) {
		if (!(lt = core_skip_mods(lb, lid, &lid)) || !(tt = core_skip_mods(tb, tid, &tid)))
			return -ayac_errnum();
		if (!names_match(lb, lt->name_off, tb, tt->name_off))
			return 0;
		if ((r = match_leaf(lb, lt, tb, tt, behind_ptr, level)) >= 0)
			return r;
		if (btf_kind_of(lt) == BTF_KIND_PTR) {
			behind_ptr = true;
		} else if (btf_kind_of(lt) == BTF_KIND_ARRAY) {
			if (btf_array_of(lt)->nelems != btf_array_of(tt)->nelems)
				return 0;
			lid = btf_array_of(lt)->type;
			tid = btf_array_of(tt)->type;
			continue;
		} else {
			if (btf_vlen_of(lt) != btf_vlen_of(tt))
				return 0;
			for (i = 0; i < btf_vlen_of(lt); i++)
				if ((r = types_match(lb, btf_params_of(lt)[i].type, tb,
						     btf_params_of(tt)[i].type, behind_ptr, level - 1)) <= 0)
					return r;
		}
		lid = lt->type; /* pointee, or return type */
		tid = tt->type;
	}
	return ayac_seterr(AYAC_ECORE, "types nested deeper than %d", CORE_MAX_DEPTH);
}

/* ---- the target side: matching a candidate ---------------------------------------------- */

/* Find local member la (by exact name) in target composite targ_id, descending into
 * anonymous members; extends out's raw steps and bit offset along the way. */
static int match_member(const struct ayac_btf *lb, const struct core_acc *la,
			const struct ayac_btf *tb, __u32 targ_id, struct core_spec *out, __u32 *next)
{
	const struct btf_type *t = core_skip_mods(tb, targ_id, &targ_id), *lt;
	const struct btf_member *lm;
	__u32 i;
	int r;

	if (!t)
		return -ayac_errnum();
	if (!is_composite(t))
		return 0;
	if (!(lt = ayac_btf_type(lb, la->type_id)))
		return -ayac_errnum();
	lm = btf_members_of(lt) + la->idx;
	for (i = 0; i < btf_vlen_of(t); i++) {
		const struct btf_member *m = btf_members_of(t) + i;
		const char *name = name_at(tb, m->name_off);
		__u32 off = member_bit_off(t, i);

		if (out->raw_len == CORE_SPEC_MAX || out->len == CORE_SPEC_MAX)
			return ayac_seterr(AYAC_ECORE, "target type nested deeper than %d", CORE_SPEC_MAX);
		out->bit_off += off;
		out->raw[out->raw_len++] = i;
		if (!*name) {
			if ((r = match_member(lb, la, tb, m->type, out, next)) != 0)
				return r;
		} else if (strcmp(la->name, name) == 0) {
			out->acc[out->len++] = (struct core_acc){ targ_id, i, name };
			*next = m->type;
			r = fields_compat(lb, lm->type, tb, m->type);
			if (r == 0)
				out->len--;
			return r;
		}
		out->bit_off -= off;
		out->raw_len--;
	}
	return 0;
}

/* An array step (step 0: the index on the root pointer). */
static int match_index(const struct core_spec *local, __u32 i, const struct btf_type *t,
		       struct core_spec *out, __u32 *targ_id)
{
	__u32 idx = local->acc[i].idx;
	__u64 sz;

	if (i > 0) {
		const struct btf_array *a;

		if (btf_kind_of(t) != BTF_KIND_ARRAY)
			return 0;
		a = btf_array_of(t);
		if (!is_flex(out->btf, &out->acc[out->len - 1], a) && idx >= a->nelems)
			return 0;
		if (!core_skip_mods(out->btf, a->type, targ_id))
			return -ayac_errnum();
	}
	if (out->raw_len == CORE_SPEC_MAX || out->len == CORE_SPEC_MAX)
		return ayac_seterr(AYAC_ECORE, "target type nested deeper than %d", CORE_SPEC_MAX);
	out->acc[out->len++] = (struct core_acc){ *targ_id, idx, NULL };
	out->raw[out->raw_len++] = idx;
	if (ayac_btf_resolve_size(out->btf, *targ_id, &sz) || add_elem_bits(&out->bit_off, idx, sz))
		return -ayac_errnum();
	return 1;
}

static int match_enumval(const struct core_spec *local, const struct ayac_btf *tb, __u32 targ_id,
			 struct core_spec *out)
{
	const struct btf_type *t = core_skip_mods(tb, targ_id, &targ_id);
	__u32 i;

	if (!t)
		return -ayac_errnum();
	if (!is_any_enum(t))
		return 0;
	for (i = 0; i < btf_vlen_of(t); i++) {
		const char *name = name_at(tb, enum_name_off(t, i));

		if (same_essential_name(local->acc[0].name, name)) {
			out->acc[0] = (struct core_acc){ targ_id, i, name };
			out->len = 1;
			out->raw[0] = i;
			out->raw_len = 1;
			return 1;
		}
	}
	return 0;
}

int core_spec_match(const struct core_spec *local, const struct ayac_btf *targ, __u32 targ_id,
		    struct core_spec *out)
{
	__u32 i;
	int r;

	out->btf = targ;
	out->root_id = targ_id;
	out->kind = local->kind;
	out->len = out->raw_len = 0;
	out->bit_off = 0;
	if (core_kind_is_type(local->kind)) {
		if (local->kind == BPF_CORE_TYPE_MATCHES)
			return types_match(local->btf, local->root_id, targ, targ_id, false,
					   CORE_MAX_DEPTH);
		return types_compat(local->btf, local->root_id, targ, targ_id, CORE_MAX_DEPTH);
	}
	if (core_kind_is_enumval(local->kind))
		return match_enumval(local, targ, targ_id, out);
	for (i = 0; i < local->len; i++) {
		const struct btf_type *t = core_skip_mods(targ, targ_id, &targ_id);

		if (!t)
			return -ayac_errnum();
		if (local->acc[i].name)
			r = match_member(local->btf, &local->acc[i], targ, targ_id, out, &targ_id);
		else
			r = match_index(local, i, t, out, &targ_id);
		if (r <= 0)
			return r;
	}
	return 1;
}

/* ---- values ---------------------------------------------------------------------------- */

/* Offset, size and shifts of a bitfield member: the smallest aligned load holding it. */
static int bitfield_window(const struct btf_type *mt, __u64 bit_off, __u32 bit_sz,
			   __u64 *byte_off, __u64 *byte_sz)
{
	if ((btf_kind_of(mt) != BTF_KIND_INT && !is_any_enum(mt)) || mt->size == 0 || mt->size > 8)
		return ayac_seterr(AYAC_ECORE, "bitfield of a type of %u bytes", mt->size);
	*byte_sz = mt->size;
	*byte_off = bit_off / 8 / *byte_sz * *byte_sz;
	while (bit_off + bit_sz - *byte_off * 8 > *byte_sz * 8) {
		if (*byte_sz >= 8)
			return ayac_seterr(AYAC_ECORE, "the bitfield cannot be read with one 64-bit load");
		*byte_sz *= 2;
		*byte_off = bit_off / 8 / *byte_sz * *byte_sz;
	}
	return 0;
}

/* An array element: only its offset and size can be relocated. */
static int calc_elem(const struct core_spec *spec, const struct core_acc *acc, __u64 *val,
		     __u32 *field_sz, __u32 *type_id)
{
	__u64 sz;

	if (spec->kind != BPF_CORE_FIELD_BYTE_OFFSET && spec->kind != BPF_CORE_FIELD_BYTE_SIZE)
		return ayac_seterr(AYAC_ECORE, "%s cannot apply to an array element",
				   core_kind_name(spec->kind));
	if (ayac_btf_resolve_size(spec->btf, acc->type_id, &sz))
		return -ayac_errnum();
	if (spec->kind == BPF_CORE_FIELD_BYTE_SIZE) {
		*val = sz;
		return 0;
	}
	*val = spec->bit_off / 8;
	*field_sz = sz > UINT32_MAX ? 0 : (__u32)sz;
	*type_id = acc->type_id;
	return 0;
}

static int calc_field(const struct core_spec *spec, __u32 kind, __u64 *val, __u32 *field_sz,
		      __u32 *type_id, bool *validate)
{
	const struct core_acc *acc;
	const struct btf_type *t, *mt;
	__u64 byte_off = 0, byte_sz = 0, bit_off = spec ? spec->bit_off : 0;
	__u32 bit_sz, ftype;
	bool bitfield;

	*field_sz = 0;
	if (kind == BPF_CORE_FIELD_EXISTS) {
		*val = spec != NULL;
		return 0;
	}
	if (!spec)
		return CALC_POISON;
	acc = &spec->acc[spec->len - 1];
	if (validate)
		*validate = true;
	if (!acc->name)
		return calc_elem(spec, acc, val, field_sz, type_id);
	if (!(t = ayac_btf_type(spec->btf, acc->type_id)) ||
	    !(mt = core_skip_mods(spec->btf, btf_members_of(t)[acc->idx].type, &ftype)))
		return -ayac_errnum();
	bit_sz = member_bitfield_size(t, acc->idx);
	bitfield = bit_sz > 0;
	if (bitfield) {
		if (bitfield_window(mt, bit_off, bit_sz, &byte_off, &byte_sz))
			return -ayac_errnum();
	} else {
		if (ayac_btf_resolve_size(spec->btf, ftype, &byte_sz))
			return -ayac_errnum();
		byte_off = bit_off / 8;
		bit_sz = byte_sz > UINT32_MAX / 8 ? 0 : (__u32)byte_sz * 8;
	}
	/* a bitfield's offset and size are the compiler's choice: only its signedness and
	 * right shift can be checked against the instruction */
	if (validate)
		*validate = !bitfield || kind == BPF_CORE_FIELD_SIGNED ||
			    kind == BPF_CORE_FIELD_RSHIFT_U64;
	switch (kind) {
	case BPF_CORE_FIELD_BYTE_OFFSET:
		*val = byte_off;
		if (!bitfield) {
			*field_sz = byte_sz > UINT32_MAX ? 0 : (__u32)byte_sz;
			*type_id = ftype;
		}
		return 0;
	case BPF_CORE_FIELD_BYTE_SIZE:
		*val = byte_sz;
		return 0;
	case BPF_CORE_FIELD_SIGNED:
		*val = (is_any_enum(mt) && btf_kflag_of(mt)) ||
		       (btf_kind_of(mt) == BTF_KIND_INT &&
			(BTF_INT_ENCODING(btf_int_encoding_of(mt)) & BTF_INT_SIGNED));
		return 0;
	case BPF_CORE_FIELD_LSHIFT_U64:
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		*val = 64 - (bit_off + bit_sz - byte_off * 8);
#else
		*val = (8 - byte_sz) * 8 + (bit_off - byte_off * 8);
#endif
		return 0;
	default: /* BPF_CORE_FIELD_RSHIFT_U64 */
		*val = 64 - (__u64)bit_sz;
		return 0;
	}
}

static int calc_type(const struct core_spec *spec, __u64 *val, bool *validate)
{
	if (validate)
		*validate = spec->kind != BPF_CORE_TYPE_ID_TARGET;
	if (!spec->btf) { /* no candidate: 0 for every type relocation */
		*val = 0;
		return 0;
	}
	switch (spec->kind) {
	case BPF_CORE_TYPE_ID_TARGET:
		*val = spec->root_id;
		return 0;
	case BPF_CORE_TYPE_SIZE:
		return ayac_btf_resolve_size(spec->btf, spec->root_id, val) ? -ayac_errnum() : 0;
	default: /* TYPE_EXISTS, TYPE_MATCHES */
		*val = 1;
		return 0;
	}
}

static int calc_enumval(const struct core_spec *spec, __u64 *val)
{
	const struct btf_type *t;
	__u32 idx;

	if (spec->kind == BPF_CORE_ENUMVAL_EXISTS) {
		*val = spec->btf != NULL;
		return 0;
	}
	if (!spec->btf)
		return CALC_POISON;
	if (!(t = ayac_btf_type(spec->btf, spec->acc[0].type_id)))
		return -ayac_errnum();
	idx = spec->acc[0].idx;
	if (btf_kind_of(t) == BTF_KIND_ENUM64) {
		const struct btf_enum64 *e = (const struct btf_enum64 *)(t + 1) + idx;

		*val = (__u64)e->val_hi32 << 32 | e->val_lo32;
	} else {
		*val = (__u64)(__s64)btf_enums_of(t)[idx].val; /* sign-extended, as libbpf */
	}
	return 0;
}

/* orig_type/new_type of a sized field: may a load of it change size? Pointers (a
 * 32-bit kernel's) and unsigned integers zero-extend safely; nothing else does. */
static bool resizable(const struct core_spec *local, const struct core_spec *targ,
		      const struct core_res *res)
{
	const struct btf_type *o = type_at(local->btf, res->orig_type);
	const struct btf_type *n = type_at(targ->btf, res->new_type);

	if (!o || !n)
		return false;
	if (btf_kind_of(o) == BTF_KIND_PTR && btf_kind_of(n) == BTF_KIND_PTR)
		return true;
	return btf_kind_of(o) == BTF_KIND_INT && btf_kind_of(n) == BTF_KIND_INT &&
	       BTF_INT_ENCODING(btf_int_encoding_of(o)) != BTF_INT_SIGNED &&
	       BTF_INT_ENCODING(btf_int_encoding_of(n)) != BTF_INT_SIGNED;
}

int core_calc(const struct core_spec *local, const struct core_spec *targ, struct core_res *res)
{
	struct core_spec none = { .kind = local->kind };
	int r;

	memset(res, 0, sizeof(*res));
	res->validate = true;
	if (core_kind_is_field(local->kind)) {
		r = calc_field(local, local->kind, &res->orig_val, &res->orig_sz, &res->orig_type,
			       &res->validate);
		if (r == 0)
			r = calc_field(targ, local->kind, &res->new_val, &res->new_sz, &res->new_type, NULL);
		if (r == 0 && res->orig_sz != res->new_sz)
			res->fail_memsz = !resizable(local, targ, res);
	} else if (core_kind_is_type(local->kind)) {
		r = calc_type(local, &res->orig_val, &res->validate);
		if (r == 0)
			r = calc_type(targ ? targ : &none, &res->new_val, NULL);
	} else if (core_kind_is_enumval(local->kind)) {
		r = calc_enumval(local, &res->orig_val);
		if (r == 0)
			r = calc_enumval(targ ? targ : &none, &res->new_val);
	} else {
		return ayac_seterr(AYAC_ECORE, "unknown relocation kind %u", local->kind);
	}
	if (r == CALC_POISON) {
		res->poison = true;
		return 0;
	}
	return r;
}

/* ---- messages ------------------------------------------------------------------------- */

void core_describe(const struct core_spec *spec, char *buf, size_t size)
{
	const struct btf_type *t = ayac_btf_type(spec->btf, spec->root_id);
	const char *kind = core_kind_name(spec->kind), *name;
	size_t len;
	__u32 i;

	if (!size)
		return;
	name = t ? name_at(spec->btf, t->name_off) : "";
	len = (size_t)snprintf(buf, size, "%s of %s %s", kind ? kind : "unknown",
			       t ? ayac_btf_kind_name(btf_kind_of(t)) : "type", *name ? name : "<anon>");
	if (core_kind_is_enumval(spec->kind) && spec->len && len < size)
		len += (size_t)snprintf(buf + len, size - len, "::%s", spec->acc[0].name);
	for (i = 0; core_kind_is_field(spec->kind) && i < spec->len && len < size; i++) {
		if (spec->acc[i].name)
			len += (size_t)snprintf(buf + len, size - len, ".%s", spec->acc[i].name);
		else if (i > 0 || spec->acc[i].idx > 0)
			len += (size_t)snprintf(buf + len, size - len, "[%u]", spec->acc[i].idx);
	}
}
