/* Types for spec/codec_spec.lua and spec/btf_spec.lua. Every type is the type of a
 * global variable, so clang keeps it in the object's BTF. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

enum codec_color { CODEC_RED = 1, CODEC_GREEN = 2, CODEC_BLUE = 200 };
enum codec_neg { CODEC_NEG = -5, CODEC_POS = 7 };
enum codec_big { CODEC_BIG = 0xfedcba9876543210ULL, CODEC_SMALL = 3 };

struct codec_inner {
	__u16 a;
	__s16 b;
};

struct codec_bits {
	__u32 lo : 3;
	__u32 mid : 10;
	__s32 neg : 5;
	__u32 hi : 14;
	__u8 flag : 1;
	__u64 wide : 40;
	__s64 swide : 60;
	bool yes : 1;
	enum codec_color shade : 8;
};

struct codec_all {
	__u8 u8v;
	__s8 s8v;
	__u16 u16v;
	__s16 s16v;
	__u32 u32v;
	__s32 s32v;
	__u64 u64v;
	__s64 s64v;
	char name[16];
	__u32 arr[4];
	struct codec_inner inner;
	struct codec_inner pair[2];
	enum codec_color color;
	union {
		__u32 as_u32;
		__u8 as_bytes[4];
	};
	struct {
		__u16 x, y;
	} point;
	bool ok;
	void *ptr;
	unsigned char raw[3];
	__u32 grid[2][3];
	struct codec_bits bits;
};

union codec_union {
	__u64 whole;
	struct {
		__u32 lo, hi;
	} parts;
	char text[8];
};

typedef const volatile struct codec_inner codec_inner_t;

struct codec_all g_all;
union codec_union g_union;
struct codec_bits g_bits;
enum codec_big g_big = CODEC_BIG;
enum codec_neg g_neg = CODEC_NEG;
codec_inner_t g_inner_cv = { 1, -1 };
__u64 g_u64 = 0x8000000000000001ULL;
float g_float = 1.5f;
double g_double = -2.25;

SEC("socket")
int codec_touch(void *ctx)
{
	g_u64++;
	return g_all.u8v + g_union.parts.lo + g_bits.lo + g_big + g_neg + g_inner_cv.a;
}

char LICENSE[] SEC("license") = "GPL";
