// SPDX-License-Identifier: GPL-2.0
/* A typed __ksym for spec/externs_spec.lua: the per-CPU runqueues variable of vmlinux,
 * reached with bpf_this_cpu_ptr and bpf_per_cpu_ptr. The verifier finds its address by
 * name in kallsyms, which lists data symbols only with CONFIG_KALLSYMS_ALL. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern const struct rq runqueues __ksym;

__u64 this_cpu_rq;
__u64 cpu0_rq;

SEC("syscall")
int use_runqueues(void *ctx)
{
	this_cpu_rq = bpf_this_cpu_ptr(&runqueues) != 0;
	cpu0_rq = bpf_per_cpu_ptr(&runqueues, 0) != 0;
	return 0;
}
