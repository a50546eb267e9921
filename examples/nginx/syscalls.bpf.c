// SPDX-License-Identifier: GPL-2.0
/* Syscalls of the nginx processes that registered themselves in `watched` (the master
 * at load, each worker when it starts): a count per process, a log2 histogram of
 * syscall latency, and a ring buffer record for every syscall slower than slow_ns.
 * Served by examples/nginx/ as Prometheus metrics; see docs/embedding.md. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <ayac/hist.bpf.h>

const volatile __u64 slow_ns = 10000000; /* 10 ms */

struct slow_event {
	__u32 tgid;
	__u32 tid;
	__s64 nr;
	__u64 latency_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32); /* tgid */
	__type(value, __u8);
} watched SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32); /* tgid */
	__type(value, __u64);
} syscalls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH); /* a thread that never returns (exit) ages out */
	__uint(max_entries, 4096);
	__type(key, __u32); /* tid */
	__type(value, __u64); /* sys_enter time */
} started SEC(".maps");

/* Syscall latency in ns, log2 buckets: ayac.prometheus.histogram and ayac.hist read it. */
AYAC_HIST(latency);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64); /* nanoseconds: the histogram's _sum */
} latency_sum SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} slow SEC(".maps");

/* Puts struct slow_event in the object's BTF, for the reader to decode records by. */
const struct slow_event *slow_event_type __attribute__((unused));

/* Records that found the ring buffer full: counted, never silently dropped. */
__u64 slow_lost = 0;

SEC("tracepoint/raw_syscalls/sys_enter")
int on_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), one = 1, now, *n;
	__u32 tgid = id >> 32, tid = (__u32)id;

	if (!bpf_map_lookup_elem(&watched, &tgid))
		return 0;
	n = bpf_map_lookup_elem(&syscalls, &tgid);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&syscalls, &tgid, &one, BPF_NOEXIST);
	now = bpf_ktime_get_ns();
	bpf_map_update_elem(&started, &tid, &now, BPF_ANY);
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int on_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), *t0, delta, *sum;
	__u32 tid = (__u32)id, zero = 0;
	struct slow_event *e;

	t0 = bpf_map_lookup_elem(&started, &tid);
	if (!t0)
		return 0;
	delta = bpf_ktime_get_ns() - *t0;
	bpf_map_delete_elem(&started, &tid);
	latency_add((__s64)delta);
	sum = bpf_map_lookup_elem(&latency_sum, &zero);
	if (sum)
		__sync_fetch_and_add(sum, delta);
	if (delta < slow_ns)
		return 0;
	e = bpf_ringbuf_reserve(&slow, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&slow_lost, 1);
		return 0;
	}
	e->tgid = id >> 32;
	e->tid = tid;
	e->nr = ctx->id;
	e->latency_ns = delta;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
