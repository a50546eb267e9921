/* Threads using separate objects from one process, built with ThreadSanitizer (make
 * tsan). Every thread works on objects of its own; what they share is the core's
 * process-wide state, which this exercises all at once from a barrier: vmlinux BTF and
 * the module BTF set (CO-RE), the feature probe cache, kallsyms (__ksym externs), the
 * kernel config (__kconfig externs), tracefs and the possible-CPU count, the per-thread
 * error record. Each thread, ROUNDS times: open and load ayac_soak.bpf.o, attach its
 * tracepoint and a uprobe on libc's getpid, fire them, read the counts map and poll
 * the record the tracepoint wrote to a ring buffer of its own, detach, close; load core_vmlinux (but its deliberately failing programs), externs_ksyms and externs_kconfig; make an error and check
 * the message is its own.
 *
 * usage: tsan_threads BUILD_DIR [THREADS [ROUNDS]]; exit 0 when every check held and
 * ThreadSanitizer said nothing (TSAN_OPTIONS halt_on_error=1 makes a report fatal). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <ayac/ayac.h>
#include <ayac/events.h>

static const char *build;
static int rounds;
static pthread_barrier_t start;

struct worker {
	pthread_t thread;
	int id;
	char why[512];
};

static int fail(struct worker *w, const char *what)
{
	snprintf(w->why, sizeof(w->why), "%s: %s", what, ayac_errmsg());
	return -1;
}

/* Programs whose name has skip in it are left out (the spec objects' deliberate
 * failures). */
static struct ayac_obj *load(struct worker *w, const char *name, const char *skip)
{
	char path[512];
	struct ayac_obj *obj;
	size_t i;

	snprintf(path, sizeof(path), "%s/spec/bpf/%s.bpf.o", build, name);
	obj = ayac_obj_open_file(path, NULL);
	if (!obj) {
		fail(w, name);
		return NULL;
	}
	for (i = 0; skip && i < ayac_obj_prog_cnt(obj); i++)
		if (strstr(ayac_prog_name(ayac_obj_prog_at(obj, i)), skip))
			ayac_prog_set_autoload(ayac_obj_prog_at(obj, i), false);
	if (ayac_obj_load(obj)) {
		fail(w, name);
		ayac_obj_free(obj);
		return NULL;
	}
	return obj;
}

static int set_target(struct ayac_obj *obj)
{
	struct ayac_global g;
	__u32 pid = (__u32)getpid();
	size_t size;
	bool writable;
	void *data;

	if (ayac_obj_find_global(obj, "target_tgid", &g))
		return -1;
	data = ayac_map_data(g.map, &size, &writable);
	if (!data || g.offset + sizeof(pid) > size)
		return -1;
	memcpy((char *)data + g.offset, &pid, sizeof(pid));
	return 0;
}

static int count_record(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	++*(int *)ctx;
	return 0;
}

/* Poll this object's ring buffer until a record comes (every thread's getpid makes one
 * in every thread's ring: the programs count the whole process). */
static int poll_record(struct worker *w, struct ayac_obj *obj)
{
	struct ayac_ringbuf *rb = ayac_ringbuf_new();
	int records = 0, tries;

	if (!rb || ayac_ringbuf_add(rb, ayac_map_fd(ayac_obj_map_by_name(obj, "ayac_soak_rb")),
				    count_record, &records) < 0) {
		ayac_ringbuf_free(rb);
		return fail(w, "ring buffer");
	}
	for (tries = 0; tries < 100 && records == 0; tries++)
		if (ayac_ringbuf_poll(rb, 100) < 0)
			break;
	ayac_ringbuf_free(rb);
	if (records == 0)
		return snprintf(w->why, sizeof(w->why), "no ring buffer record in 10 s"), -1;
	return 0;
}

