/* Ring buffer maps (BPF_MAP_TYPE_RINGBUF) read from user space.
 *
 * The kernel lays a ring out as: page 0, the consumer position (the only page user
 * space may write); page 1, the producer position; then the data area, which mmap
 * shows twice in a row so that a record crossing the end reads as one piece. Each
 * record starts with an 8-byte header whose first word is its length, with the BUSY
 * bit set while the producer still writes it and the DISCARD bit when it gave it up.
 * The producer publishes with release stores, so the consumer loads the producer
 * position and each length with acquire, and publishes its own position with release
 * once it is done with a record (the producer may then overwrite it). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model.h"
#include <ayac/events.h>

struct ring {
	struct ayac_ring_view v; /* first: the view is the ring */
	void *cons_map, *prod_map;
	size_t cons_len, prod_len;
	ayac_ring_fn fn;
	void *ctx;
};

struct ayac_ringbuf {
	int epoll_fd;
	struct ring **rings;
	int nr;
	struct epoll_event *events;  /* nr entries, for epoll_wait */
	int *ready;                  /* nr entries, for ayac_ringbuf_poll */
};

#define HDR_SZ ((__u64)BPF_RINGBUF_HDR_SZ)
#define LEN_MASK (~(__u32)(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT))

struct ayac_ringbuf *ayac_ringbuf_new(void)
{
	struct ayac_ringbuf *rb = ayac_calloc(1, sizeof(*rb));

	if (!rb)
		return NULL;
	rb->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (rb->epoll_fd < 0) {
		ayac_seterr(errno, "ring buffer: epoll_create1");
		free(rb);
		return NULL;
	}
	rb->epoll_fd = sys_fd_above_stdio(rb->epoll_fd);
	if (rb->epoll_fd < 0) {
		ayac_seterr(rb->epoll_fd, "ring buffer: epoll fd");
		free(rb);
		return NULL;
	}
	return rb;
}

static void ring_free(struct ring *r)
{
	if (!r)
		return;
	if (r->prod_map)
		munmap(r->prod_map, r->prod_len);
	if (r->cons_map)
		munmap(r->cons_map, r->cons_len);
	if (r->v.map_fd >= 0)
		close(r->v.map_fd);
	free(r);
}

void ayac_ringbuf_free(struct ayac_ringbuf *rb)
{
	int i;

	if (!rb)
		return;
	for (i = 0; i < rb->nr; i++)
		ring_free(rb->rings[i]);
	if (rb->epoll_fd >= 0)
		close(rb->epoll_fd);
	free(rb->rings);
	free(rb->events);
	free(rb->ready);
	free(rb);
}

/* The map's data size, checked to be a ring buffer the layout above describes. */
static int ring_size(int fd, size_t page, __u64 *size)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int err;

	memset(&info, 0, sizeof(info));
	if ((err = sys_obj_info(fd, &info, &len)))
		return ayac_seterr(err, "ring buffer: map fd %d: get map info", fd);
	if (info.type != BPF_MAP_TYPE_RINGBUF)
		return ayac_seterr(EINVAL, "ring buffer: map '%s' is a %s map, not a ringbuf",
				   info.name, ayac_map_type_name(info.type) ?: "unknown");
	if (info.max_entries == 0 || (info.max_entries & (info.max_entries - 1)) ||
	    info.max_entries % page)
		return ayac_seterr(EINVAL, "ring buffer: map '%s': size %u is not a power-of-two "
				   "multiple of the page size", info.name, info.max_entries);
	*size = info.max_entries;
	return 0;
}

static int ring_map(struct ring *r, __u64 size, size_t page)
{
	r->cons_len = page;
	r->cons_map = mmap(NULL, r->cons_len, PROT_READ | PROT_WRITE, MAP_SHARED, r->v.map_fd, 0);
	if (r->cons_map == MAP_FAILED) {
		r->cons_map = NULL;
		return ayac_seterr(errno, "ring buffer: mmap the consumer page");
	}
	if (size > (SIZE_MAX - page) / 2)
		return ayac_seterr(E2BIG, "ring buffer: %llu bytes do not fit this address space",
				   (unsigned long long)size);
	r->prod_len = page + 2 * (size_t)size;
	r->prod_map = mmap(NULL, r->prod_len, PROT_READ, MAP_SHARED, r->v.map_fd, (off_t)page);
	if (r->prod_map == MAP_FAILED) {
		r->prod_map = NULL;
		return ayac_seterr(errno, "ring buffer: mmap the producer page and %llu data bytes",
				   (unsigned long long)size);
	}
	r->v.consumer = r->cons_map;
	r->v.producer = r->prod_map;
	r->v.data = (const __u8 *)r->prod_map + page;
	r->v.mask = size - 1;
	return 0;
}

