/* BTF to C: a header that clang compiles, like `bpftool btf dump ... format c`.
 *
 * Two passes. Ordering sorts the types topologically under C's rules: what a record
 * embeds (by value, or anonymous types defined inside it) must be complete before it,
 * while what it only points to at a named record needs no more than a forward
 * declaration ("weak" links; a cycle through pointers is fine, one through values is
 * not C). Emission then writes each queued definition, first writing the forward
 * declarations (struct x;) and typedefs its members need. Anonymous records and enums
 * are written inline where they are used; unreferenced anonymous enums (constants)
 * at the top level. The declarations are btf_dump_decl.c, layout btf_dump_layout.c,
 * names btf_dump_names.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sys/sys.h"
#include "btf_dump_priv.h"

#define DEFAULT_GUARD "__VMLINUX_H__"
#define PAI_PUSH "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push " \
	"(__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n"
#define PAI_POP "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n" \
	"#endif\n\n"

int dump_fail(struct btf_dumper *d, int err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (d->err)
		return d->err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->err = err;
	ayac_seterr(-err, "BTF to C: %s", msg);
	return err;
}

static bool is_record(__u16 kind)
{
	return kind == BTF_KIND_STRUCT || kind == BTF_KIND_UNION;
}

/* ---- setup: who is referenced, decl tags ------------------------------------------------ */

static void mark(struct btf_dumper *d, __u32 id)
{
	if (id < d->nr)
		d->state[id] |= ST_REFERENCED;
}

static void mark_referenced(struct btf_dumper *d, const struct btf_type *t)
{
	__u32 i, vlen = btf_vlen_of(t);

	switch (btf_kind_of(t)) {
	case BTF_KIND_PTR: case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT: case BTF_KIND_FUNC: case BTF_KIND_VAR: case BTF_KIND_DECL_TAG:
	case BTF_KIND_TYPE_TAG:
		mark(d, t->type);
		break;
	case BTF_KIND_ARRAY:
		mark(d, btf_array_of(t)->type);
		mark(d, btf_array_of(t)->index_type);
		break;
	case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		for (i = 0; i < vlen; i++)
			mark(d, btf_members_of(t)[i].type);
		break;
	case BTF_KIND_FUNC_PROTO:
		mark(d, t->type);
		for (i = 0; i < vlen; i++)
			mark(d, btf_params_of(t)[i].type);
		break;
	case BTF_KIND_DATASEC:
		for (i = 0; i < vlen; i++)
			mark(d, btf_secinfos_of(t)[i].type);
		break;
	}
}

static int cmp_tag(const void *a, const void *b)
{
	const struct decl_tag_ref *x = a, *y = b;

	if (x->target != y->target)
		return x->target < y->target ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id; /* same target: in BTF order */
}

static int collect(struct btf_dumper *d)
{
	__u32 id, cap = 0;

	for (id = 1; id < d->nr; id++) {
		const struct btf_type *t = dump_type(d, id);
		struct decl_tag_ref *grown;

		mark_referenced(d, t);
		if (btf_kind_of(t) != BTF_KIND_DECL_TAG)
			continue;
		if (d->ntags == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(d->tags, cap * sizeof(*grown));
			if (!grown)
				return dump_fail(d, -ENOMEM, "out of memory for decl tags");
			d->tags = grown;
		}
		d->tags[d->ntags].id = id;
		d->tags[d->ntags].target = t->type;
		d->tags[d->ntags].component = ((const struct btf_decl_tag *)(t + 1))->component_idx;
		d->tags[d->ntags].name_off = t->name_off;
		d->ntags++;
	}
	if (d->ntags)
		qsort(d->tags, d->ntags, sizeof(*d->tags), cmp_tag);
	return 0;
}

/* ---- ordering ------------------------------------------------------------------------- */

static int enqueue(struct btf_dumper *d, __u32 id)
{
	/* every id is queued at most once (ORD_DONE follows), so nr slots suffice */
	if (d->nqueue >= d->nr)
		return dump_fail(d, -EINVAL, "BTF type [%u] queued twice", id);
	d->queue[d->nqueue++] = id;
	return 0;
}

static int order(struct btf_dumper *d, __u32 id, bool via_ptr);

