// SPDX-License-Identifier: GPL-2.0
/* A strong typeless __ksym no kernel has: loading must fail naming it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern const void ayac_no_such_symbol __ksym;

__u64 addr;

SEC("syscall")
int take_missing(void *ctx)
{
	addr = (__u64)&ayac_no_such_symbol;
	return 0;
}
