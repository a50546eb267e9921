/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* ayac/log.bpf.h: logging from BPF programs, read and formatted by ayac.logger in Lua
 * (what aya-log is to Aya).
 *
 *   #include "vmlinux.h"              (or <linux/bpf.h> and <linux/types.h>)
 *   #include <bpf/bpf_helpers.h>
 *   #include <ayac/log.bpf.h>
 *
 *   ayac_info(ctx, "xdp: %u bytes from %pI4 port %u", len, saddr, bpf_ntohs(port));
 *   ayac_error(ctx, "lookup failed: %pe", err);
 *
 * Levels: ayac_error, ayac_warn, ayac_info, ayac_debug, ayac_trace (ayac_log(ctx,
 * level, fmt, ...) for a level in a variable). The format is a string literal with
 * printf conversions (%d %i %u %x %X %o %c %s %p %%, flags, width, precision; length
 * modifiers are accepted and ignored: each argument carries its own type and size)
 * and these display hints, after the kernel's printk:
 *
 *   %pI4  IPv4 address: a __be32 (or __u8[4])      %pI6  IPv6 address: a __u8[16]
 *   %pM   MAC address: a __u8[6]                   %pe   errno: -2 prints -ENOENT
 *   %x    hex: integers, and arrays as hex bytes   %p    pointer, 0x...
 *
 * Arguments (up to 10): integers of any size and signedness, pointers, strings
 * (char * read with bpf_probe_read_kernel_str, AYAC_USTR(p) for user memory, at most
 * AYAC_LOG_STR_MAX bytes), and arrays up to 256 bytes (copied as they are, e.g. a
 * char comm[16] or a __u8 addr[16]). Each record is typed: the format text, then for
 * each argument its kind, size and value.
 *
 * Filtering: a call whose level is above the .rodata global ayac_log_level costs one
 * comparison, and none at all once the verifier knows the value: the loader sets it
 * before load (ayac.logger on an object not loaded yet, or the `globals` load option).
 * The default is AYAC_LOG_LEVEL (info unless defined before the include).
 *
 * Records go through the ring buffer map ayac_log_ring (AYAC_LOG_RINGBUF_SIZE bytes);
 * a record that does not fit is counted in the .bss global ayac_log_dropped, which
 * ayac.logger reports. One object per program file: the header defines these globals.
 */
#ifndef AYAC_LOG_BPF_H
#define AYAC_LOG_BPF_H

#include <bpf/bpf_helpers.h>

enum ayac_log_level_num {
	AYAC_LOG_OFF = 0,
	AYAC_LOG_ERROR = 1,
	AYAC_LOG_WARN = 2,
	AYAC_LOG_INFO = 3,
	AYAC_LOG_DEBUG = 4,
	AYAC_LOG_TRACE = 5,
};

#ifndef AYAC_LOG_LEVEL
#define AYAC_LOG_LEVEL AYAC_LOG_INFO
#endif
#ifndef AYAC_LOG_RINGBUF_SIZE
#define AYAC_LOG_RINGBUF_SIZE (256 * 1024)
#endif
#ifndef AYAC_LOG_STR_MAX
#define AYAC_LOG_STR_MAX 64 /* a multiple of 8 */
#endif

/* The record layout ayac.logger reads (version 1). Little fields first, all 8-byte
 * aligned: a 32-byte header, the format text padded to 8, then per argument an 8-byte
 * struct ayac_log_arg and its value in `slot` bytes. */
#define AYAC_LOG_VERSION 1

struct ayac_log_hdr {
	__u8 version;
	__u8 level;
	__u8 nargs;
	__u8 flags;
	__u16 fmt_len;  /* bytes of the format text, without a NUL */
	__u16 size;     /* bytes of the whole record */
	__u32 line;     /* __LINE__ of the call */
	__u32 cpu;
	__u32 tgid;     /* 0 with AYAC_LOG_NO_TASK */
	__u32 pid;
	__u64 ts_ns;    /* bpf_ktime_get_ns */
};

