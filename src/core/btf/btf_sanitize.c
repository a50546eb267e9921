/* BTF for kernels that lack some of it. Before the object's BTF goes to the kernel,
 * every kind the kernel does not know is replaced by one it does, keeping each type's
 * id (maps, func_info and CO-RE refer to ids) and, as far as the kernel can check, its
 * size:
 *
 *   func_proto -> enum (one enumerator per parameter)   func -> typedef of it
 *   global/extern func -> static func                   var -> 1-byte int
 *   datasec -> struct (members named as the variables, at their offsets)
 *   without func: datasec entries that are funcs (.ksyms kfuncs) dropped
 *   empty datasec -> empty anonymous struct, same size  float -> empty struct, same size
 *   decl_tag -> 1-byte int (also one on a func or var that is rewritten away)
 *   type_tag -> const
 *   enum64 -> union of 1-byte ints (members named as the values), enum kflag cleared
 *   datasec "?.x" -> datasec "_.x"
 *
 * as libbpf and Aya do. Unlike libbpf, the rewrite goes to a copy: the object's own BTF
 * stays whole for everything after load (globals and map values by BTF, CO-RE, Lua),
 * and the copy is what the kernel gets, its fd becoming the object BTF's fd. A copy
 * also lets the rewrite do what an in-place edit cannot: name unnamed parameters (the
 * kernel wants every enumerator named), give datasec-turned-structs identifier names,
 * append the stand-in int, shrink an empty datasec. Without FUNC the kernel also
 * refuses func_info and line_info, so the loader leaves them out (as libbpf
 * does). Which kinds are missing is the caller's answer (relo/btf_fixup.c asks the
 * feature probes): this file only rewrites bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sys/sys.h"
#include "btf_priv.h"

#define INFO(kind, kflag, vlen) (((__u32)(kflag) << 31) | ((__u32)(kind) << 24) | (__u32)(vlen))
#define PLACEHOLDER_NAME "ayac_placeholder"
#define PARAM_NAME "ayac_param"

/* ---- the rewrite ----------------------------------------------------------------------- */

struct rewrite {
	const struct ayac_btf *btf;
	unsigned missing;
	char *types;          /* the new type section */
	size_t tlen, tcap;
	char *strs;           /* strings appended after the original ones */
	size_t slen, scap;
	__u32 placeholder;    /* the stand-in int's id once used (0: not yet) */
	__u32 param_name;     /* string offset of PARAM_NAME once added */
};

static int grow(char **buf, size_t *cap, size_t need)
{
	size_t c = *cap ? *cap : 4096;
	char *p;

	while (c < need) {
		if (c > SIZE_MAX / 2)
			return ayac_seterr(ENOMEM, "sanitize BTF: %zu bytes", need);
		c *= 2;
	}
	if (c == *cap)
		return 0;
	p = realloc(*buf, c);
	if (!p)
		return ayac_seterr(ENOMEM, "sanitize BTF: out of memory (%zu bytes)", c);
	*buf = p;
	*cap = c;
	return 0;
}

static int put(struct rewrite *r, const void *p, size_t n)
{
	int err = grow(&r->types, &r->tcap, r->tlen + n);

	if (err)
		return err;
	memcpy(r->types + r->tlen, p, n);
	r->tlen += n;
	return 0;
}

static int put_u32(struct rewrite *r, __u32 v)
{
	return put(r, &v, sizeof(v));
}

static int put_hdr(struct rewrite *r, __u32 name_off, __u32 info, __u32 size_or_type)
{
	struct btf_type h = { .name_off = name_off, .info = info, .size = size_or_type };

	return put(r, &h, sizeof(h));
}

/* A new string (offsets continue after the original section). 0 on failure. */
static __u32 add_str(struct rewrite *r, const char *s)
{
	size_t n = strlen(s) + 1;
	__u32 off = r->btf->strs_len + (__u32)r->slen;

	if ((__u64)off + n > UINT32_MAX || grow(&r->strs, &r->scap, r->slen + n))
		return 0;
	memcpy(r->strs + r->slen, s, n);
	r->slen += n;
	return off;
}

static __u32 placeholder(struct rewrite *r)
{
	if (!r->placeholder)
		r->placeholder = ayac_btf_type_cnt(r->btf);
	return r->placeholder;
}

static int put_int(struct rewrite *r, __u32 name_off)
{
	int err = put_hdr(r, name_off, INFO(BTF_KIND_INT, 0, 0), 1);

	return err ? err : put_u32(r, 8); /* 8 bits, unsigned */
}

static bool ident_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

