/* libbpf's SEC() naming: which program type, expected attach type and attach path a
 * section name means. Longest matching prefix wins, so "uretprobe" beats "uprobe"-less
 * guesses and "tp_btf/" beats "tp/". */
#include <string.h>

#include "internal.h"

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

/* ---- names of kernel enums, for Lua and messages ---------------------------------- */

#define N(x) [BPF_PROG_TYPE_##x] = #x
static const char *const prog_type_names[] = {
	N(UNSPEC), N(SOCKET_FILTER), N(KPROBE), N(SCHED_CLS), N(SCHED_ACT), N(TRACEPOINT),
	N(XDP), N(PERF_EVENT), N(CGROUP_SKB), N(CGROUP_SOCK), N(LWT_IN), N(LWT_OUT),
	N(LWT_XMIT), N(SOCK_OPS), N(SK_SKB), N(CGROUP_DEVICE), N(SK_MSG), N(RAW_TRACEPOINT),
	N(CGROUP_SOCK_ADDR), N(LWT_SEG6LOCAL), N(LIRC_MODE2), N(SK_REUSEPORT),
	N(FLOW_DISSECTOR), N(CGROUP_SYSCTL), N(RAW_TRACEPOINT_WRITABLE), N(CGROUP_SOCKOPT),
	N(TRACING), N(STRUCT_OPS), N(EXT), N(LSM), N(SK_LOOKUP), N(SYSCALL),
	[BPF_PROG_TYPE_SYSCALL + 1] = "NETFILTER",
};
#undef N

#define N(x) [BPF_##x] = #x
static const char *const attach_type_names[] = {
	N(CGROUP_INET_INGRESS), N(CGROUP_INET_EGRESS), N(CGROUP_INET_SOCK_CREATE),
	N(CGROUP_SOCK_OPS), N(SK_SKB_STREAM_PARSER), N(SK_SKB_STREAM_VERDICT),
	N(CGROUP_DEVICE), N(SK_MSG_VERDICT), N(CGROUP_INET4_BIND), N(CGROUP_INET6_BIND),
	N(CGROUP_INET4_CONNECT), N(CGROUP_INET6_CONNECT), N(CGROUP_INET4_POST_BIND),
	N(CGROUP_INET6_POST_BIND), N(CGROUP_UDP4_SENDMSG), N(CGROUP_UDP6_SENDMSG),
	N(LIRC_MODE2), N(FLOW_DISSECTOR), N(CGROUP_SYSCTL), N(CGROUP_UDP4_RECVMSG),
	N(CGROUP_UDP6_RECVMSG), N(CGROUP_GETSOCKOPT), N(CGROUP_SETSOCKOPT), N(TRACE_RAW_TP),
	N(TRACE_FENTRY), N(TRACE_FEXIT), N(MODIFY_RETURN), N(LSM_MAC), N(TRACE_ITER),
	N(CGROUP_INET4_GETPEERNAME), N(CGROUP_INET6_GETPEERNAME),
	N(CGROUP_INET4_GETSOCKNAME), N(CGROUP_INET6_GETSOCKNAME), N(XDP_DEVMAP),
	N(CGROUP_INET_SOCK_RELEASE), N(XDP_CPUMAP), N(SK_LOOKUP), N(XDP),
	N(SK_SKB_VERDICT), N(SK_REUSEPORT_SELECT), N(SK_REUSEPORT_SELECT_OR_MIGRATE),
	N(PERF_EVENT), N(TRACE_KPROBE_MULTI), N(LSM_CGROUP),
	/* after Linux 6.1's header */
	[BPF_LSM_CGROUP + 1] = "STRUCT_OPS", [BPF_LSM_CGROUP + 2] = "NETFILTER",
	[BPF_LSM_CGROUP + 3] = "TCX_INGRESS", [BPF_LSM_CGROUP + 4] = "TCX_EGRESS",
	[BPF_LSM_CGROUP + 5] = "TRACE_UPROBE_MULTI", [BPF_LSM_CGROUP + 6] = "CGROUP_UNIX_CONNECT",
	[BPF_LSM_CGROUP + 7] = "CGROUP_UNIX_SENDMSG", [BPF_LSM_CGROUP + 8] = "CGROUP_UNIX_RECVMSG",
	[BPF_LSM_CGROUP + 9] = "CGROUP_UNIX_GETPEERNAME",
	[BPF_LSM_CGROUP + 10] = "CGROUP_UNIX_GETSOCKNAME",
	[BPF_LSM_CGROUP + 11] = "NETKIT_PRIMARY", [BPF_LSM_CGROUP + 12] = "NETKIT_PEER",
};
#undef N

