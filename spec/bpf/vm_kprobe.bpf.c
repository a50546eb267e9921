// SPDX-License-Identifier: GPL-2.0
/* Programs for spec/kprobe_spec.lua (run in scripts/vmtest's kernels: this machine's
 * has no kprobes). Each counts the getpid/getppid calls of target_tgid in its slot of
 * `counts`; kp_cookie counts in the slot its bpf_cookie names. Registers are read
 * through a plain pt_regs layout, not vmlinux.h's (preserve_access_index would make
 * CO-RE relocations): attaching is tested here, not CO-RE. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* x86-64 struct pt_regs up to di. */
struct regs_x86_64 {
	__u64 r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di;
};
#define RET(ctx) (((struct regs_x86_64 *)(ctx))->ax)

const volatile __u32 target_tgid = 0;

enum {
	SLOT_KPROBE = 0,       /* kprobe/__x64_sys_getpid */
	SLOT_KRETPROBE = 1,    /* kretprobe/__x64_sys_getpid: hits */
	SLOT_KRET_PID = 2,     /*   ... that returned target_tgid */
	SLOT_KSYSCALL = 3,     /* ksyscall/getpid */
	SLOT_KRETSYSCALL = 4,  /* kretsyscall/getpid */
	SLOT_MANUAL = 5,       /* kp_manual: SEC("kprobe"), target given at attach */
	NR_SLOTS = 32,         /* kp_cookie counts in slot `cookie` (16..31) */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline void add(__u32 slot)
{
	__u64 *p = bpf_map_lookup_elem(&counts, &slot);

	if (p)
		__sync_fetch_and_add(p, 1);
}

static __always_inline bool is_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

SEC("kprobe/__x64_sys_getpid")
int kp_getpid(void *ctx)
{
	if (is_target())
		add(SLOT_KPROBE);
	return 0;
}

SEC("kretprobe/__x64_sys_getpid")
int krp_getpid(void *ctx)
{
	if (!is_target())
		return 0;
	add(SLOT_KRETPROBE);
	if ((__u32)RET(ctx) == target_tgid)
		add(SLOT_KRET_PID);
	return 0;
}

SEC("ksyscall/getpid")
int ks_getpid(void *ctx)
{
	if (is_target())
		add(SLOT_KSYSCALL);
	return 0;
}

SEC("kretsyscall/getpid")
int krs_getpid(void *ctx)
{
	if (is_target())
		add(SLOT_KRETSYSCALL);
	return 0;
}

SEC("kprobe")
int kp_manual(void *ctx)
{
	if (is_target())
		add(SLOT_MANUAL);
	return 0;
}

SEC("kprobe")
int kp_cookie(void *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);

	if (is_target() && cookie >= 16 && cookie < NR_SLOTS)
		add((__u32)cookie);
	return 0;
}
