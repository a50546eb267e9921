// SPDX-License-Identifier: GPL-2.0
/* For spec/hist_spec.lua and spec/syms_spec.lua: histograms of hist.bpf.h filled from
 * lseek(fd, offset, whence) calls of the spec's own process (fd -1: the call fails, the
 * tracepoint still sees the arguments, so the spec chooses every value), a count map
 * keyed by whence for print_maps, and stack traces: the kernel and user stacks of this
 * process's getppid(), and the user stack of symtarget when symlib_leaf returns. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <ayac/hist.bpf.h>

const volatile __u32 target_tgid = 0;
const volatile __u32 uprobe_tgid = 0;
__s32 getppid_nr = -1; /* the number the kernel's tracepoint reports for getppid */

AYAC_HIST(h_log2);
AYAC_HIST_PERCPU(h_pcpu);
AYAC_LHIST(h_lin, 0, 100, 10);

struct whence_key {
	__u32 whence;
	ayac_hist_slot_t slot;
};
AYAC_HIST_KEYED(h_keyed, struct whence_key, 1024);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 64);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));
} stacks SEC(".maps");

/* 0: kernel stack of getppid, 1: its user stack, 2: symtarget's user stack. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __s64);
} stack_ids SEC(".maps");

static __always_inline bool from(__u32 tgid)
{
	return (bpf_get_current_pid_tgid() >> 32) == tgid;
}

static __always_inline void set_id(__u32 slot, __s64 id)
{
	bpf_map_update_elem(&stack_ids, &slot, &id, BPF_ANY);
}

SEC("tracepoint/syscalls/sys_enter_lseek")
int on_lseek(struct trace_event_raw_sys_enter *ctx)
{
	__s64 off = (__s64)ctx->args[1];
	struct whence_key k = { .whence = (__u32)ctx->args[2] };
	__u64 one = 1, *n;

	if (!from(target_tgid) || (int)ctx->args[0] != -1)
		return 0;
	h_log2_add(off);
	h_pcpu_add(off);
	h_lin_add(off);
	h_keyed_add(&k, off);
	n = bpf_map_lookup_elem(&calls, &k.whence);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&calls, &k.whence, &one, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	if (!from(target_tgid))
		return 0;
	/* struct syscall_trace_enter: the trace entry header (8 bytes), then int nr */
	bpf_probe_read_kernel(&getppid_nr, sizeof(getppid_nr), (char *)ctx + 8);
	set_id(0, bpf_get_stackid(ctx, &stacks, 0));
	set_id(1, bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK));
	return 0;
}

SEC("uretprobe")
int on_leaf_return(struct pt_regs *ctx)
{
	if (!from(uprobe_tgid))
		return 0;
	set_id(2, bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