/* ".rodata.str1.1" -> "_rodata_str1_1": a struct name the kernel accepts. */
static __u32 ident_name(struct rewrite *r, __u32 name_off)
{
	const char *name = ayac_btf_str(r->btf, name_off);
	size_t i, n;
	char *s;
	__u32 off;

	if (!name || !*name)
		return 0;
	for (i = 0; name[i] && ident_char(name[i], i == 0); i++)
		;
	if (!name[i])
		return name_off;
	n = strlen(name);
	s = malloc(n + 2);
	if (!s)
		return 0;
	for (i = 0; i < n; i++)
		s[i] = ident_char(name[i], i == 0) ? name[i] : '_';
	s[n] = '\0';
	off = add_str(r, s);
	free(s);
	return off;
}

static int datasec_to_struct(struct rewrite *r, const struct btf_type *t)
{
	const struct btf_var_secinfo *v = btf_secinfos_of(t);
	__u32 i, vlen = btf_vlen_of(t), name = ident_name(r, t->name_off);
	int err = put_hdr(r, name, INFO(BTF_KIND_STRUCT, 0, vlen), t->size);

	for (i = 0; !err && i < vlen; i++, v++) {
		const struct btf_type *vt = ayac_btf_type(r->btf, v->type);
		bool is_var = vt && btf_kind_of(vt) == BTF_KIND_VAR;
		struct btf_member m;

		/* The kernel refuses such a datasec too; an object's sections are sized at
		 * open, so this is BTF that was never fixed up (or is corrupt). */
		if ((__u64)v->offset + v->size > t->size || v->offset > UINT32_MAX / 8)
			return ayac_seterr(AYAC_EBTF, "sanitize BTF: datasec '%s' entry %u (offset "
					   "%u, %u bytes) lies outside its %u bytes: sections are "
					   "sized when an object is opened",
					   ayac_btf_str(r->btf, t->name_off) ?: "", i,
					   v->offset, v->size, t->size);
		m = (struct btf_member){
			.name_off = vt ? vt->name_off : 0,
			.type = is_var ? v->type : placeholder(r),  /* the var is a 1-byte int now */
			.offset = v->offset * 8,
		};

		err = put(r, &m, sizeof(m));
	}
	return err;
}

static bool is_func(const struct ayac_btf *btf, __u32 id)
{
	const struct btf_type *t = ayac_btf_type(btf, id);

	return t && btf_kind_of(t) == BTF_KIND_FUNC;
}

/* A datasec listing functions (.ksyms: kfuncs) when functions are typedefs now: the
 * kernel wants vars only, and no map's value is a .ksyms datasec, so they go. */
static int datasec_without_funcs(struct rewrite *r, const struct btf_type *t)
{
	const struct btf_var_secinfo *v = btf_secinfos_of(t);
	__u32 i, vlen = btf_vlen_of(t), kept = 0;
	int err;

	for (i = 0; i < vlen; i++)
		kept += !is_func(r->btf, v[i].type);
	if ((r->missing & AYAC_BTF_NO_ZERO_DATASEC) && (!t->size || !kept))
		return put_hdr(r, 0, INFO(BTF_KIND_STRUCT, 0, 0), t->size);
	err = put_hdr(r, t->name_off, INFO(BTF_KIND_DATASEC, 0, kept), t->size);
	for (i = 0; !err && i < vlen; i++)
		if (!is_func(r->btf, v[i].type))
			err = put(r, &v[i], sizeof(v[i]));
	return err;
}

static bool datasec_lists_func(const struct ayac_btf *btf, const struct btf_type *t)
{
	const struct btf_var_secinfo *v = btf_secinfos_of(t);
	__u32 i;

	for (i = 0; i < btf_vlen_of(t); i++)
		if (is_func(btf, v[i].type))
			return true;
	return false;
}

static int proto_to_enum(struct rewrite *r, const struct btf_type *t)
{
	const struct btf_param *p = btf_params_of(t);
	__u32 i, vlen = btf_vlen_of(t);
	int err = put_hdr(r, t->name_off, INFO(BTF_KIND_ENUM, 0, vlen), sizeof(__u32));

	for (i = 0; !err && i < vlen; i++, p++) {
		struct btf_enum e = { .name_off = p->name_off, .val = (__s32)p->type };

		/* every enumerator needs a name; unnamed and "..." parameters get one */
		if (!e.name_off) {
			if (!r->param_name && !(r->param_name = add_str(r, PARAM_NAME)))
				return ayac_seterr(ENOMEM, "sanitize BTF: out of memory");
			e.name_off = r->param_name;
		}
		err = put(r, &e, sizeof(e));
	}
	return err;
}

