/* .BTF.ext: per-section func_info, line_info and CO-RE relocation records. Only
 * validated and indexed here; insn_off values stay byte offsets (reloc.c rebases). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct btf_ext_header {
	__u16 magic;
	__u8 version;
	__u8 flags;
	__u32 hdr_len;
	__u32 func_info_off, func_info_len;
	__u32 line_info_off, line_info_len;
	__u32 core_relo_off, core_relo_len; /* present when hdr_len covers them */
};

#define BTF_EXT_MIN_HDR offsetof(struct btf_ext_header, core_relo_off)

static int read_u32(const char *p, size_t avail, __u32 *out)
{
	if (avail < sizeof(*out))
		return -1;
	memcpy(out, p, sizeof(*out));
	return 0;
}

/* One info block: u32 rec_size, then { u32 sec_name_off; u32 num; records } ... */
static int parse_info(struct ayac_btf_ext *ext, const struct ayac_btf *btf, __u32 off, __u32 len,
		      __u32 min_rec, const char *what, struct ayac_btf_ext_info *info)
{
	const char *p, *end;
	__u32 rec_size;

	if (!len)
		return 0;
	if (off > ext->size || len > ext->size - off)
		return ayac_seterr(AYAC_EBTF, ".BTF.ext %s: %u bytes at %u past the end", what, len, off);
	p = (const char *)ext->data + off;
	end = p + len;
	if (read_u32(p, (size_t)(end - p), &rec_size) || rec_size < min_rec || rec_size % 4)
		return ayac_seterr(AYAC_EBTF, ".BTF.ext %s: bad record size", what);
	for (p += 4; p < end;) {
		__u32 name_off, num;
		struct ayac_btf_ext_sec *secs;
		const char *name;

		if (read_u32(p, (size_t)(end - p), &name_off) ||
		    read_u32(p + 4, (size_t)(end - p) - 4, &num))
			return ayac_seterr(AYAC_EBTF, ".BTF.ext %s: truncated section header", what);
		p += 8;
		name = ayac_btf_str(btf, name_off);
		if (!name || !*name)
			return ayac_seterr(AYAC_EBTF, ".BTF.ext %s: bad section name offset %u", what, name_off);
		if (num == 0 || (size_t)num > (size_t)(end - p) / rec_size)
			return ayac_seterr(AYAC_EBTF, ".BTF.ext %s of '%s': %u records do not fit",
					   what, name, num);
		secs = realloc(info->secs, (info->nsecs + 1) * sizeof(*secs));
		if (!secs)
			return ayac_seterr(ENOMEM, "out of memory");
		info->secs = secs;
		secs[info->nsecs++] = (struct ayac_btf_ext_sec){ name, num, rec_size, p };
		p += (size_t)num * rec_size;
	}
	return 0;
}

struct ayac_btf_ext *ayac_btf_ext_parse(const void *data, size_t size, const struct ayac_btf *btf)
{
	struct ayac_btf_ext *ext = ayac_calloc(1, sizeof(*ext));
	struct btf_ext_header hdr;
	int err;

	if (!ext)
		return NULL;
	memset(&hdr, 0, sizeof(hdr));
	if (size < BTF_EXT_MIN_HDR) {
		ayac_seterr(AYAC_EBTF, ".BTF.ext: %zu bytes, shorter than its header", size);
		goto fail;
	}
	memcpy(&hdr, data, size < sizeof(hdr) ? size : sizeof(hdr));
	if (hdr.magic != BTF_MAGIC || hdr.version != BTF_VERSION || hdr.hdr_len < BTF_EXT_MIN_HDR ||
	    hdr.hdr_len > size) {
		ayac_seterr(AYAC_EBTF, ".BTF.ext: bad header (magic 0x%x, version %u, length %u)",
			    hdr.magic, hdr.version, hdr.hdr_len);
		goto fail;
	}
	if (hdr.hdr_len < sizeof(hdr))
		hdr.core_relo_off = hdr.core_relo_len = 0;
	ext->data = malloc(size);
	if (!ext->data) {
		ayac_seterr(ENOMEM, "out of memory");
		goto fail;
	}
	memcpy(ext->data, data, size);
	ext->size = size;
	/* Offsets in the header are relative to the end of the header. */
	err = parse_info(ext, btf, hdr.hdr_len + hdr.func_info_off, hdr.func_info_len,
			 sizeof(struct bpf_func_info), "func_info", &ext->func_info);
	if (!err)
		err = parse_info(ext, btf, hdr.hdr_len + hdr.line_info_off, hdr.line_info_len,
				 sizeof(struct bpf_line_info), "line_info", &ext->line_info);
	if (!err)
		err = parse_info(ext, btf, hdr.hdr_len + hdr.core_relo_off, hdr.core_relo_len,
				 16, "core_relo", &ext->core_relo);
	if (err)
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

	for (i = 0; i < info->nsecs; i++)
		if (strcmp(info->secs[i].sec_name, sec_name) == 0)
			return &info->secs[i];
	return NULL;
}
