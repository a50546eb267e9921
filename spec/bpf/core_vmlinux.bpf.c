// SPDX-License-Identifier: GPL-2.0
/* CO-RE against this kernel's vmlinux BTF, for spec/core_spec.lua. The local types are
 * ___flavors of kernel types with another layout (fields reordered, a field the kernel
 * has inside an anonymous union, bitfields at other bits, fields the kernel lacks, an
 * enum with other values); test_run writes the relocated values into `res`, and the
 * spec compares them with what ayac.btf.vmlinux() says. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct sk_buff___mine {
	__u32 mark;            /* the kernel's is inside an anonymous union */
	__u8 fclone : 2;       /* the kernel's bitfields sit elsewhere */
	__u8 cloned : 1;
	__u8 pp_recycle : 1;
	unsigned int len;
	int ayac_missing;      /* the kernel has no such field */
} __attribute__((preserve_access_index));

struct task_struct___mine {
	int tgid;
	int pid;
	unsigned int flags;
	char comm[16];
} __attribute__((preserve_access_index));

/* The field renamed in 5.14: `long state` before, `unsigned int __state` after. */
struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

struct task_struct___new {
	unsigned int __state;
} __attribute__((preserve_access_index));

struct ayac_no_such_type___mine {
	int x;
} __attribute__((preserve_access_index));

/* A type only a kernel module has: the spec's stand-in module (AYAC_MODULE_BTF_DIR). */
struct ayac_modtype___local {
	int val;
} __attribute__((preserve_access_index));

enum bpf_map_type___mine {
	BPF_MAP_TYPE_HASH___mine = 100,
	BPF_MAP_TYPE_RINGBUF___mine = 101,
	AYAC_MAP_TYPE_NONE___mine = 102,   /* the kernel has no such value */
};

struct core_vmlinux_res {
	__u64 off_pid, off_tgid, off_flags, off_comm3, off_mark, off_len;
	__u64 size_pid, size_comm, size_len;
	__u64 has_pid, has_missing, has_old_state, has_new_state;
	__u64 signed_pid, signed_flags;
	__u64 task_size, task_exists, nope_exists, task_id, task_local_id, nope_id;
	__u64 ringbuf, hash, ringbuf_exists, none_exists;
	__u64 len, mark, fclone, cloned, pp_recycle, state;
	__u64 mod_exists, mod_id, mod_off;
};

struct core_vmlinux_res res;
__u8 skb[256];   /* read through struct sk_buff___mine with the kernel's offsets */

SEC("xdp")
int vmlinux_values(struct xdp_md *ctx)
{
	struct task_struct___mine *t = (void *)0;

	res.off_pid = bpf_core_field_offset(struct task_struct___mine, pid);
	res.off_tgid = bpf_core_field_offset(struct task_struct___mine, tgid);
	res.off_flags = bpf_core_field_offset(struct task_struct___mine, flags);
	res.off_comm3 = bpf_core_field_offset(t->comm[3]);
	res.off_mark = bpf_core_field_offset(struct sk_buff___mine, mark);
	res.off_len = bpf_core_field_offset(struct sk_buff___mine, len);
	res.size_pid = bpf_core_field_size(struct task_struct___mine, pid);
	res.size_comm = bpf_core_field_size(struct task_struct___mine, comm);
	res.size_len = bpf_core_field_size(struct sk_buff___mine, len);
	res.has_pid = bpf_core_field_exists(struct task_struct___mine, pid);
	res.has_missing = bpf_core_field_exists(struct sk_buff___mine, ayac_missing);
	res.has_old_state = bpf_core_field_exists(struct task_struct___old, state);
	res.has_new_state = bpf_core_field_exists(struct task_struct___new, __state);
	res.signed_pid = __builtin_preserve_field_info(t->pid, BPF_FIELD_SIGNED);
	res.signed_flags = __builtin_preserve_field_info(t->flags, BPF_FIELD_SIGNED);
	res.task_size = bpf_core_type_size(struct task_struct___mine);
	res.task_exists = bpf_core_type_exists(struct task_struct___mine);
	res.nope_exists = bpf_core_type_exists(struct ayac_no_such_type___mine);
	res.task_id = bpf_core_type_id_kernel(struct task_struct___mine);
	res.task_local_id = bpf_core_type_id_local(struct task_struct___mine);
	res.nope_id = bpf_core_type_id_kernel(struct ayac_no_such_type___mine);
	res.ringbuf = bpf_core_enum_value(enum bpf_map_type___mine, BPF_MAP_TYPE_RINGBUF___mine);
	res.hash = bpf_core_enum_value(enum bpf_map_type___mine, BPF_MAP_TYPE_HASH___mine);
	res.ringbuf_exists = bpf_core_enum_value_exists(enum bpf_map_type___mine,
							BPF_MAP_TYPE_RINGBUF___mine);
	res.none_exists = bpf_core_enum_value_exists(enum bpf_map_type___mine,
						     AYAC_MAP_TYPE_NONE___mine);
	return XDP_PASS;
}

/* Candidates that only kernel module BTF has (vmlinux has none by that name). */
SEC("xdp")
int vmlinux_module(struct xdp_md *ctx)
{
	res.mod_exists = bpf_core_type_exists(struct ayac_modtype___local);
	res.mod_id = bpf_core_type_id_kernel(struct ayac_modtype___local);
	if (bpf_core_field_exists(struct ayac_modtype___local, val))
		res.mod_off = bpf_core_field_offset(struct ayac_modtype___local, val);
	return XDP_PASS;
}

/* Loads and bitfield reads through the kernel's layout of struct sk_buff. */
SEC("xdp")
int vmlinux_reads(struct xdp_md *ctx)
{
	struct sk_buff___mine *s = (void *)skb;

	res.len = s->len;
	res.mark = s->mark;
	res.fclone = BPF_CORE_READ_BITFIELD(s, fclone);
	res.cloned = BPF_CORE_READ_BITFIELD(s, cloned);
	res.pp_recycle = BPF_CORE_READ_BITFIELD(s, pp_recycle);
	return XDP_PASS;
}

/* A field the kernel renamed, read only where it exists: the other read is poisoned
 * and dead. */
SEC("xdp")
int vmlinux_guarded(struct xdp_md *ctx)
{
	if (bpf_core_field_exists(struct task_struct___old, state))
		res.state = ((struct task_struct___old *)skb)->state;
	else
		res.state = 7;
	return XDP_PASS;
}

/* Not loaded by default: reads a field this kernel does not have, unconditionally. */
SEC("xdp")
int vmlinux_unguarded(struct xdp_md *ctx)
{
	res.state = ((struct task_struct___old *)skb)->state;
	return XDP_PASS;
}

/* Not loaded by default: the value of an enumerator this kernel does not have (an
 * ld_imm64 relocation). */
SEC("xdp")
int vmlinux_enum_unguarded(struct xdp_md *ctx)
{
	res.ringbuf = bpf_core_enum_value(enum bpf_map_type___mine, AYAC_MAP_TYPE_NONE___mine);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
