// SPDX-License-Identifier: GPL-2.0
/* A strong kfunc declared with a prototype the kernel's does not match
 * (bpf_task_release takes a struct task_struct *, not an int): loading must fail
 * naming it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern void bpf_task_release(int not_a_task) __ksym;

SEC("syscall")
int call_mismatch(void *ctx)
{
	bpf_task_release(0);
	return 0;
}
