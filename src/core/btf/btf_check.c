/* Validation of the BTF type section.
 *
 * Pass 1 walks the records: each is bounds-checked and its offset noted, so ids map to
 * records in O(1); no allocation per type. That is all BTF the kernel has verified gets
 * (see btf_check_types). Other BTF then gets pass 2, every record checked for what it
 * refers to (type ids, string offsets, sizes, encodings), and pass 3, which makes sure
 * typedef/modifier/array chains end, so later walks cannot loop. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sys/sys.h"
#include "btf_priv.h"

/* Bits of btf_type.info the format leaves unused: 16-23 and 29-30. The kernel refuses
 * BTF that sets them, so such a blob is either corrupt or from a newer format. */
#define BTF_INFO_UNUSED 0x60ff0000u
#define BTF_INT_MASK_ALL 0x0fff00ffu

/* Record layout per kind, for pass 1: bytes after struct btf_type besides the vlen
 * entries (BAD_KIND: no such kind), and bytes per vlen entry (0 where vlen is not a
 * count). Byte tables rather than a switch or a struct: pass 1 looks them up for every
 * record, on the chain of dependent loads that sets its speed, and kinds come in no
 * order, so a switch would mispredict on most records. */
#define BAD_KIND 0xff
static const __u8 rec_fixed[32] = {
	[0] = BAD_KIND,
	[BTF_KIND_INT] = sizeof(__u32),
	[BTF_KIND_ARRAY] = sizeof(struct btf_array),
	[BTF_KIND_VAR] = sizeof(struct btf_var),
	[BTF_KIND_DECL_TAG] = sizeof(struct btf_decl_tag),
	[NR_BTF_KINDS ... 31] = BAD_KIND,
};
static const __u8 rec_stride[32] = {
	[BTF_KIND_STRUCT] = sizeof(struct btf_member),
	[BTF_KIND_UNION] = sizeof(struct btf_member),
	[BTF_KIND_ENUM] = sizeof(struct btf_enum),
	[BTF_KIND_FUNC_PROTO] = sizeof(struct btf_param),
	[BTF_KIND_DATASEC] = sizeof(struct btf_var_secinfo),
	[BTF_KIND_ENUM64] = sizeof(struct btf_enum64),
};

/* What pass 2 checks per kind besides its references. */
struct kind_rules {
	bool named;        /* must have a name */
	__u16 max_vlen;    /* largest vlen the kind allows */
	__u32 sizes;       /* bit n: size n allowed (~0: btf_type.size is not a size) */
};

#define ANY ~0u
#define SZ(n) (1u << (n))
static const struct kind_rules kinds[NR_BTF_KINDS] = {
	[BTF_KIND_INT] = { 0, 0, SZ(1) | SZ(2) | SZ(4) | SZ(8) | SZ(16) },
	[BTF_KIND_PTR] = { 0, 0, ANY },
	[BTF_KIND_ARRAY] = { 0, 0, ANY },
	[BTF_KIND_STRUCT] = { 0, 0xffff, ANY },
	[BTF_KIND_UNION] = { 0, 0xffff, ANY },
	[BTF_KIND_ENUM] = { 0, 0xffff, SZ(1) | SZ(2) | SZ(4) | SZ(8) },
	[BTF_KIND_FWD] = { 1, 0, ANY },
	[BTF_KIND_TYPEDEF] = { 1, 0, ANY },
	[BTF_KIND_VOLATILE] = { 0, 0, ANY },
	[BTF_KIND_CONST] = { 0, 0, ANY },
	[BTF_KIND_RESTRICT] = { 0, 0, ANY },
	[BTF_KIND_FUNC] = { 1, BTF_FUNC_EXTERN, ANY }, /* vlen is the linkage */
	[BTF_KIND_FUNC_PROTO] = { 0, 0xffff, ANY },
	[BTF_KIND_VAR] = { 1, 0, ANY },
	[BTF_KIND_DATASEC] = { 1, 0xffff, ANY },
	[BTF_KIND_FLOAT] = { 0, 0, SZ(2) | SZ(4) | SZ(8) | SZ(12) | SZ(16) },
	[BTF_KIND_DECL_TAG] = { 1, 0, ANY },
	[BTF_KIND_TYPE_TAG] = { 1, 0, ANY },
	[BTF_KIND_ENUM64] = { 0, 0xffff, SZ(1) | SZ(2) | SZ(4) | SZ(8) },
};
#undef ANY
#undef SZ

static inline bool size_ok(const struct kind_rules *d, __u32 size)
{
	return d->sizes == ~0u || (size < 32 && (d->sizes >> size) & 1);
}

static inline const char *kname(const struct btf_type *t)
{
	const char *n = ayac_btf_kind_name(btf_kind_of(t));

	return n ? n : "?";
}

