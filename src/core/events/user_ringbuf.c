/* User ring buffers (BPF_MAP_TYPE_USER_RINGBUF): user space produces records that a
 * BPF program drains with bpf_user_ringbuf_drain.
 *
 * The roles of a ring buffer reversed: the consumer page (the kernel's position) is
 * mapped read-only, the producer page and the data area (twice in a row) read-write.
 * A reservation writes a header with the BUSY bit set and moves the producer position
 * past the record at once (release), so the kernel stops at it until it is submitted
 * (BUSY cleared with a release store) or discarded (DISCARD set: the kernel skips it).
 * Space frees up when the program drains; the map fd then polls writable. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "model.h"
#include <ayac/events.h>

#define HDR_SZ ((__u64)BPF_RINGBUF_HDR_SZ)
#define MAX_SAMPLE ((1u << 24) - 1) /* what a bpf_dynptr can describe */

struct ayac_user_ringbuf {
	const __u64 *consumer;
	__u64 *producer;
	__u8 *data;
	__u64 mask;
	int map_fd, epoll_fd;
	void *cons_map, *prod_map;
	size_t cons_len, prod_len;
};

void ayac_user_ringbuf_free(struct ayac_user_ringbuf *rb)
{
	if (!rb)
		return;
	if (rb->prod_map)
		munmap(rb->prod_map, rb->prod_len);
	if (rb->cons_map)
		munmap(rb->cons_map, rb->cons_len);
	if (rb->epoll_fd >= 0)
		close(rb->epoll_fd);
	if (rb->map_fd >= 0)
		close(rb->map_fd);
	free(rb);
}

static int user_ring_size(int fd, size_t page, __u64 *size)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int err;

	memset(&info, 0, sizeof(info));
	if ((err = sys_obj_info(fd, &info, &len)))
		return ayac_seterr(err, "user ring buffer: map fd %d: get map info", fd);
	if (info.type != BPF_MAP_TYPE_USER_RINGBUF)
		return ayac_seterr(EINVAL, "user ring buffer: map '%s' is a %s map, not a user_ringbuf",
				   info.name, ayac_map_type_name(info.type) ?: "unknown");
	if (info.max_entries == 0 || (info.max_entries & (info.max_entries - 1)) ||
	    info.max_entries % page)
		return ayac_seterr(EINVAL, "user ring buffer: map '%s': size %u is not a power-of-two "
				   "multiple of the page size", info.name, info.max_entries);
	*size = info.max_entries;
	return 0;
}

static int user_ring_map(struct ayac_user_ringbuf *rb, __u64 size, size_t page)
{
	rb->cons_len = page;
	rb->cons_map = mmap(NULL, page, PROT_READ, MAP_SHARED, rb->map_fd, 0);
	if (rb->cons_map == MAP_FAILED) {
		rb->cons_map = NULL;
		return ayac_seterr(errno, "user ring buffer: mmap the consumer page");
	}
	if (size > (SIZE_MAX - page) / 2)
		return ayac_seterr(E2BIG, "user ring buffer: %llu bytes do not fit this address space",
				   (unsigned long long)size);
	rb->prod_len = page + 2 * (size_t)size;
	rb->prod_map = mmap(NULL, rb->prod_len, PROT_READ | PROT_WRITE, MAP_SHARED, rb->map_fd,
			    (off_t)page);
	if (rb->prod_map == MAP_FAILED) {
		rb->prod_map = NULL;
		return ayac_seterr(errno, "user ring buffer: mmap the producer page and %llu data bytes",
				   (unsigned long long)size);
	}
	rb->consumer = rb->cons_map;
	rb->producer = rb->prod_map;
	rb->data = (__u8 *)rb->prod_map + page;
	rb->mask = size - 1;
	return 0;
}

