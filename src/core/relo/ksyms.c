/* Kernel symbol addresses from /proc/kallsyms, for typeless __ksym externs and for
 * ayac's own questions (which syscall wrappers exist). The file (~100k lines) is read
 * once per process, on first use, into a table sorted by name, and kept: like vmlinux
 * BTF it is shared by every object loaded afterwards. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "externs.h"

#define KALLSYMS_PATH "/proc/kallsyms"
#define KALLSYMS_MAX (256u << 20)

struct ksym {
	__u64 addr;
	const char *name;     /* inside kallsyms.text */
};

struct kallsyms {
	char *text;
	struct ksym *v;
	size_t n;
};

static struct kallsyms *cache;

/* The whole file (procfs reports size 0: read until EOF). */
static char *read_all(size_t *len)
{
	size_t cap = 4u << 20;
	char *buf = malloc(cap), *grown;
	ssize_t n;
	int fd = open(KALLSYMS_PATH, O_RDONLY | O_CLOEXEC);

	*len = 0;
	if (fd < 0 || !buf) {
		ayac_seterr(fd < 0 ? errno : ENOMEM, "open %s", KALLSYMS_PATH);
		goto fail;
	}
	while ((n = read(fd, buf + *len, cap - 1 - *len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ayac_seterr(errno, "read %s", KALLSYMS_PATH);
			goto fail;
		}
		*len += (size_t)n;
		if (cap - 1 - *len == 0) {
			if (cap >= KALLSYMS_MAX || !(grown = realloc(buf, cap * 2))) {
				ayac_seterr(ENOMEM, "%s: out of memory", KALLSYMS_PATH);
				goto fail;
			}
			buf = grown;
			cap *= 2;
		}
	}
	close(fd);
	buf[*len] = '\0';
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/* "ffffffff81000000 T _stext\t[module]": cut the name out in place. A data symbol
 * renamed by LTO ("foo.llvm.1234") answers to its C name, as libbpf does. */
static bool parse_line(char *line, struct ksym *out)
{
	char *p, *name;
	char type;

	out->addr = strtoull(line, &p, 16);
	if (p == line || *p != ' ' || !p[1] || p[2] != ' ')
		return false;
	type = p[1];
	name = p + 3;
	name[strcspn(name, " \t")] = '\0';
	if (!*name)
		return false;
	if (type == 'd' || type == 'D') {
		char *llvm = strstr(name, ".llvm.");
		if (llvm)
			*llvm = '\0';
	}
	out->name = name;
	return true;
}

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : x->addr < y->addr ? -1 : x->addr > y->addr;
}

static struct kallsyms *build(void)
{
	struct kallsyms *ks = ayac_calloc(1, sizeof(*ks));
	size_t len, lines = 0, cap;
	char *line, *next;

	if (!ks || !(ks->text = read_all(&len)))
		goto fail;
	for (line = ks->text; (line = strchr(line, '\n')); line++)
		lines++;
	cap = lines + 1;
	if (!(ks->v = ayac_calloc(cap, sizeof(*ks->v))))
		goto fail;
	for (line = ks->text; *line && ks->n < cap; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (parse_line(line, &ks->v[ks->n]))
			ks->n++;
	}
	qsort(ks->v, ks->n, sizeof(*ks->v), cmp_ksym);
	return ks;
fail:
	if (ks) {
		free(ks->text);
		free(ks->v);
		free(ks);
	}
	return NULL;
}

static const struct kallsyms *kallsyms_get(void)
{
	struct kallsyms *ks = __atomic_load_n(&cache, __ATOMIC_ACQUIRE), *expected = NULL;

	if (ks)
		return ks;
	if (!(ks = build()))
		return NULL;
	if (!__atomic_compare_exchange_n(&cache, &expected, ks, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		free(ks->text);
		free(ks->v);
		free(ks);
		ks = expected;
	}
	return ks;
}

int ayac_kallsyms_lookup(const char *name, __u64 *addr)
{
	const struct kallsyms *ks = kallsyms_get();
	size_t lo = 0, hi, i;

	if (!ks)
		return -ayac_errnum();
	hi = ks->n;
	while (lo < hi) { /* the first entry not below name */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(ks->v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == ks->n || strcmp(ks->v[lo].name, name) != 0)
		return ayac_seterr(ENOENT, "'%s' is not in %s", name, KALLSYMS_PATH);
	for (i = lo + 1; i < ks->n && strcmp(ks->v[i].name, name) == 0; i++)
		if (ks->v[i].addr != ks->v[lo].addr)
			return ayac_seterr(ENOTUNIQ, "'%s' is ambiguous in %s: 0x%llx or 0x%llx",
					   name, KALLSYMS_PATH, (unsigned long long)ks->v[lo].addr,
					   (unsigned long long)ks->v[i].addr);
	*addr = ks->v[lo].addr;
	return 0;
}
