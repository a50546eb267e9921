/* The libbpf side of scripts/conformance and `make bench` (bench/README.md): the
 * reference loader, libbpf-dev's libbpf, driven the way bench/ayac_load.lua drives
 * ayac, printing the same tab-separated lines for the Lua drivers in bench/ to compare.
 *
 *   libbpf_load conform SETUP OBJ...
 *       Every program of every object, each loaded alone (every other program's
 *       autoload off), after the object's run-time adjustments from SETUP. One line per
 *       program:  prog <object> <program> <section> ok|fail <error>, the error being
 *       "<strerror>: <libbpf's first warning> | verifier: <last line of the log>".
 *   libbpf_load corpus SETUP OBJ...
 *       The objects one after the other in this process: open, adjust, trampoline
 *       programs (fentry/fexit/fmod_ret/lsm) off, load, close. One line per object:
 *       object <object> ok|fail <microseconds> <programs autoloaded> <error>, then
 *       total <microseconds>.
 *   libbpf_load map N [ENTRIES]
 *       N bpf_map_update_elem and N bpf_map_lookup_elem on a u32 -> u64 array and
 *       hash map of ENTRIES (1024) keys, key i * 7919 % ENTRIES:
 *       map <kind> <op> <N> <nanoseconds per op> <ENTRIES>.
 *   libbpf_load dump N ROUNDS
 *       A u32 -> u64 hash map of N entries (filled untimed), read whole ROUNDS times
 *       with bpf_map_lookup_batch, DUMP_CHUNK entries a call, into arrays:
 *       dump libbpf <round> <microseconds> <entries>.
 *
 * SETUP is bench/corpus-setup: lines "<object> max_entries|value_size <map> <n>".
 * libbpf's own messages are captured (libbpf_set_print), never printed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define MSG_MAX 512

/* ---- captured libbpf messages -------------------------------------------------------- */

/* The first warning libbpf printed since the last reset: what a user sees first; and
 * the verifier's verdict, the last line of the last program load log. */
static char first_warn[MSG_MAX];
static char verdict[MSG_MAX];

/* Verifier log lines that are statistics, not the reason. */
static bool is_stats_line(const char *line, size_t len)
{
	static const char *const stats[] = { "processed ", "verification time", "stack depth",
					     "-- END PROG LOAD LOG", "-- BEGIN PROG LOAD LOG" };
	size_t i;

	if (len == 0)
		return true;
	for (i = 0; i < sizeof(stats) / sizeof(stats[0]); i++)
		if (len >= strlen(stats[i]) && strncmp(line, stats[i], strlen(stats[i])) == 0)
			return true;
	return false;
}

static void keep_verdict(const char *log)
{
	const char *line = log, *best = NULL;
	size_t best_len = 0;

	while (*line) {
		size_t len = strcspn(line, "\n");

		if (!is_stats_line(line, len)) {
			best = line;
			best_len = len;
		}
		line += len;
		if (*line)
			line++;
	}
	if (best)
		snprintf(verdict, sizeof(verdict), "%.*s", (int)best_len, best);
}

static int capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	const char *log;
	char *msg;

	if (level != LIBBPF_WARN || vasprintf(&msg, fmt, ap) < 0)
		return 0;
	log = strstr(msg, "-- BEGIN PROG LOAD LOG --");
	if (log)
		keep_verdict(log);
	if (!first_warn[0] && msg[0] && msg[0] != '\n') {
		const char *p = strncmp(msg, "libbpf: ", 8) == 0 ? msg + 8 : msg;

		snprintf(first_warn, sizeof(first_warn), "%.*s", (int)strcspn(p, "\n"), p);
	}
	free(msg);
	return 0;
}

static void reset_messages(void)
{
	first_warn[0] = verdict[0] = '\0';
}

/* Tabs and newlines would break the line format. */
static void print_field(const char *s)
{
	for (; *s; s++)
		putchar(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s);
}

/* "<strerror>: <first libbpf warning> | verifier: <verdict>" for a failed call
 * returning -err. */
static void print_error(int err)
{
	char buf[128];

	libbpf_strerror(err < 0 ? -err : err, buf, sizeof(buf));
	print_field(buf);
	if (first_warn[0]) {
		fputs(": ", stdout);
		print_field(first_warn);
	}
	if (verdict[0]) {
		fputs(" | verifier: ", stdout);
		print_field(verdict);
	}
}

/* ---- run-time adjustments (bench/corpus-setup) ------------------------------------- */

struct adjust {
	char object[64], what[32], map[64];
	unsigned long value;
};

static struct adjust *adjusts;
static size_t nadjusts;

