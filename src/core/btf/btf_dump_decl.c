/* BTF to C: declarations and definitions.
 *
 * A declaration is a chain of BTF types from the outside in, ending at a base type:
 * "int (*const handlers[4])(void *)" is array -> const -> ptr -> func_proto -> int.
 * C writes the base first, then the declarator inside out: each pointer's "*" (with
 * its qualifiers) to the left of the name, innermost first; arrays and parameter
 * lists to the right, outermost first; a pointer to an array or a function gets
 * parentheses. Qualifiers come before what they qualify in BTF, so a const directly
 * above a pointer is that pointer's ("* const"), one above anything else goes down to
 * the element or the base ("const int"). */
#include <errno.h>
#include <string.h>

#include "sys/sys.h"
#include "btf_dump_priv.h"

enum { Q_CONST = 1, Q_VOLATILE = 2, Q_RESTRICT = 4 };

struct chain {
	__u32 ids[DUMP_MAX_CHAIN];
	__s8 owner[DUMP_MAX_CHAIN];  /* modifier i qualifies ids[owner[i]]; -1: dropped */
	__u16 kinds[DUMP_MAX_CHAIN];
	int n;                       /* ids[n-1] is the base (0: void) */
};

static bool is_mod(__u16 kind)
{
	return kind == BTF_KIND_CONST || kind == BTF_KIND_VOLATILE ||
	       kind == BTF_KIND_RESTRICT || kind == BTF_KIND_TYPE_TAG;
}

static int build_chain(struct btf_dumper *d, __u32 id, struct chain *c)
{
	const __u32 first = id;

	for (c->n = 0;;) {
		const struct btf_type *t;
		__u16 kind;

		if (c->n == DUMP_MAX_CHAIN)
			return dump_fail(d, -ELOOP, "BTF type [%u]: declaration longer than %d types",
					 first, DUMP_MAX_CHAIN);
		c->ids[c->n] = id;
		c->owner[c->n] = -1;
		if (!id) {
			c->kinds[c->n++] = BTF_KIND_UNKN;
			return 0;
		}
		t = dump_type(d, id);
		kind = btf_kind_of(t);
		c->kinds[c->n++] = kind;
		switch (kind) {
		case BTF_KIND_PTR: case BTF_KIND_FUNC_PROTO:
		case BTF_KIND_CONST: case BTF_KIND_VOLATILE: case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			id = t->type;
			break;
		case BTF_KIND_ARRAY:
			id = btf_array_of(t)->type;
			break;
		case BTF_KIND_INT: case BTF_KIND_FLOAT: case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		case BTF_KIND_ENUM: case BTF_KIND_ENUM64: case BTF_KIND_FWD: case BTF_KIND_TYPEDEF:
			return 0;
		default:
			return dump_fail(d, -AYAC_EBTF, "BTF type [%u]: a %s cannot be part of a C "
					 "declaration", id, ayac_btf_kind_name(kind));
		}
	}
}

/* Which pointer (or the base) each qualifier belongs to. */
static void assign_qualifiers(struct chain *c)
{
	int pend[DUMP_MAX_CHAIN], np = 0, i, j;

	for (i = 0; i < c->n; i++) {
		__u16 k = c->kinds[i];

		if (is_mod(k)) {
			pend[np++] = i;
		} else if (k == BTF_KIND_PTR || i == c->n - 1) {
			for (j = 0; j < np; j++)
				c->owner[pend[j]] = (__s8)i;
			np = 0;
		} else if (k == BTF_KIND_FUNC_PROTO) {
			np = 0; /* a qualified function type means nothing in C */
		} /* arrays pass their qualifiers on to the element */
	}
}

/* A space when the previous output would run into the next token. */
static void sep(struct btf_dumper *d)
{
	char c = sb_last(&d->out);

	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == ')')
		sb_putc(&d->out, ' ');
}

static void put_type_tag(struct btf_dumper *d, __u32 id)
{
	sep(d);
	sb_puts(&d->out, "__attribute__((btf_type_tag(\"");
	sb_cstr(&d->out, dump_str(d, dump_type(d, id)->name_off));
	sb_puts(&d->out, "\")))");
}

/* const/volatile/restrict owned by position o, each once, in C's usual order. */
static void put_cvr(struct btf_dumper *d, const struct chain *c, int o, unsigned allowed)
{
	static const char *const words[] = { "const", "volatile", "restrict" };
	unsigned q = 0, b;
	int i;

	for (i = 0; i < c->n; i++) {
		if (c->owner[i] != o)
			continue;
		q |= c->kinds[i] == BTF_KIND_CONST ? Q_CONST
		   : c->kinds[i] == BTF_KIND_VOLATILE ? Q_VOLATILE
		   : c->kinds[i] == BTF_KIND_RESTRICT ? Q_RESTRICT : 0;
	}
	for (b = 0; b < 3; b++) {
		if (!(q & allowed & (1u << b)))
			continue;
		sep(d);
		sb_puts(&d->out, words[b]);
	}
}

