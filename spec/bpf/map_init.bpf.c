// SPDX-License-Identifier: GPL-2.0
/* Maps whose slots are filled in the object itself: a program array for tail calls
 * and an array of maps, both initialized with `.values = { [i] = &x }`. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
};

struct inner inner_a SEC(".maps");
struct inner inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { [1] = &inner_a, [3] = &inner_b },
};

int tail_a(struct xdp_md *ctx);
int tail_b(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__array(values, int (void *));
} jump SEC(".maps") = {
	.values = { [0] = (void *)&tail_a, [2] = (void *)&tail_b },
};

__u32 slot;      /* which tail call to make; set from Lua */
__u32 which;     /* which inner map to bump through outer */

SEC("xdp")
int tail_a(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int tail_b(struct xdp_md *ctx)
{
	return XDP_TX;
}

SEC("xdp")
int entry(struct xdp_md *ctx)
{
	__u32 zero = 0, k = which;
	void *inner = bpf_map_lookup_elem(&outer, &k);

	if (inner) {
		__u64 *v = bpf_map_lookup_elem(inner, &zero);
		if (v)
			*v += 1;
	}
	bpf_tail_call(ctx, &jump, slot);
	return XDP_PASS; /* an empty slot falls through */
}

char LICENSE[] SEC("license") = "GPL";
