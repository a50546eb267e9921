/* Kernel symbols from /proc/kallsyms: read once per process, on first use, and kept
 * (like vmlinux BTF, shared by everything loaded afterwards). Two orders over one
 * array of entries: by address for ayac_ksym (what is at this address?), by name for
 * ayac_kaddr and typeless __ksym externs (where is this symbol?).
 *
 * Kernel modules and BPF programs ("[bpf]") loaded later are not in the table until
 * ayac_ksyms_refresh() drops it (the next lookup reads the file again).
 *
 * Addresses are exact 64-bit values throughout. Lines look like
 *   ffffffff81000000 T _stext
 *   ffffffffc0a01000 t ext4_fill_super	[ext4]
 * With kptr_restrict (or without CAP_SYSLOG) every address reads 0: lookups then fail
 * with EPERM instead of answering with nonsense. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "syms.h"

#define KALLSYMS_PATH "/proc/kallsyms"
#define KALLSYMS_MAX (256u << 20)

struct kentry {
	__u64 addr;
	const char *name;      /* inside kallsyms.text */
	const char *module;    /* NULL: vmlinux */
	__u32 key_len;         /* the name without an LTO ".llvm.N" suffix (data symbols) */
	__u32 line;            /* order in the file, to keep sorting stable */
	char type;
};

struct kallsyms {
	struct kallsyms *older;   /* the retired list */
	char *text;
	struct kentry *v;      /* by address */
	struct kentry **by_name;
	size_t n;
	bool hidden;           /* every address was 0 */
};

static struct kallsyms *cache;
/* Tables replaced by ayac_ksyms_refresh: kept, since the names they handed out are
 * promised to live as long as the process. */
static struct kallsyms *retired;
static pthread_mutex_t retire_lock = PTHREAD_MUTEX_INITIALIZER;

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

/* Cut one line into an entry, in place. */
static bool parse_line(char *line, struct kentry *out)
{
	char *p, *name, *mod;
	const char *llvm;

	out->addr = strtoull(line, &p, 16);
	if (p == line || *p != ' ' || !p[1] || p[2] != ' ')
		return false;
	out->type = p[1];
	name = p + 3;
	mod = name + strcspn(name, " \t");
	if (mod == name)
		return false;
	out->module = NULL;
	if (*mod) {
		*mod++ = '\0';
		mod += strspn(mod, " \t");
		if (*mod == '[') {
			mod[strcspn(mod, "]")] = '\0';
			out->module = mod + 1;
		}
	}
	out->name = name;
	out->key_len = (__u32)strlen(name);
	llvm = (out->type == 'd' || out->type == 'D') ? strstr(name, ".llvm.") : NULL;
	if (llvm)
		out->key_len = (__u32)(llvm - name);
	return true;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct kentry *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Compare a key (len bytes) with an entry's key. */
static int cmp_key(const char *key, size_t len, const struct kentry *e)
{
	size_t n = len < e->key_len ? len : e->key_len;
	int c = memcmp(key, e->name, n);

	return c ? c : len < e->key_len ? -1 : len > e->key_len;
}

static int cmp_name(const void *a, const void *b)
{
	const struct kentry *x = *(struct kentry *const *)a, *y = *(struct kentry *const *)b;
	int c = cmp_key(x->name, x->key_len, y);

	if (c)
		return c;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void kallsyms_free(struct kallsyms *ks)
{
	if (!ks)
		return;
	free(ks->text);
	free(ks->v);
	free(ks->by_name);
	free(ks);
}

static int index_entries(struct kallsyms *ks)
{
	size_t i, nonzero = 0;

	qsort(ks->v, ks->n, sizeof(*ks->v), cmp_addr);
	if (!(ks->by_name = ayac_calloc(ks->n, sizeof(*ks->by_name))))
		return -ENOMEM;
	for (i = 0; i < ks->n; i++) {
		ks->by_name[i] = &ks->v[i];
		nonzero += ks->v[i].addr != 0;
	}
	qsort(ks->by_name, ks->n, sizeof(*ks->by_name), cmp_name);
	ks->hidden = ks->n && !nonzero;
	return 0;
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
		ks->v[ks->n].line = (__u32)ks->n;
		if (parse_line(line, &ks->v[ks->n]))
			ks->n++;
	}
	if (index_entries(ks) < 0)
		goto fail;
	return ks;
fail:
	kallsyms_free(ks);
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
		kallsyms_free(ks);
		ks = expected;
	}
	return ks;
}