static void put_type_tags(struct btf_dumper *d, const struct chain *c, int o)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (c->owner[i] == o && c->kinds[i] == BTF_KIND_TYPE_TAG)
			put_type_tag(d, c->ids[i]);
}

/* restrict is only valid on pointers, which a typedef may be. */
static bool base_is_pointer(struct btf_dumper *d, __u32 id)
{
	__u32 under = ayac_btf_skip_mods(d->btf, id);
	const struct btf_type *t = under ? dump_type(d, under) : NULL;

	return t && btf_kind_of(t) == BTF_KIND_PTR;
}

static void put_base(struct btf_dumper *d, const struct chain *c, int lvl)
{
	int b = c->n - 1;
	__u32 id = c->ids[b];
	const struct btf_type *t = id ? dump_type(d, id) : NULL;
	__u16 kind = t ? btf_kind_of(t) : BTF_KIND_UNKN;

	put_cvr(d, c, b, Q_CONST | Q_VOLATILE |
		(kind == BTF_KIND_TYPEDEF && base_is_pointer(d, id) ? Q_RESTRICT : 0));
	sep(d);
	switch (kind) {
	case BTF_KIND_UNKN:
		sb_puts(&d->out, "void");
		break;
	case BTF_KIND_INT: case BTF_KIND_FLOAT:
		sb_puts(&d->out, t->name_off ? dump_str(d, t->name_off) : "int");
		break;
	case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		if (!t->name_off) {
			dump_record_def(d, id, t, lvl);
			break;
		}
		sb_puts(&d->out, kind == BTF_KIND_STRUCT ? "struct " : "union ");
		dump_type_name(d, id);
		break;
	case BTF_KIND_ENUM: case BTF_KIND_ENUM64:
		if (!t->name_off) {
			dump_enum_def(d, id, t, lvl);
			break;
		}
		sb_puts(&d->out, "enum ");
		dump_type_name(d, id);
		break;
	case BTF_KIND_FWD:
		dump_fwd_def(d, id, t);
		break;
	case BTF_KIND_TYPEDEF:
		dump_ident_name(d, id);
		break;
	}
	put_type_tags(d, c, b);
}

/* The level declared inside position i (closer to the base), skipping qualifiers. */
static __u16 inner_kind(const struct chain *c, int i)
{
	for (i++; i < c->n - 1; i++)
		if (!is_mod(c->kinds[i]))
			return c->kinds[i];
	return BTF_KIND_UNKN;
}

static bool needs_parens(const struct chain *c, int i)
{
	__u16 k = inner_kind(c, i);

	return c->kinds[i] == BTF_KIND_PTR && (k == BTF_KIND_ARRAY || k == BTF_KIND_FUNC_PROTO);
}

static void put_params(struct btf_dumper *d, const struct btf_type *t, int lvl)
{
	const struct btf_param *p = btf_params_of(t);
	__u32 i, vlen = btf_vlen_of(t);

	sb_putc(&d->out, '(');
	/* "(...)" alone is not C before C23: an unprototyped function, as "(void)" */
	if (!vlen || (vlen == 1 && !p->type)) {
		sb_puts(&d->out, "void)");
		return;
	}
	for (i = 0; i < vlen && !d->err; i++, p++) {
		if (i)
			sb_put(&d->out, ", ", 2);
		if (!p->type && i + 1 == vlen) {
			sb_puts(&d->out, "...");
			break;
		}
		dump_decl(d, p->type, dump_str(d, p->name_off), 0, lvl);
	}
	sb_putc(&d->out, ')');
}

static void put_suffixes(struct btf_dumper *d, const struct chain *c, int lvl)
{
	int i;

	for (i = 0; i < c->n - 1 && !d->err; i++) {
		const struct btf_type *t = dump_type(d, c->ids[i]);

		switch (c->kinds[i]) {
		case BTF_KIND_PTR:
			if (needs_parens(c, i))
				sb_putc(&d->out, ')');
			break;
		case BTF_KIND_ARRAY:
			sb_putc(&d->out, '[');
			sb_u64(&d->out, btf_array_of(t)->nelems);
			sb_putc(&d->out, ']');
			break;
		case BTF_KIND_FUNC_PROTO:
			put_params(d, t, lvl);
			break;
		}
	}
}

