/* libbpf's SEC() naming: which program type, expected attach type and attach path a
 * section name means. The table follows libbpf's section_defs (libbpf 1.6) entry for
 * entry and in its order, and matches the way libbpf does: the first definition
 * that matches wins, "name+" matches "name" and "name/...", "name/" only "name/...",
 * and a plain "name" only itself.
 *
 * libbpf 0.x also took "name/anything" for single-word names ("xdp/foo",
 * "socket/bar", "classifier/x"); objects built for it still carry such names, so a
 * name no definition matches is tried that way last (the one place ayac accepts
 * more than libbpf 1.x). */
#include <string.h>

#include "sys/sys.h"
#include "section.h"

#define DEF(pfx, type, atype, kind, fl) { pfx, BPF_PROG_TYPE_##type, (enum bpf_attach_type)(atype), AYAC_ATTACH_##kind, fl, NULL }
#define BTF(pfx, type, atype, fl, btfpfx) { pfx, BPF_PROG_TYPE_##type, atype, AYAC_ATTACH_TRACING, (fl) | AYAC_SEC_BTF_ID, btfpfx }
#define S AYAC_SEC_SLEEPABLE
#define R AYAC_SEC_RETPROBE
#define A AYAC_SEC_ATTACHABLE
#define F AYAC_SEC_XDP_FRAGS
#define SE AYAC_SEC_SESSION

/* Attach types newer than the installed uapi header (values from Linux 6.18). */
#define TCX_INGRESS 46
#define TCX_EGRESS 47
#define NETFILTER_ 45
#define UNIX_CONNECT 49
#define UNIX_SENDMSG 50
#define UNIX_RECVMSG 51
#define UNIX_GETPEERNAME 52
#define UNIX_GETSOCKNAME 53
#define NETKIT_PRIMARY 54
#define NETKIT_PEER 55
#define BPF_PROG_TYPE_NETFILTER_ ((enum bpf_prog_type)(BPF_PROG_TYPE_SYSCALL + 1))

