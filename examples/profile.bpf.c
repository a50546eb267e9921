// SPDX-License-Identifier: GPL-2.0
/* CPU profiler for examples/profile.lua: on each perf event sample, the user and
 * kernel stack ids of the running task, counted per (process, stacks, comm).
 * target_tgid (the `globals` load option) restricts it to one process; 0 samples
 * every process except the idle task. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define MAX_DEPTH 127

const volatile __u32 target_tgid = 0;

struct sample_key {
	__u32 pid;
	__s32 kstack;   /* stack id in `stacks`, or a negative error (no kernel stack) */
	__s32 ustack;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MAX_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct sample_key);
	__type(value, __u64);
} samples SEC(".maps");

SEC("perf_event")
int profile(struct bpf_perf_event_data *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct sample_key key = {};
	__u64 one = 1, *n;

	if (tgid == 0 || (target_tgid && tgid != target_tgid))
		return 0;
	key.pid = tgid;
	key.kstack = bpf_get_stackid(ctx, &stacks, 0);
	key.ustack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	n = bpf_map_lookup_elem(&samples, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&samples, &key, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
