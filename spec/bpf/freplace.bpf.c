// SPDX-License-Identifier: GPL-2.0
/* freplace for spec/freplace_spec.lua: `target` (tc) returns what its global function
 * decide() returns, 1; `replace_decide` replaces decide() and returns 2, so a
 * test_run of target tells whether the extension is attached. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

__noinline int decide(struct __sk_buff *skb)
{
	return skb ? 1 : 0;
}

SEC("tc")
int target(struct __sk_buff *skb)
{
	return decide(skb);
}

SEC("freplace/decide")
int replace_decide(struct __sk_buff *skb)
{
	return 2;
}
