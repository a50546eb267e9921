// SPDX-License-Identifier: GPL-2.0
/* A map of a type no kernel has (99) beside one every kernel has, and a program for
 * each: spec/map_types_spec.lua loads it with and without allow_unsupported_maps. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, 99);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} from_the_future SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} plain SEC(".maps");

SEC("xdp")
int uses_plain(struct xdp_md *ctx)
{
	__u32 zero = 0, *v = bpf_map_lookup_elem(&plain, &zero);

	if (v)
		*v += 1;
	return XDP_PASS;
}

SEC("xdp")
int uses_future(struct xdp_md *ctx)
{
	__u32 zero = 0, *v = bpf_map_lookup_elem(&from_the_future, &zero);

	return v ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
