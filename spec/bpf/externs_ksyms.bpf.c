// SPDX-License-Identifier: GPL-2.0
/* __ksym externs for spec/externs_spec.lua, in a syscall program run with test_run:
 * typeless ksyms (addresses from /proc/kallsyms; missing __weak ksyms read 0), kfunc
 * calls (bpf_rcu_read_lock/unlock, bpf_task_from_pid + bpf_task_release, and
 * bpf_task_acquire on the current task), a kfunc named with a ___flavor suffix, a weak
 * kfunc the kernel has (its address taken: ld_imm64 of its BTF id), and a missing
 * __weak kfunc guarded by an existence check, whose call must not stop the program
 * from loading. No vmlinux.h struct field is read (that would need CO-RE). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* libbpf >= 1.2's bpf_ksym_exists(); Debian's 1.1 headers lack it */
#define ksym_exists(sym) (!!(sym))

extern const void _stext __ksym;
extern const void ayac_no_such_symbol __ksym __weak;
extern const struct rq ayac_no_such_runqueues __ksym __weak; /* typed, missing: 0 */

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock___ayac(void) __ksym; /* bpf_rcu_read_unlock */
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym __weak; /* present */
extern void bpf_task_release(struct task_struct *p) __ksym;
extern void bpf_ayac_no_such_kfunc(int x) __ksym __weak;

int pid;                /* set by the spec before the run */

__u64 stext_addr;
__u64 missing_addr;
__u64 missing_typed_addr;
__u64 found_pid;
__u64 acquired_current;
__u64 has_task_acquire;
__u64 has_missing_kfunc;
__u64 missing_kfunc_called;

SEC("syscall")
int use_ksyms(void *ctx)
{
	struct task_struct *t;

	stext_addr = (__u64)&_stext;
	missing_addr = (__u64)&ayac_no_such_symbol;
	missing_typed_addr = (__u64)&ayac_no_such_runqueues;

	bpf_rcu_read_lock();
	bpf_rcu_read_unlock___ayac();

	t = bpf_task_from_pid(pid);
	found_pid = t != 0;
	if (t)
		bpf_task_release(t);

	t = bpf_task_acquire(bpf_get_current_task_btf());
	acquired_current = t != 0;
	if (t)
		bpf_task_release(t);

	has_task_acquire = ksym_exists(bpf_task_acquire);
	has_missing_kfunc = ksym_exists(bpf_ayac_no_such_kfunc);
	if (ksym_exists(bpf_ayac_no_such_kfunc)) {
		bpf_ayac_no_such_kfunc(1);
		missing_kfunc_called = 1;
	}
	return 0;
}
