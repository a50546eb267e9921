// SPDX-License-Identifier: GPL-2.0
/* BTF sanitization (spec/sanitize_spec.lua): an object whose BTF has every kind an
 * older kernel may lack — func/func_proto (static and global), var/datasec, float,
 * decl_tag, type_tag — and programs whose results show they ran: loaded with
 * AYAC_FEATURES forcing each BTF feature off, it must behave the same. san_enum64_slot is
 * a placeholder the spec rewrites into an ENUM64 record (clang 14 emits none). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __user_ptr __attribute__((btf_type_tag("user")))

struct san_enum64_slot {
	int lo;
	int hi;
};

struct san_sample {
	double ratio;
	float scale;
	int __user_ptr *uptr;
	__u32 seen __tag("counter");
	struct san_enum64_slot kind;
} __tag("sample");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct san_sample);
} samples SEC(".maps");

const volatile __u32 factor = 3;       /* .rodata */
__u64 base = 40;                       /* .data */
__u64 result;                          /* .bss */
__u32 calls __tag("calls");            /* .bss, tagged */
struct san_enum64_slot slot;               /* .bss: becomes an enum64 variable */

static __attribute__((noinline)) __u64 twice(__u64 v __tag("value"))
{
	return v * 2;
}

__attribute__((noinline)) int global_add(int a, int b)
{
	return a + b;
}

SEC("xdp")
int run(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct san_sample *s = bpf_map_lookup_elem(&samples, &zero);

	calls++;
	result = twice(base) + global_add((int)factor, 1);
	if (s) {
		s->seen++;
		s->ratio = 0; /* no floating point in BPF; the type is what matters */
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
