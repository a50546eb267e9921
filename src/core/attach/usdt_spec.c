/* The spec maps of libbpf's <bpf/usdt.bpf.h>: __bpf_usdt_specs (spec id → how to read
 * each argument) and __bpf_usdt_ip_to_spec_id (probe address → spec id, for kernels
 * without bpf_cookie). A spec is written by the layout the object's own BTF gives
 * struct __bpf_usdt_spec and struct __bpf_usdt_arg_spec, member by member (bitfields
 * included), so objects built against any libbpf version read it right; SIB
 * arguments need a header with idx_reg_off and scale_bitshift (libbpf 1.7).
 *
 * Spec ids are per object, shared by links whose probes read their arguments the
 * same way, and given back when the last such link goes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "usdt_priv.h"

/* A member of a struct: bit offset and bit size (size 0 when not found). */
struct loc {
	__u32 bit_off, bits;
};

struct ayac_usdt_ids {
	struct usdt_layout {
		__u32 spec_size, args_off, arg_size, max_args;
		struct loc cookie, cnt;
		struct loc val_off, type, reg_off, is_signed, bitshift, idx_reg_off, scale;
		__s64 kind_val[4];     /* enum values of CONST, REG, REG_DEREF, SIB (-1: none) */
	} lay;
	__u32 max_ids;
	__u32 *refs;                   /* per id: links using it */
	unsigned char *specs;          /* per id: the bytes written (to share equal specs) */
};

static const struct btf_type *struct_named(const struct ayac_btf *btf, __u32 id,
					   const char *name)
{
	const struct btf_type *t = ayac_btf_type(btf, ayac_btf_skip_mods(btf, id));
	const char *n = t ? ayac_btf_str(btf, t->name_off) : NULL;

	return t && btf_kind_of(t) == BTF_KIND_STRUCT && n && !strcmp(n, name) ? t : NULL;
}

static bool member(const struct ayac_btf *btf, const struct btf_type *t, const char *name,
		   struct loc *loc, __u32 *type_id)
{
	const struct btf_member *m = btf_members_of(t);
	__u64 size;
	__u16 i;

	for (i = 0; i < btf_vlen_of(t); i++, m++) {
		const char *n = ayac_btf_str(btf, m->name_off);
		if (!n || strcmp(n, name))
			continue;
		loc->bit_off = btf_kflag_of(t) ? BTF_MEMBER_BIT_OFFSET(m->offset) : m->offset;
		loc->bits = btf_kflag_of(t) ? BTF_MEMBER_BITFIELD_SIZE(m->offset) : 0;
		if (!loc->bits) {
			if (ayac_btf_resolve_size(btf, m->type, &size) || !size || size > 8)
				return false;
			loc->bits = (__u32)size * 8;
		}
		if (type_id)
			*type_id = m->type;
		return true;
	}
	return false;
}

static void enum_values(const struct ayac_btf *btf, __u32 id, __s64 vals[4])
{
	static const char *const names[4] = { "BPF_USDT_ARG_CONST", "BPF_USDT_ARG_REG",
					       "BPF_USDT_ARG_REG_DEREF", "BPF_USDT_ARG_SIB" };
	const struct btf_type *t = ayac_btf_type(btf, ayac_btf_skip_mods(btf, id));
	__u16 i, k;

	for (k = 0; k < 4; k++)
		vals[k] = -1;
	if (!t || btf_kind_of(t) != BTF_KIND_ENUM)
		return;
	for (i = 0; i < btf_vlen_of(t); i++) {
		const char *n = ayac_btf_str(btf, btf_enums_of(t)[i].name_off);
		for (k = 0; n && k < 4; k++)
			if (!strcmp(n, names[k]))
				vals[k] = btf_enums_of(t)[i].val;
	}
}

