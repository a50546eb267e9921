// SPDX-License-Identifier: GPL-2.0
/* A program in a section whose name means nothing to libbpf's naming scheme. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("no_such_kind/whatever")
int mystery(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
