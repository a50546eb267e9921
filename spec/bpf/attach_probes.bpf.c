// SPDX-License-Identifier: GPL-2.0
/* Programs for spec/attach_spec.lua: each counts its hits in `counts` (slot per
 * program, or the bpf_cookie for up_cookie) so the spec can check that an attach
 * fires exactly as often as its target runs. Syscall probes count only the process
 * whose tgid is in target_tgid (set with the load option `globals`). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* Registers and raw tracepoint arguments are read through these plain layouts, not
 * vmlinux.h's types (which carry preserve_access_index and so CO-RE relocations):
 * attaching is tested here, not CO-RE. x86-64 struct pt_regs up to di. */
struct regs_x86_64 {
	__u64 r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di;
};
#define ARG1(ctx) ((int)((struct regs_x86_64 *)(ctx))->di)
#define RET(ctx) ((int)((struct regs_x86_64 *)(ctx))->ax)

const volatile __u32 target_tgid = 0;

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

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline void add(__u32 slot, __u64 v)
{
	__u64 *p = bpf_map_lookup_elem(&counts, &slot);

	if (p)
		__sync_fetch_and_add(p, v);
}

static __always_inline bool is_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

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
