/* Events out of the kernel and into it: ring buffers (BPF_MAP_TYPE_RINGBUF), perf
 * buffers (BPF_MAP_TYPE_PERF_EVENT_ARRAY) and user ring buffers
 * (BPF_MAP_TYPE_USER_RINGBUF), plus the small waits a script's main loop needs.
 *
 * A plain C ABI: C programs use the callbacks (ayac_ringbuf_consume, ...); Lua
 * (lua/ayac/events.lua) reads records itself through LuaJIT's FFI, from the *_view
 * structures below, so no Lua C API call is made per record. The views' layouts are
 * repeated in that file's ffi.cdef: change both together.
 *
 * Conventions as in ayac.h: 0 / a count / a handle on success, a negative errno or
 * NULL on failure after ayac_seterr. Functions marked "fast" set no message (they
 * run per poll or per record) and only return -errno.
 */
#ifndef AYAC_EVENTS_H
#define AYAC_EVENTS_H

#include <stddef.h>
#include <linux/types.h>

/* ---- ring buffer (ringbuf.c) ---------------------------------------------------------
 *
 * A manager holds one or more ring buffer maps and one epoll fd over them. Each ring
 * maps the consumer page read-write, and the producer page plus the data pages
 * read-only, the data twice in a row so that a record which wraps is contiguous. */

struct ayac_ringbuf;

/* The part of a ring the Lua loop reads. Positions are byte counts that only grow. */
struct ayac_ring_view {
	__u64 *consumer;        /* consumer position: written by the consumer (release) */
	const __u64 *producer;  /* producer position: read with acquire */
	const __u8 *data;       /* 2 * (mask + 1) bytes: the data area, mapped twice */
	__u64 mask;             /* data size - 1 (a power of two) */
	__u64 pending;          /* position a handler error left unreleased (Lua), or 0 */
	__u64 handled, discarded; /* counted by ayac_ringbuf_consume/poll (Lua counts its own) */
	int map_fd;             /* the ring's own dup of the map fd */
	int index;              /* in its manager */
};

/* Return 0 to go on, > 0 to stop the consume after this record, < 0 to stop with that
 * error (returned by consume/poll). The record is consumed in every case. */
typedef int (*ayac_ring_fn)(void *ctx, void *data, size_t size);

struct ayac_ringbuf *ayac_ringbuf_new(void);
/* Add a ring buffer map (its fd is duplicated: the ring stays valid when the caller
 * closes the map). fn may be NULL for rings only the Lua loop reads. Returns the
 * ring's index. */
int ayac_ringbuf_add(struct ayac_ringbuf *rb, int map_fd, ayac_ring_fn fn, void *ctx);
void ayac_ringbuf_free(struct ayac_ringbuf *rb); /* unmaps, closes every fd; NULL ok */
int ayac_ringbuf_epoll_fd(const struct ayac_ringbuf *rb);
int ayac_ringbuf_ring_cnt(const struct ayac_ringbuf *rb);
struct ayac_ring_view *ayac_ringbuf_ring(struct ayac_ringbuf *rb, int index); /* NULL: none */

/* Fast. Wait up to timeout_ms (-1: forever) for rings with data; write up to max ring
 * indexes into ready. Returns their count (0 on timeout) or -errno (-EINTR when a
 * signal came). */
int ayac_ringbuf_wait(struct ayac_ringbuf *rb, int *ready, int max, int timeout_ms);
/* Call each ring's callback on every record available now. Returns the records
 * handled, or a callback's negative return. */
long ayac_ringbuf_consume(struct ayac_ringbuf *rb);
long ayac_ringbuf_consume_ring(struct ayac_ringbuf *rb, int index);
/* Wait, then consume the rings that have data. */
long ayac_ringbuf_poll(struct ayac_ringbuf *rb, int timeout_ms);

/* Fast, per record or per pass, for loops outside C (the Lua FFI). */
__u64 ayac_ring_producer(const struct ayac_ring_view *ring);       /* load-acquire */
__u32 ayac_ring_header(const struct ayac_ring_view *ring, __u64 pos); /* load-acquire of a length word */
void ayac_ring_release(struct ayac_ring_view *ring, __u64 pos);    /* store-release */

/* ---- perf buffer (perfbuf.c) ---------------------------------------------------------
 *
 * One perf event (PERF_COUNT_SW_BPF_OUTPUT) per CPU, its fd stored in the map at the
 * CPU's index, mmap-ed with 1 + page_cnt pages. */

struct ayac_perfbuf;

