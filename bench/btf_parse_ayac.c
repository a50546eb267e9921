/* The ayac half of bench/btf_parse.c, in a file of its own so that ayac's headers and
 * libbpf's never meet in one translation unit. Links ayac's core objects
 * ($(BUILD)/libayac.a), nothing of Lua. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "btf/btf.h"
#include "btf_parse.h"

/* What ayac does for vmlinux (ayac_btf_vmlinux without the per-process cache): the
 * sysfs file mapped read-only, records walked once. */
int ayac_side_parse_file(const char *path, const char *find)
{
	struct ayac_btf *btf = ayac_btf_parse_file(path, NULL);
	int err = 0;

	if (!btf)
		return -1;
	if (find && ayac_btf_find(btf, find, BTF_KIND_STRUCT) < 0)
		err = -1;
	ayac_btf_free(btf);
	return err;
}

/* Any BTF that is not the kernel's own: read into memory, every record validated (the
 * path an untrusted blob takes; libbpf's btf__parse does the same amount of work). */
int ayac_side_parse_bytes(const char *path)
{
	struct ayac_btf *btf = NULL;
	size_t size, got = 0;
	struct stat st;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !(buf = malloc((size_t)st.st_size + 1))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	size = (size_t)st.st_size;
	/* sysfs hands out a page per read */
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got == size)
		btf = ayac_btf_parse(buf, size, NULL);
	free(buf);
	if (!btf)
		return -1;
	ayac_btf_free(btf);
	return 0;
}

const char *ayac_side_error(void)
{
	return ayac_errmsg();
}
