/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Log2 histograms on the BPF side, in the layout ayac's readers expect
 * (lua/ayac/prometheus.lua, ayac.hist): an array map indexed by slot, one u64 count
 * per slot, where slot k counts the values whose bit length is k — slot 0 holds 0,
 * slot 1 holds 1, slot 2 holds 2..3, slot k holds 2^(k-1) .. 2^k - 1. The upper bound
 * of slot k is therefore 2^k - 1, exactly, for integer values.
 *
 *   struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, AYAC_HIST_SLOTS);
 *            __type(key, __u32); __type(value, __u64); } lat SEC(".maps");
 *   ayac_hist_add(&lat, delta_ns);
 */
#ifndef AYAC_HIST_BPF_H
#define AYAC_HIST_BPF_H

#include <bpf/bpf_helpers.h>

/* A u64 has at most 64 significant bits: slots 0..64. */
#define AYAC_HIST_SLOTS 65

/* The bit length of v, without loops (the verifier sees straight-line code). */
static __always_inline __u32 ayac_hist_slot(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { v >>= 1; r += 1; }
	return r + (__u32)v;
}

/* Counts v in its slot of an array map of AYAC_HIST_SLOTS u64 (per-CPU or shared). */
static __always_inline void ayac_hist_add(void *map, __u64 v)
{
	__u32 slot = ayac_hist_slot(v);
	__u64 *n = bpf_map_lookup_elem(map, &slot);

	if (n)
		__sync_fetch_and_add(n, 1);
}

#endif
