/* Shared by the feature probes only: kfeatures.c (cache, dispatch, overrides) and the
 * probe_*.c files that talk to the kernel. Nothing here sets the thread's last error:
 * a probe answers 1 (supported), 0 (not supported) or a negative errno (unknown).
 *
 * Several kernel constants are newer than the uapi headers this builds against
 * (Debian's 6.1), so they are spelled out here by value. */
#ifndef AYAC_PROBE_PRIV_H
#define AYAC_PROBE_PRIV_H

#include <stddef.h>

#include "sys/sys.h"
#include "features.h"
#include "features.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's internal "not supported", seen by user space */
#endif

/* enum bpf_prog_type / bpf_map_type / bpf_attach_type values after Linux 6.1 */
#define PROBE_PROG_TYPE_NETFILTER 32
#define PROBE_MAP_TYPE_CGRP_STORAGE 32
#define PROBE_MAP_TYPE_ARENA 33
#define PROBE_ATTACH_NETFILTER 45
#define PROBE_ATTACH_TCX_INGRESS 46
#define PROBE_ATTACH_UPROBE_MULTI 48
#define PROBE_ATTACH_NETKIT_PRIMARY 54

/* Program types and helper ids the caches cover (larger ones are probed uncached). */
#define PROBE_PROG_TYPES 48
#define PROBE_MAP_TYPES 48
#define PROBE_HELPERS 256

/* Why a helper is not usable (ayac_feature_helper_why). */
enum probe_helper_why {
	PROBE_HELPER_OK,
	PROBE_HELPER_NO_ID,      /* "invalid func": the kernel has no helper with this id */
	PROBE_HELPER_NOT_TYPE,   /* "unknown func" / "program of this type cannot use helper" */
	PROBE_HELPER_NO_PROG,    /* the program type itself is missing (or unknown) */
	PROBE_HELPER_UNPROBED,   /* tracing, ext, lsm, struct_ops: no target to load against */
	PROBE_HELPER_FAILED,     /* the load failed for another reason: unknown */
	PROBE_HELPER_FORCED,     /* AYAC_FEATURES said so */
};

/* ---- program loads (probe_prog.c) ---------------------------------------------------- */

struct probe_prog {
	enum bpf_prog_type type;
	__u32 expected_attach_type;
	__u32 attach_btf_id;
	__u32 prog_flags;
	__u32 kern_version;
	const struct bpf_insn *insns;
	__u32 insn_cnt;
	const char *name;            /* prog_name, or NULL for none */
};

/* BPF_PROG_LOAD with a GPL license; log (may be NULL) gets the verifier's level-1 log.
 * Returns the fd or -errno. */
int probe_prog_load(const struct probe_prog *p, char *log, size_t log_size);
/* Fill type-specific attributes (expected attach type, flags, kern_version) that a
 * minimal program of this type needs to load, as bpftool does. */
void probe_prog_setup(struct probe_prog *p, enum bpf_prog_type type);
/* Classify a load (or map create) meant to succeed: fd >= 0 (closed here) → 1;
 * EINVAL, E2BIG, EOPNOTSUPP, ENOTSUPP, or a verifier refusal with a log → 0;
 * anything else (EPERM, ENOMEM, …) → -errno. */
int probe_result(int fd, const char *log);
/* "r0 = 0; exit" of the given type, loaded; the fd or -errno. */
int probe_trivial_prog(enum bpf_prog_type type, __u32 expected_attach_type);

int probe_prog_type(enum bpf_prog_type type);
int probe_helper(enum bpf_prog_type type, int helper_id, int *why);

/* ---- maps (probe_map.c) --------------------------------------------------------------- */

int probe_map_type(enum bpf_map_type type);
/* BPF_MAP_CREATE with the basics; fd or -errno. */
int probe_map_create(enum bpf_map_type type, __u32 key_size, __u32 value_size,
		     __u32 max_entries, __u32 flags);
/* BPF_MAP_LOOKUP_BATCH and the other batch commands: 1, 0 or -errno. */
int probe_map_batch(void);

/* ---- BTF (probe_btf.c) ---------------------------------------------------------------- */

/* BPF_BTF_LOAD of a blob built from raw type words and a string section; fd or -errno. */
int probe_btf_load(const __u32 *types, size_t types_size, const char *strs, size_t strs_size);
int probe_btf_feature(enum ayac_feature f);
/* A BTF fd describing [1] int and [2] struct { int a; int b; } (for storage maps). */
int probe_btf_storage(void);

/* ---- everything else (probe_misc.c, probe_link.c) ------------------------------------ */

int probe_misc_feature(enum ayac_feature f);
int probe_link_feature(enum ayac_feature f);

/* ---- AYAC_FEATURES (probe_override.c) -------------------------------------------------- */

/* true, with *value (1, 0 or -errno), when the environment forces the answer. */
bool probe_forced_feature(enum ayac_feature f, int *value);
bool probe_forced_prog_type(int type, int *value);
bool probe_forced_map_type(int type, int *value);
bool probe_forced_helper(int type, int helper_id, int *value);

#endif