static int grow(struct ayac_ringbuf *rb)
{
	size_t n = (size_t)rb->nr + 1;
	struct ring **rings = ayac_reallocarray(rb->rings, n, sizeof(*rings));
	struct epoll_event *ev;
	int *ready;

	if (!rings)
		return -ENOMEM;
	rb->rings = rings;
	ev = ayac_reallocarray(rb->events, n, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	rb->events = ev;
	ready = ayac_reallocarray(rb->ready, n, sizeof(*ready));
	if (!ready)
		return -ENOMEM;
	rb->ready = ready;
	return 0;
}

int ayac_ringbuf_add(struct ayac_ringbuf *rb, int map_fd, ayac_ring_fn fn, void *ctx)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct epoll_event ev;
	struct ring *r;
	__u64 size = 0;
	int err;

	if (map_fd < 0)
		return ayac_seterr(EBADF, "ring buffer: the map is not loaded (fd %d)", map_fd);
	if ((err = ring_size(map_fd, page, &size)) || (err = grow(rb)))
		return err;
	r = ayac_calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fn = fn;
	r->ctx = ctx;
	r->v.index = rb->nr;
	r->v.map_fd = fcntl(map_fd, F_DUPFD_CLOEXEC, 3);
	if (r->v.map_fd < 0) {
		err = ayac_seterr(errno, "ring buffer: dup map fd %d", map_fd);
		goto fail;
	}
	if ((err = ring_map(r, size, page)))
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u32 = (__u32)rb->nr;
	if (epoll_ctl(rb->epoll_fd, EPOLL_CTL_ADD, r->v.map_fd, &ev) < 0) {
		err = ayac_seterr(errno, "ring buffer: epoll_ctl add map fd");
		goto fail;
	}
	rb->rings[rb->nr] = r;
	return rb->nr++;
fail:
	ring_free(r);
	return err;
}

int ayac_ringbuf_epoll_fd(const struct ayac_ringbuf *rb) { return rb->epoll_fd; }
int ayac_ringbuf_ring_cnt(const struct ayac_ringbuf *rb) { return rb->nr; }

struct ayac_ring_view *ayac_ringbuf_ring(struct ayac_ringbuf *rb, int index)
{
	return index >= 0 && index < rb->nr ? &rb->rings[index]->v : NULL;
}

int ayac_ringbuf_wait(struct ayac_ringbuf *rb, int *ready, int max, int timeout_ms)
{
	int n, i, k = 0;

	if (rb->nr == 0)
		return -ENOENT;
	n = epoll_wait(rb->epoll_fd, rb->events, rb->nr, timeout_ms);
	if (n < 0)
		return -errno;
	for (i = 0; i < n && k < max; i++)
		if (rb->events[i].data.u32 < (__u32)rb->nr)
			ready[k++] = (int)rb->events[i].data.u32;
	return k;
}

__u64 ayac_ring_producer(const struct ayac_ring_view *ring)
{
	return __atomic_load_n(ring->producer, __ATOMIC_ACQUIRE);
}

__u32 ayac_ring_header(const struct ayac_ring_view *ring, __u64 pos)
{
	return __atomic_load_n((const __u32 *)(ring->data + (pos & ring->mask)), __ATOMIC_ACQUIRE);
}

void ayac_ring_release(struct ayac_ring_view *ring, __u64 pos)
{
	__atomic_store_n(ring->consumer, pos, __ATOMIC_RELEASE);
}

/* Every record available now, in order; a pass ends at a record still being written.
 * At most one ring's worth of bytes per call, so a producer that never pauses cannot
 * keep the caller here for ever. The view's fields are copied into locals: the
 * compiler cannot know the consumer store leaves them alone. */
static long ring_consume(struct ring *r, bool *stop)
{
	const __u8 *data = r->v.data;
	__u64 *consumer = r->v.consumer, mask = r->v.mask;
	__u64 cons = *consumer, prod, limit, handled = 0, discarded = 0;
	long rc = 0;

	if (r->v.pending > cons) /* a Lua handler raised: its record is consumed */
		__atomic_store_n(consumer, cons = r->v.pending, __ATOMIC_RELEASE);
	limit = cons + mask + 1;
	while (!rc && cons < limit && cons < (prod = __atomic_load_n(r->v.producer, __ATOMIC_ACQUIRE))) {
		while (cons < prod) {
			const __u32 *hdr = (const __u32 *)(data + (cons & mask));
			__u32 word = __atomic_load_n(hdr, __ATOMIC_ACQUIRE), len = word & LEN_MASK;

			if (word & BPF_RINGBUF_BUSY_BIT)
				goto out;
			if (len > mask + 1 - HDR_SZ) {
				rc = -EBADMSG; /* not a length this kernel could have written */
				goto out;
			}
			cons += (len + HDR_SZ + 7) & ~(__u64)7;
			if (word & BPF_RINGBUF_DISCARD_BIT) {
				discarded++;
			} else {
				handled++;
				rc = r->fn ? r->fn(r->ctx, (void *)(hdr + 2), len) : 0;
			}
			__atomic_store_n(consumer, cons, __ATOMIC_RELEASE);
			if (rc) {
				*stop = true;
				break;
			}
		}
	}
out:
	r->v.handled += handled;
	r->v.discarded += discarded;
	return rc < 0 ? rc : (long)handled;
}

long ayac_ringbuf_consume_ring(struct ayac_ringbuf *rb, int index)
{
	bool stop = false;

	if (index < 0 || index >= rb->nr)
		return -EINVAL;
	return ring_consume(rb->rings[index], &stop);
}

/* The rings at idx[0..cnt) (all of them when idx is NULL), until a callback stops. */
static long consume_list(struct ayac_ringbuf *rb, const int *idx, int cnt)
{
	bool stop = false;
	long total = 0, n;
	int i;

	for (i = 0; i < cnt && !stop; i++) {
		if ((n = ring_consume(rb->rings[idx ? idx[i] : i], &stop)) < 0)
			return n;
		total += n;
	}
	return total;
}

long ayac_ringbuf_consume(struct ayac_ringbuf *rb)
{
	return consume_list(rb, NULL, rb->nr);
}

long ayac_ringbuf_poll(struct ayac_ringbuf *rb, int timeout_ms)
{
	int cnt = ayac_ringbuf_wait(rb, rb->ready, rb->nr, timeout_ms);

	return cnt < 0 ? cnt : consume_list(rb, rb->ready, cnt);
}