static inline bool id_ok(const struct ayac_btf *btf, __u32 id)
{
	return id < btf->start_id + btf->nr_types;
}

static inline bool str_ok(const struct ayac_btf *btf, __u32 off)
{
	return off < btf_str_end(btf);
}

/* ---- pass 1: records ---------------------------------------------------------------------- */

static int record_err(__u32 id, __u32 off, const struct btf_type *t, long extra, __u32 left)
{
	if (left < sizeof(*t))
		return ayac_seterr(AYAC_EBTF, "BTF type [%u] at byte %u: truncated record (%u bytes "
				   "left)", id, off, left);
	if (t->info & BTF_INFO_UNUSED)
		return ayac_seterr(AYAC_EBTF, "BTF type [%u] at byte %u: unused info bits set "
				   "(0x%08x)", id, off, t->info);
	if (extra < 0)
		return ayac_seterr(AYAC_EBTF, "BTF type [%u] at byte %u: unknown kind %u", id, off,
				   btf_kind_of(t));
	return ayac_seterr(AYAC_EBTF, "BTF type [%u] %s at byte %u: vlen %u needs %ld bytes, "
			   "only %zu left in the type section", id, kname(t), off, btf_vlen_of(t),
			   extra, left - sizeof(*t));
}

/* Kept tight: each record's length depends on the one before, so this loop runs at the
 * latency of that chain (vmlinux: ~130k records) and anything else in it adds up. */
static int walk_records(struct ayac_btf *btf)
{
	const char *types = btf->types;
	__u32 len = btf->types_len, off = 0, n = 0, *offs = btf->type_offs;
	long extra = -1;

	while (off < len) {
		const struct btf_type *t = (const struct btf_type *)(types + off);
		__u32 info, kind, fixed;

		extra = -1;
		if (len - off < sizeof(*t))
			goto bad;
		info = t->info;
		kind = BTF_INFO_KIND(info);
		fixed = rec_fixed[kind];
		if (fixed == BAD_KIND || (info & BTF_INFO_UNUSED))
			goto bad;
		extra = fixed + (long)BTF_INFO_VLEN(info) * rec_stride[kind];
		if ((__u64)(len - off) - sizeof(*t) < (__u64)extra)
			goto bad;
		offs[n++] = off;
		off += (__u32)(sizeof(*t) + (size_t)extra);
	}
	btf->nr_types = n;
	return 0;
bad:
	btf->nr_types = n;
	return record_err(btf->start_id + n, off, (const struct btf_type *)(types + off), extra,
			  len - off);
}

/* ---- pass 2: what each record says --------------------------------------------------------- */

/* "BTF type [7] struct 'foo': <why>" */
__attribute__((format(printf, 4, 5)))
static int type_err(const struct ayac_btf *btf, __u32 id, const struct btf_type *t,
		    const char *fmt, ...)
{
	char why[256];
	const char *name = str_ok(btf, t->name_off) ? ayac_btf_str(btf, t->name_off) : "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return ayac_seterr(AYAC_EBTF, "BTF type [%u] %s%s%s%s: %s", id, kname(t),
			   *name ? " '" : "", name, *name ? "'" : "", why);
}

/* what/idx name the referring part ("member", 3) for the message; idx < 0: no index. */
static int check_ref(const struct ayac_btf *btf, __u32 id, const struct btf_type *t,
		     const char *what, long idx, __u32 ref)
{
	if (id_ok(btf, ref))
		return 0;
	if (idx < 0)
		return type_err(btf, id, t, "%s refers to type id %u, past the last type %u", what,
				ref, ayac_btf_type_cnt(btf) - 1);
	return type_err(btf, id, t, "%s %ld refers to type id %u, past the last type %u", what,
			idx, ref, ayac_btf_type_cnt(btf) - 1);
}

static int check_name(const struct ayac_btf *btf, __u32 id, const struct btf_type *t,
		      const char *what, long idx, __u32 off)
{
	if (str_ok(btf, off))
		return 0;
	return type_err(btf, id, t, "%s %ld name offset %u past the strings (%u bytes)", what,
			idx, off, btf_str_end(btf));
}

static int check_int(const struct ayac_btf *btf, __u32 id, const struct btf_type *t)
{
	__u32 enc = btf_int_encoding_of(t);
	__u32 bits = BTF_INT_BITS(enc), off = BTF_INT_OFFSET(enc), e = BTF_INT_ENCODING(enc);

	if (enc & ~BTF_INT_MASK_ALL)
		return type_err(btf, id, t, "reserved bits set in encoding 0x%08x", enc);
	if (bits == 0 || bits > 128 || off + bits > t->size * 8)
		return type_err(btf, id, t, "%u bits at bit offset %u do not fit %u bytes", bits,
				off, t->size);
	if (e && e != BTF_INT_SIGNED && e != BTF_INT_CHAR && e != BTF_INT_BOOL)
		return type_err(btf, id, t, "encoding 0x%x is not one of signed, char, bool", e);
	return 0;
}