static int order_record(struct btf_dumper *d, __u32 id, const struct btf_type *t, bool via_ptr)
{
	const struct btf_member *m = btf_members_of(t);
	__u32 i, vlen = btf_vlen_of(t);
	int err;

	/* Through a pointer, a named record only needs a forward declaration; an anonymous
	 * one is defined where it is used, so its members count all the same. */
	if (via_ptr && t->name_off)
		return 0;
	d->state[id] |= ORD_DOING;
	for (i = 0; i < vlen; i++, m++)
		if ((err = order(d, m->type, false)) < 0)
			return err;
	if (t->name_off && (err = enqueue(d, id)))
		return err;
	d->state[id] = (__u8)((d->state[id] & ~ORD_MASK) | ORD_DONE);
	return 1;
}

static int order_proto(struct btf_dumper *d, const struct btf_type *t, bool via_ptr)
{
	const struct btf_param *p = btf_params_of(t);
	__u32 i, vlen = btf_vlen_of(t);
	int r, strong;

	strong = r = order(d, t->type, via_ptr);
	for (i = 0; r >= 0 && i < vlen; i++, p++)
		if ((r = order(d, p->type, via_ptr)) > 0)
			strong = 1;
	return r < 0 ? r : strong;
}

static void set_ordered(struct btf_dumper *d, __u32 id)
{
	d->state[id] = (__u8)((d->state[id] & ~ORD_MASK) | ORD_DONE);
}

static int order_kind(struct btf_dumper *d, __u32 id, const struct btf_type *t, bool via_ptr)
{
	int r;

	switch (btf_kind_of(t)) {
	case BTF_KIND_PTR:
		r = order(d, t->type, true);
		set_ordered(d, id);
		return r;
	case BTF_KIND_ARRAY:
		return order(d, btf_array_of(t)->type, false);
	case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		return order_record(d, id, t, via_ptr);
	case BTF_KIND_ENUM: case BTF_KIND_ENUM64: case BTF_KIND_FWD:
		/* named ones are declarations of their own; so are anonymous enums nothing
		 * refers to (constants) */
		if ((t->name_off || !(d->state[id] & ST_REFERENCED)) && (r = enqueue(d, id)))
			return r;
		set_ordered(d, id);
		return 1;
	case BTF_KIND_TYPEDEF:
		r = order(d, t->type, via_ptr);
		if (r < 0 || (via_ptr && r == 0))
			return r;
		if ((r = enqueue(d, id)))
			return r;
		set_ordered(d, id);
		return 1;
	case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		return order(d, t->type, via_ptr);
	case BTF_KIND_FUNC_PROTO:
		return order_proto(d, t, via_ptr);
	default: /* int, float: always there; func, var, datasec, decl_tag: not written */
		set_ordered(d, id);
		return 0;
	}
}

/* 1: id must be complete before whoever reached it; 0: a forward declaration will do;
 * negative: an error (a cycle no declaration order satisfies). */
static int order(struct btf_dumper *d, __u32 id, bool via_ptr)
{
	const struct btf_type *t;
	int r;

	if (!id || (d->state[id] & ORD_MASK) == ORD_DONE)
		return 1;
	if (d->err)
		return d->err;
	t = dump_type(d, id);
	if ((d->state[id] & ORD_MASK) == ORD_DOING) {
		if (is_record(btf_kind_of(t)) && via_ptr && t->name_off)
			return 0;
		return dump_fail(d, -ELOOP, "BTF type [%u] '%s' contains itself", id,
				 dump_str(d, t->name_off));
	}
	if (d->depth >= DUMP_MAX_DEPTH)
		return dump_fail(d, -ELOOP, "BTF type [%u]: types nested deeper than %d", id,
				 DUMP_MAX_DEPTH);
	d->depth++;
	r = order_kind(d, id, t, via_ptr);
	d->depth--;
	return r;
}

/* ---- emission ------------------------------------------------------------------------- */

static void end_def(struct btf_dumper *d)
{
	sb_put(&d->out, ";\n\n", 3);
}

static void set_emit(struct btf_dumper *d, __u32 id, __u8 st)
{
	d->state[id] = (__u8)((d->state[id] & ~EMIT_MASK) | st);
}

static void emit(struct btf_dumper *d, __u32 id, __u32 cont);

/* A type being written is needed again: what a forward declaration can do. */
static void emit_again(struct btf_dumper *d, __u32 id, const struct btf_type *t, __u32 cont)
{
	if (d->state[id] & ST_FWD)
		return;
	if (is_record(btf_kind_of(t))) {
		/* inside itself, or anonymous (defined in place): nothing to declare */
		if (id == cont || !t->name_off)
			return;
		sb_puts(&d->out, btf_kind_of(t) == BTF_KIND_STRUCT ? "struct " : "union ");
		dump_type_name(d, id);
		end_def(d);
		d->state[id] |= ST_FWD;
	} else if (btf_kind_of(t) == BTF_KIND_TYPEDEF) {
		/* a typedef of a record declared ahead serves pointers already */
		if (!dump_typedef_skipped(d, t)) {
			dump_typedef_def(d, id, t);
			end_def(d);
		}
		d->state[id] |= ST_FWD;
	}
}