static int enum64_to_union(struct rewrite *r, const struct btf_type *t)
{
	const struct btf_enum64 *e = (const struct btf_enum64 *)(t + 1);
	__u32 i, vlen = btf_vlen_of(t);
	int err = put_hdr(r, t->name_off, INFO(BTF_KIND_UNION, 0, vlen), t->size);

	for (i = 0; !err && i < vlen; i++, e++) {
		struct btf_member m = { .name_off = e->name_off, .type = placeholder(r) };

		err = put(r, &m, sizeof(m));
	}
	return err;
}

/* A decl tag stays only on what can still carry one: a func that stays a func, a var
 * that stays a var (structs, unions and typedefs always do). */
static bool tag_target_kept(const struct rewrite *r, __u32 target)
{
	const struct btf_type *t = ayac_btf_type(r->btf, target);
	__u16 kind = t ? btf_kind_of(t) : BTF_KIND_UNKN;

	if (kind == BTF_KIND_FUNC)
		return !(r->missing & AYAC_BTF_NO_FUNC);
	if (kind == BTF_KIND_VAR)
		return !(r->missing & AYAC_BTF_NO_DATASEC);
	return true;
}

/* A datasec named "?..." as "_...": older kernels refuse '?' in section names. */
static int datasec_unquestioned(struct rewrite *r, const struct btf_type *t)
{
	const char *name = ayac_btf_str(r->btf, t->name_off);
	char fixed[256];
	__u32 off;

	if (!name || strlen(name) >= sizeof(fixed))
		return ayac_seterr(EINVAL, "sanitize BTF: datasec name too long");
	snprintf(fixed, sizeof(fixed), "_%s", name + 1);
	off = add_str(r, fixed);
	if (!off)
		return ayac_seterr(ENOMEM, "sanitize BTF: out of memory");
	if (put_hdr(r, off, t->info, t->size))
		return -ENOMEM;
	return put(r, t + 1, btf_vlen_of(t) * sizeof(struct btf_var_secinfo));
}

static bool qmark_name(const struct ayac_btf *btf, const struct btf_type *t)
{
	const char *name = ayac_btf_str(btf, t->name_off);

	return name && name[0] == '?';
}

/* The type record, rewritten when the kernel lacks its kind. 1: not rewritten. */
static int rewrite_type(struct rewrite *r, const struct btf_type *t)
{
	unsigned miss = r->missing;
	__u16 kind = btf_kind_of(t);

	switch (kind) {
	case BTF_KIND_VAR:
		return miss & AYAC_BTF_NO_DATASEC ? put_int(r, t->name_off) : 1;
	case BTF_KIND_DECL_TAG:
		return miss & AYAC_BTF_NO_DECL_TAG || !tag_target_kept(r, t->type)
		       ? put_int(r, t->name_off) : 1;
	case BTF_KIND_DATASEC:
		if (miss & AYAC_BTF_NO_DATASEC)
			return datasec_to_struct(r, t);
		if ((miss & AYAC_BTF_NO_FUNC) && datasec_lists_func(r->btf, t))
			return datasec_without_funcs(r, t);
		/* an empty struct of the section's size: still right as a map value type */
		if ((miss & AYAC_BTF_NO_ZERO_DATASEC) && (!t->size || !btf_vlen_of(t)))
			return put_hdr(r, 0, INFO(BTF_KIND_STRUCT, 0, 0), t->size);
		if ((miss & AYAC_BTF_NO_QMARK_DATASEC) && qmark_name(r->btf, t))
			return datasec_unquestioned(r, t);
		return 1;
	case BTF_KIND_FUNC_PROTO:
		return miss & AYAC_BTF_NO_FUNC ? proto_to_enum(r, t) : 1;
	case BTF_KIND_FUNC:
		if (miss & AYAC_BTF_NO_FUNC)
			return put_hdr(r, t->name_off, INFO(BTF_KIND_TYPEDEF, 0, 0), t->type);
		if ((miss & AYAC_BTF_NO_GLOBAL_FUNC) && btf_vlen_of(t) != BTF_FUNC_STATIC)
			return put_hdr(r, t->name_off, INFO(BTF_KIND_FUNC, 0, BTF_FUNC_STATIC),
				       t->type);
		return 1;
	case BTF_KIND_FLOAT:
		/* anonymous: "float" is no name for a struct */
		return miss & AYAC_BTF_NO_FLOAT ? put_hdr(r, 0, INFO(BTF_KIND_STRUCT, 0, 0), t->size)
						: 1;
	case BTF_KIND_TYPE_TAG:
		return miss & AYAC_BTF_NO_TYPE_TAG ? put_hdr(r, 0, INFO(BTF_KIND_CONST, 0, 0), t->type)
						   : 1;
	case BTF_KIND_ENUM64:
		return miss & AYAC_BTF_NO_ENUM64 ? enum64_to_union(r, t) : 1;
	case BTF_KIND_ENUM:
		if (!(miss & AYAC_BTF_NO_ENUM64) || !btf_kflag_of(t))
			return 1;
		/* signedness came with enum64: older kernels refuse the flag */
		if (put_hdr(r, t->name_off, INFO(BTF_KIND_ENUM, 0, btf_vlen_of(t)), t->size))
			return -ENOMEM;
		return put(r, t + 1, btf_vlen_of(t) * sizeof(struct btf_enum));
	default:
		return 1;
	}
}

