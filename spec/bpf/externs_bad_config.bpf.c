// SPDX-License-Identifier: GPL-2.0
/* A strong .kconfig extern no kernel has: loading must fail naming it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern int CONFIG_AYAC_NO_SUCH_OPTION __kconfig;

int seen;

SEC("syscall")
int read_missing(void *ctx)
{
	seen = CONFIG_AYAC_NO_SUCH_OPTION;
	return 0;
}
