/* BTF inside the core: parsing with validation, lookup, and the raw bytes that go to
 * the kernel. The type records are the kernel's own (struct btf_type and friends from
 * <linux/btf.h>); a parsed BTF owns one mutable copy of the blob, so in-place fix-ups
 * (datasec sizes, variable offsets) show in what ayac_btf_raw returns. */
#ifndef AYAC_BTF_H
#define AYAC_BTF_H

#include <stdio.h>
#include <linux/btf.h>
#include <ayac/ayac.h>

/* Parse and validate a raw BTF blob (header, types, strings). base is the BTF that a
 * split BTF (kernel module) builds on, or NULL. Errors: AYAC_EBTF with the reason. */
struct ayac_btf *ayac_btf_parse(const void *data, size_t size, const struct ayac_btf *base);
/* A file holding raw BTF (/sys/kernel/btf/...) or an ELF with a .BTF section. */
struct ayac_btf *ayac_btf_parse_file(const char *path, const struct ayac_btf *base);
/* A file that can be BTF (raw BTF or an ELF, within the size limits), without parsing
 * it: 0, or the error set. */
int ayac_btf_file_check(const char *path);
/* vmlinux BTF, read once per process on first use and shared; never freed by callers. */
struct ayac_btf *ayac_btf_vmlinux(void);
void ayac_btf_free(struct ayac_btf *btf);

/* Ids run 0 (void) .. type_cnt-1, base ids first for split BTF. */
__u32 ayac_btf_type_cnt(const struct ayac_btf *btf);
const struct btf_type *ayac_btf_type(const struct ayac_btf *btf, __u32 id); /* NULL: bad id or 0 */
struct btf_type *ayac_btf_type_mut(struct ayac_btf *btf, __u32 id);          /* own ids only */
const char *ayac_btf_str(const struct ayac_btf *btf, __u32 off);            /* NULL: bad offset */
/* First type with that name and kind (kind -1: any kind). Index-backed. -ENOENT. */
int ayac_btf_find(const struct ayac_btf *btf, const char *name, int kind);
/* Follow typedef/const/volatile/restrict/type_tag to the underlying type id. */
__u32 ayac_btf_skip_mods(const struct ayac_btf *btf, __u32 id);
/* Size in bytes of a type (through modifiers and arrays). -EINVAL for sizeless kinds. */
int ayac_btf_resolve_size(const struct ayac_btf *btf, __u32 id, __u64 *size);

/* The bytes handed to BTF_LOAD (reflects in-place fix-ups). */
const void *ayac_btf_raw(const struct ayac_btf *btf, __u32 *size);
/* Load into the kernel once (cached fd). Negative error on failure, with the kernel's
 * BTF verifier log in the message. */
int ayac_btf_fd(struct ayac_btf *btf);
void ayac_btf_close_fd(struct ayac_btf *btf);

/* A C header declaring every type of btf (base types included for split BTF), as
 * `bpftool btf dump file ... format c` writes vmlinux.h: definitions in dependency
 * order, forward declarations for cycles, packing and padding that keep every offset,
 * preserve_access_index records unless BPF_NO_PRESERVE_ACCESS_INDEX (btf_dump.c). */
struct ayac_btf_dump_opts {
	const char *guard;  /* include guard macro; NULL: __VMLINUX_H__ */
};
/* *out: malloc-ed, NUL-terminated, *len bytes without the NUL. */
int ayac_btf_dump_c(const struct ayac_btf *btf, const struct ayac_btf_dump_opts *opts,
		    char **out, size_t *len);
int ayac_btf_dump_c_file(const struct ayac_btf *btf, const struct ayac_btf_dump_opts *opts,
			 FILE *f);