static void emit_record(struct btf_dumper *d, __u32 id, const struct btf_type *t, __u32 cont)
{
	const struct btf_member *m = btf_members_of(t);
	__u32 i, vlen = btf_vlen_of(t);

	set_emit(d, id, EMIT_DOING);
	/* A definition spells out its members (so does an anonymous record, in place):
	 * what they refer to must be declared first. */
	if (!cont || !t->name_off) {
		__u32 inner = t->name_off ? id : cont;

		for (i = 0; i < vlen && !d->err; i++, m++)
			emit(d, m->type, inner);
	} else if (!(d->state[id] & ST_FWD) && id != cont) {
		sb_puts(&d->out, btf_kind_of(t) == BTF_KIND_STRUCT ? "struct " : "union ");
		dump_type_name(d, id);
		end_def(d);
		d->state[id] |= ST_FWD;
	}
	if (!cont) {
		dump_record_def(d, id, t, 0);
		end_def(d);
		set_emit(d, id, EMIT_DONE);
	} else {
		set_emit(d, id, 0);
	}
}

/* GCC describes Arm SIMD's polynomial types as ints of those names, which clang lacks. */
static void emit_int_alias(struct btf_dumper *d, const struct btf_type *t)
{
	static const char *const alias[][2] = {
		{ "__Poly8_t", "unsigned char" }, { "__Poly16_t", "unsigned short" },
		{ "__Poly64_t", "unsigned long long" }, { "__Poly128_t", "unsigned __int128" },
	};
	const char *name = dump_str(d, t->name_off);
	size_t i;

	for (i = 0; i < sizeof(alias) / sizeof(alias[0]); i++) {
		if (strcmp(name, alias[i][0]) != 0)
			continue;
		sb_puts(&d->out, "typedef ");
		sb_puts(&d->out, alias[i][1]);
		sb_putc(&d->out, ' ');
		sb_puts(&d->out, name);
		end_def(d);
	}
}

static void emit_kind(struct btf_dumper *d, __u32 id, const struct btf_type *t, __u32 cont)
{
	__u32 i;

	switch (btf_kind_of(t)) {
	case BTF_KIND_INT:
		emit_int_alias(d, t);
		set_emit(d, id, EMIT_DONE);
		break;
	case BTF_KIND_ENUM: case BTF_KIND_ENUM64:
		if (!cont) {
			dump_enum_def(d, id, t, 0);
			end_def(d);
		}
		set_emit(d, id, EMIT_DONE);
		break;
	case BTF_KIND_PTR: case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		emit(d, t->type, cont);
		break;
	case BTF_KIND_ARRAY:
		emit(d, btf_array_of(t)->type, cont);
		break;
	case BTF_KIND_FWD:
		dump_fwd_def(d, id, t);
		end_def(d);
		set_emit(d, id, EMIT_DONE);
		break;
	case BTF_KIND_TYPEDEF:
		set_emit(d, id, EMIT_DOING);
		emit(d, t->type, id);
		if (!(d->state[id] & ST_FWD) && !dump_typedef_skipped(d, t)) {
			dump_typedef_def(d, id, t);
			end_def(d);
		}
		set_emit(d, id, EMIT_DONE);
		break;
	case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		emit_record(d, id, t, cont);
		break;
	case BTF_KIND_FUNC_PROTO:
		emit(d, t->type, cont);
		for (i = 0; i < btf_vlen_of(t) && !d->err; i++)
			emit(d, btf_params_of(t)[i].type, cont);
		break;
	default:
		set_emit(d, id, EMIT_DONE);
		break;
	}
}

/* Write id's definition (cont == 0: at the top level) or, when id is used inside the
 * definition of cont, whatever must precede that definition. */
static void emit(struct btf_dumper *d, __u32 id, __u32 cont)
{
	const struct btf_type *t;

	if (!id || d->err || (d->state[id] & EMIT_MASK) == EMIT_DONE)
		return;
	t = dump_type(d, id);
	if ((d->state[id] & EMIT_MASK) == EMIT_DOING) {
		emit_again(d, id, t, cont);
		return;
	}
	if (d->depth >= DUMP_MAX_DEPTH) {
		dump_fail(d, -ELOOP, "BTF type [%u]: types nested deeper than %d", id,
			  DUMP_MAX_DEPTH);
		return;
	}
	d->depth++;
	emit_kind(d, id, t, cont);
	d->depth--;
}

