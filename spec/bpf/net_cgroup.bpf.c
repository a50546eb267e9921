// SPDX-License-Identifier: GPL-2.0
/* Programs for spec/net_cgroup_spec.lua, on a cgroup the spec creates: connect4 refuses
 * connections to target_port, cgroup_skb counts the UDP datagrams to target_port each
 * way, sock_ops sees both ends of a TCP handshake to target_port. */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define IPPROTO_UDP_ 17

enum {
	SLOT_CONNECT = 0,     /* connect4 calls to target_port (refused) */
	SLOT_EGRESS = 1,      /* cgroup_skb/egress: datagrams to target_port */
	SLOT_INGRESS = 2,     /* cgroup_skb/ingress: the same */
	SLOT_ACTIVE = 3,      /* sock_ops: active side established */
	SLOT_PASSIVE = 4,     /* sock_ops: passive side established */
	SLOT_CONNECT_CB = 5,  /* sock_ops: TCP connect */
	SLOT_SOCK_CREATE = 6, /* cgroup/sock_create: sockets created */
	NR_SLOTS = 8,
};

const volatile __u16 target_port = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline void add(__u32 slot)
{
	__u64 *p = bpf_map_lookup_elem(&counts, &slot);

	if (p)
		__sync_fetch_and_add(p, 1);
}

SEC("cgroup/connect4")
int refuse_connect(struct bpf_sock_addr *ctx)
{
	if (ctx->user_port != bpf_htons(target_port))
		return 1;
	add(SLOT_CONNECT);
	return 0;
}

/* A UDP datagram to target_port; cgroup_skb sees it from the IP header on. */
static __always_inline bool is_target(struct __sk_buff *skb)
{
	struct iphdr ip;
	struct udphdr udp;

	if (skb->protocol != bpf_htons(0x0800))
		return false;
	if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) < 0 || ip.protocol != IPPROTO_UDP_)
		return false;
	if (bpf_skb_load_bytes(skb, ip.ihl * 4, &udp, sizeof(udp)) < 0)
		return false;
	return udp.dest == bpf_htons(target_port);
}

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
	if (is_target(skb))
		add(SLOT_EGRESS);
	return 1;
}

SEC("cgroup_skb/ingress")
int count_ingress(struct __sk_buff *skb)
{
	if (is_target(skb))
		add(SLOT_INGRESS);
	return 1;
}

SEC("sockops")
int watch_tcp(struct bpf_sock_ops *ops)
{
	/* remote_port is the port in network order in the upper half of the word (Linux
	 * 5.2+); in the lower half before. */
	__u32 remote = bpf_ntohl(ops->remote_port);

	if (remote > 0xffff)
		remote = bpf_ntohs((__u16)ops->remote_port);

	switch (ops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		if (remote == target_port)
			add(SLOT_CONNECT_CB);
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		if (remote == target_port)
			add(SLOT_ACTIVE);
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		if (ops->local_port == target_port)
			add(SLOT_PASSIVE);
		break;
	}
	return 1;
}

SEC("cgroup/sock_create")
int count_sock_create(struct bpf_sock *sk)
{
	add(SLOT_SOCK_CREATE);
	return 1;
}