/* BTF for kernels that lack some kinds (btf_sanitize.c). Bits of what is missing: */
enum {
	AYAC_BTF_NO_FUNC = 1 << 0,         /* func, func_proto */
	AYAC_BTF_NO_GLOBAL_FUNC = 1 << 1,  /* global/extern linkage of func */
	AYAC_BTF_NO_DATASEC = 1 << 2,      /* var, datasec */
	AYAC_BTF_NO_ZERO_DATASEC = 1 << 3, /* datasec with no variables or size 0 */
	AYAC_BTF_NO_FLOAT = 1 << 4,
	AYAC_BTF_NO_DECL_TAG = 1 << 5,
	AYAC_BTF_NO_TYPE_TAG = 1 << 6,
	AYAC_BTF_NO_ENUM64 = 1 << 7,       /* enum64, signed enums */
	AYAC_BTF_NO_QMARK_DATASEC = 1 << 8, /* datasec names starting with '?' */
};
/* Whether btf holds any kind in missing (and so needs ayac_btf_sanitized). */
bool ayac_btf_needs_sanitize(const struct ayac_btf *btf, unsigned missing);
/* A new BTF with every kind in missing replaced by what older kernels accept, ids kept
 * (what object loading hands the kernel). Not for split BTF. */
struct ayac_btf *ayac_btf_sanitized(const struct ayac_btf *btf, unsigned missing);
/* btf_kernel.c: btf's fd in the kernel, -1 while not loaded; and moving the kernel
 * fd of `from` (a rewritten copy) to btf, which then stands for what the kernel holds. */
int ayac_btf_loaded_fd(const struct ayac_btf *btf);
void ayac_btf_take_fd(struct ayac_btf *btf, struct ayac_btf *from);
/* The BTF the kernel holds for btf's fd, read back (ENOENT: not loaded). */
struct ayac_btf *ayac_btf_kernel_copy(const struct ayac_btf *btf);
/* The BTF behind a kernel BTF fd (a program's, from BPF_BTF_GET_FD_BY_ID). */
struct ayac_btf *ayac_btf_from_kernel_fd(int fd);

/* Kind names as the Lua API spells them ("int", "struct", "func_proto", ...). NULL / -1
 * when unknown. */
const char *ayac_btf_kind_name(int kind);
int ayac_btf_kind_by_name(const char *name);

/* Accessors for the variable-length parts that follow a struct btf_type. */
static inline __u16 btf_kind_of(const struct btf_type *t) { return BTF_INFO_KIND(t->info); }
static inline __u16 btf_vlen_of(const struct btf_type *t) { return BTF_INFO_VLEN(t->info); }
static inline bool btf_kflag_of(const struct btf_type *t) { return BTF_INFO_KFLAG(t->info); }
static inline struct btf_member *btf_members_of(const struct btf_type *t)
{ return (struct btf_member *)(t + 1); }
static inline struct btf_var_secinfo *btf_secinfos_of(const struct btf_type *t)
{ return (struct btf_var_secinfo *)(t + 1); }
static inline struct btf_array *btf_array_of(const struct btf_type *t)
{ return (struct btf_array *)(t + 1); }
static inline struct btf_var *btf_var_of(const struct btf_type *t)
{ return (struct btf_var *)(t + 1); }
static inline struct btf_enum *btf_enums_of(const struct btf_type *t)
{ return (struct btf_enum *)(t + 1); }
static inline struct btf_param *btf_params_of(const struct btf_type *t)
{ return (struct btf_param *)(t + 1); }
static inline __u32 btf_int_encoding_of(const struct btf_type *t) { return *(const __u32 *)(t + 1); }

/* .BTF.ext: func_info, line_info and CO-RE relocation records, grouped by section. */
struct ayac_btf_ext_sec {
	const char *sec_name;  /* from the object's BTF strings */
	__u32 num;             /* records */
	__u32 rec_size;        /* as in the file (>= the kernel struct's size) */
	const void *recs;      /* first record; insn_off fields are byte offsets */
};
struct ayac_btf_ext_info {
	struct ayac_btf_ext_sec *secs;
	__u32 nsecs;
};
struct ayac_btf_ext {
	struct ayac_btf_ext_info func_info;  /* records: struct bpf_func_info prefix */
	struct ayac_btf_ext_info line_info;  /* records: struct bpf_line_info prefix */
	struct ayac_btf_ext_info core_relo;  /* records: struct bpf_core_relo prefix */
	void *data;                          /* owned copy of the section */
	size_t size;
};
/* Validate and index .BTF.ext against the object's BTF (section names are BTF strings). */
struct ayac_btf_ext *ayac_btf_ext_parse(const void *data, size_t size, const struct ayac_btf *btf);
void ayac_btf_ext_free(struct ayac_btf_ext *ext);
const struct ayac_btf_ext_sec *ayac_btf_ext_find(const struct ayac_btf_ext_info *info,
						 const char *sec_name);

#endif
