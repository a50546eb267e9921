/* The SEC() table: what a section name says about its programs (type, expected
 * attach type, how they attach, flags), as libbpf's section_defs reads it. Pure data;
 * used by the ELF reader, the object model and attach. */
#ifndef AYAC_ELF_SECTION_H
#define AYAC_ELF_SECTION_H

#include <ayac/ayac.h>

/* ---- section table (section.c) -------------------------------------------------------- */

enum ayac_attach_kind {
	AYAC_ATTACH_NONE,        /* nothing automatic (syscall, lwt, struct_ops...) */
	AYAC_ATTACH_TRACEPOINT,  /* tracepoint/cat/name, tp/cat/name */
	AYAC_ATTACH_RAW_TP,      /* raw_tp/name, raw_tracepoint/name */
	AYAC_ATTACH_TRACING,     /* tp_btf/name, fentry/fexit/fmod_ret, lsm, iter */
	AYAC_ATTACH_KPROBE,      /* kprobe/func[+off], kretprobe/func, ksyscall/name */
	AYAC_ATTACH_UPROBE,      /* uprobe/path:sym[+off], uretprobe/... */
	AYAC_ATTACH_TARGETED,    /* needs a target from the caller (xdp, tc, cgroup, ...) */
	AYAC_ATTACH_USDT,        /* usdt/path:provider:name */
	AYAC_ATTACH_KPROBE_MULTI, /* kprobe.multi/pattern, kretprobe.multi/, kprobe.session/ */
	AYAC_ATTACH_UPROBE_MULTI, /* uprobe.multi/path:pattern, uretprobe.multi/, uprobe.session/ */
};

enum {
	AYAC_SEC_SLEEPABLE = 1 << 0,  /* ".s" variants: BPF_F_SLEEPABLE */
	AYAC_SEC_RETPROBE = 1 << 1,   /* kretprobe/uretprobe (and their .multi) */
	AYAC_SEC_BTF_ID = 1 << 2,     /* attach_btf_id from vmlinux (tp_btf, fentry, lsm, iter) */
	AYAC_SEC_XDP_FRAGS = 1 << 3,  /* xdp.frags: BPF_F_XDP_HAS_FRAGS */
	AYAC_SEC_ATTACHABLE = 1 << 4, /* libbpf's SEC_ATTACHABLE: BPF_PROG_ATTACH-style */
	AYAC_SEC_SESSION = 1 << 5,    /* kprobe.session, uprobe.session */
};

struct ayac_sec_def {
	/* As libbpf writes them: "name+" matches "name" and "name/anything", "name/" only
	 * "name/anything", "name" only itself. */
	const char *prefix;
	enum bpf_prog_type prog_type;
	enum bpf_attach_type attach_type;
	enum ayac_attach_kind attach_kind;
	unsigned flags;
	/* For AYAC_SEC_BTF_ID: the prefix put before the target's name when looking it up in
	 * vmlinux BTF ("btf_trace_" for tp_btf, "bpf_lsm_" for lsm, "bpf_iter_" for iter). */
	const char *btf_name_prefix;
};

/* The definition libbpf would pick for the section name (first match in its table's
 * order), or, failing that, one for an old "name/..." spelling libbpf 0.x took; NULL
 * when none. A leading '?' (not autoloaded) is the caller's to strip. */
const struct ayac_sec_def *ayac_sec_def_find(const char *sec_name);
/* What follows "name/" in the section name ("" for the bare form). */
const char *ayac_sec_target(const char *sec_name);
/* Every definition, in table order (for specs comparing with libbpf). */
const struct ayac_sec_def *ayac_sec_defs(size_t *n);

#endif
