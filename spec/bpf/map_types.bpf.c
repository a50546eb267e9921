// SPDX-License-Identifier: GPL-2.0
/* Maps whose elements mean something to the kernel, filled or read by programs, for
 * spec/map_types_spec.lua: an IPv4 LPM trie an XDP program looks the packet's first
 * four bytes up in, and a stack trace map a tracepoint program records the kernel
 * stack of getppid() in; socket and task storage keyed by fds from Lua. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct lpm_v4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v4);
	__type(value, __u32);
} routes SEC(".maps");

/* [0]: the value routes gave for the last packet (0xffffffff: no prefix holds it). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} route_result SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 64);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 16 * sizeof(__u64));
} stacks SEC(".maps");

/* The user stack of the same call as build ids + offsets. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 64);
	__uint(map_flags, BPF_F_STACK_BUILD_ID);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 16 * sizeof(struct bpf_stack_build_id));
} user_stacks SEC(".maps");

/* [0]: the last stack id recorded (+1; 0: none yet), [1]: the caller's tgid, [2]: the
 * last user stack id (+1). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __s64);
} stack_ids SEC(".maps");

SEC("xdp")
int route(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct lpm_v4 key = { .prefixlen = 32 };
	__u32 zero = 0, none = 0xffffffff, *v;

	if (data + 4 > end)
		return XDP_ABORTED;
	__builtin_memcpy(key.addr, data, 4);
	v = bpf_map_lookup_elem(&routes, &key);
	bpf_map_update_elem(&route_result, &zero, v ? v : &none, BPF_ANY);
	return XDP_PASS;
}

__u32 target_tgid; /* set from Lua: only this process counts */

SEC("tp/syscalls/sys_enter_getppid")
int record_stack(void *ctx)
{
	__u32 zero = 0, one = 1;
	__s64 id, tgid = (__s64)(bpf_get_current_pid_tgid() >> 32);

	if (tgid != target_tgid)
		return 0;
	id = bpf_get_stackid(ctx, &stacks, 0);
	if (id < 0)
		return 0;
	id += 1;
	bpf_map_update_elem(&stack_ids, &zero, &id, BPF_ANY);
	bpf_map_update_elem(&stack_ids, &one, &tgid, BPF_ANY);
	id = bpf_get_stackid(ctx, &user_stacks, BPF_F_USER_STACK);
	if (id >= 0) {
		__u32 two = 2;

		id += 1;
		bpf_map_update_elem(&stack_ids, &two, &id, BPF_ANY);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

/* Local storage: keys are fds from user space (a socket, a pidfd). */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} sock_tags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} task_tags SEC(".maps");

/* The task storage of the process that calls getpid() (tgid target_tgid): how many
 * times it did, written by the program, read from Lua by pidfd. */
SEC("tp_btf/sys_enter")
int BPF_PROG(count_getpid, struct pt_regs *regs, long id)
{
	__u64 *n;

	if (id != 39 /* __NR_getpid */ || (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	n = bpf_task_storage_get(&task_tags, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (n)
		*n += 1;
	return 0;
}