/* load, attach, fire, count, poll, detach, close */
static int soak_cycle(struct worker *w)
{
	char path[512];
	struct ayac_uprobe_opts up = { .path = "/lib/x86_64-linux-gnu/libc.so.6",
				       .symbol = "getpid", .pid = -1 };
	struct ayac_link *l1 = NULL, *l2 = NULL;
	struct ayac_obj *obj;
	__u32 key = 0;
	__u64 before = 0, after = 0;
	int err = -1;

	snprintf(path, sizeof(path), "%s/spec/bpf/ayac_soak.bpf.o", build);
	if (!(obj = ayac_obj_open_file(path, NULL)))
		return fail(w, "open ayac_soak");
	if (set_target(obj) || ayac_obj_load(obj)) {
		fail(w, "load ayac_soak");
		goto out;
	}
	l1 = ayac_prog_attach_auto(ayac_obj_prog_by_name(obj, "ayac_soak_tp"));
	l2 = ayac_attach_uprobe(ayac_obj_prog_by_name(obj, "ayac_soak_up"), &up);
	if (!l1 || !l2) {
		fail(w, "attach");
		goto out;
	}
	ayac_map_lookup(ayac_obj_map_by_name(obj, "ayac_soak_cnt"), &key, &before);
	syscall(SYS_getpid);
	if (ayac_map_lookup(ayac_obj_map_by_name(obj, "ayac_soak_cnt"), &key, &after)) {
		fail(w, "lookup");
		goto out;
	}
	/* other threads of this process fire it too: at least this one's */
	if (after <= before) {
		snprintf(w->why, sizeof(w->why), "tracepoint count %llu -> %llu",
			 (unsigned long long)before, (unsigned long long)after);
		goto out;
	}
	err = poll_record(w, obj);
out:
	ayac_link_free(l2);
	ayac_link_free(l1);
	ayac_obj_free(obj);
	return err;
}

/* The message of this thread's last error is this thread's. */
static int own_error(struct worker *w, int round)
{
	char path[64], want[64];

	snprintf(path, sizeof(path), "/nonexistent/thread-%d-round-%d.bpf.o", w->id, round);
	snprintf(want, sizeof(want), "thread-%d-round-%d", w->id, round);
	if (ayac_obj_open_file(path, NULL) || ayac_errnum() != 2 /* ENOENT */)
		return snprintf(w->why, sizeof(w->why), "open of a missing file did not fail"), -1;
	sched_yield();
	if (!strstr(ayac_errmsg(), want))
		return snprintf(w->why, sizeof(w->why), "error message is not this thread's: %s",
				ayac_errmsg()), -1;
	return 0;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct ayac_obj *obj;
	int r, f;

	pthread_barrier_wait(&start);
	/* first use of the shared caches, all threads at once: vmlinux and module BTF
	 * (CO-RE), the feature probes, the CPU count, tracefs */
	if (!(obj = load(w, "core_vmlinux", "_unguarded")))
		return NULL;
	ayac_obj_free(obj);
	for (f = 0; f < AYAC_FEAT__COUNT; f++)
		ayac_feature((enum ayac_feature)f);
	ayac_num_possible_cpus();
	ayac_tracefs();
	for (r = 0; r < rounds; r++) {
		if (soak_cycle(w) || own_error(w, r))
			return NULL;
		if (!(obj = load(w, "core_vmlinux", "_unguarded")))
			return NULL;
		ayac_obj_free(obj);
		if (!(obj = load(w, "externs_ksyms", NULL)))
			return NULL;
		ayac_obj_free(obj);
		if (!(obj = load(w, "externs_kconfig", NULL)))
			return NULL;
		ayac_obj_free(obj);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 4, i, bad = 0;
	struct worker *w;

	if (argc < 2 || n < 1) {
		fprintf(stderr, "usage: %s BUILD_DIR [THREADS [ROUNDS]]\n", argv[0]);
		return 2;
	}
	build = argv[1];
	rounds = argc > 3 ? atoi(argv[3]) : 5;
	w = calloc((size_t)n, sizeof(*w));
	if (!w || pthread_barrier_init(&start, NULL, (unsigned)n))
		return 2;
	for (i = 0; i < n; i++) {
		w[i].id = i;
		if (pthread_create(&w[i].thread, NULL, work, &w[i]))
			return 2;
	}
	for (i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
		if (w[i].why[0]) {
			fprintf(stderr, "tsan_threads: thread %d: %s\n", i, w[i].why);
			bad = 1;
		}
	}
	printf("tsan_threads: %d threads x %d rounds: %s\n", n, rounds, bad ? "FAIL" : "ok");
	free(w);
	return bad;
}
