/* libayac from C: load examples/getpid_count.bpf.o, count this process's getpid()
 * calls with its tracepoint program, and read the counts map.
 *
 *   cc -o getpid_count getpid_count.c $(pkg-config --cflags --libs ayac)
 *   ./getpid_count [object] [calls]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ayac/ayac.h>

static int fail(const char *what)
{
	fprintf(stderr, "getpid_count: %s: %s (%s)\n", what, ayac_errmsg(),
		ayac_errname(ayac_errnum()));
	return 1;
}

/* Only this process counts: the object's `const volatile __u32 target_tgid`. */
static int set_target(struct ayac_obj *obj, __u32 tgid)
{
	struct ayac_global g;
	size_t size;
	bool writable;
	char *data;

	if (ayac_obj_find_global(obj, "target_tgid", &g) < 0)
		return -1;
	data = ayac_map_data(g.map, &size, &writable);
	if (!data || !writable || g.size != sizeof(tgid) || g.offset + g.size > size)
		return -1;
	memcpy(data + g.offset, &tgid, sizeof(tgid));
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "examples/getpid_count.bpf.o";
	long calls = argc > 2 ? strtol(argv[2], NULL, 10) : 10;
	__u32 key = (__u32)getpid();
	__u64 count = 0;
	struct ayac_obj *obj;
	struct ayac_link *link = NULL;
	struct ayac_map *counts;
	long i;
	int rc = 1;

	obj = ayac_obj_open_file(path, NULL);
	if (!obj)
		return fail("open");
	if (set_target(obj, key) < 0) {
		fail("set target_tgid");
		goto out;
	}
	if (ayac_obj_load(obj) < 0) {
		fail("load");
		goto out;
	}
	link = ayac_prog_attach_auto(ayac_obj_prog_by_name(obj, "count_getpid"));
	if (!link) {
		fail("attach");
		goto out;
	}
	for (i = 0; i < calls; i++)
		syscall(SYS_getpid); /* not getpid(): no libc caching */
	counts = ayac_obj_map_by_name(obj, "counts");
	if (ayac_map_lookup(counts, &key, &count) < 0) {
		fail("lookup");
		goto out;
	}
	printf("pid %u called getpid %llu times\n", key, (unsigned long long)count);
	rc = 0;
	ayac_link_free(link); /* detaches it (it is not pinned) */
out:
	ayac_obj_free(obj); /* closes every fd, detaching links still attached */
	return rc;
}
