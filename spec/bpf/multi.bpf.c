// SPDX-License-Identifier: GPL-2.0
/* kprobe.multi and uprobe.multi programs for spec/multi_spec.lua: each counts its hits,
 * the hits per bpf_cookie (slots 16..31) and, on return, the sum of return values.
 * The uprobe fixture (spec/fixtures/uprobe_target.c) is the only caller of its
 * functions, so uprobes count every process; the kprobes count this process only. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

enum {
	SLOT_UP = 0,        /* up_multi hits */
	SLOT_URET = 1,      /* uret_multi hits; 2: sum of the return values */
	SLOT_AUTO = 3,      /* up_auto hits */
	SLOT_KP = 4,        /* kp_multi hits (this process) */
	SLOT_KRET = 5,      /* kret_multi hits (this process) */
	SLOT_IP_OK = 6,     /* hits where bpf_get_func_ip found an address */
	NR_SLOTS = 32,      /* 16..31: hits by cookie */
};

#include "counts.h"

static __always_inline void by_cookie(void *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);

	if (cookie >= 16 && cookie < NR_SLOTS)
		add((__u32)cookie, 1);
	if (bpf_get_func_ip(ctx))
		add(SLOT_IP_OK, 1);
}

SEC("uprobe.multi")
int up_multi(struct pt_regs *ctx)
{
	add(SLOT_UP, 1);
	by_cookie(ctx);
	return 0;
}

SEC("uretprobe.multi")
int uret_multi(struct pt_regs *ctx)
{
	add(SLOT_URET, 1);
	add(SLOT_URET + 1, (__u32)((struct regs_x86_64 *)ctx)->ax);
	return 0;
}

/* Attached from the section name: the path is relative to the repository. */
SEC("uprobe.multi/build/spec/fixtures/uprobe_target:ayacfix_*_func")
int up_auto(struct pt_regs *ctx)
{
	add(SLOT_AUTO, 1);
	return 0;
}

SEC("kprobe.multi")
int kp_multi(struct pt_regs *ctx)
{
	if (!is_target())
		return 0;
	add(SLOT_KP, 1);
	by_cookie(ctx);
	return 0;
}

SEC("kretprobe.multi")
int kret_multi(struct pt_regs *ctx)
{
	if (is_target())
		add(SLOT_KRET, 1);
	return 0;
}
