// SPDX-License-Identifier: GPL-2.0
/* Types for spec/btf_dump_spec.lua: shapes whose C the BTF-to-C dumper must get right
 * (bitfields, packing, alignment padding, anonymous unions, function pointers), read
 * back from this object's BTF and compared with hand-checked text. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct dt_bits {
	unsigned int lo: 3;
	unsigned int mid: 9;
	int neg: 20;
	unsigned long long wide: 40;
	char tail;
};

struct dt_packed {
	char c;
	int i;
	short s;
} __attribute__((packed));

struct dt_aligned {
	char c;
	long l __attribute__((aligned(16)));
};

struct dt_anon {
	int kind;
	union {
		int i;
		struct {
			short lo;
			short hi;
		};
	};
};

struct dt_ops {
	int (*open)(const char *, int);
	void (*handlers[2])(void);
	char *(*name)(struct dt_ops *);
};

struct dt_packal {
	char c;
	int i;
} __attribute__((packed, aligned(4)));

union dt_wide {
	int i;
	char b[3];
} __attribute__((aligned(16)));

struct dt_more {
	char c;
	struct dt_packal pa;
	union dt_wide w;
	__int128 big;
	const char *const name;
	volatile int (*rows)[4];
	int (*(*pick)(int))(long);
	enum { DT_A = 1, DT_B = 200 } __attribute__((packed)) small;
	unsigned char flex[];
};

struct dt_all {
	struct dt_bits bits;
	struct dt_packed packed;
	struct dt_aligned aligned;
	struct dt_anon anon;
	struct dt_ops ops;
	struct dt_more *more;
};

struct dt_more dt_more;

struct dt_all dt_all;

SEC("xdp")
int dump_types(struct xdp_md *ctx)
{
	return dt_all.anon.kind ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
