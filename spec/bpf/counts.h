/* Shared by the attach specs' programs: what they count and for whom. The includer
 * defines NR_SLOTS; Lua reads `counts` and sets target_tgid through `globals`. */
#ifndef AYAC_SPEC_COUNTS_H
#define AYAC_SPEC_COUNTS_H

/* x86-64 struct pt_regs up to di, read by hand: vmlinux.h's would make CO-RE
 * relocations, and these programs test attaching, not CO-RE. */
struct regs_x86_64 {
	__u64 r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di;
};

const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline void add(__u32 slot, __u64 v)
{
	__u64 *p = bpf_map_lookup_elem(&counts, &slot);

	if (p)
		__sync_fetch_and_add(p, v);
}

static __always_inline bool is_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

#endif
