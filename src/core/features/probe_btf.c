/* BTF probes: which kinds the kernel's BTF loader accepts. Each probe loads a tiny
 * blob (a handful of types) with BPF_BTF_LOAD; the BTF sanitizer (btf_sanitize.c)
 * rewrites what the answers say is missing. */
#include <errno.h>
#include <linux/btf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe_priv.h"

static inline __u64 ptr_to_u64(const void *p)
{
	return (__u64)(unsigned long)p;
}

/* Every name a probe uses, in one string section. */
static const char strs[] = "\0int\0x\0.data\0float\0tag\0val\0.empty\0?.data";

/* Offset of name in strs (names are looked up, not counted by hand). */
static __u32 S(const char *name)
{
	size_t off = 1;

	while (off < sizeof(strs)) {
		if (strcmp(strs + off, name) == 0)
			return (__u32)off;
		off += strlen(strs + off) + 1;
	}
	return 0; /* a name missing from strs: the probe's load fails, the spec notices */
}

#define INFO(kind, kflag, vlen) (((__u32)(kflag) << 31) | ((__u32)(kind) << 24) | (__u32)(vlen))
#define INT_S32 (1U << 24 | 32)  /* BTF_INT_SIGNED, 32 bits at offset 0 */
enum { VAR_STATIC = 0, VAR_GLOBAL = 1 };
enum { FUNC_STATIC = 0, FUNC_GLOBAL = 1 };

int probe_btf_load(const __u32 *types, size_t types_size, const char *str, size_t str_size)
{
	struct btf_header hdr = {
		.magic = BTF_MAGIC,
		.version = BTF_VERSION,
		.hdr_len = sizeof(hdr),
		.type_off = 0,
		.type_len = (__u32)types_size,
		.str_off = (__u32)types_size,
		.str_len = (__u32)str_size,
	};
	size_t size = sizeof(hdr) + types_size + str_size;
	union bpf_attr attr;
	char *blob = malloc(size);
	int fd;

	if (!blob)
		return -ENOMEM;
	memcpy(blob, &hdr, sizeof(hdr));
	memcpy(blob + sizeof(hdr), types, types_size);
	memcpy(blob + sizeof(hdr) + types_size, str, str_size);
	memset(&attr, 0, sizeof(attr));
	attr.btf = ptr_to_u64(blob);
	attr.btf_size = (__u32)size;
	fd = sys_bpf_fd(BPF_BTF_LOAD, &attr, sizeof(attr));
	free(blob);
	return fd;
}

static int load(const __u32 *types, size_t types_size)
{
	return probe_result(probe_btf_load(types, types_size, strs, sizeof(strs)), NULL);
}

int probe_btf_storage(void)
{
	const __u32 types[] = {
		S("int"), INFO(BTF_KIND_INT, 0, 0), 4, INT_S32,               /* [1] int */
		S("val"), INFO(BTF_KIND_STRUCT, 0, 2), 8,                      /* [2] struct val */
		S("x"), 1, 0,                                                  /*     int x; */
		S("tag"), 1, 32,                                               /*     int tag; */
	};

	return probe_btf_load(types, sizeof(types), strs, sizeof(strs));
}

#define INT_TYPE S("int"), INFO(BTF_KIND_INT, 0, 0), 4, INT_S32 /* [1] int */

/* void x(int x), with the given linkage */
static int probe_func(__u32 linkage)
{
	const __u32 types[] = {
		INT_TYPE,
		0, INFO(BTF_KIND_FUNC_PROTO, 0, 1), 0, S("x"), 1, /* [2] void (int x) */
		S("x"), INFO(BTF_KIND_FUNC, 0, linkage), 2,       /* [3] x */
	};

	return load(types, sizeof(types));
}

static int probe_datasec(void)
{
	const __u32 types[] = {
		INT_TYPE,
		S("x"), INFO(BTF_KIND_VAR, 0, 0), 1, VAR_GLOBAL,      /* [2] int x */
		S(".data"), INFO(BTF_KIND_DATASEC, 0, 1), 4, 2, 0, 4, /* [3] .data { x } */
	};

	return load(types, sizeof(types));
}

/* A DATASEC with no variables and size 0 (an empty .bss, a .kconfig with nothing). */
static int probe_zero_datasec(void)
{
	const __u32 types[] = {
		INT_TYPE,
		S(".empty"), INFO(BTF_KIND_DATASEC, 0, 0), 0, /* [2] .empty {} */
	};

	return load(types, sizeof(types));
}

/* A DATASEC whose name starts with '?' (libbpf's "?.struct_ops" sections). */
static int probe_qmark_datasec(void)
{
	const __u32 types[] = {
		INT_TYPE,
		S("x"), INFO(BTF_KIND_VAR, 0, 0), 1, VAR_STATIC,       /* [2] static int x */
		S("?.data"), INFO(BTF_KIND_DATASEC, 0, 1), 4, 2, 0, 4, /* [3] ?.data { x } */
	};

	return load(types, sizeof(types));
}

static int probe_simple(enum ayac_feature f)
{
	const __u32 plain[] = { INT_TYPE };
	const __u32 flt[] = { S("float"), INFO(BTF_KIND_FLOAT, 0, 0), 4 };
	const __u32 decl_tag[] = {
		INT_TYPE,
		S("x"), INFO(BTF_KIND_VAR, 0, 0), 1, VAR_STATIC,          /* [2] int x */
		S("tag"), INFO(BTF_KIND_DECL_TAG, 0, 0), 2, (__u32)-1,     /* [3] tag on x */
	};
	const __u32 type_tag[] = {
		INT_TYPE,
		S("tag"), INFO(BTF_KIND_TYPE_TAG, 0, 0), 1,               /* [2] int __tag */
		0, INFO(BTF_KIND_PTR, 0, 0), 2,                           /* [3] int __tag * */
	};
	const __u32 enum64[] = {
		S("val"), INFO(BTF_KIND_ENUM64, 0, 1), 8, S("x"), 0, 1,   /* enum val { x = 1<<32 } */
	};

	switch (f) {
	case AYAC_FEAT_BTF: return load(plain, sizeof(plain));
	case AYAC_FEAT_BTF_FLOAT: return load(flt, sizeof(flt));
	case AYAC_FEAT_BTF_DECL_TAG: return load(decl_tag, sizeof(decl_tag));
	case AYAC_FEAT_BTF_TYPE_TAG: return load(type_tag, sizeof(type_tag));
	case AYAC_FEAT_BTF_ENUM64: return load(enum64, sizeof(enum64));
	default: return -EINVAL;
	}
}

int probe_btf_feature(enum ayac_feature f)
{
	switch (f) {
	case AYAC_FEAT_BTF_FUNC: return probe_func(FUNC_STATIC);
	case AYAC_FEAT_BTF_GLOBAL_FUNC: return probe_func(FUNC_GLOBAL);
	case AYAC_FEAT_BTF_DATASEC: return probe_datasec();
	case AYAC_FEAT_BTF_ZERO_DATASEC: return probe_zero_datasec();
	case AYAC_FEAT_BTF_QMARK_DATASEC: return probe_qmark_datasec();
	default: return probe_simple(f);
	}
}
