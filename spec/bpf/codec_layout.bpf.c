// SPDX-License-Identifier: GPL-2.0
/* clang's layout for spec/codec_layout_spec.lua: the codec's encode and decode, run
 * interpreted and JIT-compiled, must give the bytes clang gives here, and read what
 * clang-compiled BPF code writes.
 *
 * struct codec_widths has a bitfield of every width (1..64) at every bit offset within
 * a byte (0..7), unsigned and signed, each in a packed struct of its own between a head
 * (s + 8 bits) and a tail (7 bits) that an encode must leave intact. g_widths_a/b/c are
 * three sets of values, from formulas the spec repeats. The rest: a struct of every
 * other kind of member (g_mixed), and bitfield structs that the programs move between
 * maps, globals and plain fields. Only opened by most specs; the programs are loaded
 * and run with test_run. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define W64(M, s) \
	M(s, 1) M(s, 2) M(s, 3) M(s, 4) M(s, 5) M(s, 6) M(s, 7) M(s, 8) \
	M(s, 9) M(s, 10) M(s, 11) M(s, 12) M(s, 13) M(s, 14) M(s, 15) M(s, 16) \
	M(s, 17) M(s, 18) M(s, 19) M(s, 20) M(s, 21) M(s, 22) M(s, 23) M(s, 24) \
	M(s, 25) M(s, 26) M(s, 27) M(s, 28) M(s, 29) M(s, 30) M(s, 31) M(s, 32) \
	M(s, 33) M(s, 34) M(s, 35) M(s, 36) M(s, 37) M(s, 38) M(s, 39) M(s, 40) \
	M(s, 41) M(s, 42) M(s, 43) M(s, 44) M(s, 45) M(s, 46) M(s, 47) M(s, 48) \
	M(s, 49) M(s, 50) M(s, 51) M(s, 52) M(s, 53) M(s, 54) M(s, 55) M(s, 56) \
	M(s, 57) M(s, 58) M(s, 59) M(s, 60) M(s, 61) M(s, 62) M(s, 63) M(s, 64)
#define SHIFTS(M) W64(M, 0) W64(M, 1) W64(M, 2) W64(M, 3) W64(M, 4) W64(M, 5) W64(M, 6) W64(M, 7)

#define FIELD(s, w)                                                                      \
	struct __attribute__((packed)) {                                                 \
		__u64 head : (s) + 8;                                                    \
		__u64 v : (w);                                                           \
		__u64 tail : 1;                                                          \
	} u##s##_##w;                                                                    \
	struct __attribute__((packed)) {                                                 \
		__u64 head : (s) + 8;                                                    \
		__s64 v : (w);                                                           \
		__u64 tail : 1;                                                          \
	} i##s##_##w;

struct codec_widths {
	SHIFTS(FIELD)
};

/* The values (the spec computes the same): K's top w bits; all ones; K's low w bits.
 * Signed: -1 - (K's top w - 1 bits); the minimum; K's top w - 1 bits. */
#define K 0x9E3779B97F4A7C15ULL
#define HEAD(s) (0xA5A5ULL >> (8 - (s)))
#define TAIL 1
#define TOP(w) (K >> (64 - (w)))
#define ONES(w) ((w) == 64 ? ~0ULL : (1ULL << ((w) & 63)) - 1)
#define LOW(w) (K & ONES(w))
#define HALF(w) ((w) == 1 ? 0 : K >> ((65 - (w)) & 63))
#define SMIN(w) ((__s64)(0ULL - (1ULL << ((w) - 1))))

#define INIT(s, w, uv, sv)                                                               \
	.u##s##_##w = { HEAD(s), uv, TAIL }, .i##s##_##w = { HEAD(s), sv, TAIL },
#define INIT_A(s, w) INIT(s, w, TOP(w), -1 - (__s64)HALF(w))
#define INIT_B(s, w) INIT(s, w, ONES(w), SMIN(w))
#define INIT_C(s, w) INIT(s, w, LOW(w), (__s64)HALF(w))

struct codec_widths g_widths_a = { SHIFTS(INIT_A) };
struct codec_widths g_widths_b = { SHIFTS(INIT_B) };
struct codec_widths g_widths_c = { SHIFTS(INIT_C) };

/* Every other kind of member, with values beyond 2^53, negative, nested, in arrays. */
enum codec_layout_color { LAYOUT_RED = 1, LAYOUT_BLUE = 200 };
enum codec_layout_sign { LAYOUT_NEG = -3, LAYOUT_POS = 5 };

struct codec_layout_inner {
	__u16 a;
	__s8 b : 5;
	__u8 c : 3;
	__s32 d;
};