static int check_members(const struct ayac_btf *btf, __u32 id, const struct btf_type *t)
{
	const struct btf_member *m = btf_members_of(t);
	__u32 i, vlen = btf_vlen_of(t);
	bool kflag = btf_kflag_of(t);

	for (i = 0; i < vlen; i++, m++) {
		__u32 bit_off = kflag ? BTF_MEMBER_BIT_OFFSET(m->offset) : m->offset;
		__u32 bits = kflag ? BTF_MEMBER_BITFIELD_SIZE(m->offset) : 0;

		if (check_name(btf, id, t, "member", i, m->name_off) ||
		    check_ref(btf, id, t, "member", i, m->type))
			return -AYAC_EBTF;
		if (bits > 128 || (__u64)bit_off + bits > (__u64)t->size * 8)
			return type_err(btf, id, t, "member %u ('%s') at bit %u (%u bits) is outside "
					"its %u bytes", i, ayac_btf_str(btf, m->name_off), bit_off,
					bits, t->size);
	}
	return 0;
}

static int check_enum(const struct ayac_btf *btf, __u32 id, const struct btf_type *t)
{
	size_t rec = btf_kind_of(t) == BTF_KIND_ENUM64 ? sizeof(struct btf_enum64)
						       : sizeof(struct btf_enum);
	const char *p = (const char *)(t + 1);
	__u32 i, vlen = btf_vlen_of(t);

	for (i = 0; i < vlen; i++, p += rec) /* name_off comes first in both records */
		if (check_name(btf, id, t, "value", i, ((const struct btf_enum *)p)->name_off))
			return -AYAC_EBTF;
	return 0;
}

static int check_func(const struct ayac_btf *btf, __u32 id, const struct btf_type *t)
{
	const struct btf_type *proto;

	if (btf_vlen_of(t) > BTF_FUNC_EXTERN)
		return type_err(btf, id, t, "unknown linkage %u", btf_vlen_of(t));
	if (check_ref(btf, id, t, "prototype", -1, t->type))
		return -AYAC_EBTF;
	proto = t->type ? ayac_btf_type(btf, t->type) : NULL;
	if (!proto || btf_kind_of(proto) != BTF_KIND_FUNC_PROTO)
		return type_err(btf, id, t, "type %u is not a func_proto", t->type);
	return 0;
}

static int check_proto(const struct ayac_btf *btf, __u32 id, const struct btf_type *t)
{
	const struct btf_param *p = btf_params_of(t);
	__u32 i, vlen = btf_vlen_of(t);

	if (check_ref(btf, id, t, "return type", -1, t->type))
		return -AYAC_EBTF;
	for (i = 0; i < vlen; i++, p++) {
		if (check_name(btf, id, t, "parameter", i, p->name_off) ||
		    check_ref(btf, id, t, "parameter", i, p->type))
			return -AYAC_EBTF;
		/* type 0 marks "...", which can only come last */
		if (p->type == 0 && i + 1 != vlen)
			return type_err(btf, id, t, "parameter %u is void", i);
	}
	return 0;
}

static int check_datasec(const struct ayac_btf *btf, __u32 id, const struct btf_type *t)
{
	const struct btf_var_secinfo *v = btf_secinfos_of(t);
	__u32 i, vlen = btf_vlen_of(t);

	for (i = 0; i < vlen; i++, v++) {
		const struct btf_type *vt;

		if (check_ref(btf, id, t, "variable", i, v->type))
			return -AYAC_EBTF;
		vt = v->type ? ayac_btf_type(btf, v->type) : NULL;
		if (!vt || (btf_kind_of(vt) != BTF_KIND_VAR && btf_kind_of(vt) != BTF_KIND_FUNC))
			return type_err(btf, id, t, "entry %u (type %u) is not a var or func", i,
					v->type);
		if ((__u64)v->offset + v->size > UINT32_MAX)
			return type_err(btf, id, t, "entry %u offset %u + size %u overflows", i,
					v->offset, v->size);
	}
	return 0;
}

