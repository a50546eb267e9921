/* BTF: the header and string section of a blob, the accessors over a parsed BTF, and
 * the walks through typedefs, modifiers and arrays. The type section is validated in
 * btf_check.c, files and the kernel are btf_file.c, name lookup btf_index.c. */
#include <byteswap.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sys/sys.h"
#include "btf_priv.h"

static const char *const kind_names[NR_BTF_KINDS] = {
	[BTF_KIND_UNKN] = "void",         [BTF_KIND_INT] = "int",
	[BTF_KIND_PTR] = "ptr",           [BTF_KIND_ARRAY] = "array",
	[BTF_KIND_STRUCT] = "struct",     [BTF_KIND_UNION] = "union",
	[BTF_KIND_ENUM] = "enum",         [BTF_KIND_FWD] = "fwd",
	[BTF_KIND_TYPEDEF] = "typedef",   [BTF_KIND_VOLATILE] = "volatile",
	[BTF_KIND_CONST] = "const",       [BTF_KIND_RESTRICT] = "restrict",
	[BTF_KIND_FUNC] = "func",         [BTF_KIND_FUNC_PROTO] = "func_proto",
	[BTF_KIND_VAR] = "var",           [BTF_KIND_DATASEC] = "datasec",
	[BTF_KIND_FLOAT] = "float",       [BTF_KIND_DECL_TAG] = "decl_tag",
	[BTF_KIND_TYPE_TAG] = "type_tag", [BTF_KIND_ENUM64] = "enum64",
};

const char *ayac_btf_kind_name(int kind)
{
	if (kind < 0 || kind >= NR_BTF_KINDS)
		return NULL;
	return kind_names[kind];
}

int ayac_btf_kind_by_name(const char *name)
{
	int k;

	for (k = 0; name && k < NR_BTF_KINDS; k++)
		if (strcmp(kind_names[k], name) == 0)
			return k;
	return -1;
}

/* ---- accessors ------------------------------------------------------------------------ */

__u32 ayac_btf_type_cnt(const struct ayac_btf *btf)
{
	return btf->start_id + btf->nr_types;
}

const struct btf_type *ayac_btf_type(const struct ayac_btf *btf, __u32 id)
{
	const struct ayac_btf *own = btf;

	if (id == 0)
		return NULL;
	while (own->base && id < own->start_id)
		own = own->base;
	if (id - own->start_id >= own->nr_types) {
		ayac_seterr(AYAC_EBTF, "BTF type id %u out of range (%u types)", id,
			    ayac_btf_type_cnt(btf));
		return NULL;
	}
	return (const struct btf_type *)(own->types + own->type_offs[id - own->start_id]);
}

struct btf_type *ayac_btf_type_mut(struct ayac_btf *btf, __u32 id)
{
	if (id < btf->start_id || id - btf->start_id >= btf->nr_types) {
		ayac_seterr(EINVAL, "BTF type id %u is not one of this BTF's own types", id);
		return NULL;
	}
	if (btf->mapped) {
		/* A BTF parsed in place from a file mapping (vmlinux from sysfs, a raw BTF file). */
		ayac_seterr(EROFS, "BTF type [%u] belongs to a read-only BTF", id);
		return NULL;
	}
	return (struct btf_type *)(btf->types + btf->type_offs[id - btf->start_id]);
}

const char *ayac_btf_str(const struct ayac_btf *btf, __u32 off)
{
	const struct ayac_btf *own = btf;

	while (own->base && off < own->start_str)
		own = own->base;
	if (off - own->start_str >= own->strs_len) {
		ayac_seterr(AYAC_EBTF, "BTF string offset %u out of range (%u bytes)", off,
			    btf_str_end(btf));
		return NULL;
	}
	return own->strs + (off - own->start_str);
}

const void *ayac_btf_raw(const struct ayac_btf *btf, __u32 *size)
{
	const struct btf_header *hdr = btf->data;
	__u64 tend = (__u64)hdr->hdr_len + hdr->type_off + hdr->type_len;
	__u64 send = (__u64)hdr->hdr_len + hdr->str_off + hdr->str_len;

	/* Header and both sections, without whatever trailed them in the input. */
	*size = (__u32)(tend > send ? tend : send);
	return btf->data;
}

