// SPDX-License-Identifier: GPL-2.0
/* Programs for spec/kprobe_spec.lua (run in scripts/vmtest's kernels: this machine's
 * has no kprobes). Each counts the getpid/getppid calls of target_tgid in its slot of
 * `counts`; kp_cookie counts in the slot its bpf_cookie names. Registers are read
 * through a plain pt_regs layout, not vmlinux.h's (preserve_access_index would make
 * CO-RE relocations): attaching is tested here, not CO-RE. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define RET(ctx) (((struct regs_x86_64 *)(ctx))->ax)

enum {
	SLOT_KPROBE = 0,       /* kprobe/__x64_sys_getpid */
	SLOT_KRETPROBE = 1,    /* kretprobe/__x64_sys_getpid: hits */
	SLOT_KRET_PID = 2,     /*   ... that returned target_tgid */
	SLOT_KSYSCALL = 3,     /* ksyscall/getpid */
	SLOT_KRETSYSCALL = 4,  /* kretsyscall/getpid */
	SLOT_MANUAL = 5,       /* kp_manual: SEC("kprobe"), target given at attach */
	NR_SLOTS = 32,         /* kp_cookie counts in slot `cookie` (16..31) */
};

#include "counts.h"

SEC("kprobe/__x64_sys_getpid")
int kp_getpid(void *ctx)
{
	if (is_target())
		add(SLOT_KPROBE, 1);
	return 0;
}

SEC("kretprobe/__x64_sys_getpid")
int krp_getpid(void *ctx)
{
	if (!is_target())
		return 0;
	add(SLOT_KRETPROBE, 1);
	if ((__u32)RET(ctx) == target_tgid)
		add(SLOT_KRET_PID, 1);
	return 0;
}

SEC("ksyscall/getpid")
int ks_getpid(void *ctx)
{
	if (is_target())
		add(SLOT_KSYSCALL, 1);
	return 0;
}

SEC("kretsyscall/getpid")
int krs_getpid(void *ctx)
{
	if (is_target())
		add(SLOT_KRETSYSCALL, 1);
	return 0;
}

SEC("kprobe")
int kp_manual(void *ctx)
{
	if (is_target())
		add(SLOT_MANUAL, 1);
	return 0;
}

SEC("kprobe")
int kp_cookie(void *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);

	if (is_target() && cookie >= 16 && cookie < NR_SLOTS)
		add((__u32)cookie, 1);
	return 0;
}
