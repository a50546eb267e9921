/* The SEC() table: what a section name says about its programs (type, expected
 * attach type, how they attach, flags). Pure data; used by the ELF reader, the object
 * model and attach. */
#ifndef AYAC_ELF_SECTION_H
#define AYAC_ELF_SECTION_H

#include <ayac/ayac.h>

/* ---- section table (section.c) -------------------------------------------------------- */

enum ayac_attach_kind {
	AYAC_ATTACH_NONE,        /* nothing automatic (xdp, tc, cgroup... take a target) */
	AYAC_ATTACH_TRACEPOINT,  /* tracepoint/cat/name, tp/cat/name */
	AYAC_ATTACH_RAW_TP,      /* raw_tp/name, raw_tracepoint/name */
	AYAC_ATTACH_TRACING,     /* tp_btf/name, fentry/fexit/fmod_ret, lsm, iter */
	AYAC_ATTACH_KPROBE,      /* kprobe/func[+off], kretprobe/func */
	AYAC_ATTACH_UPROBE,      /* uprobe/path:sym[+off], uretprobe/... */
	AYAC_ATTACH_TARGETED,    /* needs a target from the caller (xdp, tc, cgroup, ...) */
	AYAC_ATTACH_USDT,        /* usdt/path:provider:name */
};

enum {
	AYAC_SEC_SLEEPABLE = 1 << 0,  /* ".s" variants: BPF_F_SLEEPABLE */
	AYAC_SEC_RETPROBE = 1 << 1,   /* kretprobe/uretprobe */
	AYAC_SEC_BTF_ID = 1 << 2,     /* attach_btf_id from vmlinux (tp_btf, fentry, lsm, iter) */
	AYAC_SEC_XDP_FRAGS = 1 << 3,  /* xdp.frags: BPF_F_XDP_HAS_FRAGS */
	AYAC_SEC_EXACT = 1 << 4,      /* the name must match exactly, not as a prefix */
};

struct ayac_sec_def {
	const char *prefix;            /* "tracepoint/", "xdp", ... */
	enum bpf_prog_type prog_type;
	enum bpf_attach_type attach_type;
	enum ayac_attach_kind attach_kind;
	unsigned flags;
	/* For AYAC_SEC_BTF_ID: the prefix put before the target's name when looking it up in
	 * vmlinux BTF ("btf_trace_" for tp_btf, "bpf_lsm_" for lsm, "bpf_iter_" for iter). */
	const char *btf_name_prefix;
};

/* The definition whose prefix matches the section name best; NULL when none. */
const struct ayac_sec_def *ayac_sec_def_find(const char *sec_name);

#endif
