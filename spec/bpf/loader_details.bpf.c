// SPDX-License-Identifier: GPL-2.0
/* Loader details for spec/loader_details_spec.lua:
 *  - BPF_F_MMAPABLE only for data sections with a variable that is not static
 *    (.data.pub) — not for one with only static or __hidden ones (.data.priv);
 *  - raw_tp.w: a writable raw tracepoint (bpf_test_finish's error code);
 *  - syscall programs, run with test_run and their context written back. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

int pub_counter SEC(".data.pub") = 1;

static volatile int priv_counter SEC(".data.priv") = 5;
__hidden int hidden_counter SEC(".data.priv") = 7;

const volatile __u32 target_tgid = 0;

struct sys_args {
	__u64 a, b;
	__u64 sum;    /* written by the program */
};

SEC("syscall")
int add_args(struct sys_args *args)
{
	args->sum = args->a + args->b;
	pub_counter++;
	priv_counter++;
	hidden_counter += 2;
	return (int)(args->a * 2);
}

/* bpf_test_finish's *err: this process's test runs fail with E2BIG while attached. */
SEC("raw_tp.w/bpf_test_finish")
int make_e2big(struct bpf_raw_tracepoint_args *ctx)
{
	int *err = (int *)ctx->args[0];

	if ((bpf_get_current_pid_tgid() >> 32) == target_tgid)
		*err = -7; /* -E2BIG */
	return 0;
}

SEC("socket")
int pass(struct __sk_buff *skb)
{
	return 1;
}
