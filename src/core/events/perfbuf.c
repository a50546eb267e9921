/* Perf buffers: BPF_MAP_TYPE_PERF_EVENT_ARRAY read through one perf ring per CPU.
 *
 * For each CPU a software event PERF_COUNT_SW_BPF_OUTPUT is opened and its fd stored
 * in the map at the CPU's index (bpf_perf_event_output writes to the current CPU's).
 * Its mmap is one control page (struct perf_event_mmap_page: data_head written by the
 * kernel, data_tail by us) and 2^n data pages. Records are a struct perf_event_header
 * then the body: PERF_RECORD_SAMPLE carries { u32 size; u8 data[size] }
 * (PERF_SAMPLE_RAW), PERF_RECORD_LOST { u64 id; u64 lost }. Records are 8-byte
 * aligned but can cross the end of the data area; those are copied once into a
 * per-ring scratch buffer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model.h"
#include <ayac/events.h>

#define MAX_CPUS 4096 /* slots of the map looked at */

struct perf_ring {
	struct ayac_perf_view v; /* first: the view is the ring */
	int fd;
	void *base;
	size_t len;
	__u8 *scratch;           /* records that wrap, up to the data size */
};

struct ayac_perfbuf {
	int epoll_fd, map_fd;
	struct perf_ring **rings;
	int nr;
	struct epoll_event *events;
	int *ready;
	ayac_perf_sample_fn sample;
	ayac_perf_lost_fn lost;
	void *ctx;
};

static void perf_ring_free(struct perf_ring *r)
{
	if (!r)
		return;
	if (r->base)
		munmap(r->base, r->len);
	if (r->fd >= 0)
		close(r->fd);
	free(r->scratch);
	free(r);
}

void ayac_perfbuf_free(struct ayac_perfbuf *pb)
{
	int i;

	if (!pb)
		return;
	for (i = 0; i < pb->nr; i++) {
		__u32 key = (__u32)pb->rings[i]->v.cpu;
		/* Take our event out of the map: the slot would point at a closed ring. */
		ayac_fast_delete(pb->map_fd, &key);
		perf_ring_free(pb->rings[i]);
	}
	if (pb->epoll_fd >= 0)
		close(pb->epoll_fd);
	if (pb->map_fd >= 0)
		close(pb->map_fd);
	free(pb->rings);
	free(pb->events);
	free(pb->ready);
	free(pb);
}

