// SPDX-License-Identifier: GPL-2.0
/* CO-RE against made-up "kernels" (core_target_a.bpf.c, core_target_b.bpf.c, loaded
 * with btf = path), for spec/core_spec.lua: every field-, type- and enum-based
 * relocation, observed at run time. test_run writes into `res`; reads go through `buf`,
 * which the spec fills with a known pattern and decodes with the target's layout. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct core_child___local {
	int b;
	int a;
} __attribute__((preserve_access_index));

enum core_state___local {
	CORE_IDLE___local,
	CORE_RUNNING___local,
	CORE_DONE___local,
};

/* The local view of struct core_obj: another order, u_int named directly (the
 * targets hold it in anonymous members), bitfields at other bits. */
struct core_obj___local {
	unsigned int count;
	int sval;
	int u_int;
	unsigned int flag_a : 3;
	unsigned int flag_b : 5;
	unsigned int flag_c : 9;
	int sbits : 7;
	int gone;
	struct core_child___local child;
	int arr[4];
	enum core_state___local state;
} __attribute__((preserve_access_index));

/* A field renamed between A and B, seen through two flavors. */
struct core_obj___v1 {
	int old_name;
} __attribute__((preserve_access_index));

struct core_obj___v2 {
	int new_name;
} __attribute__((preserve_access_index));

struct core_amb___local {
	int y;
} __attribute__((preserve_access_index));

struct core_fixture_res {
	__u64 off_count, off_u_int, off_child_b, off_arr2, off_state, off_flag_b;
	__u64 size_count, size_arr, size_child, size_flag_b;
	__u64 has_gone, has_new_name, has_old_name;
	__u64 signed_sval, signed_count, signed_sbits, signed_state;
	__u64 lshift_flag_b, rshift_flag_b;
	__u64 obj_size, child_id, obj_exists;
	__u64 idle, running, done_exists, running_exists;
	__u64 count, u_int, child_b, arr2, flag_a, flag_b, flag_c, sbits, renamed, gone, sval;
	__u64 amb_y;
};

struct core_fixture_res res;
__u8 buf[256];

SEC("xdp")
int fixture_values(struct xdp_md *ctx)
{
	struct core_obj___local *p = (void *)0;

	res.off_count = bpf_core_field_offset(p->count);
	res.off_u_int = bpf_core_field_offset(p->u_int);
	res.off_child_b = bpf_core_field_offset(p->child.b);
	res.off_arr2 = bpf_core_field_offset(p->arr[2]);
	res.off_state = bpf_core_field_offset(p->state);
	res.off_flag_b = bpf_core_field_offset(p->flag_b);
	res.size_count = bpf_core_field_size(p->count);
	res.size_arr = bpf_core_field_size(p->arr);
	res.size_child = bpf_core_field_size(p->child);
	res.size_flag_b = bpf_core_field_size(p->flag_b);
	res.has_gone = bpf_core_field_exists(p->gone);
	res.has_new_name = bpf_core_field_exists(struct core_obj___v2, new_name);
	res.has_old_name = bpf_core_field_exists(struct core_obj___v1, old_name);
	res.signed_sval = __builtin_preserve_field_info(p->sval, BPF_FIELD_SIGNED);
	res.signed_count = __builtin_preserve_field_info(p->count, BPF_FIELD_SIGNED);
	res.signed_sbits = __builtin_preserve_field_info(p->sbits, BPF_FIELD_SIGNED);
	res.signed_state = __builtin_preserve_field_info(p->state, BPF_FIELD_SIGNED);
	res.lshift_flag_b = __builtin_preserve_field_info(p->flag_b, BPF_FIELD_LSHIFT_U64);
	res.rshift_flag_b = __builtin_preserve_field_info(p->flag_b, BPF_FIELD_RSHIFT_U64);
	res.obj_size = bpf_core_type_size(struct core_obj___local);
	res.child_id = bpf_core_type_id_kernel(struct core_child___local);
	res.obj_exists = bpf_core_type_exists(struct core_obj___local);
	res.idle = bpf_core_enum_value(enum core_state___local, CORE_IDLE___local);
	res.running = bpf_core_enum_value(enum core_state___local, CORE_RUNNING___local);
	res.done_exists = bpf_core_enum_value_exists(enum core_state___local, CORE_DONE___local);
	res.running_exists = bpf_core_enum_value_exists(enum core_state___local,
							CORE_RUNNING___local);
	return XDP_PASS;
}

SEC("xdp")
int fixture_reads(struct xdp_md *ctx)
{
	struct core_obj___local *o = (void *)buf;

	res.count = o->count;          /* widened to 8 bytes when the target's is */
	res.u_int = o->u_int;          /* through the target's anonymous members */
	res.child_b = o->child.b;
	res.arr2 = o->arr[2];
	res.flag_a = BPF_CORE_READ_BITFIELD(o, flag_a);
	res.flag_b = BPF_CORE_READ_BITFIELD(o, flag_b);
	res.flag_c = BPF_CORE_READ_BITFIELD(o, flag_c);
	res.sbits = BPF_CORE_READ_BITFIELD(o, sbits);
	if (bpf_core_field_exists(struct core_obj___v2, new_name))
		res.renamed = ((struct core_obj___v2 *)buf)->new_name;
	else
		res.renamed = ((struct core_obj___v1 *)buf)->old_name;
	if (bpf_core_field_exists(o->gone))
		res.gone = o->gone;
	else
		res.gone = 12345;
	return XDP_PASS;
}

/* Not loaded by default: reads `gone`, which target B does not have. */
SEC("xdp")
int fixture_unguarded(struct xdp_md *ctx)
{
	struct core_obj___local *p = (void *)buf;

	res.gone = p->gone;
	return XDP_PASS;
}

/* Not loaded by default: target B's sval is a wider signed integer, which a 4-byte
 * load cannot be resized to read. */
SEC("xdp")
int fixture_signed_wide(struct xdp_md *ctx)
{
	struct core_obj___local *p = (void *)buf;

	res.sval = p->sval;
	return XDP_PASS;
}

/* Not loaded by default: target B has two flavors of core_amb that disagree. */
SEC("xdp")
int fixture_ambiguous(struct xdp_md *ctx)
{
	res.amb_y = bpf_core_field_offset(struct core_amb___local, y);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
