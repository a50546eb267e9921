// SPDX-License-Identifier: GPL-2.0
/* Programs for spec/net_sock_spec.lua: a socket filter that keeps `keep` bytes of
 * each datagram (0: drops it), sk_reuseport choosing the socket in slot 1, sk_lookup
 * steering connections to target_port to the socket in slot 0 of lookup_socks, sk_msg
 * passing, redirecting or dropping by msg_mode, an sk_skb stream verdict counting,
 * flow_dissector and netfilter programs that count. */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

enum {
	SLOT_FILTER = 0,     /* socket filter runs */
	SLOT_REUSEPORT = 1,  /* sk_reuseport runs */
	SLOT_LOOKUP = 2,     /* sk_lookup steered */
	SLOT_MSG = 3,        /* sk_msg runs */
	SLOT_SKB = 4,        /* sk_skb stream verdict runs */
	SLOT_DISSECT = 5,    /* flow_dissector runs */
	SLOT_NF = 6,         /* netfilter: IPv4 packets */
	NR_SLOTS = 8,
};

enum { MSG_PASS = 0, MSG_REDIRECT = 1, MSG_DROP = 2 };

const volatile __u32 keep = 0;
const volatile __u16 target_port = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} msg_mode SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lookup_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} reuse_socks SEC(".maps");

static __always_inline void add(__u32 slot)
{
	__u64 *p = bpf_map_lookup_elem(&counts, &slot);

	if (p)
		__sync_fetch_and_add(p, 1);
}

/* keep counts from the UDP header (8 bytes) for a UDP socket: 12 keeps 4 payload bytes */
SEC("socket")
int truncate_or_drop(struct __sk_buff *skb)
{
	add(SLOT_FILTER);
	return keep;
}

SEC("sk_reuseport")
int pick_second(struct sk_reuseport_md *md)
{
	__u32 key = 1;

	add(SLOT_REUSEPORT);
	if (bpf_sk_select_reuseport(md, &reuse_socks, &key, 0) < 0)
		return SK_DROP;
	return SK_PASS;
}

SEC("sk_lookup")
int steer(struct bpf_sk_lookup *ctx)
{
	__u32 key = 0;
	struct bpf_sock *sk;
	long err;

	if (ctx->local_port != target_port)
		return SK_PASS;
	sk = bpf_map_lookup_elem(&lookup_socks, &key);
	if (!sk)
		return SK_PASS;
	err = bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	if (err == 0)
		add(SLOT_LOOKUP);
	return SK_PASS;
}

SEC("sk_msg")
int msg_verdict(struct sk_msg_md *msg)
{
	__u32 zero = 0, *mode = bpf_map_lookup_elem(&msg_mode, &zero);

	add(SLOT_MSG);
	if (mode && *mode == MSG_DROP)
		return SK_DROP;
	if (mode && *mode == MSG_REDIRECT)
		return bpf_msg_redirect_map(msg, &socks, 1, BPF_F_INGRESS);
	return SK_PASS;
}

SEC("sk_skb/stream_verdict")
int skb_verdict(struct __sk_buff *skb)
{
	add(SLOT_SKB);
	return SK_PASS;
}

SEC("flow_dissector")
int dissect(struct __sk_buff *skb)
{
	add(SLOT_DISSECT);
	return BPF_FLOW_DISSECTOR_CONTINUE;
}

SEC("netfilter")
int nf_count(struct bpf_nf_ctx *ctx)
{
	add(SLOT_NF);
	return 1; /* NF_ACCEPT */
}
