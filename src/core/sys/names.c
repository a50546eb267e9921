/* Names of the kernel's BPF enums (program, attach and map types) as the Lua API and
 * messages spell them: the kernel's constant without its prefix, lower case. */
#include <string.h>

#include "sys.h"

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