/* "0-3,5,7-8" from /sys/devices/system/cpu/online into online[0..max). */
static int online_cpus(bool *online, int max)
{
	char buf[1024], *p, *end;
	ssize_t len;
	int fd = open("/sys/devices/system/cpu/online", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ayac_seterr(errno, "perf buffer: open /sys/devices/system/cpu/online");
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return ayac_seterr(EIO, "perf buffer: read /sys/devices/system/cpu/online");
	buf[len] = '\0';
	for (p = buf; *p && *p != '\n';) {
		long a = strtol(p, &end, 10), b = a, c;
		if (end == p || a < 0)
			return ayac_seterr(EINVAL, "perf buffer: cannot parse online CPUs '%s'", buf);
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (c = a; c <= b && c < max; c++)
			online[c] = true;
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
}

static int perf_map_size(int fd, __u32 *max_entries)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int err;

	memset(&info, 0, sizeof(info));
	if ((err = sys_obj_info(fd, &info, &len)))
		return ayac_seterr(err, "perf buffer: map fd %d: get map info", fd);
	if (info.type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		return ayac_seterr(EINVAL, "perf buffer: map '%s' is a %s map, not a perf_event_array",
				   info.name, ayac_map_type_name(info.type) ?: "unknown");
	*max_entries = info.max_entries;
	return 0;
}

static int open_event(int cpu, __u32 wakeup)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_BPF_OUTPUT;
	attr.sample_type = PERF_SAMPLE_RAW;
	attr.sample_period = 1;
	attr.wakeup_events = wakeup ? wakeup : 1;
	return sys_perf_event_open(&attr, -1, cpu, -1, 0);
}

/* Open, map and enable CPU cpu's ring, store it in the map, watch it with epoll. */
static int perf_ring_open(struct ayac_perfbuf *pb, int cpu, size_t pages, __u32 wakeup)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct perf_ring *r = ayac_calloc(1, sizeof(*r));
	struct epoll_event ev;
	__u32 key = (__u32)cpu;
	int err, fd;

	if (!r)
		return -ENOMEM;
	r->v.cpu = cpu;
	r->v.index = pb->nr;
	r->fd = open_event(cpu, wakeup);
	if (r->fd < 0) {
		err = ayac_seterr(r->fd, "perf buffer: perf_event_open(BPF_OUTPUT) on CPU %d", cpu);
		goto fail;
	}
	r->len = page * (pages + 1);
	r->base = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->base == MAP_FAILED) {
		r->base = NULL;
		err = ayac_seterr(errno, "perf buffer: mmap %zu pages for CPU %d", pages + 1, cpu);
		goto fail;
	}
	{
		struct perf_event_mmap_page *hdr = r->base;
		r->v.data = (const __u8 *)r->base + page;
		r->v.mask = page * pages - 1;
		r->v.head = &hdr->data_head;
		r->v.tail = &hdr->data_tail;
	}
	if (ioctl(r->fd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
		err = ayac_seterr(errno, "perf buffer: enable the event on CPU %d", cpu);
		goto fail;
	}
	fd = r->fd;
	if ((err = ayac_fast_update(pb->map_fd, &key, &fd, BPF_ANY))) {
		err = ayac_seterr(err, "perf buffer: store CPU %d's event in the map", cpu);
		goto fail;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u32 = (__u32)pb->nr;
	if (epoll_ctl(pb->epoll_fd, EPOLL_CTL_ADD, r->fd, &ev) < 0) {
		err = ayac_seterr(errno, "perf buffer: epoll_ctl add CPU %d", cpu);
		ayac_fast_delete(pb->map_fd, &key);
		goto fail;
	}
	pb->rings[pb->nr++] = r;
	return 0;
fail:
	perf_ring_free(r);
	return err;
}

/* The CPUs to open (want[0..n), n = the map's slots, at most MAX_CPUS): opts->cpus, or
 * the online ones. */
static int pick_cpus(const struct ayac_perfbuf_opts *o, bool *want, int n)
{
	size_t i;

	if (!o->cpus)
		return online_cpus(want, n);
	for (i = 0; i < o->cpu_cnt; i++) {
		if (o->cpus[i] < 0 || o->cpus[i] >= n)
			return ayac_seterr(EINVAL, "perf buffer: CPU %d is outside the map's %d slots",
					   o->cpus[i], n);
		want[o->cpus[i]] = true;
	}
	return 0;
}

static int perfbuf_setup(struct ayac_perfbuf *pb, const struct ayac_perfbuf_opts *o,
			 __u32 max_entries)
{
	size_t pages = o->page_cnt ? o->page_cnt : 64;
	int n = (int)(max_entries > MAX_CPUS ? MAX_CPUS : max_entries), cpu, err;
	bool *want;

	if (pages & (pages - 1) || pages > (1u << 20))
		return ayac_seterr(EINVAL, "perf buffer: %zu pages: a power of two up to 2^20 expected",
				   pages);
	want = ayac_calloc((size_t)n + 1, sizeof(*want));
	pb->rings = ayac_calloc((size_t)n + 1, sizeof(*pb->rings));
	pb->events = ayac_calloc((size_t)n + 1, sizeof(*pb->events));
	pb->ready = ayac_calloc((size_t)n + 1, sizeof(*pb->ready));
	if (!want || !pb->rings || !pb->events || !pb->ready) {
		free(want);
		return -ENOMEM;
	}
	err = pick_cpus(o, want, n);
	for (cpu = 0; !err && cpu < n; cpu++)
		if (want[cpu])
			err = perf_ring_open(pb, cpu, pages, o->wakeup_events);
	free(want);
	if (!err && pb->nr == 0)
		err = ayac_seterr(ENODEV, "perf buffer: no CPU to open (map max_entries %u)", max_entries);
	return err;
}

struct ayac_perfbuf *ayac_perfbuf_new(int map_fd, const struct ayac_perfbuf_opts *opts)
{
	struct ayac_perfbuf_opts none = { 0 };
	struct ayac_perfbuf *pb;
	__u32 max_entries = 0;

	if (!opts)
		opts = &none;
	if (map_fd < 0) {
		ayac_seterr(EBADF, "perf buffer: the map is not loaded (fd %d)", map_fd);
		return NULL;
	}
	if (perf_map_size(map_fd, &max_entries) || !(pb = ayac_calloc(1, sizeof(*pb))))
		return NULL;
	pb->sample = opts->sample;
	pb->lost = opts->lost;
	pb->ctx = opts->ctx;
	pb->map_fd = fcntl(map_fd, F_DUPFD_CLOEXEC, 3);
	pb->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (pb->map_fd < 0 || pb->epoll_fd < 0) {
		ayac_seterr(errno, "perf buffer: dup map fd / epoll_create1");
		goto fail;
	}
	if ((pb->epoll_fd = sys_fd_above_stdio(pb->epoll_fd)) < 0) {
		ayac_seterr(pb->epoll_fd, "perf buffer: epoll fd");
		goto fail;
	}
	if (perfbuf_setup(pb, opts, max_entries))
		goto fail;
	return pb;
fail:
	ayac_perfbuf_free(pb);
	return NULL;
}

int ayac_perfbuf_epoll_fd(const struct ayac_perfbuf *pb) { return pb->epoll_fd; }
int ayac_perfbuf_ring_cnt(const struct ayac_perfbuf *pb) { return pb->nr; }

struct ayac_perf_view *ayac_perfbuf_ring(struct ayac_perfbuf *pb, int index)
{
	return index >= 0 && index < pb->nr ? &pb->rings[index]->v : NULL;
}

int ayac_perfbuf_wait(struct ayac_perfbuf *pb, int *ready, int max, int timeout_ms)
{
	int n, i, k = 0;

	n = epoll_wait(pb->epoll_fd, pb->events, pb->nr, timeout_ms);
	if (n < 0)
		return -errno;
	for (i = 0; i < n && k < max; i++)
		if (pb->events[i].data.u32 < (__u32)pb->nr)
			ready[k++] = (int)pb->events[i].data.u32;
	return k;
}

__u64 ayac_perf_head(const struct ayac_perf_view *ring)
{
	return __atomic_load_n(ring->head, __ATOMIC_ACQUIRE);
}

void ayac_perf_release(struct ayac_perf_view *ring, __u64 pos)
{
	__atomic_store_n(ring->tail, pos, __ATOMIC_RELEASE);
}

const void *ayac_perf_record(struct ayac_perf_view *view, __u64 pos, __u32 size)
{
	struct perf_ring *r = (struct perf_ring *)view;
	size_t ring_size = view->mask + 1, off = pos & view->mask, first;

	if (size > ring_size)
		return NULL;
	if (off + size <= ring_size)
		return view->data + off;
	if (!r->scratch && !(r->scratch = malloc(ring_size)))
		return NULL;
	first = ring_size - off;
	memcpy(r->scratch, view->data + off, first);
	memcpy(r->scratch + first, view->data, size - first);
	return r->scratch;
}

/* One record: a sample to the callback (1 if counted, the callback's stop or error
 * otherwise), a lost count added up. */
static int perf_record(struct ayac_perfbuf *pb, struct perf_ring *r, const __u8 *rec, __u32 size,
		       __u64 *handled)
{
	const struct perf_event_header *h = (const void *)rec;
	__u32 raw;
	__u64 lost;

	if (h->type == PERF_RECORD_SAMPLE && size >= sizeof(*h) + sizeof(raw)) {
		memcpy(&raw, rec + sizeof(*h), sizeof(raw));
		if (raw > size - sizeof(*h) - sizeof(raw))
			return -EBADMSG;
		++*handled;
		return pb->sample ? pb->sample(pb->ctx, r->v.cpu, (void *)(rec + sizeof(*h) + 4), raw) : 0;
	}
	if (h->type == PERF_RECORD_LOST && size >= sizeof(*h) + 16) {
		memcpy(&lost, rec + sizeof(*h) + 8, sizeof(lost));
		r->v.lost += lost;
		if (pb->lost)
			pb->lost(pb->ctx, r->v.cpu, lost);
	}
	return 0;
}

/* The view's fields in locals, as in ringbuf.c: the tail store could alias them. */
static long perf_consume(struct ayac_perfbuf *pb, struct perf_ring *r, bool *stop)
{
	const __u8 *data = r->v.data;
	__u64 *tailp = r->v.tail, mask = r->v.mask, tail = *tailp, head, handled = 0;
	int rc = 0;

	if (r->v.pending > tail) /* a Lua handler raised: its record is consumed */
		__atomic_store_n(tailp, tail = r->v.pending, __ATOMIC_RELEASE);
	head = __atomic_load_n(r->v.head, __ATOMIC_ACQUIRE);
	while (tail < head && !rc) {
		const __u8 *rec = data + (tail & mask);
		__u16 size = ((const struct perf_event_header *)rec)->size;

		if (size < sizeof(struct perf_event_header)) {
			rc = -EBADMSG; /* would never advance */
			break;
		}
		if ((tail & mask) + size > mask + 1 && !(rec = ayac_perf_record(&r->v, tail, size))) {
			rc = -ENOMEM;
			break;
		}
		rc = perf_record(pb, r, rec, size, &handled);
		tail += size;
		__atomic_store_n(tailp, tail, __ATOMIC_RELEASE);
	}
	r->v.handled += handled;
	if (rc)
		*stop = true;
	return rc < 0 ? rc : (long)handled;
}

long ayac_perfbuf_consume_ring(struct ayac_perfbuf *pb, int index)
{
	bool stop = false;

	if (index < 0 || index >= pb->nr)
		return -EINVAL;
	return perf_consume(pb, pb->rings[index], &stop);
}

static long consume_list(struct ayac_perfbuf *pb, const int *idx, int cnt)
{
	bool stop = false;
	long total = 0, n;
	int i;

	for (i = 0; i < cnt && !stop; i++) {
		if ((n = perf_consume(pb, pb->rings[idx ? idx[i] : i], &stop)) < 0)
			return n;
		total += n;
	}
	return total;
}

long ayac_perfbuf_consume(struct ayac_perfbuf *pb)
{
	return consume_list(pb, NULL, pb->nr);
}

long ayac_perfbuf_poll(struct ayac_perfbuf *pb, int timeout_ms)
{
	int cnt = ayac_perfbuf_wait(pb, pb->ready, pb->nr, timeout_ms);

	return cnt < 0 ? cnt : consume_list(pb, pb->ready, cnt);
}
