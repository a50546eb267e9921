// SPDX-License-Identifier: GPL-2.0
/* A TCP congestion control as struct_ops, for spec/struct_ops_spec.lua: Reno-like
 * enough for a loopback transfer, counting its callbacks in `counts`. The spec gives
 * each run a name of its own through the `globals` load option (the kernel's list of
 * congestion controls is global). ayac_cc registers through a bpf_link
 * (.struct_ops.link), ayac_cc_plain by its map alone (.struct_ops); ayac_cc_off is in
 * "?.struct_ops": not created, and its own program not loaded. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

enum {
	SLOT_INIT = 0,        /* init: a socket chose this congestion control */
	SLOT_RELEASE = 1,     /* release: that socket went */
	SLOT_CONG_AVOID = 2,  /* cong_avoid: ACKs in congestion avoidance or slow start */
	SLOT_SSTHRESH = 3,
	SLOT_UNDO = 4,
	SLOT_STATE = 5,       /* set_state */
	NR_SLOTS = 8,
};

#include "counts.h"

SEC("struct_ops/cc_init")
void BPF_PROG(cc_init, struct sock *sk)
{
	add(SLOT_INIT, 1);
}

SEC("struct_ops/cc_release")
void BPF_PROG(cc_release, struct sock *sk)
{
	add(SLOT_RELEASE, 1);
}

SEC("struct_ops/cc_ssthresh")
__u32 BPF_PROG(cc_ssthresh, struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;

	add(SLOT_SSTHRESH, 1);
	return tp->snd_cwnd >> 1 > 2 ? tp->snd_cwnd >> 1 : 2;
}

SEC("struct_ops/cc_undo_cwnd")
__u32 BPF_PROG(cc_undo_cwnd, struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;

	add(SLOT_UNDO, 1);
	return tp->snd_cwnd;
}

SEC("struct_ops/cc_cong_avoid")
void BPF_PROG(cc_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	add(SLOT_CONG_AVOID, 1);
}

SEC("struct_ops/cc_set_state")
void BPF_PROG(cc_set_state, struct sock *sk, __u8 new_state)
{
	add(SLOT_STATE, 1);
}

/* In no created map: ayac does not load it (the kernel would refuse it alone). */
SEC("struct_ops/cc_unused")
void BPF_PROG(cc_unused, struct sock *sk)
{
}

SEC(".struct_ops.link")
struct tcp_congestion_ops ayac_cc = {
	.init = (void *)cc_init,
	.release = (void *)cc_release,
	.ssthresh = (void *)cc_ssthresh,
	.undo_cwnd = (void *)cc_undo_cwnd,
	.cong_avoid = (void *)cc_cong_avoid,
	.set_state = (void *)cc_set_state,
	.name = "ayac_cc",
};

SEC(".struct_ops")
struct tcp_congestion_ops ayac_cc_plain = {
	.init = (void *)cc_init,
	.release = (void *)cc_release,
	.ssthresh = (void *)cc_ssthresh,
	.undo_cwnd = (void *)cc_undo_cwnd,
	.cong_avoid = (void *)cc_cong_avoid,
	.name = "ayac_cc_plain",
};

SEC("?.struct_ops")
struct tcp_congestion_ops ayac_cc_off = {
	.init = (void *)cc_unused,
	.ssthresh = (void *)cc_ssthresh,
	.undo_cwnd = (void *)cc_undo_cwnd,
	.cong_avoid = (void *)cc_cong_avoid,
	.name = "ayac_cc_off",
};
