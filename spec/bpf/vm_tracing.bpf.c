// SPDX-License-Identifier: GPL-2.0
/* Programs for spec/tracing_spec.lua (run in scripts/vmtest's kernels: this machine's
 * refuses fentry, fexit, fmod_ret and LSM programs). Arguments come from the u64 array
 * the trampoline passes (BPF_PROG's layout, read by hand): no vmlinux.h field is
 * touched, so there is no CO-RE relocation. Only target_tgid's calls count. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define EPERM 1

/* Set from Lua through the mmap-ed .bss while the programs are attached. */
__u32 deny_open = 0;      /* lsm/file_open refuses the target's opens */
__s32 fmod_ret_value = 0; /* fmod_ret/security_file_open returns this for the target */

enum {
	SLOT_FENTRY = 0,      /* fentry/__task_pid_nr_ns, as getpid() calls it */
	SLOT_FEXIT = 1,       /* fexit/__task_pid_nr_ns: hits */
	SLOT_FEXIT_PID = 2,   /*   ... whose return value was target_tgid */
	SLOT_FMOD_RET = 3,    /* fmod_ret/security_file_open: calls */
	SLOT_LSM_OPEN = 4,    /* lsm/file_open: calls */
	SLOT_LSM_DENIED = 5,  /*   ... refused */
	NR_SLOTS = 8,
};

#include "counts.h"

/* pid_t __task_pid_nr_ns(struct task_struct *task, enum pid_type type,
 *                        struct pid_namespace *ns), what getpid() calls as
 * (current, PIDTYPE_TGID, NULL): ctx[0..2] the arguments, ctx[3] the return (fexit).
 * (The syscall wrappers, __x64_sys_getpid, are not in Debian's vmlinux BTF.) */
#define PIDTYPE_TGID 1

static __always_inline bool is_getpid(__u64 *ctx)
{
	return ctx[0] == bpf_get_current_task() && ctx[1] == PIDTYPE_TGID && is_target();
}

SEC("fentry/__task_pid_nr_ns")
int fe_getpid(__u64 *ctx)
{
	if (is_getpid(ctx))
		add(SLOT_FENTRY, 1);
	return 0;
}

SEC("fexit/__task_pid_nr_ns")
int fx_getpid(__u64 *ctx)
{
	if (!is_getpid(ctx))
		return 0;
	add(SLOT_FEXIT, 1);
	if ((__u32)ctx[3] == target_tgid)
		add(SLOT_FEXIT_PID, 1);
	return 0;
}

/* int security_file_open(struct file *file): a nonzero return skips the function and
 * becomes its result (fmod_ret is allowed on security_* without error injection). */
SEC("fmod_ret/security_file_open")
int fm_file_open(__u64 *ctx)
{
	if (!is_target())
		return 0;
	add(SLOT_FMOD_RET, 1);
	return fmod_ret_value;
}

/* int file_open(struct file *file): a negative errno refuses the open. */
SEC("lsm/file_open")
int lsm_file_open(__u64 *ctx)
{
	if (!is_target())
		return 0;
	add(SLOT_LSM_OPEN, 1);
	if (deny_open) {
		add(SLOT_LSM_DENIED, 1);
		return -EPERM;
	}
	return 0;
}
