// SPDX-License-Identifier: GPL-2.0
/* Event streams for spec/events_spec.lua and the ring/perf buffer benches: XDP programs
 * run with test_run, each emitting nr_records records through bpf_loop. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct event {
	__u64 seq;
	__u32 pid;
	__s32 value;
	char comm[16];
	__u8 kind : 3;
	__u8 urgent : 1;
	__u16 port;
	__u64 big;
};

/* Puts struct event into the object's BTF (a type only used by local variables is
 * not there), so that Lua can decode records by its name. */
struct event *unused_event __attribute__((unused));

/* The start of struct event, without its char array (spec/events_spec.lua's JIT check). */
struct event_head {
	__u64 seq;
	__u32 pid;
	__s32 value;
};
struct event_head *unused_event_head __attribute__((unused));

/* The bench's record: its first 8 bytes. */
struct bench_event {
	__u64 seq;
};
struct bench_event *unused_bench_event __attribute__((unused));

/* Declared small on purpose: the loader rounds ring sizes up to page * 2^n. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8);
} tiny SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} bench SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(int));
	__uint(value_size, sizeof(int));
} perf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 8);
} input SEC(".maps");

__u32 nr_records;        /* how many records the next run emits */
__u32 discard_every;     /* 0: none; k: every k-th reserved record is discarded */
__u32 payload;           /* bench: bytes per record, 8 (or 64 in the ring) */
__u64 next_seq;          /* continues across runs */
__u64 drops;             /* reservations / outputs the ring refused */
__u64 drained_sum, drained_cnt, drain_bad;

static void fill(struct event *e)
{
	__u64 seq = next_seq++;

	e->seq = seq;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->value = -(__s32)seq;
	__builtin_memcpy(e->comm, "ayac-events", 12);
	e->kind = seq % 8;
	e->urgent = seq & 1;
	e->port = 8080;
	e->big = 0xfedcba9876543210ULL;
}

static __always_inline long emit_into(void *ring, __u32 i)
{
	struct event *e = bpf_ringbuf_reserve(ring, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&drops, 1);
		return 0;
	}
	fill(e);
	if (discard_every && (i + 1) % discard_every == 0)
		bpf_ringbuf_discard(e, 0);
	else
		bpf_ringbuf_submit(e, 0);
	return 0;
}

static long emit_events_one(__u32 i, void *arg)
{
	return emit_into(&events, i);
}

static long emit_tiny_one(__u32 i, void *arg)
{
	return emit_into(&tiny, i);
}

SEC("xdp")
int emit(struct xdp_md *ctx)
{
	bpf_loop(nr_records, emit_events_one, NULL, 0);
	return XDP_PASS;
}

SEC("xdp")
int emit_tiny(struct xdp_md *ctx)
{
	bpf_loop(nr_records, emit_tiny_one, NULL, 0);
	return XDP_PASS;
}

/* Records of `payload` bytes (8 or 64) whose first u64 is their index, without
 * wakeups: the bench reads them once they are all in the ring. */
static long emit_bench_one(__u32 i, void *arg)
{
	__u64 *p = payload == 64 ? bpf_ringbuf_reserve(&bench, 64, 0) :
				   bpf_ringbuf_reserve(&bench, 8, 0);

	if (!p) {
		__sync_fetch_and_add(&drops, 1);
		return 1;
	}
	*p = i;
	bpf_ringbuf_submit(p, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("xdp")
int emit_bench(struct xdp_md *ctx)
{
	bpf_loop(nr_records, emit_bench_one, NULL, 0);
	return XDP_PASS;
}

struct perf_ctx {
	struct xdp_md *ctx;
};

static long emit_perf_one(__u32 i, void *arg)
{
	struct perf_ctx *lc = arg;
	struct event e = {};
	long err;

	fill(&e);
	if (payload == 8) /* the bench: the sequence number alone */
		err = bpf_perf_event_output(lc->ctx, &perf, BPF_F_CURRENT_CPU, &e, 8);
	else
		err = bpf_perf_event_output(lc->ctx, &perf, BPF_F_CURRENT_CPU, &e, sizeof(e));
	if (err)
		__sync_fetch_and_add(&drops, 1);
	return 0;
}

SEC("xdp")
int emit_perf(struct xdp_md *ctx)
{
	struct perf_ctx lc = { .ctx = ctx };

	bpf_loop(nr_records, emit_perf_one, &lc, 0);
	return XDP_PASS;
}

static long drain_one(struct bpf_dynptr *dynptr, void *ctx)
{
	__u64 v;

	if (bpf_dynptr_read(&v, sizeof(v), dynptr, 0, 0)) {
		drain_bad++;
		return 0;
	}
	drained_sum += v;
	drained_cnt++;
	return 0;
}

/* Sums the u64 at the start of every record user space submitted. */
SEC("xdp")
int drain(struct xdp_md *ctx)
{
	bpf_user_ringbuf_drain(&input, drain_one, NULL, 0);
	return XDP_PASS;
}

__u32 printk_marker;

/* One bpf_printk line for ayac.trace_pipe. */
SEC("xdp")
int printk(struct xdp_md *ctx)
{
	bpf_printk("ayac-trace-pipe %u", printk_marker);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
