// SPDX-License-Identifier: GPL-2.0
/* Globals for spec/object_spec.lua: one of each data section, read and written from
 * Lua before load (initial image) and after (live, mmap-ed), and two programs so that
 * one can stay unloaded (autoload = false). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct spec_config {
	__u32 step;
	__u16 flags;
	char label[6];
};

const volatile __u32 ro_step = 1;                   /* .rodata */
const volatile struct spec_config ro_cfg = { 3, 0, "ro" }; /* .rodata */
__u64 data_base = 100;                              /* .data */
char data_name[8] = "start";                        /* .data */
__u64 bss_counter;                                  /* .bss */
__u64 bss_last;                                     /* .bss */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

/* bss_counter += ro_step + ro_cfg.step; bss_last = data_base + bss_counter. */
SEC("xdp")
int count(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *v;

	bss_counter += ro_step + ro_cfg.step;
	bss_last = data_base + bss_counter;
	v = bpf_map_lookup_elem(&seen, &zero);
	if (v)
		*v += 1;
	return XDP_PASS;
}

SEC("xdp")
int spare(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int on_getpid(void *ctx)
{
	bss_last = 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
