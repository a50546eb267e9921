/* The C side of the event benchmarks in `make bench` (bench/README.md, (d)): records
 * already in the ring, consumed with a C callback that reads one field, by libbpf and by
 * ayac's C API (src/core/events, from $(BUILD)/libayac.a) on the same map in turn.
 *
 *   events_libbpf ringbuf OBJ N ROUNDS [PAYLOAD]
 *       ring_buffer__consume, then ayac_ringbuf_consume, over N records of PAYLOAD bytes
 *       (8 or 64) that OBJ's program emit_bench put into its ring buffer map `bench`;
 *       one line per round: ringbuf libbpf|ayac_c <N> <nanoseconds per record>
 *   events_libbpf perfbuf OBJ N ROUNDS
 *       perf_buffer__consume, then ayac_perfbuf_consume, over N samples of 8 bytes that
 *       emit_perf wrote into the perf event array `perf` (4096 pages per CPU):
 *       perfbuf libbpf|ayac_c <N> <nanoseconds per record>. Both sides open their events
 *       with wakeup_events 2^20: a wakeup per sample makes the kernel take ~12 us per
 *       sample to fill the buffer, and the consume never sees wakeups anyway. So libbpf's
 *       buffer comes from perf_buffer__new_raw (libbpf 1.1's perf_buffer__new has no
 *       such option), with a callback doing what its sample path does (the header's
 *       type, the raw size, the data).
 *
 * OBJ is $(BUILD)/spec/bpf/events.bpf.o, loaded by libbpf. Filling the ring
 * (BPF_PROG_TEST_RUN) is not timed. The Lua side is bench/ayac_load.lua's ringbuf and
 * perfbuf modes. ayac's events.h includes no libbpf header and libbpf's none of ayac's.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <ayac/events.h>

const char *ayac_errmsg(void); /* ayac.h's, declared alone: its headers stay out of here */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* A u32 global of .bss, written with a map update: libbpf 1.1 maps global data into
 * the kernel's memory only for skeletons, so the initial value's copy is not live. */
static int set_bss_u32(struct bpf_object *obj, const char *name, __u32 value)
{
	struct bpf_map *bss = bpf_object__find_map_by_name(obj, ".bss");
	struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	__u8 buf[4096];
	__u32 key = 0, size;
	int id, i, fd;

	if (!bss || !btf || (size = bpf_map__value_size(bss)) > sizeof(buf))
		return -ENOENT;
	fd = bpf_map__fd(bss);
	id = btf__find_by_name_kind(btf, ".bss", BTF_KIND_DATASEC);
	if (id < 0 || bpf_map_lookup_elem(fd, &key, buf))
		return -ENOENT;
	sec = btf__type_by_id(btf, (__u32)id);
	vs = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);
		if (strcmp(btf__name_by_offset(btf, var->name_off), name) == 0 &&
		    vs->offset + sizeof(value) <= size) {
			memcpy(buf + vs->offset, &value, sizeof(value));
			return bpf_map_update_elem(fd, &key, buf, BPF_ANY);
		}
	}
	return -ENOENT;
}

static int fill(struct bpf_object *obj, const char *prog_name)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, prog_name);
	char pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = pkt, .data_size_in = sizeof(pkt));

	if (!prog)
		return -ENOENT;
	return bpf_prog_test_run_opts(bpf_program__fd(prog), &run);
}

static __u64 sum;

/* Times one consume: the records it returned must be n. */
static int timed(const char *what, const char *who, long n, int round, long (*consume)(void *),
		 void *buf, int (*fill_fn)(struct bpf_object *, const char *), struct bpf_object *obj,
		 const char *prog)
{
	double t0, t1;
	long got;
	int err;

	if ((err = fill_fn(obj, prog)))
		return err;
	t0 = now_ns();
	got = consume(buf);
	t1 = now_ns();
	if (got != n) {
		fprintf(stderr, "events_libbpf: %s %s: consumed %ld of %ld records\n", what, who, got, n);
		return -EIO;
	}
	if (round > 0) /* round 0 warms up */
		printf("%s\t%s\t%ld\t%.3f\n", what, who, n, (t1 - t0) / (double)n);
	return 0;
}

static long libbpf_rb_consume(void *rb) { return ring_buffer__consume(rb); }
static long ayac_rb_consume(void *rb) { return ayac_ringbuf_consume(rb); }

static __u64 perf_count;
static long libbpf_pb_consume(void *pb)
{
	__u64 before = perf_count;
	int err = perf_buffer__consume(pb);
	return err ? err : (long)(perf_count - before);
}
static long ayac_pb_consume(void *pb) { return ayac_perfbuf_consume(pb); }

static int on_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)size;
	sum += *(const __u64 *)data;
	return 0;
}

/* libbpf's own perf_buffer__process_record for a sample, then the sample callback's
 * work, as the raw callback perf_buffer__new_raw takes. */
static enum bpf_perf_event_ret on_perf_event(void *ctx, int cpu, struct perf_event_header *e)
{
	const char *raw = (const char *)(e + 1);
	__u32 size;
	__u64 v;

