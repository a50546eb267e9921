/* libbpf's SEC() naming: which program type, expected attach type and attach path a
 * section name means. Longest matching prefix wins, so "uretprobe" beats "uprobe"-less
 * guesses and "tp_btf/" beats "tp/". */
#include <string.h>

#include "section.h"

#define DEF(pfx, type, atype, kind, fl) { pfx, BPF_PROG_TYPE_##type, atype, AYAC_ATTACH_##kind, fl, NULL }
#define BTF(pfx, type, atype, fl, btfpfx) { pfx, BPF_PROG_TYPE_##type, atype, AYAC_ATTACH_TRACING, (fl) | AYAC_SEC_BTF_ID, btfpfx }
#define X AYAC_SEC_EXACT
#define S AYAC_SEC_SLEEPABLE
#define R AYAC_SEC_RETPROBE

static const struct ayac_sec_def sec_defs[] = {
	DEF("socket", SOCKET_FILTER, 0, TARGETED, 0),
	DEF("sk_reuseport/migrate", SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT_OR_MIGRATE, TARGETED, X),
	DEF("sk_reuseport", SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT, TARGETED, X),
	DEF("kprobe/", KPROBE, 0, KPROBE, 0),
	DEF("kprobe", KPROBE, 0, KPROBE, X),
	DEF("uprobe/", KPROBE, 0, UPROBE, 0),
	DEF("uprobe", KPROBE, 0, UPROBE, X),
	DEF("uprobe.s/", KPROBE, 0, UPROBE, S),
	DEF("uprobe.s", KPROBE, 0, UPROBE, S | X),
	DEF("kretprobe/", KPROBE, 0, KPROBE, R),
	DEF("kretprobe", KPROBE, 0, KPROBE, R | X),
	DEF("uretprobe/", KPROBE, 0, UPROBE, R),
	DEF("uretprobe", KPROBE, 0, UPROBE, R | X),
	DEF("uretprobe.s/", KPROBE, 0, UPROBE, R | S),
	DEF("uretprobe.s", KPROBE, 0, UPROBE, R | S | X),
	DEF("usdt", KPROBE, 0, NONE, 0),
	DEF("ksyscall/", KPROBE, 0, KPROBE, 0),
	DEF("kretsyscall/", KPROBE, 0, KPROBE, R),
	/* BPF_TCX_INGRESS/EGRESS (46, 47) and BPF_NETKIT_PRIMARY/PEER (54, 55): newer than
	 * the uapi header; the kernel ignores a sched_cls program's attach type at load. */
	DEF("tc/ingress", SCHED_CLS, 46, TARGETED, X),
	DEF("tc/egress", SCHED_CLS, 47, TARGETED, X),
	DEF("tcx/ingress", SCHED_CLS, 46, TARGETED, X),
	DEF("tcx/egress", SCHED_CLS, 47, TARGETED, X),
	DEF("netkit/primary", SCHED_CLS, 54, TARGETED, X),
	DEF("netkit/peer", SCHED_CLS, 55, TARGETED, X),
	DEF("tc", SCHED_CLS, 0, TARGETED, 0),
	DEF("classifier", SCHED_CLS, 0, TARGETED, 0),
	DEF("action", SCHED_ACT, 0, TARGETED, 0),
	DEF("tracepoint/", TRACEPOINT, 0, TRACEPOINT, 0),
	DEF("tp/", TRACEPOINT, 0, TRACEPOINT, 0),
	DEF("raw_tracepoint/", RAW_TRACEPOINT, 0, RAW_TP, 0),
	DEF("raw_tp/", RAW_TRACEPOINT, 0, RAW_TP, 0),
	DEF("raw_tracepoint.w/", RAW_TRACEPOINT_WRITABLE, 0, RAW_TP, 0),
	DEF("raw_tp.w/", RAW_TRACEPOINT_WRITABLE, 0, RAW_TP, 0),
	BTF("tp_btf/", TRACING, BPF_TRACE_RAW_TP, 0, "btf_trace_"),
	BTF("fentry/", TRACING, BPF_TRACE_FENTRY, 0, ""),
	BTF("fmod_ret/", TRACING, BPF_MODIFY_RETURN, 0, ""),
	BTF("fexit/", TRACING, BPF_TRACE_FEXIT, 0, ""),
	BTF("fentry.s/", TRACING, BPF_TRACE_FENTRY, S, ""),
	BTF("fmod_ret.s/", TRACING, BPF_MODIFY_RETURN, S, ""),
	BTF("fexit.s/", TRACING, BPF_TRACE_FEXIT, S, ""),
	DEF("freplace/", EXT, 0, TARGETED, 0),
	BTF("lsm/", LSM, BPF_LSM_MAC, 0, "bpf_lsm_"),
	BTF("lsm.s/", LSM, BPF_LSM_MAC, S, "bpf_lsm_"),
	BTF("lsm_cgroup/", LSM, BPF_LSM_CGROUP, 0, "bpf_lsm_"),
	BTF("iter/", TRACING, BPF_TRACE_ITER, 0, "bpf_iter_"),
	BTF("iter.s/", TRACING, BPF_TRACE_ITER, S, "bpf_iter_"),
	DEF("syscall", SYSCALL, 0, NONE, S | X),
	DEF("xdp.frags/devmap", XDP, BPF_XDP_DEVMAP, TARGETED, AYAC_SEC_XDP_FRAGS | X),
	DEF("xdp/devmap", XDP, BPF_XDP_DEVMAP, TARGETED, X),
	DEF("xdp.frags/cpumap", XDP, BPF_XDP_CPUMAP, TARGETED, AYAC_SEC_XDP_FRAGS | X),
	DEF("xdp/cpumap", XDP, BPF_XDP_CPUMAP, TARGETED, X),
	DEF("xdp.frags", XDP, BPF_XDP, TARGETED, AYAC_SEC_XDP_FRAGS | X),
	DEF("xdp", XDP, BPF_XDP, TARGETED, 0),
	DEF("perf_event", PERF_EVENT, 0, TARGETED, X),
	DEF("lwt_in", LWT_IN, 0, NONE, X),
	DEF("lwt_out", LWT_OUT, 0, NONE, X),
	DEF("lwt_xmit", LWT_XMIT, 0, NONE, X),
	DEF("lwt_seg6local", LWT_SEG6LOCAL, 0, NONE, X),
	DEF("sockops", SOCK_OPS, BPF_CGROUP_SOCK_OPS, TARGETED, X),
	DEF("sk_skb/stream_parser", SK_SKB, BPF_SK_SKB_STREAM_PARSER, TARGETED, X),
	DEF("sk_skb/stream_verdict", SK_SKB, BPF_SK_SKB_STREAM_VERDICT, TARGETED, X),
	DEF("sk_skb/verdict", SK_SKB, BPF_SK_SKB_VERDICT, TARGETED, X),
	DEF("sk_skb", SK_SKB, 0, TARGETED, 0),
	DEF("sk_msg", SK_MSG, BPF_SK_MSG_VERDICT, TARGETED, X),
	DEF("lirc_mode2", LIRC_MODE2, BPF_LIRC_MODE2, TARGETED, X),
	DEF("flow_dissector", FLOW_DISSECTOR, BPF_FLOW_DISSECTOR, TARGETED, X),
	DEF("cgroup_skb/ingress", CGROUP_SKB, BPF_CGROUP_INET_INGRESS, TARGETED, X),
	DEF("cgroup_skb/egress", CGROUP_SKB, BPF_CGROUP_INET_EGRESS, TARGETED, X),
	DEF("cgroup/skb", CGROUP_SKB, 0, TARGETED, X),
	DEF("cgroup/sock_create", CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE, TARGETED, X),
	DEF("cgroup/sock_release", CGROUP_SOCK, BPF_CGROUP_INET_SOCK_RELEASE, TARGETED, X),
	DEF("cgroup/sock", CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE, TARGETED, X),
	DEF("cgroup/post_bind4", CGROUP_SOCK, BPF_CGROUP_INET4_POST_BIND, TARGETED, X),
	DEF("cgroup/post_bind6", CGROUP_SOCK, BPF_CGROUP_INET6_POST_BIND, TARGETED, X),
	DEF("cgroup/dev", CGROUP_DEVICE, BPF_CGROUP_DEVICE, TARGETED, X),
	DEF("sk_lookup", SK_LOOKUP, BPF_SK_LOOKUP, TARGETED, X),
	DEF("cgroup/bind4", CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_BIND, TARGETED, X),
	DEF("cgroup/bind6", CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_BIND, TARGETED, X),
	DEF("cgroup/connect4", CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT, TARGETED, X),
	DEF("cgroup/connect6", CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT, TARGETED, X),
	DEF("cgroup/sendmsg4", CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_SENDMSG, TARGETED, X),
	DEF("cgroup/sendmsg6", CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_SENDMSG, TARGETED, X),
	DEF("cgroup/recvmsg4", CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_RECVMSG, TARGETED, X),
	DEF("cgroup/recvmsg6", CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_RECVMSG, TARGETED, X),
	DEF("cgroup/getpeername4", CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETPEERNAME, TARGETED, X),
	DEF("cgroup/getpeername6", CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETPEERNAME, TARGETED, X),
	DEF("cgroup/getsockname4", CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETSOCKNAME, TARGETED, X),
	DEF("cgroup/getsockname6", CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETSOCKNAME, TARGETED, X),
	DEF("cgroup/sysctl", CGROUP_SYSCTL, BPF_CGROUP_SYSCTL, TARGETED, X),
	DEF("cgroup/getsockopt", CGROUP_SOCKOPT, BPF_CGROUP_GETSOCKOPT, TARGETED, X),
	DEF("cgroup/setsockopt", CGROUP_SOCKOPT, BPF_CGROUP_SETSOCKOPT, TARGETED, X),
	/* BPF_PROG_TYPE_NETFILTER (32) with BPF_NETFILTER (45) */
	{ "netfilter", BPF_PROG_TYPE_SYSCALL + 1, 45, AYAC_ATTACH_TARGETED, X, NULL },
	DEF("struct_ops", STRUCT_OPS, 0, NONE, 0),
	DEF("struct_ops.s", STRUCT_OPS, 0, NONE, S),
};

static bool sec_matches(const struct ayac_sec_def *def, const char *name)
{
	size_t len = strlen(def->prefix);

	if (def->flags & AYAC_SEC_EXACT)
		return strcmp(name, def->prefix) == 0 ||
		       /* libbpf accepts "xdp/anything" style suffixes after a slash for
			* single-word names, e.g. "socket/foo" or "sk_msg/x". */
		       (strncmp(name, def->prefix, len) == 0 && name[len] == '/' &&
			!strchr(def->prefix, '/'));
	return strncmp(name, def->prefix, len) == 0;
}

const struct ayac_sec_def *ayac_sec_def_find(const char *sec_name)
{
	const struct ayac_sec_def *best = NULL;
	size_t i, best_len = 0;

	for (i = 0; i < sizeof(sec_defs) / sizeof(sec_defs[0]); i++) {
		size_t len = strlen(sec_defs[i].prefix);
		if (len >= best_len && sec_matches(&sec_defs[i], sec_name)) {
			best = &sec_defs[i];
			best_len = len;
		}
	}
	return best;
}