/* The arg spec struct: member by member. */
static int arg_layout(const struct ayac_btf *btf, __u32 arg_id, struct usdt_layout *lay)
{
	const struct btf_type *a = struct_named(btf, arg_id, "__bpf_usdt_arg_spec");
	__u32 type_id = 0;

	if (!a || !member(btf, a, "val_off", &lay->val_off, NULL) ||
	    !member(btf, a, "arg_type", &lay->type, &type_id) ||
	    !member(btf, a, "reg_off", &lay->reg_off, NULL) ||
	    !member(btf, a, "arg_signed", &lay->is_signed, NULL) ||
	    !member(btf, a, "arg_bitshift", &lay->bitshift, NULL))
		return -EINVAL;
	enum_values(btf, type_id, lay->kind_val);
	if (!member(btf, a, "idx_reg_off", &lay->idx_reg_off, NULL) ||
	    (!member(btf, a, "scale_bitshift", &lay->scale, NULL) &&
	     !member(btf, a, "scale", &lay->scale, NULL)))
		lay->kind_val[3] = -1; /* this header cannot describe SIB arguments */
	lay->arg_size = a->size;
	return 0;
}

static int layout(const struct ayac_map *specs, struct usdt_layout *lay)
{
	const struct ayac_btf *btf = specs->obj ? specs->obj->btf : NULL;
	const struct btf_type *s, *arr;
	struct loc args = { 0, 0 };
	__u32 args_id = 0;

	memset(lay, 0, sizeof(*lay));
	s = btf ? struct_named(btf, specs->btf_value_type_id, "__bpf_usdt_spec") : NULL;
	if (!s || !member(btf, s, "usdt_cookie", &lay->cookie, NULL) ||
	    !member(btf, s, "arg_cnt", &lay->cnt, NULL))
		goto bad;
	/* args: an array, so member() (scalars only) does not size it */
	for (__u16 i = 0; i < btf_vlen_of(s); i++) {
		const char *n = ayac_btf_str(btf, btf_members_of(s)[i].name_off);
		if (n && !strcmp(n, "args")) {
			args.bit_off = btf_kflag_of(s) ? BTF_MEMBER_BIT_OFFSET(btf_members_of(s)[i].offset)
						       : btf_members_of(s)[i].offset;
			args_id = btf_members_of(s)[i].type;
		}
	}
	arr = args_id ? ayac_btf_type(btf, ayac_btf_skip_mods(btf, args_id)) : NULL;
	if (!arr || btf_kind_of(arr) != BTF_KIND_ARRAY || args.bit_off % 8 ||
	    arg_layout(btf, btf_array_of(arr)->type, lay))
		goto bad;
	lay->args_off = args.bit_off / 8;
	lay->max_args = btf_array_of(arr)->nelems;
	lay->spec_size = s->size;
	if (lay->spec_size != specs->def.value_size || lay->max_args > 64 ||
	    lay->args_off + (__u64)lay->max_args * lay->arg_size > lay->spec_size)
		goto bad;
	return 0;
bad:
	return ayac_seterr(EINVAL, "map '%s': its value is not struct __bpf_usdt_spec as "
			   "<bpf/usdt.bpf.h> declares it (no BTF, or a layout ayac cannot read)",
			   specs->name);
}

/* Little-endian bit field write within buf (size bytes). */
static int put(unsigned char *buf, size_t size, __u32 base, struct loc loc, __u64 v)
{
	__u32 bit = base * 8 + loc.bit_off, i;

	if (!loc.bits || loc.bits > 64 || (bit + loc.bits + 7) / 8 > size)
		return -EINVAL;
	for (i = 0; i < loc.bits; i++, bit++) {
		unsigned char mask = (unsigned char)(1u << (bit % 8));
		if ((v >> i) & 1)
			buf[bit / 8] |= mask;
		else
			buf[bit / 8] &= (unsigned char)~mask;
	}
	return 0;
}

