// SPDX-License-Identifier: GPL-2.0
/* USDT programs for spec/usdt_spec.lua, written against libbpf's own
 * <bpf/usdt.bpf.h> as any libbpf user would: ayac must fill its spec maps so that
 * BPF_USDT's arguments, bpf_usdt_arg_cnt and bpf_usdt_cookie read right. Each sums
 * what it sees in `counts` (the fixture fires known arguments a known number of times). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

char LICENSE[] SEC("license") = "GPL";

enum {
	SLOT_ARGS = 0,       /* hits of ayac:args; 1..5: sums of its five arguments */
	SLOT_ARG_CNT = 6,    /* sum of bpf_usdt_arg_cnt */
	SLOT_COOKIE = 7,     /* last bpf_usdt_cookie */
	SLOT_SEMA = 8,       /* hits of ayac:sema; 9: sum of its argument */
	SLOT_BAD = 10,       /* bpf_usdt_arg failures */
	NR_SLOTS = 16,
};

#include "counts.h"

static __always_inline void set(__u32 slot, __u64 v)
{
	bpf_map_update_elem(&counts, &slot, &v, BPF_ANY);
}

SEC("usdt")
int BPF_USDT(on_args, int i, long l, short s, unsigned char c, int k)
{
	long extra;

	add(SLOT_ARGS, 1);
	add(SLOT_ARGS + 1, i);
	add(SLOT_ARGS + 2, l);
	add(SLOT_ARGS + 3, (__s64)s);
	add(SLOT_ARGS + 4, c);
	add(SLOT_ARGS + 5, k);
	add(SLOT_ARG_CNT, bpf_usdt_arg_cnt(ctx));
	set(SLOT_COOKIE, bpf_usdt_cookie(ctx));
	if (bpf_usdt_arg(ctx, 5, &extra) != -ENOENT) /* only five */
		add(SLOT_BAD, 1);
	return 0;
}

/* Attached from the section name: the path is relative to the repository. */
SEC("usdt/build/spec/fixtures/usdt_target:ayac:sema")
int BPF_USDT(on_sema, int i)
{
	add(SLOT_SEMA, 1);
	add(SLOT_SEMA + 1, i);
	return 0;
}