static int check_type(const struct ayac_btf *btf, __u32 id, const struct btf_type *t)
{
	const struct btf_decl_tag *tag = (const struct btf_decl_tag *)(t + 1);
	__u16 kind = btf_kind_of(t);

	if (!str_ok(btf, t->name_off))
		return ayac_seterr(AYAC_EBTF, "BTF type [%u] %s: name offset %u past the strings "
				   "(%u bytes)", id, kname(t), t->name_off, btf_str_end(btf));
	if (kinds[kind].named && !t->name_off)
		return type_err(btf, id, t, "has no name");
	if (btf_vlen_of(t) > kinds[kind].max_vlen)
		return type_err(btf, id, t, "vlen %u where the kind allows at most %u",
				btf_vlen_of(t), kinds[kind].max_vlen);
	if (!size_ok(&kinds[kind], t->size))
		return type_err(btf, id, t, "size %u is not one this kind can have", t->size);
	switch (kind) {
	case BTF_KIND_INT:
		return check_int(btf, id, t);
	case BTF_KIND_PTR: case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT: case BTF_KIND_TYPE_TAG:
		return check_ref(btf, id, t, "target", -1, t->type);
	case BTF_KIND_ARRAY:
		if (check_ref(btf, id, t, "element", -1, btf_array_of(t)->type))
			return -AYAC_EBTF;
		return check_ref(btf, id, t, "index", -1, btf_array_of(t)->index_type);
	case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		return check_members(btf, id, t);
	case BTF_KIND_ENUM: case BTF_KIND_ENUM64:
		return check_enum(btf, id, t);
	case BTF_KIND_FUNC:
		return check_func(btf, id, t);
	case BTF_KIND_FUNC_PROTO:
		return check_proto(btf, id, t);
	case BTF_KIND_VAR:
		if (btf_var_of(t)->linkage > BTF_VAR_GLOBAL_EXTERN)
			return type_err(btf, id, t, "unknown linkage %u", btf_var_of(t)->linkage);
		return check_ref(btf, id, t, "type", -1, t->type);
	case BTF_KIND_DATASEC:
		return check_datasec(btf, id, t);
	case BTF_KIND_DECL_TAG:
		if (tag->component_idx < -1)
			return type_err(btf, id, t, "component index %d", tag->component_idx);
		return check_ref(btf, id, t, "target", -1, t->type);
	default: /* fwd: nothing refers further */
		return 0;
	}
}

/* ---- pass 3: chains ------------------------------------------------------------------------ */

/* Typedef/modifier/array chains must end, so walks over them cannot loop. */
static int check_chain(const struct ayac_btf *btf, __u32 id, const struct btf_type *t)
{
	int depth = 0;

	while (t && (btf_is_chain_kind(btf_kind_of(t)) || btf_kind_of(t) == BTF_KIND_ARRAY)) {
		__u32 next = btf_kind_of(t) == BTF_KIND_ARRAY ? btf_array_of(t)->type : t->type;

		if (++depth > BTF_MAX_CHAIN)
			return type_err(btf, id, ayac_btf_type(btf, id), "typedef/modifier/array "
					"chain longer than %d types (a loop?)", BTF_MAX_CHAIN);
		t = next ? ayac_btf_type(btf, next) : NULL;
	}
	return 0;
}

static int check_records(const struct ayac_btf *btf)
{
	__u32 i;
	int err;

	for (i = 0; i < btf->nr_types; i++) {
		const struct btf_type *t = (const struct btf_type *)(btf->types + btf->type_offs[i]);

		err = check_type(btf, btf->start_id + i, t);
		if (err)
			return err;
	}
	for (i = 0; i < btf->nr_types; i++) {
		const struct btf_type *t = (const struct btf_type *)(btf->types + btf->type_offs[i]);

		err = check_chain(btf, btf->start_id + i, t);
		if (err)
			return err;
	}
	return 0;
}

int btf_check_types(struct ayac_btf *btf, bool trusted)
{
	/* 12 bytes is the smallest record: an upper bound on the count, so one allocation
	 * (the untouched tail of a large one costs nothing) and a shrink at the end. */
	size_t cap = btf->types_len / sizeof(struct btf_type) + 1;
	__u32 *shrunk;
	int err;

	btf->type_offs = ayac_reallocarray(NULL, cap, sizeof(__u32));
	if (!btf->type_offs)
		return -ENOMEM;
	err = walk_records(btf);
	if (!err && (__u64)btf->start_id + btf->nr_types > UINT32_MAX)
		err = ayac_seterr(AYAC_EBTF, "BTF: too many types");
	/* The kernel verified its own BTF (vmlinux at boot, modules at load) and the mapping
	 * is read-only: checking it again would double the cost of every process's first
	 * CO-RE. Accessors bound every id and string offset regardless. */
	if (!err && !trusted)
		err = check_records(btf);
	shrunk = realloc(btf->type_offs, (btf->nr_types ? btf->nr_types : 1) * sizeof(__u32));
	if (shrunk)
		btf->type_offs = shrunk;
	return err;
}