static int read_setup(const char *path)
{
	char line[256];
	FILE *f = fopen(path, "r");
	int lineno = 0;

	if (!f) {
		fprintf(stderr, "libbpf_load: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		struct adjust a;
		char *p = line + strspn(line, " \t");

		lineno++;
		if (*p == '#' || *p == '\n' || !*p)
			continue;
		if (sscanf(p, "%63s %31s %63s %lu", a.object, a.what, a.map, &a.value) != 4 ||
		    (strcmp(a.what, "max_entries") && strcmp(a.what, "value_size"))) {
			fprintf(stderr, "libbpf_load: %s:%d: expected <object> max_entries|value_size <map> <n>\n",
				path, lineno);
			fclose(f);
			return -1;
		}
		struct adjust *grown = realloc(adjusts, (nadjusts + 1) * sizeof(*adjusts));
		if (!grown) {
			fclose(f);
			return -1;
		}
		adjusts = grown;
		adjusts[nadjusts++] = a;
	}
	fclose(f);
	return 0;
}

/* Apply the object's adjustments; 0, or a negative error with first_warn set. */
static int apply_setup(struct bpf_object *obj, const char *name)
{
	size_t i;

	for (i = 0; i < nadjusts; i++) {
		const struct adjust *a = &adjusts[i];
		struct bpf_map *map;
		int err;

		if (strcmp(a->object, name))
			continue;
		map = bpf_object__find_map_by_name(obj, a->map);
		if (!map) {
			snprintf(first_warn, sizeof(first_warn), "setup: no map '%s'", a->map);
			return -ENOENT;
		}
		err = strcmp(a->what, "max_entries") == 0 ?
			      bpf_map__set_max_entries(map, (__u32)a->value) :
			      bpf_map__set_value_size(map, (__u32)a->value);
		if (err)
			return err;
	}
	return 0;
}

/* ---- helpers ------------------------------------------------------------------------- */

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* CPU microseconds of this process (user + system), for the map benchmarks: other load
 * on the machine then does not land on one side only. */
static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* "biolatency" from ".../biolatency.bpf.o" */
static void object_name(const char *path, char *out, size_t size)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strcspn(base, ".");
	snprintf(out, size, "%.*s", (int)n, base);
}

/* Programs this kernel cannot load as the section says (no BPF trampolines here). */
static bool is_trampoline(const char *sec)
{
	static const char *const prefixes[] = { "fentry", "fexit", "fmod_ret", "lsm" };
	size_t i, n;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		n = strlen(prefixes[i]);
		if (strncmp(sec, prefixes[i], n) == 0 &&
		    (sec[n] == '/' || sec[n] == '.' || sec[n] == '\0'))
			return true;
	}
	return false;
}

static struct bpf_object *open_object(const char *path, int *err)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);

	*err = obj ? 0 : -errno;
	return obj;
}

/* ---- conform ------------------------------------------------------------------------- */

static int conform_one(const char *path, const char *name, const char *prog_name,
		       const char *section)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	int err;

	reset_messages();
	obj = open_object(path, &err);
	if (obj) {
		bpf_object__for_each_program(prog, obj)
			bpf_program__set_autoload(prog, strcmp(bpf_program__name(prog), prog_name) == 0);
		err = apply_setup(obj, name);
		if (!err)
			err = bpf_object__load(obj);
	}
	printf("prog\t%s\t%s\t%s\t%s\t", name, prog_name, section, err ? "fail" : "ok");
	if (err)
		print_error(err);
	putchar('\n');
	bpf_object__close(obj);
	return err ? 0 : 1;
}

static int conform(const char *path)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	char name[128];
	int err, n = 0;

	object_name(path, name, sizeof(name));
	reset_messages();
	obj = open_object(path, &err);
	if (!obj) {
		printf("object\t%s\tfail\t0\t0\t", name);
		print_error(err);
		putchar('\n');
		return 0;
	}
	bpf_object__for_each_program(prog, obj)
		n += conform_one(path, name, bpf_program__name(prog), bpf_program__section_name(prog));
	bpf_object__close(obj);
	return n;
}

/* ---- corpus -------------------------------------------------------------------------- */

static double corpus_one(const char *path)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	char name[128];
	double t0, t1;
	int err, nprogs = 0;

	object_name(path, name, sizeof(name));
	reset_messages();
	t0 = now_us();
	obj = open_object(path, &err);
	if (obj) {
		bpf_object__for_each_program(prog, obj) {
			if (is_trampoline(bpf_program__section_name(prog)))
				bpf_program__set_autoload(prog, false);
			else
				nprogs++;
		}
		err = apply_setup(obj, name);
		if (!err)
			err = bpf_object__load(obj);
		bpf_object__close(obj);
	}
	t1 = now_us();
	printf("object\t%s\t%s\t%.1f\t%d\t", name, err ? "fail" : "ok", t1 - t0, nprogs);
	if (err)
		print_error(err);
	putchar('\n');
	return t1 - t0;
}

/* ---- map ----------------------------------------------------------------------------- */