enum ayac_log_arg_type {
	AYAC_LOG_ARG_SIGNED = 1,   /* value: __s64, isize: the C type's size */
	AYAC_LOG_ARG_UNSIGNED = 2, /* value: __u64, isize as above */
	AYAC_LOG_ARG_POINTER = 3,  /* value: __u64 */
	AYAC_LOG_ARG_STRING = 4,   /* value: len bytes (no NUL); flags 1: unreadable */
	AYAC_LOG_ARG_BYTES = 5,    /* value: len bytes of an array */
};

struct ayac_log_arg {
	__u8 type;
	__u8 isize;
	__u16 len;   /* meaningful bytes of the value */
	__u16 slot;  /* bytes the value occupies (8-aligned) */
	__u16 flags;
};

/* For a char * into user memory: ayac_info(ctx, "open %s", AYAC_USTR(path)). */
struct ayac_log_ustr;
#define AYAC_USTR(p) ((const struct ayac_log_ustr *)(unsigned long)(p))

const volatile __u32 ayac_log_level = AYAC_LOG_LEVEL;
__u64 ayac_log_dropped = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, AYAC_LOG_RINGBUF_SIZE);
} ayac_log_ring SEC(".maps");

/* ---- argument classification, all compile-time constants ---------------------------- */

#define AYAC__ALIGN8(n) (((n) + 7) & ~7)
/* x + 0 decays an array to a pointer and leaves a pointer a pointer. */
#define AYAC__IS_ARRAY(x)                                                                  \
	(__builtin_classify_type((x) + 0) == 5 /* pointer */ &&                            \
	 !__builtin_types_compatible_p(__typeof__(x), __typeof__((x) + 0)))
#define AYAC__IS_USTR(x)                                                                   \
	(!AYAC__IS_ARRAY(x) &&                                                             \
	 __builtin_types_compatible_p(__typeof__((x) + 0), const struct ayac_log_ustr *))
#define AYAC__IS_STR(x)                                                                    \
	(!AYAC__IS_ARRAY(x) &&                                                             \
	 (__builtin_types_compatible_p(__typeof__((x) + 0), char *) ||                     \
	  __builtin_types_compatible_p(__typeof__((x) + 0), const char *)))
#define AYAC__IS_PTR(x) (__builtin_classify_type((x) + 0) == 5)
#define AYAC__IS_SIGNED(x)                                                                 \
	_Generic((x), signed char: 1, short: 1, int: 1, long: 1, long long: 1,             \
		 char: ((char)-1 < 0), default: 0)
/* Bytes of the argument's value in the record. */
#define AYAC__VSIZE(x)                                                                     \
	(AYAC__IS_ARRAY(x) ? AYAC__ALIGN8(sizeof(x)) :                                     \
	 (AYAC__IS_STR(x) || AYAC__IS_USTR(x)) ? AYAC_LOG_STR_MAX : 8)
#define AYAC__SLOT(x) (8 + AYAC__VSIZE(x))
#define AYAC__ARGHDR(type, isize, len, slot, flags)                                        \
	((__u64)(type) | (__u64)(isize) << 8 | (__u64)(len) << 16 | (__u64)(slot) << 32 |  \
	 (__u64)(flags) << 48)

