// SPDX-License-Identifier: GPL-2.0
/* A lirc_mode2 program for spec/net_sock_spec.lua's error paths (kernels without
 * CONFIG_BPF_LIRC_MODE2 cannot load it; the attach errors come first). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("lirc_mode2")
int lirc_decode(unsigned int *sample)
{
	return 0;
}
