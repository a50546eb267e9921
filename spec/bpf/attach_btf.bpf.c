// SPDX-License-Identifier: GPL-2.0
/* tp_btf for spec/attach_spec.lua: a BTF-typed raw tracepoint, attached by BTF id
 * (no name at attach time). Counts getpid calls of target_tgid. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(btf_sys_enter, struct pt_regs *regs, long id)
{
	__u32 slot = 0;
	__u64 *p;

	if (id != 39 /* __NR_getpid */ || (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	p = bpf_map_lookup_elem(&counts, &slot);
	if (p)
		__sync_fetch_and_add(p, 1);
	return 0;
}
