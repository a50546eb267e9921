/* Private to the BTF files (btf.c, btf_index.c, btf_file.c): the structure behind
 * struct ayac_btf. Everything else goes through btf.h. */
#ifndef AYAC_BTF_PRIV_H
#define AYAC_BTF_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include "btf.h"

/* Longest typedef/modifier/array chain followed before giving up. The kernel and libbpf
 * stop at the same depth, so BTF deeper than this would not load anyway. */
#define BTF_MAX_CHAIN 32

struct btf_name_index;

struct ayac_btf {
	const struct ayac_btf *base;  /* split BTF: the BTF its ids and strings continue */
	void *data;                   /* the whole blob: malloc-ed, or a read-only mmap */
	size_t size;
	bool mapped;                  /* data is a read-only file mapping (sysfs or not) */
	bool shared;                  /* the process-wide vmlinux: ayac_btf_free ignores it */
	char *types;                  /* type section inside data */
	__u32 types_len;
	const char *strs;             /* own string section inside data */
	__u32 strs_len;
	__u32 start_id;               /* first own id: 1, or the base's type count */
	__u32 start_str;              /* own string offsets start here (base's string size) */
	__u32 nr_types;               /* own types */
	__u32 *type_offs;             /* offset of each own type within types */
	struct btf_name_index *index; /* built on the first find; published atomically */
	int fd;                       /* BTF_LOAD result, -1 before */
};

/* Parse a blob the caller hands over: on success the BTF owns data (frees or unmaps
 * it), on failure data is released too. trusted: the kernel's own sysfs BTF, whose
 * records are not validated again (btf_check_types). */
struct ayac_btf *btf_parse_owned(void *data, size_t size, bool mapped, bool trusted,
				 const struct ayac_btf *base);
void btf_index_free(struct btf_name_index *index);
/* btf_check.c: bound and validate the type section (btf->types already located), and
 * fill btf->type_offs / nr_types. trusted: BTF the kernel has verified itself, whose
 * records are bounded but not checked again. */
int btf_check_types(struct ayac_btf *btf, bool trusted);

/* Kinds that only rename or qualify another type. */
static inline bool btf_is_chain_kind(__u16 kind)
{
	return kind == BTF_KIND_TYPEDEF || kind == BTF_KIND_VOLATILE || kind == BTF_KIND_CONST ||
	       kind == BTF_KIND_RESTRICT || kind == BTF_KIND_TYPE_TAG;
}
/* Size of the whole string space (base strings included): valid offsets are below it. */
static inline __u32 btf_str_end(const struct ayac_btf *btf)
{
	return btf->start_str + btf->strs_len;
}

#endif