static bool has_declarator(const struct chain *c)
{
	int i;

	for (i = 0; i < c->n - 1; i++)
		if (!is_mod(c->kinds[i]))
			return true;
	return false;
}

/* "<base> <declarator>" for type id named name (may be ""; dup > 1 appends ___dup);
 * anonymous records and enums in the base are defined in place, at indentation lvl. */
void dump_decl(struct btf_dumper *d, __u32 id, const char *name, __u32 dup, int lvl)
{
	struct chain c;
	int i;

	if (d->err)
		return;
	if (d->depth >= DUMP_MAX_DEPTH) {
		dump_fail(d, -ELOOP, "BTF type [%u]: declarations nested deeper than %d", id,
			  DUMP_MAX_DEPTH);
		return;
	}
	if (build_chain(d, id, &c))
		return;
	d->depth++;
	assign_qualifiers(&c);
	put_base(d, &c, lvl);
	if (*name || has_declarator(&c))
		sb_putc(&d->out, ' ');
	for (i = c.n - 2; i >= 0; i--) {
		if (c.kinds[i] != BTF_KIND_PTR)
			continue;
		if (needs_parens(&c, i)) {
			sep(d);
			sb_putc(&d->out, '(');
		}
		sep(d);
		sb_putc(&d->out, '*');
		put_cvr(d, &c, i, Q_CONST | Q_VOLATILE | Q_RESTRICT);
		put_type_tags(d, &c, i);
	}
	if (*name) {
		sep(d);
		sb_puts(&d->out, name);
		if (dup > 1) {
			sb_put(&d->out, "___", 3);
			sb_u64(&d->out, dup);
		}
	}
	put_suffixes(d, &c, lvl);
	d->depth--;
}

/* ---- definitions -------------------------------------------------------------------------- */

static __u64 round_up(__u64 v, __u64 a)
{
	return a ? (v + a - 1) / a * a : v;
}

static __u64 put_member(struct btf_dumper *d, __u32 id, const struct btf_type *t, __u32 i,
			__u64 cur, bool packed, int lvl)
{
	const struct btf_member *m = btf_members_of(t) + i;
	bool is_struct = btf_kind_of(t) == BTF_KIND_STRUCT;
	__u32 off, bits = dump_member_bits(d, t, i, &off);

	if (is_struct && off > cur) {
		__u64 natural = round_up(cur, (packed ? 1 : dump_align_of(d, m->type)) * 8ull);

		if (bits || natural != off)
			dump_padding(d, cur, off, lvl);
	}
	sb_putc(&d->out, '\n');
	dump_indent(d, lvl);
	dump_decl(d, m->type, dump_str(d, m->name_off), 0, lvl);
	if (bits) {
		sb_put(&d->out, ": ", 2);
		sb_u64(&d->out, bits);
	}
	dump_decl_tags(d, id, (__s32)i);
	sb_putc(&d->out, ';');
	return off + (bits ? bits : dump_size_of(d, m->type) * 8);
}

void dump_record_def(struct btf_dumper *d, __u32 id, const struct btf_type *t, int lvl)
{
	bool is_struct = btf_kind_of(t) == BTF_KIND_STRUCT;
	__u8 layout = dump_record_layout(d, id, t);
	bool packed = layout & LAYOUT_PACKED;
	__u64 align = 1ull << ((layout & LAYOUT_LOG2) - 1), end = 0, size = (__u64)t->size * 8;
	__u32 i, vlen = btf_vlen_of(t);

	d->records = true;
	sb_puts(&d->out, is_struct ? "struct" : "union");
	if (t->name_off) {
		sb_putc(&d->out, ' ');
		dump_type_name(d, id);
	}
	sb_puts(&d->out, " {");
	for (i = 0; i < vlen && !d->err; i++) {
		__u64 m_end = put_member(d, id, t, i, end, packed, lvl + 1);

		/* a struct goes on from the last member; a union is as wide as the widest */
		if (is_struct || m_end > end)
			end = m_end;
	}
	if (is_struct && round_up(end, align * 8) != size)
		dump_padding(d, end, size, lvl + 1);
	else if (!is_struct && round_up(end, align * 8) < size)
		dump_union_padding(d, end, size, lvl + 1);
	if (vlen || t->size) {
		sb_putc(&d->out, '\n');
		dump_indent(d, lvl);
	}
	sb_putc(&d->out, '}');
	if (packed)
		sb_puts(&d->out, " __attribute__((packed))");
	if (layout & LAYOUT_ALIGNED) {
		sb_puts(&d->out, " __attribute__((aligned(");
		sb_u64(&d->out, align);
		sb_puts(&d->out, ")))");
	}
	dump_decl_tags(d, id, -1);
}