static const char *lower_name(const char *const *names, size_t n, int v, char *buf, size_t cap)
{
	size_t i;

	if (v < 0 || (size_t)v >= n || !names[v])
		return NULL;
	for (i = 0; names[v][i] && i + 1 < cap; i++)
		buf[i] = (char)(names[v][i] >= 'A' && names[v][i] <= 'Z' ? names[v][i] + 32 : names[v][i]);
	buf[i] = '\0';
	return buf;
}

static int by_lower_name(const char *const *names, size_t n, const char *name)
{
	char buf[64];
	size_t i;

	for (i = 0; i < n; i++)
		if (names[i] && lower_name(names, n, (int)i, buf, sizeof(buf)) &&
		    strcmp(buf, name) == 0)
			return (int)i;
	return -1;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *ayac_prog_type_name(enum bpf_prog_type type)
{
	static _Thread_local char buf[64];
	return lower_name(prog_type_names, COUNT(prog_type_names), (int)type, buf, sizeof(buf));
}

int ayac_prog_type_by_name(const char *name)
{
	return by_lower_name(prog_type_names, COUNT(prog_type_names), name);
}

const char *ayac_attach_type_name(enum bpf_attach_type type)
{
	static _Thread_local char buf[64];
	return lower_name(attach_type_names, COUNT(attach_type_names), (int)type, buf, sizeof(buf));
}

int ayac_attach_type_by_name(const char *name)
{
	return by_lower_name(attach_type_names, COUNT(attach_type_names), name);
}

#define N(x) [BPF_MAP_TYPE_##x] = #x
static const char *const map_type_names[] = {
	N(UNSPEC), N(HASH), N(ARRAY), N(PROG_ARRAY), N(PERF_EVENT_ARRAY), N(PERCPU_HASH),
	N(PERCPU_ARRAY), N(STACK_TRACE), N(CGROUP_ARRAY), N(LRU_HASH), N(LRU_PERCPU_HASH),
	N(LPM_TRIE), N(ARRAY_OF_MAPS), N(HASH_OF_MAPS), N(DEVMAP), N(SOCKMAP), N(CPUMAP),
	N(XSKMAP), N(SOCKHASH), N(CGROUP_STORAGE), N(REUSEPORT_SOCKARRAY),
	N(PERCPU_CGROUP_STORAGE), N(QUEUE), N(STACK), N(SK_STORAGE), N(DEVMAP_HASH),
	N(STRUCT_OPS), N(RINGBUF), N(INODE_STORAGE), N(TASK_STORAGE), N(BLOOM_FILTER),
	N(USER_RINGBUF), [BPF_MAP_TYPE_USER_RINGBUF + 1] = "CGRP_STORAGE",
	[BPF_MAP_TYPE_USER_RINGBUF + 2] = "ARENA",
};
#undef N

const char *ayac_map_type_name(enum bpf_map_type type)
{
	static _Thread_local char buf[64];
	return lower_name(map_type_names, COUNT(map_type_names), (int)type, buf, sizeof(buf));
}

int ayac_map_type_by_name(const char *name)
{
	return by_lower_name(map_type_names, COUNT(map_type_names), name);
}
