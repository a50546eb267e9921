// SPDX-License-Identifier: GPL-2.0
/* A map pinned by name (LIBBPF_PIN_BY_NAME): specs load this with pin_path set to a
 * directory of their own, never the default /sys/fs/bpf. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pinned_by_name SEC(".maps");

SEC("xdp")
int mark(struct xdp_md *ctx)
{
	__u32 one = 1;

	bpf_map_update_elem(&pinned_by_name, &one, &one, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