/* The size clang gives an enum with these values: int, unsigned int, else 64 bits. */
static __u32 natural_enum_size(const struct btf_type *t)
{
	bool is64 = btf_kind_of(t) == BTF_KIND_ENUM64, sign = btf_kflag_of(t);
	bool fits_int = true, fits_uint = true;
	__u32 i, vlen = btf_vlen_of(t);

	for (i = 0; i < vlen; i++) {
		__s64 s;
		__u64 u;

		if (!is64) {
			if (sign && btf_enums_of(t)[i].val < 0)
				fits_uint = false;
			else if (!sign && (__u32)btf_enums_of(t)[i].val > INT32_MAX)
				fits_int = false;
			continue;
		}
		u = (__u64)((const struct btf_enum64 *)(t + 1))[i].val_hi32 << 32 |
		    ((const struct btf_enum64 *)(t + 1))[i].val_lo32;
		s = (__s64)u;
		if (sign ? (s < INT32_MIN || s > INT32_MAX) : u > INT32_MAX)
			fits_int = false;
		if (sign ? (s < 0 || s > (__s64)UINT32_MAX) : u > UINT32_MAX)
			fits_uint = false;
	}
	return fits_int || fits_uint ? 4 : 8;
}

static void put_enum_value(struct btf_dumper *d, const struct btf_type *t, __u32 i)
{
	bool sign = btf_kflag_of(t);

	if (btf_kind_of(t) == BTF_KIND_ENUM) {
		__s32 v = btf_enums_of(t)[i].val;

		if (sign)
			sb_s64(&d->out, v);
		else
			sb_u64(&d->out, (__u32)v);
		return;
	}
	const struct btf_enum64 *e = (const struct btf_enum64 *)(t + 1) + i;
	__u64 u = (__u64)e->val_hi32 << 32 | e->val_lo32;

	if (sign && u == (__u64)INT64_MIN) {
		sb_puts(&d->out, "(-9223372036854775807LL - 1)");
	} else if (sign) {
		sb_s64(&d->out, (__s64)u);
		sb_put(&d->out, "LL", 2);
	} else {
		sb_u64(&d->out, u);
		sb_put(&d->out, "ULL", 3);
	}
}

void dump_enum_def(struct btf_dumper *d, __u32 id, const struct btf_type *t, int lvl)
{
	__u32 i, vlen = btf_vlen_of(t);
	const __u32 *name_off = (const __u32 *)(t + 1); /* name_off leads both records */
	size_t stride = btf_kind_of(t) == BTF_KIND_ENUM64 ? 3 : 2;

	sb_puts(&d->out, "enum");
	if (t->name_off) {
		sb_putc(&d->out, ' ');
		dump_type_name(d, id);
	}
	if (!vlen)
		return;
	sb_puts(&d->out, " {");
	for (i = 0; i < vlen; i++) {
		sb_putc(&d->out, '\n');
		dump_indent(d, lvl + 1);
		dump_enumerator(d, name_off[i * stride]);
		sb_put(&d->out, " = ", 3);
		put_enum_value(d, t, i);
		sb_putc(&d->out, ',');
	}
	sb_putc(&d->out, '\n');
	dump_indent(d, lvl);
	sb_putc(&d->out, '}');
	if (t->size == 1)
		sb_puts(&d->out, " __attribute__((mode(byte)))");
	else if (t->size == 2)
		sb_puts(&d->out, " __attribute__((mode(HI)))");
	else if (t->size == 8 && natural_enum_size(t) != 8)
		sb_puts(&d->out, " __attribute__((mode(word)))");
}

/* __builtin_va_list is the compiler's own: defining it again breaks the header. */
bool dump_typedef_skipped(const struct btf_dumper *d, const struct btf_type *t)
{
	return strcmp(dump_str(d, t->name_off), "__builtin_va_list") == 0;
}

void dump_typedef_def(struct btf_dumper *d, __u32 id, const struct btf_type *t)
{
	const char *name = dump_str(d, t->name_off);

	/* Old GCC describes __gnuc_va_list as a typedef of void. */
	if (!t->type && strcmp(name, "__gnuc_va_list") == 0) {
		sb_puts(&d->out, "typedef __builtin_va_list __gnuc_va_list");
		return;
	}
	sb_puts(&d->out, "typedef ");
	dump_decl(d, t->type, name, dump_ident_dup(d, id), 0);
	dump_decl_tags(d, id, -1);
}

void dump_fwd_def(struct btf_dumper *d, __u32 id, const struct btf_type *t)
{
	sb_puts(&d->out, btf_kflag_of(t) ? "union " : "struct ");
	dump_type_name(d, id);
}
