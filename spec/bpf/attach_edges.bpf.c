// SPDX-License-Identifier: GPL-2.0
/* Do-nothing programs for spec/attach_edges_spec.lua, which checks how attaches fail
 * and what links report, not what programs count. tp_nop is loaded 65 times (a program
 * goes on a tracepoint once; the kernel takes 64 per tracepoint); its tracepoint is one
 * nothing else on the machine uses. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_acct")
int tp_nop(void *ctx)
{
	return 0;
}

SEC("uprobe")
int up_nop(void *ctx)
{
	return 0;
}

SEC("kprobe")
int kp_nop(void *ctx)
{
	return 0;
}