static const struct kallsyms *kallsyms_usable(void)
{
	const struct kallsyms *ks = kallsyms_get();

	if (ks && ks->hidden) {
		ayac_seterr(EPERM, "%s shows every address as 0 (kernel.kptr_restrict, or no "
			    "CAP_SYSLOG): run as root or set kernel.kptr_restrict=0", KALLSYMS_PATH);
		return NULL;
	}
	return ks;
}

/* Symbols that name a place in code or data, not absolute values or per-CPU offsets. */
static bool addressable(const struct kentry *e)
{
	return e->type != 'a' && e->type != 'A' && e->addr != 0;
}

int ayac_ksym(__u64 addr, struct ayac_sym *out)
{
	const struct kallsyms *ks = kallsyms_usable();
	size_t lo = 0, hi;

	memset(out, 0, sizeof(*out));
	if (!ks)
		return -ayac_errnum();
	hi = ks->n;
	while (lo < hi) { /* the first entry above addr */
		size_t mid = lo + (hi - lo) / 2;
		if (ks->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Entries at the same address: the first listed (the kernel lists a function
	 * before its aliases); skip absolute symbols on the way down. */
	while (lo > 0 && !addressable(&ks->v[lo - 1]))
		lo--;
	if (lo == 0)
		return ayac_seterr(ENOENT, "0x%llx is below every symbol in %s",
				   (unsigned long long)addr, KALLSYMS_PATH);
	lo--;
	while (lo > 0 && ks->v[lo - 1].addr == ks->v[lo].addr && addressable(&ks->v[lo - 1]))
		lo--;
	out->name = ks->v[lo].name;
	out->module = ks->v[lo].module;
	out->sym_addr = ks->v[lo].addr;
	out->offset = addr - ks->v[lo].addr;
	return 0;
}

/* [*first, *last) of the entries whose key is name (optionally in one module). */
static void name_range(const struct kallsyms *ks, const char *name, size_t len,
		       size_t *first, size_t *last)
{
	size_t lo = 0, hi = ks->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_key(name, len, ks->by_name[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (lo < ks->n && cmp_key(name, len, ks->by_name[lo]) == 0)
		lo++;
	*last = lo;
}

static bool in_module(const struct kentry *e, const char *mod, size_t mod_len)
{
	if (!mod)
		return true;
	if (mod_len == 7 && memcmp(mod, "vmlinux", 7) == 0)
		return !e->module;
	return e->module && strlen(e->module) == mod_len && memcmp(e->module, mod, mod_len) == 0;
}

int ayac_kallsyms_lookup(const char *name, __u64 *addr)
{
	const struct kallsyms *ks = kallsyms_usable();
	const char *colon = strchr(name, ':'), *mod = NULL, *sym = name;
	const struct kentry *found = NULL;
	size_t first, last, i, mod_len = 0;

	if (!ks)
		return -ayac_errnum();
	if (colon) {
		mod = name;
		mod_len = (size_t)(colon - name);
		sym = colon + 1;
	}
	name_range(ks, sym, strlen(sym), &first, &last);
	for (i = first; i < last; i++) {
		const struct kentry *e = ks->by_name[i];

		if (!in_module(e, mod, mod_len))
			continue;
		if (found && found->addr != e->addr)
			return ayac_seterr(ENOTUNIQ, "'%s' is ambiguous in %s: 0x%llx%s%s or 0x%llx%s%s"
					   " (name one module as module:%s)", name, KALLSYMS_PATH,
					   (unsigned long long)found->addr,
					   found->module ? " in " : "", found->module ? found->module : "",
					   (unsigned long long)e->addr, e->module ? " in " : "",
					   e->module ? e->module : "", sym);
		found = found ? found : e;
	}
	if (!found)
		return ayac_seterr(ENOENT, "'%s' is not in %s", name, KALLSYMS_PATH);
	*addr = found->addr;
	return 0;
}

void ayac_ksyms_refresh(void)
{
	struct kallsyms *old = __atomic_exchange_n(&cache, NULL, __ATOMIC_ACQ_REL);

	if (!old)
		return;
	pthread_mutex_lock(&retire_lock);
	old->older = retired;
	retired = old;
	pthread_mutex_unlock(&retire_lock);
}

int ayac_kaddr(const char *name, __u64 *addr)
{
	if (!name || !*name)
		return ayac_seterr(EINVAL, "kaddr: empty symbol name");
	return ayac_kallsyms_lookup(name, addr);
}
