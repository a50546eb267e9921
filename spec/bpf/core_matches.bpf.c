// SPDX-License-Identifier: GPL-2.0
/* bpf_core_type_matches() for spec/core_spec.lua. clang 14 cannot emit TYPE_MATCHES
 * relocations, so this object uses bpf_core_type_exists() and the spec turns every
 * TYPE_EXISTS record of its .BTF.ext into TYPE_MATCHES before opening it; loaded as
 * compiled, it checks TYPE_EXISTS against the same targets (core_target_*.bpf.c). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct core_child___m {
	int a;
};

/* Target A's layout exactly (b: its core_u32 is an unsigned int). */
struct core_match___same {
	int a;
	unsigned int b;
	struct core_child___m *c;
};

/* A subset of both targets' members. */
struct core_match___subset {
	int a;
};

/* b signed: neither target's b. */
struct core_match___signs {
	int a;
	int b;
};

struct ayac_nomatch___m {
	int a;
};

__u64 m_same, m_subset, m_signs, m_missing;

SEC("xdp")
int matches(struct xdp_md *ctx)
{
	m_same = bpf_core_type_exists(struct core_match___same);
	m_subset = bpf_core_type_exists(struct core_match___subset);
	m_signs = bpf_core_type_exists(struct core_match___signs);
	m_missing = bpf_core_type_exists(struct ayac_nomatch___m);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
