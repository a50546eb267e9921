/* ayac/hist.bpf.h: histograms in BPF programs, numbered the way ayac.hist and
 * ayac.lhist print them (bpftrace's hist() and lhist() buckets).
 *
 * Include after <bpf/bpf_helpers.h> (and vmlinux.h or <linux/bpf.h>):
 *
 *   #include <ayac/hist.bpf.h>
 *   AYAC_HIST(latency);                    // @latency = hist(v)
 *   AYAC_LHIST(sizes, 0, 1000, 100);       // @sizes = lhist(v, 0, 1000, 100)
 *   struct comm_key { char comm[16]; ayac_hist_slot_t slot; };
 *   AYAC_HIST_KEYED(by_comm, struct comm_key, 10240);  // @by_comm[comm] = hist(v)
 *   ...
 *   latency_add(delta_ns);
 *   sizes_add(bytes);
 *   struct comm_key k = {};
 *   bpf_get_current_comm(k.comm, sizeof(k.comm));
 *   by_comm_add(&k, delta_ns);             // fills k.slot, counts one
 *
 * Log2 buckets (ayac_hist_slot): 0 holds negative values, 1 holds 0, 2 holds 1, and
 * bucket n >= 3 holds [2^(n-2), 2^(n-1)); 66 buckets cover every 64-bit value.
 * Linear buckets (ayac_lhist_slot): 0 holds values below min, 1..N hold
 * [min + (i-1)*step, min + i*step) with N = (max - min) / step, and N + 1 holds
 * values >= max.
 *
 * The key types ayac_hist_slot_t and ayac_lhist_slot_t mark a map (or the member of a
 * struct key) as a histogram: ayac.print_maps prints such maps as histograms, one per
 * value of the other key members. AYAC_LHIST also keeps min, max and step in .rodata
 * (ayac_lhist_<name>), where the printer finds them. */
#ifndef AYAC_HIST_BPF_H
#define AYAC_HIST_BPF_H

#define AYAC_HIST_SLOTS 66

typedef __u32 ayac_hist_slot_t;
typedef __u32 ayac_lhist_slot_t;

struct ayac_lhist_params {
	__s64 min, max, step;
};

/* floor(log2(x)) for x > 0, without loops (the verifier sees straight code). */
static __always_inline __u32 ayac_log2_u64(__u64 x)
{
	__u32 n = 0;

	if (x >> 32) { x >>= 32; n += 32; }
	if (x >> 16) { x >>= 16; n += 16; }
	if (x >> 8) { x >>= 8; n += 8; }
	if (x >> 4) { x >>= 4; n += 4; }
	if (x >> 2) { x >>= 2; n += 2; }
	if (x >> 1) { n += 1; }
	return n;
}

/* The log2 bucket of a signed value (bpftrace's hist()). */
static __always_inline __u32 ayac_hist_slot(__s64 v)
{
	if (v < 0)
		return 0;
	if (v == 0)
		return 1;
	return ayac_log2_u64((__u64)v) + 2;
}

/* The log2 bucket of an unsigned value (nothing is negative: 2^63 and up go to 65). */
static __always_inline __u32 ayac_hist_slot_u(__u64 v)
{
	return v ? ayac_log2_u64(v) + 2 : 1;
}

/* The linear bucket of v (bpftrace's lhist()); step > 0 and max > min. */
static __always_inline __u32 ayac_lhist_slot(__s64 v, __s64 min, __s64 max, __s64 step)
{
	if (v < min)
		return 0;
	if (v >= max)
		return (__u32)((__u64)(max - min) / (__u64)step) + 1;
	return (__u32)((__u64)(v - min) / (__u64)step) + 1;
}

/* Count one in slot of an array (or per-CPU array) histogram. */
static __always_inline void ayac_hist_count(void *map, __u32 slot)
{
	__u64 *c = bpf_map_lookup_elem(map, &slot);

	if (c)
		__sync_fetch_and_add(c, 1);
}

/* Count one for key (slot already filled in) of a hash histogram. */
static __always_inline void ayac_hist_count_key(void *map, const void *key)
{
	__u64 one = 1, *c = bpf_map_lookup_elem(map, key);

	if (c) {
		__sync_fetch_and_add(c, 1);
		return;
	}
	if (bpf_map_update_elem(map, key, &one, BPF_NOEXIST) != 0) {
		c = bpf_map_lookup_elem(map, key); /* another CPU created it meanwhile */
		if (c)
			__sync_fetch_and_add(c, 1);
	}
}

#define AYAC_HIST_ARRAY_(name, maptype, slot_t, slots)                                  \
	struct {                                                                         \
		__uint(type, maptype);                                                   \
		__uint(max_entries, slots);                                              \
		__type(key, slot_t);                                                     \
		__type(value, __u64);                                                    \
	} name SEC(".maps")

/* @name = hist(v): an array of AYAC_HIST_SLOTS counters, and name_add(v). */
#define AYAC_HIST(name)                                                                  \
	AYAC_HIST_ARRAY_(name, BPF_MAP_TYPE_ARRAY, ayac_hist_slot_t, AYAC_HIST_SLOTS);  \
	static __always_inline void name##_add(__s64 v)                                  \
	{                                                                                \
		ayac_hist_count(&name, ayac_hist_slot(v));                               \
	}

/* The same with one array per CPU (no atomic add; ayac.hist sums the CPUs). */
#define AYAC_HIST_PERCPU(name)                                                           \
	AYAC_HIST_ARRAY_(name, BPF_MAP_TYPE_PERCPU_ARRAY, ayac_hist_slot_t, AYAC_HIST_SLOTS); \
	static __always_inline void name##_add(__s64 v)                                  \
	{                                                                                \
		ayac_hist_count(&name, ayac_hist_slot(v));                               \
	}

/* @name = lhist(v, min, max, step): (max - min) / step + 2 counters, and name_add(v). */
#define AYAC_LHIST(name, min, max, step)                                                 \
	AYAC_HIST_ARRAY_(name, BPF_MAP_TYPE_ARRAY, ayac_lhist_slot_t,                    \
			 ((max) - (min)) / (step) + 2);                                   \
	const volatile struct ayac_lhist_params ayac_lhist_##name = { (min), (max), (step) }; \
	static __always_inline void name##_add(__s64 v)                                  \
	{                                                                                \
		ayac_hist_count(&name, ayac_lhist_slot(v, (min), (max), (step)));        \
	}

/* @name[key] = hist(v): a hash map whose key struct has an ayac_hist_slot_t member
 * named slot; name_add(&key, v) sets key.slot and counts one. max_entries counts
 * (key, bucket) pairs: about 20 buckets per key in practice. */
#define AYAC_HIST_KEYED(name, key_type, nentries)                                        \
	struct {                                                                         \
		__uint(type, BPF_MAP_TYPE_HASH);                                         \
		__uint(max_entries, nentries);                                           \
		__type(key, key_type);                                                   \
		__type(value, __u64);                                                    \
	} name SEC(".maps");                                                             \
	static __always_inline void name##_add(key_type *key, __s64 v)                   \
	{                                                                                \
		key->slot = ayac_hist_slot(v);                                           \
		ayac_hist_count_key(&name, key);                                         \
	}

#endif