static __u32 record_len(const struct ayac_btf *btf, __u32 i)
{
	__u32 end = i + 1 < btf->nr_types ? btf->type_offs[i + 1] : btf->types_len;

	return end - btf->type_offs[i];
}

static int rewrite_all(struct rewrite *r)
{
	const struct ayac_btf *btf = r->btf;
	__u32 i;
	int err;

	if ((err = grow(&r->types, &r->tcap, btf->types_len + 64)))
		return err;
	for (i = 0; i < btf->nr_types; i++) {
		const struct btf_type *t = (const struct btf_type *)(btf->types + btf->type_offs[i]);

		err = rewrite_type(r, t);
		if (err == 1)
			err = put(r, t, record_len(btf, i));
		if (err < 0)
			return err;
	}
	if (r->placeholder) {
		__u32 name = add_str(r, PLACEHOLDER_NAME);

		if (!name)
			return ayac_seterr(ENOMEM, "sanitize BTF: out of memory");
		err = put_int(r, name);
	}
	return err;
}

/* Header, rewritten types, original strings and the new ones: one blob, parsed (and so
 * checked) like any BTF. */
static struct ayac_btf *assemble(const struct rewrite *r)
{
	const struct ayac_btf *btf = r->btf;
	struct btf_header h = {
		.magic = BTF_MAGIC, .version = BTF_VERSION, .hdr_len = sizeof(h),
		.type_off = 0, .type_len = (__u32)r->tlen,
		.str_off = (__u32)r->tlen, .str_len = btf->strs_len + (__u32)r->slen,
	};
	size_t size = sizeof(h) + r->tlen + btf->strs_len + r->slen;
	struct ayac_btf *out;
	char *blob;

	if (size > UINT32_MAX) {
		ayac_seterr(E2BIG, "sanitize BTF: %zu bytes", size);
		return NULL;
	}
	blob = malloc(size);
	if (!blob) {
		ayac_seterr(ENOMEM, "sanitize BTF: out of memory (%zu bytes)", size);
		return NULL;
	}
	memcpy(blob, &h, sizeof(h));
	memcpy(blob + sizeof(h), r->types, r->tlen);
	memcpy(blob + sizeof(h) + r->tlen, btf->strs, btf->strs_len);
	if (r->slen)
		memcpy(blob + sizeof(h) + r->tlen + btf->strs_len, r->strs, r->slen);
	out = btf_parse_owned(blob, size, false, false, NULL);
	if (!out)
		ayac_errctx("sanitize BTF: the rewritten BTF does not parse");
	return out;
}

struct ayac_btf *ayac_btf_sanitized(const struct ayac_btf *btf, unsigned missing)
{
	struct rewrite r = { .btf = btf, .missing = missing };
	struct ayac_btf *out = NULL;

	if (btf->base) {
		ayac_seterr(EINVAL, "sanitize BTF: split BTF (a kernel module's) is the kernel's own");
		return NULL;
	}
	if (!rewrite_all(&r))
		out = assemble(&r);
	free(r.types);
	free(r.strs);
	return out;
}

/* ---- the object's BTF ---------------------------------------------------------------- */

/* Whether the BTF has anything the kernel would refuse. */
bool ayac_btf_needs_sanitize(const struct ayac_btf *btf, unsigned missing)
{
	struct rewrite probe = { .btf = btf, .missing = missing };
	__u32 id, n = ayac_btf_type_cnt(btf);

	for (id = btf->start_id; id < n; id++) {
		const struct btf_type *t = ayac_btf_type(btf, id);
		int r;

		/* rewrite_type into a scratch buffer answers exactly; records are small */
		probe.tlen = 0;
		r = rewrite_type(&probe, t);
		if (r != 1) {
			free(probe.types);
			free(probe.strs);
			return true;
		}
	}
	free(probe.types);
	free(probe.strs);
	return false;
}