static int map_bench(long n, __u32 entries)
{
	static const struct { enum bpf_map_type type; const char *kind; } kinds[] = {
		{ BPF_MAP_TYPE_ARRAY, "array" },
		{ BPF_MAP_TYPE_HASH, "hash" },
	};
	size_t k;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		int fd = bpf_map_create(kinds[k].type, "bench", 4, 8, entries, NULL);
		double t0, t1, t2;
		__u64 sum = 0;
		long i;

		if (fd < 0) {
			fprintf(stderr, "libbpf_load: bpf_map_create(%s): %s\n", kinds[k].kind,
				strerror(-fd));
			return 1;
		}
		for (i = 0; i < 2000; i++) { /* untimed warm-up, as on the ayac side */
			__u32 key = (__u32)((unsigned long)i * 7919 % entries);
			__u64 value = (__u64)i;

			if (bpf_map_lookup_elem(fd, &key, &value) &&
			    bpf_map_update_elem(fd, &key, &value, BPF_ANY))
				goto fail;
		}
		t0 = cpu_us();
		for (i = 0; i < n; i++) {
			__u32 key = (__u32)((unsigned long)i * 7919 % entries);
			__u64 value = (__u64)i;

			if (bpf_map_update_elem(fd, &key, &value, BPF_ANY))
				goto fail;
		}
		t1 = cpu_us();
		for (i = 0; i < n; i++) {
			__u32 key = (__u32)((unsigned long)i * 7919 % entries);
			__u64 value;

			if (bpf_map_lookup_elem(fd, &key, &value))
				goto fail;
			sum += value;
		}
		t2 = cpu_us();
		close(fd);
		printf("map\t%s\tupdate\t%ld\t%.1f\t%u\n", kinds[k].kind, n,
		       (t1 - t0) * 1e3 / (double)n, entries);
		printf("map\t%s\tlookup\t%ld\t%.1f\t%u\n", kinds[k].kind, n,
		       (t2 - t1) * 1e3 / (double)n, entries);
		if (sum == 42) /* keep the loop */
			putchar('\n');
		continue;
fail:
		fprintf(stderr, "libbpf_load: %s map: %s\n", kinds[k].kind, strerror(errno));
		close(fd);
		return 1;
	}
	return 0;
}

/* ---- dump ---------------------------------------------------------------------------- */

#define DUMP_CHUNK 10000

static int dump_bench(__u32 n, int rounds)
{
	__u32 *keys = calloc(n, sizeof(*keys));
	__u64 *values = calloc(n, sizeof(*values));
	__u32 i, count, total, token;
	int fd, err = 0, r;

	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "dump", 4, 8, n, NULL);
	if (fd < 0 || !keys || !values) {
		fprintf(stderr, "libbpf_load: dump: %s\n", strerror(fd < 0 ? -fd : ENOMEM));
		goto out;
	}
	for (i = 0; i < n; i++) {
		keys[i] = i;
		values[i] = (__u64)i * 3;
	}
	count = n;
	if (bpf_map_update_batch(fd, keys, values, &count, NULL)) {
		fprintf(stderr, "libbpf_load: dump: update batch: %s\n", strerror(errno));
		goto out;
	}
	for (r = 0; r < rounds; r++) {
		double t0 = cpu_us();
		bool first = true;

		total = 0;
		do {
			count = n - total < DUMP_CHUNK ? n - total : DUMP_CHUNK;
			if (count == 0)
				count = 1; /* the call that says ENOENT */
			err = bpf_map_lookup_batch(fd, first ? NULL : &token, &token, keys + total,
						   values + total, &count, NULL);
			total += count;
			first = false;
		} while (!err && total < n);
		if (err && errno != ENOENT) {
			fprintf(stderr, "libbpf_load: dump: lookup batch: %s\n", strerror(errno));
			goto out;
		}
		printf("dump\tlibbpf\t%d\t%.1f\t%u\n", r + 1, cpu_us() - t0, total);
	}
	err = 0;
	close(fd);
	free(keys);
	free(values);
	return 0;
out:
	if (fd >= 0)
		close(fd);
	free(keys);
	free(values);
	return 1;
}

static int usage(void)
{
	fputs("usage: libbpf_load conform SETUP OBJ...\n"
	      "       libbpf_load corpus SETUP OBJ...\n"
	      "       libbpf_load map N [ENTRIES]\n"
	      "       libbpf_load dump N ROUNDS\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	int i;

	libbpf_set_print(capture);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && strcmp(argv[1], "map") == 0) {
		long entries = argc >= 4 ? atol(argv[3]) : 1024;

		if (atol(argv[2]) <= 0 || entries <= 0 || entries > (1L << 30))
			return usage();
		return map_bench(atol(argv[2]), (__u32)entries);
	}
	if (argc >= 4 && strcmp(argv[1], "dump") == 0) {
		long n = atol(argv[2]), rounds = atol(argv[3]);

		if (n <= 0 || n > (1L << 26) || rounds <= 0 || rounds > 1000)
			return usage();
		return dump_bench((__u32)n, (int)rounds);
	}
	if (argc < 3 || (strcmp(argv[1], "conform") && strcmp(argv[1], "corpus")))
		return usage();
	if (read_setup(argv[2]))
		return 1;
	if (strcmp(argv[1], "conform") == 0) {
		int loaded = 0;

		for (i = 3; i < argc; i++)
			loaded += conform(argv[i]);
		printf("loaded\t%d\n", loaded);
	} else {
		double total = 0;

		for (i = 3; i < argc; i++)
			total += corpus_one(argv[i]);
		printf("total\t%.1f\n", total);
	}
	return 0;
}
