/* Files the core parses (BPF objects, BTF): opened, their first bytes and size looked at
 * before anything else, then mapped rather than read. A 2 GB file that is not an
 * object costs one pread of its header; one that is costs address space, not memory,
 * and only the pages the parser touches are ever read.
 *
 * The mapping is private and read-only: the file can't change through it. Like any
 * mmap (and libelf's ELF_C_READ_MMAP, which libbpf uses), it assumes the file is not
 * truncated under the parser. Files that cannot be mapped (some sysfs, procfs or FUSE
 * files) are read instead, within the same size limit. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sys.h"

int ayac_file_open(struct ayac_file *f, const char *path)
{
	struct stat st;
	ssize_t n;

	memset(f, 0, sizeof(*f));
	f->path = path;
	/* O_NONBLOCK: a FIFO given by mistake is refused below instead of waiting for a
	 * writer; it changes nothing for regular files. */
	f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (f->fd < 0)
		return ayac_seterr(errno, "open '%s'", path);
	if (fstat(f->fd, &st) < 0)
		return ayac_seterr(errno, "stat '%s'", path);
	if (!S_ISREG(st.st_mode))
		return ayac_seterr(S_ISDIR(st.st_mode) ? EISDIR : EINVAL,
				   "'%s' is not a regular file", path);
	f->size = (size_t)st.st_size;
	do
		n = pread(f->fd, f->head, sizeof(f->head), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return ayac_seterr(errno, "read '%s'", path);
	f->head_len = (size_t)n;
	return 0;
}

/* Files that cannot be mapped, and files whose size stat does not tell (sysfs and
 * procfs report 0 or a page): read to the end, never more than max bytes. */
static int read_all(struct ayac_file *f, size_t max)
{
	size_t cap = f->size > 0 && f->size <= max ? f->size : 64 * 1024, len = 0;
	char *buf = malloc(cap + 1), *grown;
	ssize_t n;

	if (!buf)
		return ayac_seterr(ENOMEM, "read '%s': out of memory", f->path);
	for (;;) {
		if (len == cap) {
			if (cap >= max) {
				free(buf);
				return ayac_seterr(EFBIG, "'%s' is larger than %zu MiB", f->path,
						   max >> 20);
			}
			cap = cap > max / 2 ? max : cap * 2;
			if (!(grown = realloc(buf, cap + 1))) {
				free(buf);
				return ayac_seterr(ENOMEM, "read '%s': out of memory", f->path);
			}
			buf = grown;
		}
		n = pread(f->fd, buf + len, cap - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return ayac_seterr(errno, "read '%s'", f->path);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	f->data = buf;
	f->size = len;
	f->mapped = false;
	return 0;
}

int ayac_file_map(struct ayac_file *f, size_t max, const char *what)
{
	void *p;

	if (f->size > max)
		return ayac_seterr(EFBIG, "'%s' is %zu bytes: more than ayac reads as %s "
				   "(at most %zu MiB)", f->path, f->size, what, max >> 20);
	if (f->size == 0)
		return read_all(f, max);
	p = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, f->fd, 0);
	if (p == MAP_FAILED)
		return read_all(f, max);
	f->data = p;
	f->mapped = true;
	return 0;
}

void *ayac_file_take(struct ayac_file *f, size_t *size, bool *mapped)
{
	void *data = f->data;

	*size = f->size;
	*mapped = f->mapped;
	f->data = NULL;
	return data;
}

void ayac_file_release(void *data, size_t size, bool mapped)
{
	if (!data)
		return;
	if (mapped)
		munmap(data, size);
	else
		free(data);
}

void ayac_file_close(struct ayac_file *f)
{
	ayac_file_release(f->data, f->size, f->mapped);
	f->data = NULL;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}