struct ayac_user_ringbuf *ayac_user_ringbuf_new(int map_fd)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct ayac_user_ringbuf *rb;
	struct epoll_event ev;
	__u64 size = 0;

	if (map_fd < 0) {
		ayac_seterr(EBADF, "user ring buffer: the map is not loaded (fd %d)", map_fd);
		return NULL;
	}
	if (user_ring_size(map_fd, page, &size) || !(rb = ayac_calloc(1, sizeof(*rb))))
		return NULL;
	rb->map_fd = fcntl(map_fd, F_DUPFD_CLOEXEC, 3);
	rb->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (rb->map_fd < 0 || rb->epoll_fd < 0) {
		ayac_seterr(errno, "user ring buffer: dup map fd / epoll_create1");
		goto fail;
	}
	if ((rb->epoll_fd = sys_fd_above_stdio(rb->epoll_fd)) < 0) {
		ayac_seterr(rb->epoll_fd, "user ring buffer: epoll fd");
		goto fail;
	}
	if (user_ring_map(rb, size, page))
		goto fail;
	/* Edge-triggered: the map polls writable whenever any byte is free, which may be
	 * less than a waiting reservation needs; a wait then lasts until the next drain. */
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLOUT | EPOLLET;
	if (epoll_ctl(rb->epoll_fd, EPOLL_CTL_ADD, rb->map_fd, &ev) < 0) {
		ayac_seterr(errno, "user ring buffer: epoll_ctl add map fd");
		goto fail;
	}
	return rb;
fail:
	ayac_user_ringbuf_free(rb);
	return NULL;
}

__u32 ayac_user_ringbuf_size(const struct ayac_user_ringbuf *rb)
{
	return (__u32)(rb->mask + 1);
}

__u64 ayac_user_ringbuf_avail(const struct ayac_user_ringbuf *rb)
{
	__u64 cons = __atomic_load_n(rb->consumer, __ATOMIC_ACQUIRE);

	return rb->mask + 1 - (*rb->producer - cons);
}

static int try_reserve(struct ayac_user_ringbuf *rb, __u32 size, void **sample)
{
	__u64 total = ((__u64)size + HDR_SZ + 7) & ~(__u64)7, prod = *rb->producer;
	__u32 *hdr;

	if (size > MAX_SAMPLE || total > rb->mask + 1)
		return -E2BIG;
	if (ayac_user_ringbuf_avail(rb) < total)
		return -ENOSPC;
	hdr = (__u32 *)(rb->data + (prod & rb->mask));
	hdr[0] = size | BPF_RINGBUF_BUSY_BIT;
	hdr[1] = 0;
	/* The kernel sees the record (busy) before it sees the position past it. */
	__atomic_store_n(rb->producer, prod + total, __ATOMIC_RELEASE);
	*sample = hdr + 2; /* contiguous even when it wraps: the data is mapped twice */
	return 0;
}

static __s64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__s64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ayac_user_ringbuf_reserve(struct ayac_user_ringbuf *rb, __u32 size, void **sample,
			      int timeout_ms)
{
	__s64 deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	struct epoll_event ev;
	int err, wait;

	*sample = NULL;
	while ((err = try_reserve(rb, size, sample)) == -ENOSPC && timeout_ms != 0) {
		wait = timeout_ms < 0 ? -1 : (int)(deadline - now_ms());
		if (timeout_ms > 0 && wait <= 0)
			break;
		if (epoll_wait(rb->epoll_fd, &ev, 1, wait) < 0)
			return -errno;
	}
	return err;
}

/* The header of a reservation still open, or NULL. */
static __u32 *reserved_header(struct ayac_user_ringbuf *rb, void *sample)
{
	__u8 *p = sample;
	__u64 off;

	if (!p || p < rb->data + HDR_SZ || p >= rb->data + rb->mask + 1 + HDR_SZ)
		return NULL;
	off = (__u64)(p - rb->data) - HDR_SZ;
	if (off % 8 || !(*(__u32 *)(rb->data + off) & BPF_RINGBUF_BUSY_BIT))
		return NULL;
	return (__u32 *)(rb->data + off);
}

static int commit(struct ayac_user_ringbuf *rb, void *sample, bool discard)
{
	__u32 *hdr = reserved_header(rb, sample), len;

	if (!hdr)
		return -EINVAL;
	len = *hdr & ~(__u32)BPF_RINGBUF_BUSY_BIT;
	if (discard)
		len |= BPF_RINGBUF_DISCARD_BIT;
	/* Everything written into the sample is visible before the kernel sees it ready. */
	__atomic_store_n(hdr, len, __ATOMIC_RELEASE);
	return 0;
}

int ayac_user_ringbuf_submit(struct ayac_user_ringbuf *rb, void *sample)
{
	return commit(rb, sample, false);
}

int ayac_user_ringbuf_discard(struct ayac_user_ringbuf *rb, void *sample)
{
	return commit(rb, sample, true);
}
