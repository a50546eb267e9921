// SPDX-License-Identifier: GPL-2.0
/* uprobe.session for spec/multi_spec.lua (Linux 6.13+): one program for entry and
 * return of each call; bpf_session_is_return() tells which, and returning 1 at entry
 * would skip the return run. Slot 0 counts entries, slot 1 returns. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define NR_SLOTS 2
#include "counts.h"

extern bool bpf_session_is_return(void) __ksym;

SEC("uprobe.session")
int up_session(struct pt_regs *ctx)
{
	add(bpf_session_is_return() ? 1 : 0, 1);
	return 0;
}
