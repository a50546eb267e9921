// SPDX-License-Identifier: GPL-2.0
/* A data section holding a spin lock (.data.lock), for spec/loader_details_spec.lua:
 * the kernel will not mmap such a map, so its globals are read and written through
 * the map. (Spin locks in global data: Linux 6.2; and not in sleepable programs
 * before 6.x, hence a socket filter.) */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct bpf_spin_lock glock SEC(".data.lock");
long locked_total SEC(".data.lock");

SEC("socket")
int lock_add(struct __sk_buff *skb)
{
	bpf_spin_lock(&glock);
	locked_total += 5;
	bpf_spin_unlock(&glock);
	return 1;
}