	(void)ctx;
	(void)cpu;
	if (e->type != PERF_RECORD_SAMPLE)
		return LIBBPF_PERF_EVENT_CONT;
	memcpy(&size, raw, sizeof(size));
	if (size >= sizeof(v)) {
		memcpy(&v, raw + 4, sizeof(v));
		sum += v;
	}
	perf_count++;
	return LIBBPF_PERF_EVENT_CONT;
}

static int on_ayac_sample(void *ctx, int cpu, void *data, __u32 size)
{
	(void)ctx;
	(void)cpu;
	(void)size;
	sum += *(const __u64 *)data;
	return 0;
}

static int ringbuf_bench(struct bpf_object *obj, long n, int rounds, __u32 payload)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "bench");
	struct ayac_ringbuf *arb = NULL;
	struct ring_buffer *rb;
	int r, err = 0;

	if (!map || set_bss_u32(obj, "nr_records", (__u32)n) ||
	    set_bss_u32(obj, "payload", payload)) {
		fprintf(stderr, "events_libbpf: no map 'bench' or globals in the object\n");
		return 1;
	}
	rb = ring_buffer__new(bpf_map__fd(map), on_record, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "events_libbpf: ring_buffer__new: %s\n", strerror(errno));
		return 1;
	}
	for (r = 0; r <= rounds && !err; r++)
		err = timed("ringbuf", "libbpf", n, r, libbpf_rb_consume, rb, fill, obj, "emit_bench");
	ring_buffer__free(rb);
	if (!err && (!(arb = ayac_ringbuf_new()) ||
		     ayac_ringbuf_add(arb, bpf_map__fd(map), on_record, NULL) < 0)) {
		fprintf(stderr, "events_libbpf: ayac ring buffer: %s\n", ayac_errmsg());
		err = -EINVAL;
	}
	for (r = 0; r <= rounds && !err; r++)
		err = timed("ringbuf", "ayac_c", n, r, ayac_rb_consume, arb, fill, obj, "emit_bench");
	ayac_ringbuf_free(arb);
	if (err)
		fprintf(stderr, "events_libbpf: ringbuf: %s\n", strerror(err < 0 ? -err : err));
	return err ? 1 : 0;
}

static int perfbuf_bench(struct bpf_object *obj, long n, int rounds)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "perf");
	struct ayac_perfbuf_opts o = { .page_cnt = 4096, .sample = on_ayac_sample,
					.wakeup_events = 1u << 20 };
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE, .config = PERF_COUNT_SW_BPF_OUTPUT,
		.sample_type = PERF_SAMPLE_RAW, .sample_period = 1, .wakeup_events = 1u << 20,
	};
	struct ayac_perfbuf *apb = NULL;
	struct perf_buffer *pb;
	int r, err = 0;

	if (!map || set_bss_u32(obj, "nr_records", (__u32)n) || set_bss_u32(obj, "payload", 8)) {
		fprintf(stderr, "events_libbpf: no map 'perf' or globals in the object\n");
		return 1;
	}
	attr.size = sizeof(attr);
	pb = perf_buffer__new_raw(bpf_map__fd(map), 4096, &attr, on_perf_event, NULL, NULL);
	if (!pb) {
		fprintf(stderr, "events_libbpf: perf_buffer__new_raw: %s\n", strerror(errno));
		return 1;
	}
	for (r = 0; r <= rounds && !err; r++)
		err = timed("perfbuf", "libbpf", n, r, libbpf_pb_consume, pb, fill, obj, "emit_perf");
	perf_buffer__free(pb); /* takes its events out of the map */
	if (!err && !(apb = ayac_perfbuf_new(bpf_map__fd(map), &o))) {
		fprintf(stderr, "events_libbpf: ayac perf buffer: %s\n", ayac_errmsg());
		err = -EINVAL;
	}
	for (r = 0; r <= rounds && !err; r++)
		err = timed("perfbuf", "ayac_c", n, r, ayac_pb_consume, apb, fill, obj, "emit_perf");
	ayac_perfbuf_free(apb);
	if (err)
		fprintf(stderr, "events_libbpf: perfbuf: %s\n", strerror(err < 0 ? -err : err));
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	long n;
	int rounds, rc;

	if (argc < 5 || (strcmp(argv[1], "ringbuf") && strcmp(argv[1], "perfbuf"))) {
		fputs("usage: events_libbpf ringbuf|perfbuf OBJ N ROUNDS [PAYLOAD]\n", stderr);
		return 2;
	}
	libbpf_set_print(quiet);
	setvbuf(stdout, NULL, _IOLBF, 0);
	n = atol(argv[3]);
	rounds = atoi(argv[4]);
	obj = bpf_object__open_file(argv[2], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "events_libbpf: cannot load %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	if (strcmp(argv[1], "ringbuf") == 0)
		rc = ringbuf_bench(obj, n, rounds, argc > 5 ? (__u32)atoi(argv[5]) : 8);
	else
		rc = perfbuf_bench(obj, n, rounds);
	if (sum == 42) /* keep the callbacks' work */
		putchar('\n');
	bpf_object__close(obj);
	return rc;
}
