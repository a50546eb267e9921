// SPDX-License-Identifier: GPL-2.0
/* A strong kfunc the kernel lacks: loading must fail naming it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern void bpf_ayac_no_such_kfunc(void) __ksym;

SEC("syscall")
int call_missing(void *ctx)
{
	bpf_ayac_no_such_kfunc();
	return 0;
}
