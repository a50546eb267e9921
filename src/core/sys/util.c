/* Allocation and file helpers that record an error when they fail. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sys.h"

char *ayac_strdup(const char *s)
{
	char *p = strdup(s ? s : "");
	if (!p)
		ayac_seterr(ENOMEM, "out of memory");
	return p;
}

void *ayac_calloc(size_t n, size_t size)
{
	void *p = (n && size) ? calloc(n, size) : calloc(1, 1);
	if (!p)
		ayac_seterr(ENOMEM, "out of memory allocating %zu x %zu bytes", n, size);
	return p;
}

void *ayac_reallocarray(void *p, size_t n, size_t size)
{
	void *q;

	if (size && n > SIZE_MAX / size) {
		ayac_seterr(ENOMEM, "allocation of %zu x %zu bytes overflows", n, size);
		return NULL;
	}
	q = realloc(p, (n * size) != 0 ? n * size : 1);
	if (!q)
		ayac_seterr(ENOMEM, "out of memory");
	return q;
}

void *ayac_read_file(const char *path, size_t *size)
{
	struct stat st;
	char *buf = NULL;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		ayac_seterr(errno, "open '%s'", path);
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		ayac_seterr(errno, "stat '%s'", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		ayac_seterr(EINVAL, "'%s' is not a regular file", path);
		goto fail;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		ayac_seterr(ENOMEM, "read '%s': out of memory", path);
		goto fail;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ayac_seterr(n < 0 ? errno : EIO, "read '%s'", path);
			goto fail;
		}
		done += (size_t)n;
	}
	close(fd);
	*size = done;
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

void ayac_kernel_obj_name(char out[AYAC_OBJ_NAME_LEN], const char *name)
{
	size_t i, j = 0;

	for (i = 0; name[i] && j < AYAC_OBJ_NAME_LEN - 1; i++) {
		char c = name[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '_' || c == '.';
		out[j++] = ok ? c : '_';
	}
	out[j] = '\0';
}
