// SPDX-License-Identifier: GPL-2.0
/* A .kconfig extern of a type libbpf does not support (a struct): open must refuse it,
 * naming it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct not_a_config { int a, b; };
extern struct not_a_config CONFIG_AYAC_STRUCT __kconfig;

int seen;

SEC("syscall")
int read_struct(void *ctx)
{
	seen = CONFIG_AYAC_STRUCT.a;
	return 0;
}
