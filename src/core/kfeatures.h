/* What this kernel can do, probed lazily, at most once per process per feature, and
 * cached (kfeatures.c). Every answer is 1 (supported), 0 (not supported) or a negative
 * errno when the probe itself failed for another reason (EPERM, ENOMEM…): unknown,
 * never reported as "unsupported". */
#ifndef AYAC_KFEATURES_H
#define AYAC_KFEATURES_H

#include "ayac.h"

enum ayac_feature {
	/* BTF kinds and layouts the kernel's BTF loader accepts */
	AYAC_FEAT_BTF,             /* BTF_LOAD at all */
	AYAC_FEAT_BTF_FUNC,        /* FUNC / FUNC_PROTO */
	AYAC_FEAT_BTF_GLOBAL_FUNC, /* FUNC with BTF_FUNC_GLOBAL linkage */
	AYAC_FEAT_BTF_DATASEC,     /* VAR / DATASEC */
	AYAC_FEAT_BTF_ZERO_DATASEC,/* DATASEC with no variables / zero size */
	AYAC_FEAT_BTF_FLOAT,
	AYAC_FEAT_BTF_DECL_TAG,
	AYAC_FEAT_BTF_TYPE_TAG,
	AYAC_FEAT_BTF_ENUM64,
	/* programs, maps, helpers */
	AYAC_FEAT_PROG_NAME,         /* prog_name / map_name attributes */
	AYAC_FEAT_GLOBAL_DATA,       /* BPF_PSEUDO_MAP_VALUE (.data/.rodata/.bss) */
	AYAC_FEAT_ARRAY_MMAP,        /* BPF_F_MMAPABLE arrays */
	AYAC_FEAT_PROBE_READ_KERNEL, /* bpf_probe_read_{kernel,user} */
	AYAC_FEAT_BPF_COOKIE,        /* bpf_get_attach_cookie */
	AYAC_FEAT_BOUNDED_LOOPS,
	AYAC_FEAT_BPF_LOOP,          /* bpf_loop helper */
	AYAC_FEAT_RINGBUF,
	AYAC_FEAT_MEMCG_ACCOUNT,     /* 1: memory is charged to memcg, RLIMIT_MEMLOCK unneeded */
	AYAC_FEAT_CPUMAP_PROG_ID,
	AYAC_FEAT_DEVMAP_PROG_ID,
	AYAC_FEAT_JIT,               /* net.core.bpf_jit_enable */
	AYAC_FEAT_UNPRIV_BPF,        /* kernel.unprivileged_bpf_disabled == 0 */
	/* attach paths */
	AYAC_FEAT_PERF_LINK,         /* BPF_LINK_CREATE with BPF_PERF_EVENT */
	AYAC_FEAT_KPROBE_MULTI,
	AYAC_FEAT_UPROBE_MULTI,
	AYAC_FEAT_TCX,
	AYAC_FEAT_NETKIT,
	AYAC_FEAT_CGROUP_LINK,
	AYAC_FEAT_XDP_LINK,          /* BPF_LINK_CREATE with BPF_XDP (Linux 5.9) */
	AYAC_FEAT_SOCKMAP_LINK,      /* BPF_LINK_CREATE for sk_msg/sk_skb (Linux 6.10) */
	AYAC_FEAT__COUNT
};

int ayac_feature(enum ayac_feature f);
const char *ayac_feature_name(enum ayac_feature f);
/* Why an answer is unknown (the errno text), or NULL. */
const char *ayac_feature_why(enum ayac_feature f);
int ayac_feature_prog_type(enum bpf_prog_type type);
int ayac_feature_map_type(enum bpf_map_type type);
/* helper_id usable from programs of this type (as bpftool feature probe decides). */
int ayac_feature_helper(enum bpf_prog_type type, int helper_id);

/* Additions (issue 4). */
int ayac_feature_by_name(const char *name);   /* -1: no such feature */
/* Why ayac_feature_helper is not 1 ("not available to xdp programs (verifier: …)",
 * "EPERM: …"); NULL when it is 1. Valid until the thread's next call. */
const char *ayac_feature_helper_why(enum bpf_prog_type type, int helper_id);
/* Helper names in enum bpf_func_id order, without "bpf_" ("map_lookup_elem"). */
int ayac_helper_count(void);                  /* ids are 1 .. count - 1 */
const char *ayac_helper_name(int helper_id);  /* NULL: not a helper ayac knows */
int ayac_helper_by_name(const char *name);    /* "bpf_" prefix optional; -1: unknown */
/* Before the first map or program: raise RLIMIT_MEMLOCK when the kernel charges BPF
 * memory to it (before 5.11: no memcg accounting). Once per process; 0 or -errno,
 * never sets the last error (loading goes on either way). */
int ayac_feature_memlock(void);
/* Refuse a map this kernel cannot have, naming it: global-data maps (.data, .rodata,
 * .bss, .kconfig) without global data support. 0, or -errno with the error set. */
int ayac_feature_check_map(const struct ayac_map *map);

#endif
