// SPDX-License-Identifier: GPL-2.0
/* Feature probes for spec/support/kernel.lua: one do-nothing program per BTF-attached
 * kind. kernel.has("fentry") loads and attaches only its program (autoload off for
 * the others) and detaches it at once; a kernel that refuses says why. The targets are
 * the ones spec/bpf/vm_tracing.bpf.c uses. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("fentry/__task_pid_nr_ns")
int probe_fentry(void *ctx)
{
	return 0;
}

SEC("fexit/__task_pid_nr_ns")
int probe_fexit(void *ctx)
{
	return 0;
}

/* 0: the function runs as usual. */
SEC("fmod_ret/security_file_open")
int probe_fmod_ret(void *ctx)
{
	return 0;
}

SEC("lsm/file_open")
int probe_lsm(void *ctx)
{
	return 0;
}
