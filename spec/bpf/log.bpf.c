// SPDX-License-Identifier: GPL-2.0
/* ayac/log.bpf.h for spec/log_spec.lua: one call at each level, every argument kind
 * and display hint, run with test_run. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <ayac/log.bpf.h>

__u32 nr_logs;  /* log_many: how many info records */

SEC("xdp")
int log_all(struct xdp_md *ctx)
{
	char comm[16] = "ayac-log";
	__u8 mac[6] = { 0x00, 0x1b, 0x21, 0xab, 0xcd, 0xef };
	__u8 ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
	__u32 saddr = bpf_htonl(0xc0a80001); /* 192.168.0.1 */
	__s8 small = -1;
	__u16 port = 8080;
	void *ptr = (void *)0xffff888012345678UL;

	ayac_error(ctx, "error %d", -5);
	ayac_warn(ctx, "warn %u %x %X %o", 42u, 255u, 0xabcu, 8);
	ayac_info(ctx, "info %s and %s, %c%c", comm, "literal", 'o', 'k');
	ayac_debug(ctx, "debug %pI4 %pI6 %pI6c %pM port %u", saddr, ip6, ip6, mac, port);
	ayac_trace(ctx, "trace %p %pe %d %llu %lld %x", ptr, -2, small,
		   0xffffffffffffffffULL, -9000000000000000000LL, small);
	ayac_info(ctx, "widths [%5d] [%-5d] [%05x] [%.3s] [%+d] %% done", 42, 42, 0xbeef, comm, 7);
	ayac_info(ctx, "no args");
	ayac_info(ctx, "hex bytes %x", mac);
	return XDP_PASS;
}

static long log_one(__u32 i, void *ctx)
{
	ayac_info(ctx, "record %u", i);
	return 0;
}

SEC("xdp")
int log_many(struct xdp_md *ctx)
{
	bpf_loop(nr_logs, log_one, NULL, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
