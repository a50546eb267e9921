// SPDX-License-Identifier: GPL-2.0
/* A program the verifier must refuse: it dereferences a map value without the NULL
 * check. Its neighbour is fine, so the object fails only when `bad` is loaded. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} m SEC(".maps");

SEC("xdp")
int bad(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&m, &k);
	return *v ? XDP_PASS : XDP_DROP;   /* no NULL check */
}

SEC("xdp")
int good(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