int usdt_spec_encode(const struct ayac_usdt_ids *ids, const struct ayac_usdt_arg *args,
		     int cnt, __u64 cookie, unsigned char *out)
{
	const struct usdt_layout *l = &ids->lay;
	int i, err = 0;

	if ((__u32)cnt > l->max_args)
		return ayac_seterr(E2BIG, "%d arguments; the spec map holds %u", cnt, l->max_args);
	memset(out, 0, l->spec_size);
	for (i = 0; i < cnt && !err; i++) {
		const struct ayac_usdt_arg *a = &args[i];
		__u32 base = l->args_off + (__u32)i * l->arg_size;
		if (l->kind_val[a->kind] < 0 && a->kind == AYAC_USDT_ARG_SIB)
			return ayac_seterr(EOPNOTSUPP, "argument #%d is SIB-addressed, which this "
					   "object's <bpf/usdt.bpf.h> cannot describe (libbpf 1.7 "
					   "headers can)", i + 1);
		if (l->kind_val[a->kind] < 0)
			return ayac_seterr(EINVAL, "enum __bpf_usdt_arg_type of this object lacks "
					   "the kind of argument #%d", i + 1);
		err = put(out, l->spec_size, base, l->val_off, (__u64)a->val_off) ||
		      put(out, l->spec_size, base, l->type, (__u64)l->kind_val[a->kind]) ||
		      put(out, l->spec_size, base, l->reg_off, a->reg_off) ||
		      put(out, l->spec_size, base, l->is_signed, a->is_signed) ||
		      put(out, l->spec_size, base, l->bitshift, 64 - 8 * (__u64)a->size) ||
		      (a->kind == AYAC_USDT_ARG_SIB &&
		       (put(out, l->spec_size, base, l->idx_reg_off, a->idx_reg_off) ||
			put(out, l->spec_size, base, l->scale, a->scale_shift)));
	}
	if (!err)
		err = put(out, l->spec_size, 0, l->cookie, cookie) ||
		      put(out, l->spec_size, 0, l->cnt, (__u64)cnt);
	return err ? ayac_seterr(EINVAL, "spec layout out of bounds") : 0;
}

size_t usdt_spec_size(const struct ayac_usdt_ids *ids)
{
	return ids->lay.spec_size;
}

struct ayac_usdt_ids *usdt_ids_get(struct ayac_obj *obj, const struct ayac_map *specs)
{
	struct usdt_layout lay;
	struct ayac_usdt_ids *ids = obj->usdt;
	size_t max = specs->def.max_entries;

	if (ids)
		return ids;
	if (layout(specs, &lay))
		return NULL;
	if (!max || max > 1 << 20) {
		ayac_seterr(EINVAL, "map '%s': %zu entries", specs->name, max);
		return NULL;
	}
	/* One block: freed with the object. */
	ids = ayac_calloc(1, sizeof(*ids) + max * sizeof(__u32) + max * lay.spec_size);
	if (!ids)
		return NULL;
	ids->lay = lay;
	ids->max_ids = (__u32)max;
	ids->refs = (__u32 *)(ids + 1);
	ids->specs = (unsigned char *)(ids->refs + max);
	obj->usdt = ids;
	return ids;
}

int usdt_id_get(struct ayac_usdt_ids *ids, const unsigned char *spec, bool *fresh)
{
	size_t sz = ids->lay.spec_size;
	__u32 i, free_id = ids->max_ids;

	for (i = 0; i < ids->max_ids; i++) {
		if (!ids->refs[i]) {
			if (free_id == ids->max_ids)
				free_id = i;
		} else if (!memcmp(ids->specs + (size_t)i * sz, spec, sz)) {
			ids->refs[i]++;
			*fresh = false;
			return (int)i;
		}
	}
	if (free_id == ids->max_ids)
		return ayac_seterr(ENOSPC, "all %u USDT spec ids are in use (raise "
				   "BPF_USDT_MAX_SPEC_CNT, or max_entries of __bpf_usdt_specs)",
				   ids->max_ids);
	memcpy(ids->specs + (size_t)free_id * sz, spec, sz);
	ids->refs[free_id] = 1;
	*fresh = true;
	return (int)free_id;
}

void usdt_id_put(struct ayac_usdt_ids *ids, int id)
{
	if (ids && id >= 0 && (__u32)id < ids->max_ids && ids->refs[id])
		ids->refs[id]--;
}
