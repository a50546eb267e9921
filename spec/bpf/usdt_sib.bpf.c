// SPDX-License-Identifier: GPL-2.0
/* USDT spec maps laid out as libbpf 1.7's <bpf/usdt.bpf.h> lays them out (arg_type in
 * one byte, then the SIB index register and scale as bitfields, which moves reg_off),
 * with a reader of its own: ayac writes specs by the object's BTF, so this layout and
 * the older one (spec/bpf/usdt.bpf.c) both read right. spec/usdt_spec.lua fires the
 * fixture's ayac:sib probe, whose arguments are arr[i] and arr[i + 1] addressed
 * base + index * 8 (+ 8). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

enum __bpf_usdt_arg_type {
	BPF_USDT_ARG_CONST,
	BPF_USDT_ARG_REG,
	BPF_USDT_ARG_REG_DEREF,
	BPF_USDT_ARG_SIB,
};

struct __bpf_usdt_arg_spec {
	__u64 val_off;
	enum __bpf_usdt_arg_type arg_type: 8;
	__u16 idx_reg_off: 12;
	__u16 scale_bitshift: 4;
	__u8 __reserved: 8;
	short reg_off;
	bool arg_signed;
	char arg_bitshift;
};

struct __bpf_usdt_spec {
	struct __bpf_usdt_arg_spec args[12];
	__u64 usdt_cookie;
	short arg_cnt;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, int);
	__type(value, struct __bpf_usdt_spec);
} __bpf_usdt_specs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, long);
	__type(value, __u32);
} __bpf_usdt_ip_to_spec_id SEC(".maps");

enum {
	SLOT_HITS = 0,   /* probe hits */
	SLOT_SUM0 = 1,   /* sum of argument 1 (arr[i % 8]) */
	SLOT_SUM1 = 2,   /* sum of argument 2 (arr[i % 8 + 1]) */
	SLOT_BAD = 3,    /* specs that were not SIB, or reads that failed */
	NR_SLOTS = 4,
};

#include "counts.h"

static __always_inline int read_sib(struct pt_regs *ctx, struct __bpf_usdt_arg_spec *a, long *out)
{
	unsigned long base, idx, val;

	if (a->arg_type != BPF_USDT_ARG_SIB)
		return -1;
	if (bpf_probe_read_kernel(&base, sizeof(base), (void *)ctx + a->reg_off) ||
	    bpf_probe_read_kernel(&idx, sizeof(idx), (void *)ctx + a->idx_reg_off) ||
	    bpf_probe_read_user(&val, sizeof(val),
				(void *)(base + (idx << a->scale_bitshift) + a->val_off)))
		return -1;
	val <<= a->arg_bitshift;
	*out = a->arg_signed ? ((long)val) >> a->arg_bitshift : (long)(val >> a->arg_bitshift);
	return 0;
}

SEC("usdt")
int on_sib(struct pt_regs *ctx)
{
	int id = (int)bpf_get_attach_cookie(ctx);
	struct __bpf_usdt_spec *spec = bpf_map_lookup_elem(&__bpf_usdt_specs, &id);
	long v0, v1;

	add(SLOT_HITS, 1);
	if (!spec || spec->arg_cnt != 2 || read_sib(ctx, &spec->args[0], &v0) ||
	    read_sib(ctx, &spec->args[1], &v1)) {
		add(SLOT_BAD, 1);
		return 0;
	}
	add(SLOT_SUM0, v0);
	add(SLOT_SUM1, v1);
	return 0;
}
