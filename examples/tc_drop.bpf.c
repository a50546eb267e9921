// SPDX-License-Identifier: GPL-2.0
/* Drops TCP and UDP packets to one destination port as they leave an interface (TC
 * egress); everything else passes. drop_port is set before load (`globals`). */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

const volatile __u16 drop_port = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} dropped SEC(".maps");

/* The destination port of a TCP or UDP header at l4 (0: none). */
static __always_inline __u16 dest_port(void *l4, void *end, __u8 proto)
{
	if (proto == 6) {
		struct tcphdr *tcp = l4;

		return (void *)(tcp + 1) <= end ? bpf_ntohs(tcp->dest) : 0;
	}
	if (proto == 17) {
		struct udphdr *udp = l4;

		return (void *)(udp + 1) <= end ? bpf_ntohs(udp->dest) : 0;
	}
	return 0;
}

SEC("tc/egress")
int tc_drop(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u16 port = 0;
	__u32 zero = 0;
	__u64 *n;

	if ((void *)(eth + 1) > end)
		return TC_ACT_OK;
	if (eth->h_proto == bpf_htons(0x0800)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) <= end && ip->ihl >= 5)
			port = dest_port((void *)ip + ip->ihl * 4, end, ip->protocol);
	} else if (eth->h_proto == bpf_htons(0x86dd)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) <= end)
			port = dest_port(ip6 + 1, end, ip6->nexthdr);
	}
	if (!port || port != drop_port)
		return TC_ACT_OK;
	n = bpf_map_lookup_elem(&dropped, &zero);
	if (n)
		(*n)++;
	return TC_ACT_SHOT;
}