static const struct ayac_sec_def sec_defs[] = {
	DEF("socket", SOCKET_FILTER, 0, TARGETED, 0),
	DEF("sk_reuseport/migrate", SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT_OR_MIGRATE, TARGETED, A),
	DEF("sk_reuseport", SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT, TARGETED, A),
	DEF("kprobe+", KPROBE, 0, KPROBE, 0),
	DEF("uprobe+", KPROBE, 0, UPROBE, 0),
	DEF("uprobe.s+", KPROBE, 0, UPROBE, S),
	DEF("kretprobe+", KPROBE, 0, KPROBE, R),
	DEF("uretprobe+", KPROBE, 0, UPROBE, R),
	DEF("uretprobe.s+", KPROBE, 0, UPROBE, R | S),
	DEF("kprobe.multi+", KPROBE, BPF_TRACE_KPROBE_MULTI, KPROBE_MULTI, 0),
	DEF("kretprobe.multi+", KPROBE, BPF_TRACE_KPROBE_MULTI, KPROBE_MULTI, R),
	DEF("kprobe.session+", KPROBE, AYAC_BPF_TRACE_KPROBE_SESSION, KPROBE_MULTI, SE),
	DEF("uprobe.multi+", KPROBE, AYAC_BPF_TRACE_UPROBE_MULTI, UPROBE_MULTI, 0),
	DEF("uretprobe.multi+", KPROBE, AYAC_BPF_TRACE_UPROBE_MULTI, UPROBE_MULTI, R),
	DEF("uprobe.session+", KPROBE, AYAC_BPF_TRACE_UPROBE_SESSION, UPROBE_MULTI, SE),
	DEF("uprobe.multi.s+", KPROBE, AYAC_BPF_TRACE_UPROBE_MULTI, UPROBE_MULTI, S),
	DEF("uretprobe.multi.s+", KPROBE, AYAC_BPF_TRACE_UPROBE_MULTI, UPROBE_MULTI, R | S),
	DEF("uprobe.session.s+", KPROBE, AYAC_BPF_TRACE_UPROBE_SESSION, UPROBE_MULTI, SE | S),
	DEF("ksyscall+", KPROBE, 0, KPROBE, 0),
	DEF("kretsyscall+", KPROBE, 0, KPROBE, R),
	DEF("usdt+", KPROBE, 0, USDT, 0),
	DEF("usdt.s+", KPROBE, 0, USDT, S),
	DEF("tc/ingress", SCHED_CLS, TCX_INGRESS, TARGETED, 0), /* libbpf: an alias of tcx */
	DEF("tc/egress", SCHED_CLS, TCX_EGRESS, TARGETED, 0),
	DEF("tcx/ingress", SCHED_CLS, TCX_INGRESS, TARGETED, 0),
	DEF("tcx/egress", SCHED_CLS, TCX_EGRESS, TARGETED, 0),
	DEF("tc", SCHED_CLS, 0, TARGETED, 0),
	DEF("classifier", SCHED_CLS, 0, TARGETED, 0),
	DEF("action", SCHED_ACT, 0, TARGETED, 0),
	DEF("netkit/primary", SCHED_CLS, NETKIT_PRIMARY, TARGETED, 0),
	DEF("netkit/peer", SCHED_CLS, NETKIT_PEER, TARGETED, 0),
	DEF("tracepoint+", TRACEPOINT, 0, TRACEPOINT, 0),
	DEF("tp+", TRACEPOINT, 0, TRACEPOINT, 0),
	DEF("tracepoint.s+", TRACEPOINT, 0, TRACEPOINT, S),
	DEF("tp.s+", TRACEPOINT, 0, TRACEPOINT, S),
	DEF("raw_tracepoint+", RAW_TRACEPOINT, 0, RAW_TP, 0),
	DEF("raw_tp+", RAW_TRACEPOINT, 0, RAW_TP, 0),
	DEF("raw_tracepoint.s+", RAW_TRACEPOINT, 0, RAW_TP, S),
	DEF("raw_tp.s+", RAW_TRACEPOINT, 0, RAW_TP, S),
	DEF("raw_tracepoint.w+", RAW_TRACEPOINT_WRITABLE, 0, RAW_TP, 0),
	DEF("raw_tp.w+", RAW_TRACEPOINT_WRITABLE, 0, RAW_TP, 0),
	BTF("tp_btf+", TRACING, BPF_TRACE_RAW_TP, 0, "btf_trace_"),
	BTF("tp_btf.s+", TRACING, BPF_TRACE_RAW_TP, S, "btf_trace_"),
	BTF("fentry+", TRACING, BPF_TRACE_FENTRY, 0, ""),
	BTF("fmod_ret+", TRACING, BPF_MODIFY_RETURN, 0, ""),
	BTF("fexit+", TRACING, BPF_TRACE_FEXIT, 0, ""),
	BTF("fentry.s+", TRACING, BPF_TRACE_FENTRY, S, ""),
	BTF("fmod_ret.s+", TRACING, BPF_MODIFY_RETURN, S, ""),
	BTF("fexit.s+", TRACING, BPF_TRACE_FEXIT, S, ""),
	/* freplace: its BTF target is in the target program's BTF (prog_ext.c) */
	DEF("freplace+", EXT, 0, TARGETED, 0),
	BTF("lsm+", LSM, BPF_LSM_MAC, 0, "bpf_lsm_"),
	BTF("lsm.s+", LSM, BPF_LSM_MAC, S, "bpf_lsm_"),
	BTF("lsm_cgroup+", LSM, BPF_LSM_CGROUP, 0, "bpf_lsm_"),
	BTF("iter+", TRACING, BPF_TRACE_ITER, 0, "bpf_iter_"),
	BTF("iter.s+", TRACING, BPF_TRACE_ITER, S, "bpf_iter_"),
	DEF("syscall", SYSCALL, 0, NONE, S),
	DEF("xdp.frags/devmap", XDP, BPF_XDP_DEVMAP, TARGETED, F),
	DEF("xdp/devmap", XDP, BPF_XDP_DEVMAP, TARGETED, A),
	DEF("xdp.frags/cpumap", XDP, BPF_XDP_CPUMAP, TARGETED, F),
	DEF("xdp/cpumap", XDP, BPF_XDP_CPUMAP, TARGETED, A),
	DEF("xdp.frags", XDP, BPF_XDP, TARGETED, F),
	DEF("xdp", XDP, BPF_XDP, TARGETED, A),
	DEF("perf_event", PERF_EVENT, 0, TARGETED, 0),
	DEF("lwt_in", LWT_IN, 0, NONE, 0),
	DEF("lwt_out", LWT_OUT, 0, NONE, 0),
	DEF("lwt_xmit", LWT_XMIT, 0, NONE, 0),
	DEF("lwt_seg6local", LWT_SEG6LOCAL, 0, NONE, 0),
	DEF("sockops", SOCK_OPS, BPF_CGROUP_SOCK_OPS, TARGETED, A),
	DEF("sk_skb/stream_parser", SK_SKB, BPF_SK_SKB_STREAM_PARSER, TARGETED, A),
	DEF("sk_skb/stream_verdict", SK_SKB, BPF_SK_SKB_STREAM_VERDICT, TARGETED, A),
	DEF("sk_skb/verdict", SK_SKB, BPF_SK_SKB_VERDICT, TARGETED, A),
	DEF("sk_skb", SK_SKB, 0, TARGETED, 0),
	DEF("sk_msg", SK_MSG, BPF_SK_MSG_VERDICT, TARGETED, A),
	DEF("lirc_mode2", LIRC_MODE2, BPF_LIRC_MODE2, TARGETED, A),
	DEF("flow_dissector", FLOW_DISSECTOR, BPF_FLOW_DISSECTOR, TARGETED, A),
	DEF("cgroup_skb/ingress", CGROUP_SKB, BPF_CGROUP_INET_INGRESS, TARGETED, A),
	DEF("cgroup_skb/egress", CGROUP_SKB, BPF_CGROUP_INET_EGRESS, TARGETED, A),
	DEF("cgroup/skb", CGROUP_SKB, 0, TARGETED, 0),
	DEF("cgroup/sock_create", CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE, TARGETED, A),
	DEF("cgroup/sock_release", CGROUP_SOCK, BPF_CGROUP_INET_SOCK_RELEASE, TARGETED, A),
	DEF("cgroup/sock", CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE, TARGETED, A),
	DEF("cgroup/post_bind4", CGROUP_SOCK, BPF_CGROUP_INET4_POST_BIND, TARGETED, A),
	DEF("cgroup/post_bind6", CGROUP_SOCK, BPF_CGROUP_INET6_POST_BIND, TARGETED, A),
	DEF("cgroup/bind4", CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_BIND, TARGETED, A),
	DEF("cgroup/bind6", CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_BIND, TARGETED, A),
	DEF("cgroup/connect4", CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT, TARGETED, A),
	DEF("cgroup/connect6", CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT, TARGETED, A),
	DEF("cgroup/connect_unix", CGROUP_SOCK_ADDR, UNIX_CONNECT, TARGETED, A),
	DEF("cgroup/sendmsg4", CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_SENDMSG, TARGETED, A),
	DEF("cgroup/sendmsg6", CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_SENDMSG, TARGETED, A),
	DEF("cgroup/sendmsg_unix", CGROUP_SOCK_ADDR, UNIX_SENDMSG, TARGETED, A),
	DEF("cgroup/recvmsg4", CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_RECVMSG, TARGETED, A),
	DEF("cgroup/recvmsg6", CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_RECVMSG, TARGETED, A),
	DEF("cgroup/recvmsg_unix", CGROUP_SOCK_ADDR, UNIX_RECVMSG, TARGETED, A),
	DEF("cgroup/getpeername4", CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETPEERNAME, TARGETED, A),
	DEF("cgroup/getpeername6", CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETPEERNAME, TARGETED, A),
	DEF("cgroup/getpeername_unix", CGROUP_SOCK_ADDR, UNIX_GETPEERNAME, TARGETED, A),
	DEF("cgroup/getsockname4", CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETSOCKNAME, TARGETED, A),
	DEF("cgroup/getsockname6", CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETSOCKNAME, TARGETED, A),
	DEF("cgroup/getsockname_unix", CGROUP_SOCK_ADDR, UNIX_GETSOCKNAME, TARGETED, A),
	DEF("cgroup/sysctl", CGROUP_SYSCTL, BPF_CGROUP_SYSCTL, TARGETED, A),
	DEF("cgroup/getsockopt", CGROUP_SOCKOPT, BPF_CGROUP_GETSOCKOPT, TARGETED, A),
	DEF("cgroup/setsockopt", CGROUP_SOCKOPT, BPF_CGROUP_SETSOCKOPT, TARGETED, A),
	DEF("cgroup/dev", CGROUP_DEVICE, BPF_CGROUP_DEVICE, TARGETED, A),
	DEF("struct_ops+", STRUCT_OPS, 0, NONE, 0),
	DEF("struct_ops.s+", STRUCT_OPS, 0, NONE, S),
	DEF("sk_lookup", SK_LOOKUP, BPF_SK_LOOKUP, TARGETED, A),
	DEF("netfilter", NETFILTER_, NETFILTER_, TARGETED, 0),
};