struct ayac_perf_view {
	const __u8 *data;       /* the data area */
	__u64 mask;             /* data size - 1 */
	const __u64 *head;      /* data_head: read with acquire */
	__u64 *tail;            /* data_tail: written with release */
	__u64 pending;          /* as in ayac_ring_view */
	__u64 handled, lost;    /* by ayac_perfbuf_consume/poll: samples handled, reported lost */
	int cpu;
	int index;              /* in its perf buffer */
};

typedef int (*ayac_perf_sample_fn)(void *ctx, int cpu, void *data, __u32 size);
typedef void (*ayac_perf_lost_fn)(void *ctx, int cpu, __u64 count);

struct ayac_perfbuf_opts {
	size_t page_cnt;        /* data pages per CPU, a power of two; 0: 64 */
	const int *cpus;        /* CPUs to open, or NULL: every online CPU below the map's max_entries */
	size_t cpu_cnt;
	__u32 wakeup_events;    /* samples per wakeup; 0: 1 */
	ayac_perf_sample_fn sample; /* may be NULL for buffers only the Lua loop reads */
	ayac_perf_lost_fn lost;
	void *ctx;
};

struct ayac_perfbuf *ayac_perfbuf_new(int map_fd, const struct ayac_perfbuf_opts *opts);
void ayac_perfbuf_free(struct ayac_perfbuf *pb); /* NULL ok */
int ayac_perfbuf_epoll_fd(const struct ayac_perfbuf *pb);
int ayac_perfbuf_ring_cnt(const struct ayac_perfbuf *pb);
struct ayac_perf_view *ayac_perfbuf_ring(struct ayac_perfbuf *pb, int index);
int ayac_perfbuf_wait(struct ayac_perfbuf *pb, int *ready, int max, int timeout_ms); /* fast */
long ayac_perfbuf_consume(struct ayac_perfbuf *pb);
long ayac_perfbuf_consume_ring(struct ayac_perfbuf *pb, int index);
long ayac_perfbuf_poll(struct ayac_perfbuf *pb, int timeout_ms);

/* Fast: data_head with acquire; data_tail with release; a pointer to the size bytes of
 * the record at pos, contiguous (copied into the ring's scratch when it wraps), or NULL
 * when size is larger than the ring. */
__u64 ayac_perf_head(const struct ayac_perf_view *ring);
void ayac_perf_release(struct ayac_perf_view *ring, __u64 pos);
const void *ayac_perf_record(struct ayac_perf_view *ring, __u64 pos, __u32 size);

/* ---- user ring buffer (user_ringbuf.c) ------------------------------------------------
 *
 * User space produces, a BPF program drains (bpf_user_ringbuf_drain). One producer:
 * calls on one user ring buffer must not run concurrently. */

struct ayac_user_ringbuf;

struct ayac_user_ringbuf *ayac_user_ringbuf_new(int map_fd);
void ayac_user_ringbuf_free(struct ayac_user_ringbuf *rb); /* NULL ok */
/* Fast. Reserve size bytes: 0 and *sample, or -ENOSPC (full now), -E2BIG (never
 * fits), -EINVAL. With timeout_ms != 0, wait that long (-1: forever) for space. */
int ayac_user_ringbuf_reserve(struct ayac_user_ringbuf *rb, __u32 size, void **sample,
			      int timeout_ms);
/* Fast. Hand a reserved sample to the kernel, or give it up. -EINVAL for a pointer
 * that is not a reservation of this buffer. */
int ayac_user_ringbuf_submit(struct ayac_user_ringbuf *rb, void *sample);
int ayac_user_ringbuf_discard(struct ayac_user_ringbuf *rb, void *sample);
__u32 ayac_user_ringbuf_size(const struct ayac_user_ringbuf *rb);   /* data bytes */
__u64 ayac_user_ringbuf_avail(const struct ayac_user_ringbuf *rb);  /* free bytes now */

/* ---- waiting (wait.c) --------------------------------------------------------------- */

/* Fast. poll(2) for input on fds (epoll fds of the buffers above, or any fd); ready[i]
 * set to 1 for those with input. Count of ready fds, 0 on timeout, or -errno. */
int ayac_events_wait_fds(const int *fds, int n, __u8 *ready, int timeout_ms);
/* Fast. Sleep ns nanoseconds; 0, or -EINTR with *left the nanoseconds not slept. */
int ayac_events_sleep(__u64 ns, __u64 *left);
/* The tracefs trace_pipe opened non-blocking (fd), or a negative error with message. */
int ayac_trace_pipe_open(void);
/* Fast. Read up to n bytes from fd after waiting up to timeout_ms for input: bytes
 * read, 0 at timeout, -errno. */
long ayac_events_read(int fd, void *buf, size_t n, int timeout_ms);

#endif
