// SPDX-License-Identifier: GPL-2.0
/* Maps of the types that spec/map_spec.lua exercises from Lua, with BTF key/value
 * types (a u64 value, a struct spec_value, a struct spec_key with padding), one map without BTF
 * types (raw bytes), and an XDP program that changes them so the spec can check that
 * Lua reads what BPF wrote. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct spec_value {
	__u32 count;
	__u64 total;
	char tag[8];
};

struct spec_key {
	__u32 id;
	__u16 port; /* followed by 2 bytes of padding */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} hash_u64 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct spec_key);
	__type(value, struct spec_value);
} hash_struct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct spec_value);
} array_struct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} percpu_hash_u64 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32); /* 4 bytes: per-CPU slots are 8 apart */
} percpu_array_u32 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8);
	__type(key, __u64);
	__type(value, __u64);
} lru_u64 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__uint(key_size, 4);
	__uint(value_size, 6);
} raw_hash SEC(".maps");

/* Each run: hash_u64[1] += 1, array_struct[0] counts and totals, the running CPU's
 * percpu_array_u32[0] += 1 and percpu_hash_u64[7] += 5. */
SEC("xdp")
int bump(struct xdp_md *ctx)
{
	__u32 one = 1, zero = 0, seven = 7;
	__u64 init = 1, five = 5, *v;
	struct spec_value *sv;
	__u32 *pc;

	v = bpf_map_lookup_elem(&hash_u64, &one);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&hash_u64, &one, &init, BPF_NOEXIST);
	sv = bpf_map_lookup_elem(&array_struct, &zero);
	if (sv) {
		sv->count += 1;
		sv->total += 10;
		__builtin_memcpy(sv->tag, "bumped", 7);
	}
	pc = bpf_map_lookup_elem(&percpu_array_u32, &zero);
	if (pc)
		*pc += 1;
	v = bpf_map_lookup_elem(&percpu_hash_u64, &seven);
	if (v)
		*v += 5;
	else
		bpf_map_update_elem(&percpu_hash_u64, &seven, &five, BPF_NOEXIST);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
