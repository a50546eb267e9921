// SPDX-License-Identifier: GPL-2.0
/* Programs for spec/attach_spec.lua: each counts its hits in `counts` (slot per
 * program, or the bpf_cookie for up_cookie) so the spec can check that an attach
 * fires exactly as often as its target runs. Syscall probes count only the process
 * whose tgid is in target_tgid (set with the load option `globals`). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* Registers (struct regs_x86_64, counts.h) and raw tracepoint arguments are read
 * through plain layouts, not vmlinux.h's types: attaching is tested here, not CO-RE. */
#define ARG1(ctx) ((int)((struct regs_x86_64 *)(ctx))->di)
#define RET(ctx) ((int)((struct regs_x86_64 *)(ctx))->ax)

enum {
	SLOT_TP = 0,          /* tracepoint/syscalls/sys_enter_getpid */
	SLOT_TP_MANUAL = 1,   /* tp_manual, attached to a target table */
	SLOT_RAW_TP = 2,      /* raw_tp/sys_enter, getpid only */
	SLOT_UPROBE = 3,      /* up_count: hits; slot 4: sum of the first arguments */
	SLOT_URETPROBE = 5,   /* uret_count: hits; slot 6: sum of the return values */
	SLOT_LIBC = 7,        /* uprobe/libc.so.6:getpid */
	SLOT_LIBC_RET = 8,    /* uretprobe/libc.so.6:getpid, returning our pid */
	NR_SLOTS = 32,        /* up_cookie counts in slot `cookie` (16..31) */
};

#include "counts.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int tp_getpid(void *ctx)
{
	if (is_target())
		add(SLOT_TP, 1);
	return 0;
}

/* The section names another tracepoint: the spec attaches it with a target table. */
SEC("tp/syscalls/sys_enter_getppid")
int tp_manual(void *ctx)
{
	if (is_target())
		add(SLOT_TP_MANUAL, 1);
	return 0;
}

/* sys_enter(struct pt_regs *regs, long id): args[1] is the syscall number. */
SEC("raw_tp/sys_enter")
int raw_sys_enter(void *ctx)
{
	if (((__u64 *)ctx)[1] == 39 /* __NR_getpid */ && is_target())
		add(SLOT_RAW_TP, 1);
	return 0;
}

SEC("uprobe")
int up_count(void *ctx)
{
	add(SLOT_UPROBE, 1);
	add(SLOT_UPROBE + 1, (__u64)ARG1(ctx));
	return 0;
}

SEC("uretprobe")
int uret_count(void *ctx)
{
	add(SLOT_URETPROBE, 1);
	add(SLOT_URETPROBE + 1, (__u64)RET(ctx));
	return 0;
}

SEC("uprobe")
int up_cookie(void *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);

	if (cookie >= 16 && cookie < NR_SLOTS)
		add((__u32)cookie, 1);
	return 0;
}

SEC("uprobe/libc.so.6:getpid")
int up_libc_getpid(void *ctx)
{
	if (is_target())
		add(SLOT_LIBC, 1);
	return 0;
}

SEC("uretprobe/libc.so.6:getpid")
int uret_libc_getpid(void *ctx)
{
	if (is_target() && (__u32)RET(ctx) == target_tgid)
		add(SLOT_LIBC_RET, 1);
	return 0;
}

/* Nothing in the section name says where it goes: prog:attach() must ask for a target. */
SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
