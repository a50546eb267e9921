// SPDX-License-Identifier: GPL-2.0
/* Programs for spec/net_xdp_tc_spec.lua: XDP and TC programs that count (or drop) the
 * IPv4 UDP datagrams sent to target_port (set with the load option `globals`), so that
 * a spec can check that exactly the N datagrams it sent were seen, whatever else
 * (ARP, IPv6 router solicitations) crosses the interface. Counting programs return
 * TC_ACT_UNSPEC, which lets the next TCX program or cls_bpf filter run too. */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define ETH_P_IP 0x0800
#define IPPROTO_UDP_ 17
#define TC_ACT_UNSPEC_ (-1)
#define TC_ACT_OK_ 0
#define TC_ACT_SHOT_ 2

enum {
	SLOT_XDP = 0,       /* xdp_count */
	SLOT_XDP_B = 1,     /* xdp_count_b (the replacement) */
	SLOT_TC_IN = 2,     /* tc_in_count */
	SLOT_TC_OUT = 3,    /* tc_out_count */
	SLOT_TC_A = 4,      /* tc_a */
	SLOT_TC_B = 5,      /* tc_b */
	SLOT_ORDER = 6,     /* tc_a and tc_b append their digit (1, 2): the run order */
	SLOT_DROPPED = 7,   /* xdp_drop, tc_drop: what they dropped */
	NR_SLOTS = 8,
};

const volatile __u16 target_port = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

/* xdp/devmap programs are map values: a devmap of interfaces with a program each. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} tx_ports SEC(".maps");

static __always_inline void add(__u32 slot)
{
	__u64 *p = bpf_map_lookup_elem(&counts, &slot);

	if (p)
		__sync_fetch_and_add(p, 1);
}

static __always_inline void append_order(__u64 digit)
{
	__u32 slot = SLOT_ORDER;
	__u64 *p = bpf_map_lookup_elem(&counts, &slot);

	if (p && *p < 100000000)
		*p = *p * 10 + digit;
}

/* An IPv4 UDP datagram to target_port, from the Ethernet header on. */
static __always_inline bool is_target(void *data, void *end)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return false;
	if (ip->protocol != IPPROTO_UDP_ || ip->ihl != 5)
		return false;
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > end)
		return false;
	return udp->dest == bpf_htons(target_port);
}

#define XDP_TARGET(ctx) is_target((void *)(long)(ctx)->data, (void *)(long)(ctx)->data_end)
#define SKB_TARGET(skb) is_target((void *)(long)(skb)->data, (void *)(long)(skb)->data_end)

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	if (XDP_TARGET(ctx))
		add(SLOT_XDP);
	return XDP_PASS;
}

SEC("xdp")
int xdp_count_b(struct xdp_md *ctx)
{
	if (XDP_TARGET(ctx))
		add(SLOT_XDP_B);
	return XDP_PASS;
}

SEC("xdp")
int xdp_drop(struct xdp_md *ctx)
{
	if (!XDP_TARGET(ctx))
		return XDP_PASS;
	add(SLOT_DROPPED);
	return XDP_DROP;
}

SEC("xdp.frags")
int xdp_frags_count(struct xdp_md *ctx)
{
	if (XDP_TARGET(ctx))
		add(SLOT_XDP);
	return XDP_PASS;
}

SEC("xdp/devmap")
int xdp_devmap_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc/ingress")
int tc_in_count(struct __sk_buff *skb)
{
	if (SKB_TARGET(skb))
		add(SLOT_TC_IN);
	return TC_ACT_UNSPEC_;
}

SEC("tc/egress")
int tc_out_count(struct __sk_buff *skb)
{
	if (SKB_TARGET(skb))
		add(SLOT_TC_OUT);
	return TC_ACT_UNSPEC_;
}

SEC("tc")
int tc_a(struct __sk_buff *skb)
{
	if (SKB_TARGET(skb)) {
		add(SLOT_TC_A);
		append_order(1);
	}
	return TC_ACT_UNSPEC_;
}

SEC("tc")
int tc_b(struct __sk_buff *skb)
{
	if (SKB_TARGET(skb)) {
		add(SLOT_TC_B);
		append_order(2);
	}
	return TC_ACT_UNSPEC_;
}

SEC("tc")
int tc_drop(struct __sk_buff *skb)
{
	if (!SKB_TARGET(skb))
		return TC_ACT_UNSPEC_;
	add(SLOT_DROPPED);
	return TC_ACT_SHOT_;
}

SEC("action")
int tc_action(struct __sk_buff *skb)
{
	return TC_ACT_OK_;
}
