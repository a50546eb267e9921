// SPDX-License-Identifier: GPL-2.0
/* Packets and bytes per protocol on an interface, counted by XDP (every packet
 * passes). The key is the Ethernet type and, for IPv4 and IPv6, the transport
 * protocol (no IPv6 extension headers are followed). */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct proto_key {
	__u16 ethertype;  /* host order: 0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP, … */
	__u8 ipproto;     /* IPPROTO_*: 6 tcp, 17 udp, 1 icmp, 58 icmpv6; 0 otherwise */
	__u8 pad;
};

struct proto_stats {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 256);
	__type(key, struct proto_key);
	__type(value, struct proto_stats);
} stats SEC(".maps");

static __always_inline void account(struct proto_key *key, __u64 len)
{
	struct proto_stats *s = bpf_map_lookup_elem(&stats, key), fresh = { 1, len };

	if (s) {
		s->packets++;
		s->bytes += len;
	} else {
		bpf_map_update_elem(&stats, key, &fresh, BPF_NOEXIST);
	}
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct proto_key key = {};
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	key.ethertype = bpf_ntohs(eth->h_proto);
	if (key.ethertype == 0x0800) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) <= end)
			key.ipproto = ip->protocol;
	} else if (key.ethertype == 0x86dd) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) <= end)
			key.ipproto = ip6->nexthdr;
	}
	account(&key, end - data);
	return XDP_PASS;
}