/* One argument at byte off of the record. Only the branch for x's kind is compiled. */
#define AYAC__PUT(rec, off, x)                                                             \
	do {                                                                               \
		__u64 *__h = (__u64 *)((__u8 *)(rec) + (off));                             \
		void *__v = (__u8 *)(rec) + (off) + 8;                                     \
		_Static_assert(!AYAC__IS_ARRAY(x) || sizeof(x) <= 256,                     \
			       "ayac log: arrays of at most 256 bytes");                   \
		if (AYAC__IS_ARRAY(x)) {                                                   \
			*__h = AYAC__ARGHDR(AYAC_LOG_ARG_BYTES, 1, sizeof(x), AYAC__VSIZE(x), 0); \
			__builtin_memcpy(__v, (const void *)(unsigned long)(x), sizeof(x)); \
		} else if (AYAC__IS_STR(x) || AYAC__IS_USTR(x)) {                          \
			long __n = AYAC__IS_USTR(x) ?                                      \
				bpf_probe_read_user_str(__v, AYAC_LOG_STR_MAX,             \
							(const void *)(unsigned long)(x)) : \
				bpf_probe_read_kernel_str(__v, AYAC_LOG_STR_MAX,           \
							  (const void *)(unsigned long)(x)); \
			*__h = AYAC__ARGHDR(AYAC_LOG_ARG_STRING, 1,                        \
					    __n > 0 ? (__u16)(__n - 1) : 0,                \
					    AYAC_LOG_STR_MAX, __n < 0);                    \
		} else {                                                                   \
			*__h = AYAC__ARGHDR(AYAC__IS_PTR(x) ? AYAC_LOG_ARG_POINTER :       \
					    AYAC__IS_SIGNED(x) ? AYAC_LOG_ARG_SIGNED :     \
					    AYAC_LOG_ARG_UNSIGNED, sizeof(x), 8, 8, 0);    \
			*(__u64 *)__v = AYAC__IS_SIGNED(x) ? (__u64)(__s64)(x) :           \
					(__u64)(unsigned long)(x);                         \
		}                                                                          \
	} while (0)

/* Up to ten arguments: their total size and their stores, at offsets fixed at compile
 * time (the verifier sees constant offsets into the reserved record). */
#define AYAC__SZ0() 0
#define AYAC__SZ1(a) AYAC__SLOT(a)
#define AYAC__SZ2(a, ...) (AYAC__SLOT(a) + AYAC__SZ1(__VA_ARGS__))
#define AYAC__SZ3(a, ...) (AYAC__SLOT(a) + AYAC__SZ2(__VA_ARGS__))
#define AYAC__SZ4(a, ...) (AYAC__SLOT(a) + AYAC__SZ3(__VA_ARGS__))
#define AYAC__SZ5(a, ...) (AYAC__SLOT(a) + AYAC__SZ4(__VA_ARGS__))
#define AYAC__SZ6(a, ...) (AYAC__SLOT(a) + AYAC__SZ5(__VA_ARGS__))
#define AYAC__SZ7(a, ...) (AYAC__SLOT(a) + AYAC__SZ6(__VA_ARGS__))
#define AYAC__SZ8(a, ...) (AYAC__SLOT(a) + AYAC__SZ7(__VA_ARGS__))
#define AYAC__SZ9(a, ...) (AYAC__SLOT(a) + AYAC__SZ8(__VA_ARGS__))
#define AYAC__SZ10(a, ...) (AYAC__SLOT(a) + AYAC__SZ9(__VA_ARGS__))

#define AYAC__PUT0(r, o)
#define AYAC__PUT1(r, o, a) AYAC__PUT(r, o, a)
#define AYAC__PUT2(r, o, a, ...) AYAC__PUT(r, o, a); AYAC__PUT1(r, (o) + AYAC__SLOT(a), __VA_ARGS__)
#define AYAC__PUT3(r, o, a, ...) AYAC__PUT(r, o, a); AYAC__PUT2(r, (o) + AYAC__SLOT(a), __VA_ARGS__)
#define AYAC__PUT4(r, o, a, ...) AYAC__PUT(r, o, a); AYAC__PUT3(r, (o) + AYAC__SLOT(a), __VA_ARGS__)
#define AYAC__PUT5(r, o, a, ...) AYAC__PUT(r, o, a); AYAC__PUT4(r, (o) + AYAC__SLOT(a), __VA_ARGS__)
#define AYAC__PUT6(r, o, a, ...) AYAC__PUT(r, o, a); AYAC__PUT5(r, (o) + AYAC__SLOT(a), __VA_ARGS__)
#define AYAC__PUT7(r, o, a, ...) AYAC__PUT(r, o, a); AYAC__PUT6(r, (o) + AYAC__SLOT(a), __VA_ARGS__)
#define AYAC__PUT8(r, o, a, ...) AYAC__PUT(r, o, a); AYAC__PUT7(r, (o) + AYAC__SLOT(a), __VA_ARGS__)
#define AYAC__PUT9(r, o, a, ...) AYAC__PUT(r, o, a); AYAC__PUT8(r, (o) + AYAC__SLOT(a), __VA_ARGS__)
#define AYAC__PUT10(r, o, a, ...) AYAC__PUT(r, o, a); AYAC__PUT9(r, (o) + AYAC__SLOT(a), __VA_ARGS__)

