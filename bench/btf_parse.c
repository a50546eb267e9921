/* Parsing vmlinux BTF, libbpf and ayac in one process (bench/README.md).
 *
 *   btf_parse N [PATH]      (PATH default /sys/kernel/btf/vmlinux)
 *
 * N rounds; each round times every variant once, in an order that rotates from round
 * to round, and frees what it parsed outside the timed part. One line per measurement:
 *   btf <variant> <round> <microseconds>
 * Variants:
 *   libbpf          btf__parse(PATH): read, copy, index and sanity-check every type
 *   ayac            ayac_btf_parse_file(PATH): what ayac does for vmlinux (sysfs mapped
 *                   read-only, records walked once; the kernel verified them)
 *   ayac_validate   the file read into memory, then ayac_btf_parse: every record
 *                   checked, as for BTF that does not come from the kernel
 *   libbpf_find     btf__parse + btf__find_by_name_kind("task_struct", STRUCT)
 *   ayac_find       ayac_btf_parse_file + ayac_btf_find (builds the name index)
 * Both libraries parse the same file in the same process with the same clock; the
 * ayac side is C, like libbpf's, so no interpreter time is counted on either side.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "btf_parse.h"

#define FIND_NAME "task_struct"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int libbpf_side(const char *path, const char *find)
{
	struct btf *btf = btf__parse(path, NULL);
	int err = 0;

	if (!btf)
		return -1;
	if (find && btf__find_by_name_kind(btf, find, BTF_KIND_STRUCT) < 0)
		err = -1;
	btf__free(btf);
	return err;
}

enum { V_LIBBPF, V_AYAC, V_AYAC_VALIDATE, V_LIBBPF_FIND, V_AYAC_FIND, NVARIANTS };
static const char *const names[NVARIANTS] = {
	"libbpf", "ayac", "ayac_validate", "libbpf_find", "ayac_find",
};

/* The time of one variant; frees are part of it on both sides (cheap, and symmetric). */
static double run(int v, const char *path)
{
	double t0 = now_us();
	int err = 0;

	switch (v) {
	case V_LIBBPF: err = libbpf_side(path, NULL); break;
	case V_AYAC: err = ayac_side_parse_file(path, NULL); break;
	case V_AYAC_VALIDATE: err = ayac_side_parse_bytes(path); break;
	case V_LIBBPF_FIND: err = libbpf_side(path, FIND_NAME); break;
	case V_AYAC_FIND: err = ayac_side_parse_file(path, FIND_NAME); break;
	}
	if (err) {
		fprintf(stderr, "btf_parse: %s on %s failed: %s\n", names[v], path,
			v == V_LIBBPF || v == V_LIBBPF_FIND ? strerror(errno) : ayac_side_error());
		exit(1);
	}
	return now_us() - t0;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = argc > 2 ? argv[2] : "/sys/kernel/btf/vmlinux";
	long rounds = argc > 1 ? atol(argv[1]) : 0;
	long r;
	int i;

	if (rounds <= 0) {
		fputs("usage: btf_parse N [PATH]\n", stderr);
		return 2;
	}
	libbpf_set_print(quiet);
	/* One untimed round: page cache, allocator arenas and code warm on both sides. */
	for (i = 0; i < NVARIANTS; i++)
		run(i, path);
	for (r = 1; r <= rounds; r++) {
		for (i = 0; i < NVARIANTS; i++) {
			int v = (int)((i + r) % NVARIANTS);

			printf("btf\t%s\t%ld\t%.1f\n", names[v], r, run(v, path));
		}
	}
	return 0;
}