__u32 ayac_btf_skip_mods(const struct ayac_btf *btf, __u32 id)
{
	__u32 cur = id;
	int depth;

	for (depth = 0; depth <= BTF_MAX_CHAIN; depth++) {
		const struct btf_type *t = cur ? ayac_btf_type(btf, cur) : NULL;

		if (!t || !btf_is_chain_kind(btf_kind_of(t)))
			return cur;
		cur = t->type;
	}
	/* 0 (void) with the error set: the caller cannot get a usable type either way. */
	ayac_seterr(AYAC_EBTF, "BTF type [%u]: typedef/modifier chain longer than %d (a loop?)",
		    id, BTF_MAX_CHAIN);
	return 0;
}

int ayac_btf_resolve_size(const struct ayac_btf *btf, __u32 id, __u64 *size)
{
	__u64 nelems = 1, sz;
	__u32 cur = id;
	int depth;

	for (depth = 0; depth <= BTF_MAX_CHAIN; depth++) {
		const struct btf_type *t = cur ? ayac_btf_type(btf, cur) : NULL;
		__u16 kind = t ? btf_kind_of(t) : BTF_KIND_UNKN;

		switch (kind) {
		case BTF_KIND_INT: case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		case BTF_KIND_ENUM: case BTF_KIND_ENUM64: case BTF_KIND_DATASEC:
		case BTF_KIND_FLOAT:
			sz = t->size;
			goto done;
		case BTF_KIND_PTR:
			sz = 8; /* BPF is a 64-bit target */
			goto done;
		case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT: case BTF_KIND_TYPE_TAG: case BTF_KIND_VAR:
			cur = t->type;
			break;
		case BTF_KIND_ARRAY: {
			const struct btf_array *a = btf_array_of(t);

			if (nelems && a->nelems > UINT64_MAX / nelems)
				goto overflow;
			nelems *= a->nelems;
			cur = a->type;
			break;
		}
		default:
			if (cur && !t)
				return -ayac_errnum();
			return ayac_seterr(EINVAL, "size of BTF type [%u]: %s [%u] has no size", id,
					   kind_names[kind], cur);
		}
	}
	return ayac_seterr(AYAC_EBTF, "size of BTF type [%u]: chain longer than %d (a loop?)", id,
			   BTF_MAX_CHAIN);
done:
	if (nelems && sz > UINT64_MAX / nelems)
		goto overflow;
	*size = sz * nelems;
	return 0;
overflow:
	return ayac_seterr(AYAC_EBTF, "size of BTF type [%u] overflows 64 bits", id);
}

/* ---- parsing ---------------------------------------------------------------------------- */

static int parse_header(struct ayac_btf *btf)
{
	const struct btf_header *hdr = btf->data;
	__u64 tend, send;

	if (btf->size < sizeof(*hdr))
		return ayac_seterr(AYAC_EBTF, "BTF: %zu bytes, shorter than the %zu-byte header",
				   btf->size, sizeof(*hdr));
	if (btf->size > UINT32_MAX)
		return ayac_seterr(AYAC_EBTF, "BTF: %zu bytes, more than 4 GiB", btf->size);
	if (hdr->magic != BTF_MAGIC)
		return ayac_seterr(AYAC_EBTF, hdr->magic == bswap_16(BTF_MAGIC)
				   ? "BTF: byte order is not the host's (magic 0x%04x)"
				   : "BTF: bad magic 0x%04x (want 0xeb9f)", hdr->magic);
	if (hdr->version != BTF_VERSION)
		return ayac_seterr(AYAC_EBTF, "BTF: unsupported version %u", hdr->version);
	if (hdr->flags)
		return ayac_seterr(AYAC_EBTF, "BTF: unsupported header flags 0x%x", hdr->flags);
	if (hdr->hdr_len < sizeof(*hdr) || hdr->hdr_len > btf->size)
		return ayac_seterr(AYAC_EBTF, "BTF: header length %u outside %zu..%zu",
				   hdr->hdr_len, sizeof(*hdr), btf->size);
	tend = (__u64)hdr->hdr_len + hdr->type_off + hdr->type_len;
	send = (__u64)hdr->hdr_len + hdr->str_off + hdr->str_len;
	if (tend > btf->size)
		return ayac_seterr(AYAC_EBTF, "BTF: type section (offset %u, %u bytes) runs past "
				   "the end of the %zu-byte blob", hdr->type_off, hdr->type_len, btf->size);
	if (send > btf->size)
		return ayac_seterr(AYAC_EBTF, "BTF: string section (offset %u, %u bytes) runs past "
				   "the end of the %zu-byte blob", hdr->str_off, hdr->str_len, btf->size);
	if (hdr->type_len && hdr->str_len &&
	    (__u64)hdr->type_off < (__u64)hdr->str_off + hdr->str_len &&
	    (__u64)hdr->str_off < (__u64)hdr->type_off + hdr->type_len)
		return ayac_seterr(AYAC_EBTF, "BTF: type section (offset %u, %u bytes) and string "
				   "section (offset %u, %u bytes) overlap", hdr->type_off,
				   hdr->type_len, hdr->str_off, hdr->str_len);
	if ((hdr->hdr_len + hdr->type_off) % 4)
		return ayac_seterr(AYAC_EBTF, "BTF: type section at byte %u is not 4-byte aligned",
				   hdr->hdr_len + hdr->type_off);
	btf->types = (char *)btf->data + hdr->hdr_len + hdr->type_off;
	btf->types_len = hdr->type_len;
	btf->strs = (const char *)btf->data + hdr->hdr_len + hdr->str_off;
	btf->strs_len = hdr->str_len;
	return 0;
}

