// SPDX-License-Identifier: GPL-2.0
/* Exercises the loader: several programs in one section, .text subprograms (static and
 * global) with bpf-to-bpf calls, a bpf_loop callback, every kind of global data, a
 * BTF-defined map and a long program name. Results land in .bss for the spec to read. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

const volatile __u32 rodata_k = 7;       /* .rodata: set through `globals` */
__u64 data_v = 100;                      /* .data */
__u64 bss_result;                        /* .bss: written by the programs */
__u64 bss_calls;
__u32 loop_sum;
char str_out[16];
const char greeting[6] = "hello";        /* a constant string: .rodata */
int custom_var SEC(".data.custom") = 3;  /* a .data.* variant: a map of its own */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} results SEC(".maps");

static __noinline __u64 twice(__u64 x)
{
	return x * 2;
}

static __noinline __u64 add_k(__u64 x)
{
	return twice(x) + rodata_k;       /* a subprogram calling a subprogram */
}

__noinline int global_square(int x)       /* a global function: verified on its own */
{
	return x * x;
}

static int loop_cb(__u32 i, void *ctx)
{
	loop_sum += i;
	return 0;
}

SEC("xdp")
int xdp_first(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 v;

	bss_result = add_k(data_v);       /* 2*100 + rodata_k */
	bss_calls++;
	v = bss_result;
	bpf_map_update_elem(&results, &k, &v, BPF_ANY);
	return XDP_PASS;
}

SEC("xdp")
int xdp_second(struct xdp_md *ctx)        /* a second program in the same section */
{
	__u32 k = 1;
	__u64 v = global_square(9);

	loop_sum = 0;
	bpf_loop(5, loop_cb, NULL, 0);    /* 0+1+2+3+4 = 10 */
	bpf_map_update_elem(&results, &k, &v, BPF_ANY);
	__builtin_memcpy(str_out, greeting, sizeof(greeting));
	return XDP_DROP;
}

SEC("xdp")
int uses_custom(struct xdp_md *ctx)
{
	__u32 k = 2;
	__u64 v = custom_var * 10;

	bpf_map_update_elem(&results, &k, &v, BPF_ANY);
	return XDP_PASS;
}

/* Enough straight-line code that a level-2 verifier log outgrows the first buffer. */
SEC("xdp")
int big_log(struct xdp_md *ctx)
{
	__u64 acc = bss_calls;

#pragma unroll
	for (int i = 0; i < 300; i++)
		acc = acc * 3 + (bpf_get_prandom_u32() ^ i);
	bss_result = acc;
	return XDP_PASS;
}

SEC("xdp")
int a_program_name_longer_than_fifteen(struct xdp_md *ctx)
{
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
