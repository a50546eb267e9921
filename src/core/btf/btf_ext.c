/* .BTF.ext: func_info, line_info and CO-RE relocation records, grouped by section.
 *
 * Layout: a header (magic, version, flags, hdr_len, then offset/length pairs relative
 * to the header's end; core_relo only when hdr_len covers it), and per info kind a block
 * of u32 rec_size followed by sections {u32 sec_name_off, u32 num_info, records}. The
 * records keep insn_off as byte offsets; the loader turns them into instruction indexes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sys/sys.h"
#include "btf.h"

struct btf_ext_header {
	__u16 magic;
	__u8 version;
	__u8 flags;
	__u32 hdr_len;
	__u32 func_info_off, func_info_len;
	__u32 line_info_off, line_info_len;
	__u32 core_relo_off, core_relo_len; /* only when hdr_len covers them */
};

#define EXT_MIN_HDR offsetof(struct btf_ext_header, core_relo_off)
#define EXT_CORE_HDR sizeof(struct btf_ext_header)

struct ext_block {
	const char *what;    /* "func_info", ... for messages */
	__u32 off, len;      /* from the header */
	__u32 min_rec;       /* smallest record the format allows */
};

__attribute__((format(printf, 2, 3)))
static int block_err(const struct ext_block *b, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return ayac_seterr(AYAC_EBTF, ".BTF.ext %s: %s", b->what, why);
}

/* Walk one block's sections; with out NULL only count them (and check every bound). */
static int walk_block(const struct ext_block *b, const char *start, const struct ayac_btf *btf,
		      struct ayac_btf_ext_sec *out, __u32 *nsecs)
{
	const char *p = start + sizeof(__u32), *end = start + b->len;
	__u32 rec_size, n = 0;

	memcpy(&rec_size, start, sizeof(rec_size));
	if (rec_size < b->min_rec || rec_size % 4)
		return block_err(b, "record size %u (want a multiple of 4, at least %u)",
				 rec_size, b->min_rec);
	while (p < end) {
		__u32 name_off, num;
		const char *name;

		if (end - p < 8)
			return block_err(b, "section %u: header truncated (%u bytes left)", n,
					 (__u32)(end - p));
		memcpy(&name_off, p, 4);
		memcpy(&num, p + 4, 4);
		name = ayac_btf_str(btf, name_off);
		if (!name || !*name)
			return block_err(b, "section %u: name offset %u is not a name in the BTF",
					 n, name_off);
		if (num == 0)
			return block_err(b, "section %u: no records", n);
		if ((__u64)num * rec_size > (__u64)(end - p - 8))
			return block_err(b, "section %u: %u records run past the block", n, num);
		if (out) {
			out[n].sec_name = name;
			out[n].num = num;
			out[n].rec_size = rec_size;
			out[n].recs = p + 8;
		}
		p += 8 + (size_t)num * rec_size;
		n++;
	}
	*nsecs = n;
	return 0;
}

static int parse_block(const struct ext_block *b, const char *base, const struct ayac_btf *btf,
		       struct ayac_btf_ext_info *info)
{
	__u32 n = 0;
	int err;

	if (b->len == 0)
		return 0;
	if (b->off % 4)
		return block_err(b, "offset %u is not 4-byte aligned", b->off);
	if (b->len < sizeof(__u32))
		return block_err(b, "%u bytes, no room for the record size", b->len);
	err = walk_block(b, base + b->off, btf, NULL, &n);
	if (err)
		return err;
	info->secs = ayac_calloc(n ? n : 1, sizeof(*info->secs));
	if (!info->secs)
		return -ENOMEM;
	info->nsecs = n;
	return walk_block(b, base + b->off, btf, info->secs, &n);
}