static int check_strings(const struct ayac_btf *btf)
{
	if (btf->strs_len == 0) {
		/* Split BTF may use only its base's strings. */
		if (btf->base)
			return 0;
		return ayac_seterr(AYAC_EBTF, "BTF: empty string section");
	}
	if (btf->strs[btf->strs_len - 1] != '\0')
		return ayac_seterr(AYAC_EBTF, "BTF: string section does not end with NUL");
	if (!btf->base && btf->strs[0] != '\0')
		return ayac_seterr(AYAC_EBTF, "BTF: string section does not start with NUL");
	if ((__u64)btf->start_str + btf->strs_len > UINT32_MAX)
		return ayac_seterr(AYAC_EBTF, "BTF: base and split strings exceed 4 GiB");
	return 0;
}

static void btf_destroy(struct ayac_btf *btf)
{
	ayac_btf_close_fd(btf);
	if (btf->mapped)
		munmap(btf->data, btf->size);
	else
		free(btf->data);
	free(btf->type_offs);
	btf_index_free(btf->index);
	free(btf);
}

struct ayac_btf *btf_parse_owned(void *data, size_t size, bool mapped, bool trusted,
				 const struct ayac_btf *base)
{
	struct ayac_btf *btf = calloc(1, sizeof(*btf));
	int err;

	if (!btf) {
		if (mapped)
			munmap(data, size);
		else
			free(data);
		ayac_seterr(ENOMEM, "parse BTF: out of memory");
		return NULL;
	}
	btf->data = data;
	btf->size = size;
	btf->mapped = mapped;
	btf->fd = -1;
	btf->base = base;
	btf->start_id = base ? ayac_btf_type_cnt(base) : 1;
	btf->start_str = base ? btf_str_end(base) : 0;
	err = parse_header(btf);
	if (!err)
		err = check_strings(btf);
	if (!err)
		err = btf_check_types(btf, trusted);
	if (err) {
		btf_destroy(btf);
		return NULL;
	}
	return btf;
}

struct ayac_btf *ayac_btf_parse(const void *data, size_t size, const struct ayac_btf *base)
{
	void *copy;

	if (!data && size) {
		ayac_seterr(EINVAL, "parse BTF: no data");
		return NULL;
	}
	copy = malloc(size ? size : 1);
	if (!copy) {
		ayac_seterr(ENOMEM, "parse BTF: out of memory copying %zu bytes", size);
		return NULL;
	}
	if (size)
		memcpy(copy, data, size);
	return btf_parse_owned(copy, size, false, false, base);
}

void ayac_btf_free(struct ayac_btf *btf)
{
	if (!btf || btf->shared)
		return;
	btf_destroy(btf);
}