struct codec_mixed {
	__u8 u8v;
	__s8 s8v;
	__u16 u16v;
	__s16 s16v;
	__u32 u32v;
	__s32 s32v;
	__u64 u64v;
	__s64 s64v;
	__u64 big : 63;
	__s64 neg : 64;
	enum codec_layout_color color;
	enum codec_layout_sign sign;
	enum codec_layout_color shade : 8;
	bool ok;
	bool yes : 1;
	char name[12];
	__u32 arr[3];
	__s16 grid[2][3];
	struct codec_layout_inner inner;
	struct codec_layout_inner list[2];
	union {
		__u32 word;
		__u8 bytes[4];
	};
	__u64 tail;
};

struct codec_mixed g_mixed = {
	.u8v = 250, .s8v = -100, .u16v = 60000, .s16v = -30000,
	.u32v = 4000000000u, .s32v = -2000000000,
	.u64v = 0xfedcba9876543210ULL, .s64v = -0x123456789abcdefLL,
	.big = 0x7edcba9876543210ULL, .neg = -0x7123456789abcdefLL,
	.color = LAYOUT_BLUE, .sign = LAYOUT_NEG, .shade = LAYOUT_BLUE,
	.ok = true, .yes = true, .name = "layout",
	.arr = { 1, 0xffffffff, 7 }, .grid = { { -1, 2, -3 }, { 4, -5, 32767 } },
	.inner = { 65535, -16, 7, -1 },
	.list = { { 1, 15, 0, 2 }, { 3, -1, 5, -2147483647 - 1 } },
	.word = 0x01020304, .tail = 0x8000000000000000ULL,
};

/* Small enough to compile in one trace: bitfields of enums (named values, signed
 * values in an enum BTF may call unsigned), of bool, of 64-bit types. */
struct codec_kinds {
	enum codec_layout_color shade : 8;
	bool yes : 1;
	enum codec_layout_sign sign : 4;
	__u64 big : 63;
	__s64 neg : 61;
	bool flag;
	enum codec_layout_sign whole;
};

struct codec_kinds g_kinds = {
	.shade = LAYOUT_BLUE, .yes = true, .sign = LAYOUT_NEG, .big = 0x7edcba9876543210ULL,
	.neg = -0x0fedcba987654321LL, .flag = true, .whole = LAYOUT_NEG,
};

/* Bitfields that cross bytes and 64-bit units, as a map key and value and a global;
 * the programs copy them to and from plain fields. */
struct codec_flags {
	__u64 id : 40;
	__s64 delta : 60;
	__u32 kind : 3;
	__s32 level : 7;
	bool on : 1;
	enum codec_layout_color shade : 8;
	__s64 wide : 58;
};

struct codec_plain {
	__u64 id;
	__s64 delta;
	__u32 kind;
	__s32 level;
	__u32 on;
	__u32 shade;
	__s64 wide;
};

struct codec_flags g_flags;
struct codec_plain g_plain;
__u32 g_key_id;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct codec_flags);
	__type(value, struct codec_flags);
} flags_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct codec_flags);
} flags_percpu SEC(".maps");

/* 0: g_flags, 1: flags_hash[g_flags], 2: the running CPU's flags_percpu[0]. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, struct codec_plain);
} plain_out SEC(".maps");

static __always_inline void to_plain(const struct codec_flags *f, struct codec_plain *p)
{
	p->id = f->id;
	p->delta = f->delta;
	p->kind = f->kind;
	p->level = f->level;
	p->on = f->on;
	p->shade = f->shade;
	p->wide = f->wide;
}

static __always_inline void put(__u32 slot, const struct codec_flags *f)
{
	struct codec_plain p = {};

	to_plain(f, &p);
	bpf_map_update_elem(&plain_out, &slot, &p, BPF_ANY);
}

/* What the maps and globals hold, as clang reads the bitfields. */
SEC("socket")
int flags_to_plain(void *ctx)
{
	struct codec_flags key = g_flags, *v;
	__u32 zero = 0;

	put(0, &g_flags);
	v = bpf_map_lookup_elem(&flags_hash, &key);
	if (v)
		put(1, v);
	v = bpf_map_lookup_elem(&flags_percpu, &zero);
	if (v)
		put(2, v);
	return 0;
}

/* g_flags from g_plain, as clang writes the bitfields. */
SEC("socket")
int plain_to_flags(void *ctx)
{
	struct codec_flags f = {};

	f.id = g_plain.id;
	f.delta = g_plain.delta;
	f.kind = g_plain.kind;
	f.level = g_plain.level;
	f.on = g_plain.on;
	f.shade = g_plain.shade;
	f.wide = g_plain.wide;
	g_flags = f;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
