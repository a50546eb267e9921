/* Allocation helpers that record an error when they fail, and object names. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