#define AYAC__NARGS(...) AYAC__NARGS_(_0, ##__VA_ARGS__, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define AYAC__NARGS_(_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, n, ...) n
#define AYAC__CAT(a, b) AYAC__CAT_(a, b)
#define AYAC__CAT_(a, b) a##b

#ifdef AYAC_LOG_NO_TASK
#define AYAC__TASK() 0
#else
#define AYAC__TASK() bpf_get_current_pid_tgid()
#endif

/* ayac_log(ctx, level, "format", args...): ctx is the program's context (kept for
 * the same call shape as aya-log's; the ring buffer does not need it). */
#define ayac_log(ctx, lvl, fmt, ...)                                                       \
	do {                                                                               \
		const __u32 __lvl = (lvl);                                                 \
		(void)(ctx);                                                               \
		if (__lvl <= ayac_log_level && __lvl != AYAC_LOG_OFF) {                    \
			enum { __fl = sizeof("" fmt) - 1,                                  \
			       __at = 32 + AYAC__ALIGN8(sizeof("" fmt) - 1) };             \
			enum { __sz = __at + AYAC__CAT(AYAC__SZ, AYAC__NARGS(__VA_ARGS__))( \
				       __VA_ARGS__) };                                     \
			_Static_assert(__sz <= 0xffff, "ayac log: record too large");      \
			__u8 *__r = bpf_ringbuf_reserve(&ayac_log_ring, __sz, 0);          \
			if (!__r) {                                                        \
				__sync_fetch_and_add(&ayac_log_dropped, 1);                \
			} else {                                                           \
				struct ayac_log_hdr *__hd = (void *)__r;                   \
				__u64 __t = AYAC__TASK();                                  \
				__hd->version = AYAC_LOG_VERSION;                          \
				__hd->level = (__u8)__lvl;                                 \
				__hd->nargs = AYAC__NARGS(__VA_ARGS__);                    \
				__hd->flags = 0;                                           \
				__hd->fmt_len = __fl;                                      \
				__hd->size = __sz;                                         \
				__hd->line = __LINE__;                                     \
				__hd->cpu = bpf_get_smp_processor_id();                    \
				__hd->tgid = (__u32)(__t >> 32);                           \
				__hd->pid = (__u32)__t;                                    \
				__hd->ts_ns = bpf_ktime_get_ns();                          \
				__builtin_memcpy(__r + 32, "" fmt, __fl);                  \
				AYAC__CAT(AYAC__PUT, AYAC__NARGS(__VA_ARGS__))(__r, __at,  \
									 ##__VA_ARGS__); \
				bpf_ringbuf_submit(__r, 0);                                \
			}                                                                  \
		}                                                                          \
	} while (0)

#define ayac_error(ctx, fmt, ...) ayac_log(ctx, AYAC_LOG_ERROR, fmt, ##__VA_ARGS__)
#define ayac_warn(ctx, fmt, ...) ayac_log(ctx, AYAC_LOG_WARN, fmt, ##__VA_ARGS__)
#define ayac_info(ctx, fmt, ...) ayac_log(ctx, AYAC_LOG_INFO, fmt, ##__VA_ARGS__)
#define ayac_debug(ctx, fmt, ...) ayac_log(ctx, AYAC_LOG_DEBUG, fmt, ##__VA_ARGS__)
#define ayac_trace(ctx, fmt, ...) ayac_log(ctx, AYAC_LOG_TRACE, fmt, ##__VA_ARGS__)

#endif /* AYAC_LOG_BPF_H */
