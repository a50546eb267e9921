// SPDX-License-Identifier: GPL-2.0
/* For spec/features_spec.lua: bpf_probe_read_kernel and bpf_probe_read_kernel_str,
 * loaded on a kernel made to look like one without them (AYAC_FEATURES=
 * probe_read_kernel=0), where the loader rewrites the calls to bpf_probe_read and
 * bpf_probe_read_str. No CO-RE: the tracepoint context is read at the fixed offset of
 * syscalls/sys_enter_getpid's __syscall_nr (8; the 8 bytes before it hold a pointer to
 * the registers for BPF, not the trace entry's common fields). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid = 0;
const char greeting[] = "hello from .rodata";

struct result {
	__u64 calls;
	__s64 nr;          /* __syscall_nr, read with bpf_probe_read_kernel */
	__s64 str_len;     /* what bpf_probe_read_kernel_str returned */
	char str[32];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct result);
} results SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int read_ctx(void *ctx)
{
	struct result *r;
	__u32 zero = 0;
	int nr = -1;

	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	r = bpf_map_lookup_elem(&results, &zero);
	if (!r)
		return 0;
	if (bpf_probe_read_kernel(&nr, sizeof(nr), ctx + 8) == 0)
		r->nr = nr;
	r->str_len = bpf_probe_read_kernel_str(r->str, sizeof(r->str), greeting);
	r->calls++;
	return 0;
}