static int parse_header(const void *data, size_t size, struct btf_ext_header *hdr)
{
	memset(hdr, 0, sizeof(*hdr));
	if (size < offsetof(struct btf_ext_header, func_info_off))
		return ayac_seterr(AYAC_EBTF, ".BTF.ext: %zu bytes, shorter than its header", size);
	memcpy(hdr, data, offsetof(struct btf_ext_header, func_info_off));
	if (hdr->magic != BTF_MAGIC)
		return ayac_seterr(AYAC_EBTF, ".BTF.ext: bad magic 0x%04x (want 0xeb9f)", hdr->magic);
	if (hdr->version != BTF_VERSION)
		return ayac_seterr(AYAC_EBTF, ".BTF.ext: unsupported version %u", hdr->version);
	if (hdr->flags)
		return ayac_seterr(AYAC_EBTF, ".BTF.ext: unsupported flags 0x%x", hdr->flags);
	if (hdr->hdr_len < EXT_MIN_HDR || hdr->hdr_len > size || hdr->hdr_len % 4)
		return ayac_seterr(AYAC_EBTF, ".BTF.ext: header length %u (want %zu..%zu, a "
				   "multiple of 4)", hdr->hdr_len, EXT_MIN_HDR, size);
	/* Fields past what hdr_len covers stay 0: an older producer had no CO-RE part. */
	memcpy(hdr, data, hdr->hdr_len < EXT_CORE_HDR ? hdr->hdr_len : EXT_CORE_HDR);
	return 0;
}

struct ayac_btf_ext *ayac_btf_ext_parse(const void *data, size_t size, const struct ayac_btf *btf)
{
	struct btf_ext_header hdr;
	struct ayac_btf_ext *ext = NULL;
	struct ext_block blocks[3];
	struct ayac_btf_ext_info *infos[3];
	int i, err;

	err = parse_header(data, size, &hdr);
	if (err)
		return NULL;
	blocks[0] = (struct ext_block){ "func_info", hdr.func_info_off, hdr.func_info_len,
					sizeof(struct bpf_func_info) };
	blocks[1] = (struct ext_block){ "line_info", hdr.line_info_off, hdr.line_info_len,
					sizeof(struct bpf_line_info) };
	blocks[2] = (struct ext_block){ "core_relo", hdr.core_relo_off, hdr.core_relo_len,
					sizeof(struct bpf_core_relo) };
	for (i = 0; i < 3; i++)
		if ((__u64)hdr.hdr_len + blocks[i].off + blocks[i].len > size) {
			ayac_seterr(AYAC_EBTF, ".BTF.ext %s (offset %u, %u bytes) runs past the end "
				    "of the %zu-byte section", blocks[i].what, blocks[i].off,
				    blocks[i].len, size);
			return NULL;
		}
	ext = ayac_calloc(1, sizeof(*ext));
	if (!ext)
		return NULL;
	ext->data = malloc(size);
	if (!ext->data) {
		ayac_seterr(ENOMEM, ".BTF.ext: out of memory copying %zu bytes", size);
		goto fail;
	}
	memcpy(ext->data, data, size);
	ext->size = size;
	infos[0] = &ext->func_info;
	infos[1] = &ext->line_info;
	infos[2] = &ext->core_relo;
	for (i = 0; i < 3; i++)
		if (parse_block(&blocks[i], (const char *)ext->data + hdr.hdr_len, btf, infos[i]))
			goto fail;
	return ext;
fail:
	ayac_btf_ext_free(ext);
	return NULL;
}

void ayac_btf_ext_free(struct ayac_btf_ext *ext)
{
	if (!ext)
		return;
	free(ext->func_info.secs);
	free(ext->line_info.secs);
	free(ext->core_relo.secs);
	free(ext->data);
	free(ext);
}

const struct ayac_btf_ext_sec *ayac_btf_ext_find(const struct ayac_btf_ext_info *info,
						 const char *sec_name)
{
	__u32 i;

	for (i = 0; info && sec_name && i < info->nsecs; i++)
		if (strcmp(info->secs[i].sec_name, sec_name) == 0)
			return &info->secs[i];
	return NULL;
}