#define NDEFS (sizeof(sec_defs) / sizeof(sec_defs[0]))

static bool sec_matches(const struct ayac_sec_def *def, const char *name)
{
	size_t len = strlen(def->prefix);

	if (def->prefix[len - 1] == '/')
		return strncmp(name, def->prefix, len) == 0;
	if (def->prefix[len - 1] == '+') {
		len--;
		return strncmp(name, def->prefix, len) == 0 && (!name[len] || name[len] == '/');
	}
	return strcmp(name, def->prefix) == 0;
}

/* libbpf 0.x's "name/anything" for single-word names. */
static bool legacy_matches(const struct ayac_sec_def *def, const char *name)
{
	size_t len = strlen(def->prefix);

	return !strchr(def->prefix, '/') && def->prefix[len - 1] != '+' &&
	       strncmp(name, def->prefix, len) == 0 && name[len] == '/';
}

const struct ayac_sec_def *ayac_sec_def_find(const char *sec_name)
{
	size_t i;

	for (i = 0; i < NDEFS; i++)
		if (sec_matches(&sec_defs[i], sec_name))
			return &sec_defs[i];
	for (i = 0; i < NDEFS; i++)
		if (legacy_matches(&sec_defs[i], sec_name))
			return &sec_defs[i];
	return NULL;
}

const char *ayac_sec_target(const char *sec_name)
{
	const char *slash = sec_name ? strchr(sec_name, '/') : NULL;

	return slash ? slash + 1 : "";
}

const struct ayac_sec_def *ayac_sec_defs(size_t *n)
{
	*n = NDEFS;
	return sec_defs;
}
