// SPDX-License-Identifier: GPL-2.0
/* The soak, kill and concurrency runs' object (scripts/soak, spec/soak_spec.lua): one
 * program per attach kind the runs cycle through, each counting its events, and a ring
 * buffer the tracepoint writes a record to. Everything it creates in the kernel is
 * named "ayac_soak*" (programs, maps) or "ayac_soa.*" (its data map), so bpftool can
 * tell whether anything of a run is left. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

enum { SLOT_TP, SLOT_UPROBE, SLOT_XDP, NR_SLOTS };

const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} ayac_soak_cnt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} ayac_soak_rb SEC(".maps");

static __always_inline void add(__u32 slot)
{
	__u64 *p = bpf_map_lookup_elem(&ayac_soak_cnt, &slot);

	if (p)
		__sync_fetch_and_add(p, 1);
}

static __always_inline bool is_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int ayac_soak_tp(void *ctx)
{
	__u32 *rec;

	if (!is_target())
		return 0;
	add(SLOT_TP);
	rec = bpf_ringbuf_reserve(&ayac_soak_rb, sizeof(*rec), 0);
	if (rec) {
		*rec = target_tgid;
		bpf_ringbuf_submit(rec, 0);
	}
	return 0;
}

SEC("uprobe")
int ayac_soak_up(void *ctx)
{
	if (is_target())
		add(SLOT_UPROBE);
	return 0;
}

SEC("xdp")
int ayac_soak_xdp(struct xdp_md *ctx)
{
	add(SLOT_XDP);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