/* ---- the header ------------------------------------------------------------------------ */

static bool valid_guard(const char *g)
{
	if (!*g || (*g >= '0' && *g <= '9'))
		return false;
	for (; *g; g++)
		if (!((*g >= 'a' && *g <= 'z') || (*g >= 'A' && *g <= 'Z') ||
		      (*g >= '0' && *g <= '9') || *g == '_'))
			return false;
	return true;
}

static void put_prologue(struct btf_dumper *d, const char *guard)
{
	struct sbuf *o = &d->out;

	sb_puts(o, "#ifndef ");
	sb_puts(o, guard);
	sb_puts(o, "\n#define ");
	sb_puts(o, guard);
	sb_puts(o, "\n\n");
	d->pragma_at = o->len;
	sb_puts(o, PAI_PUSH);
}

static void put_epilogue(struct btf_dumper *d, const char *guard)
{
	struct sbuf *o = &d->out;

	if (d->records) {
		sb_puts(o, PAI_POP);
	} else if (!o->oom) {
		/* clang warns about a pragma region without records */
		memmove(o->p + d->pragma_at, o->p + d->pragma_at + strlen(PAI_PUSH),
			o->len - d->pragma_at - strlen(PAI_PUSH));
		o->len -= strlen(PAI_PUSH);
	}
	sb_puts(o, "#endif /* ");
	sb_puts(o, guard);
	sb_puts(o, " */\n");
}

static void dumper_free(struct btf_dumper *d)
{
	free(d->state);
	free(d->layout);
	free(d->dup);
	free(d->queue);
	free(d->tags);
	name_map_free(&d->type_names);
	name_map_free(&d->ident_names);
	sb_free(&d->out);
}

static int run(struct btf_dumper *d, const char *guard)
{
	__u32 id, i;

	d->nr = ayac_btf_type_cnt(d->btf);
	d->state = calloc(d->nr, 1);
	d->layout = calloc(d->nr, 1);
	d->dup = calloc(d->nr, sizeof(*d->dup));
	d->queue = calloc(d->nr, sizeof(*d->queue));
	if (!d->state || !d->layout || !d->dup || !d->queue || !sb_reserve(&d->out, 1 << 20))
		return dump_fail(d, -ENOMEM, "out of memory for %u types", d->nr);
	if (collect(d))
		return d->err;
	put_prologue(d, guard);
	for (id = 1; id < d->nr && !d->err; id++)
		order(d, id, false);
	for (i = 0; i < d->nqueue && !d->err; i++)
		emit(d, d->queue[i], 0);
	put_epilogue(d, guard);
	if (!d->err && d->out.too_big)
		dump_fail(d, -EFBIG, "the header would be larger than %zu MiB", SB_LIMIT >> 20);
	else if (!d->err && d->out.oom)
		dump_fail(d, -ENOMEM, "out of memory for the header (%zu bytes so far)", d->out.len);
	return d->err;
}

int ayac_btf_dump_c(const struct ayac_btf *btf, const struct ayac_btf_dump_opts *opts,
		    char **out, size_t *len)
{
	const char *guard = opts && opts->guard ? opts->guard : DEFAULT_GUARD;
	struct btf_dumper d;
	int err;

	*out = NULL;
	*len = 0;
	if (!valid_guard(guard))
		return ayac_seterr(EINVAL, "BTF to C: include guard '%s' is not an identifier",
				   guard);
	memset(&d, 0, sizeof(d));
	d.btf = btf;
	err = run(&d, guard);
	if (!err) {
		d.out.p[d.out.len] = '\0'; /* sb_put keeps a spare byte */
		*out = d.out.p;
		*len = d.out.len;
		d.out.p = NULL;
	}
	dumper_free(&d);
	return err;
}

int ayac_btf_dump_c_file(const struct ayac_btf *btf, const struct ayac_btf_dump_opts *opts,
			 FILE *f)
{
	size_t len;
	char *text;
	int err = ayac_btf_dump_c(btf, opts, &text, &len);

	if (err)
		return err;
	if (fwrite(text, 1, len, f) != len || fflush(f))
		err = ayac_seterr(errno ? errno : EIO, "BTF to C: write the header");
	free(text);
	return err;
}
