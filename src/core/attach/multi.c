/* kprobe.multi and uprobe.multi (and their session forms): many functions under one
 * program and one bpf_link (Linux 5.18 and 6.6), by a list of names, by offsets, or by
 * a glob — over tracefs' available_filter_functions for the kernel (read once per
 * process, 80k+ names on large hosts), over the ELF's function symbols for uprobes.
 *
 * Where the kernel has no multi link, the program was loaded as a plain kprobe/uprobe
 * (prog.c) and gets one perf probe per function instead, all owned by one link: the
 * same program runs, bpf_get_func_ip and bpf_get_attach_cookie still answer. Session
 * programs have no such fallback. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "elf/elf.h"

#define BPF_F_KPROBE_MULTI_RETURN_ (1U << 0)
#define BPF_F_UPROBE_MULTI_RETURN_ (1U << 0)
#define MAX_FUNCS (1 << 20)

static inline __u64 ptr_to_u64(const void *p)
{
	return (__u64)(unsigned long)p;
}

/* BPF_LINK_CREATE's multi-probe attributes as Linux 6.18 lays them out (the installed
 * uapi header predates uprobe_multi). */
struct multi_attr {
	__u32 prog_fd, target_fd, attach_type, flags;
	union {
		struct {
			__u32 flags, cnt;
			__u64 syms, addrs, cookies;
		} kprobe_multi;
		struct {
			__u64 path, offsets, ref_ctr_offsets, cookies;
			__u32 cnt, flags, pid;
		} uprobe_multi;
	};
};
union multi_u {
	union bpf_attr attr;
	struct multi_attr m;
};

/* ---- available_filter_functions, once per process ----------------------------------- */

static struct {
	pthread_mutex_t lock;
	char *buf;
	const char **names;
	size_t n;
	bool loaded;
} avail = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int avail_parse(char *buf)
{
	char *line, *save = NULL, *sp;
	size_t cap = 0;

	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		sp = strpbrk(line, " \t"); /* "name [module]" */
		if (sp)
			*sp = '\0';
		if (!*line || !strncmp(line, "__ftrace_invalid_address__", 26))
			continue;
		if (avail.n == cap) {
			const char **grown = ayac_reallocarray(avail.names, cap ? cap * 2 : 4096,
							       sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			avail.names = grown;
			cap = cap ? cap * 2 : 4096;
		}
		avail.names[avail.n++] = line;
	}
	return 0;
}

static int avail_load(void)
{
	char path[PATH_MAX];
	const char *root;
	size_t size;
	int err = 0;

	pthread_mutex_lock(&avail.lock);
	if (avail.loaded)
		goto out;
	root = ayac_tracefs();
	if (!root) {
		err = -ayac_errnum();
		goto out;
	}
	snprintf(path, sizeof(path), "%s/available_filter_functions", root);
	/* a pseudo-file: ayac_read_file wants a regular file, so read it by stream */
	err = -ENOMEM;
	{
		FILE *f = fopen(path, "re");
		char *buf = NULL;
		size_t cap = 0;
		if (!f) {
			err = ayac_seterr(errno, "open %s", path);
			goto out;
		}
		size = 0;
		for (;;) {
			size_t got;
			if (cap - size < 65536) {
				char *g = realloc(buf, cap + (1 << 20));
				if (!g)
					break;
				buf = g;
				cap += 1 << 20;
			}
			got = fread(buf + size, 1, cap - size - 1, f);
			size += got;
			if (!got) {
				err = ferror(f) ? ayac_seterr(EIO, "read %s", path) : 0;
				break;
			}
		}
		fclose(f);
		if (err) {
			free(buf);
			goto out;
		}
		buf[size] = '\0';
		avail.buf = buf;
	}
	err = avail_parse(avail.buf);
	avail.loaded = !err;
out:
	pthread_mutex_unlock(&avail.lock);
	return err;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Kernel functions matching pattern, each once (a name may be listed several times,
 * for static functions of different files): pointers into the cache. Sorting makes
 * the duplicates neighbours, so a pattern matching most of 80k names stays fast. */
static int kernel_funcs_matching(const char *pattern, const char ***out, size_t *n)
{
	const char **names;
	size_t i, cnt = 0, kept;
	int err = avail_load();

	if (err)
		return err;
	names = ayac_calloc(avail.n ? avail.n : 1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (i = 0; i < avail.n; i++)
		if (ayac_glob_match(pattern, avail.names[i]))
			names[cnt++] = avail.names[i];
	qsort(names, cnt, sizeof(*names), cmp_str);
	for (i = 0, kept = 0; i < cnt; i++)
		if (!kept || strcmp(names[kept - 1], names[i]))
			names[kept++] = names[i];
	if (!kept) {
		free(names);
		return ayac_seterr(ENOENT, "no kernel function matches '%s' in "
				   "available_filter_functions (%zu functions there)", pattern, avail.n);
	}
	*out = names;
	*n = kept;
	return 0;
}

/* ---- kprobe.multi ------------------------------------------------------------------- */

static int kprobe_link(struct ayac_prog *prog, const struct ayac_kprobe_multi_opts *o,
		       const char *const *syms, size_t n)
{
	union multi_u u;
	int fd;

	memset(&u, 0, sizeof(u));
	u.m.prog_fd = (__u32)prog->fd;
	u.m.attach_type = o->session ? AYAC_BPF_TRACE_KPROBE_SESSION : BPF_TRACE_KPROBE_MULTI;
	u.m.kprobe_multi.flags = o->retprobe ? BPF_F_KPROBE_MULTI_RETURN_ : 0;
	u.m.kprobe_multi.cnt = (__u32)n;
	u.m.kprobe_multi.syms = ptr_to_u64(syms);
	u.m.kprobe_multi.cookies = ptr_to_u64(o->cookies);
	fd = sys_bpf_fd(BPF_LINK_CREATE, &u.attr, sizeof(u));
	if (fd < 0)
		return ayac_seterr(-fd, "BPF_LINK_CREATE (%zu functions)", n);
	return fd;
}

/* One perf probe per target, all in one link (no multi link in this kernel). */
static struct ayac_link *one_by_one(struct ayac_prog *prog, const char *pmu, const char *what,
				    bool retprobe, const char *const *targets,
				    const __u64 *offsets, const char *path, size_t n,
				    const __u64 *cookies, int pid)
{
	struct ayac_link *link = NULL, *one;
	size_t i;
	int fd;

	for (i = 0; i < n; i++) {
		fd = ayac_probe_perf_open(pmu, retprobe, path ? path : targets[i],
					  offsets ? offsets[i] : 0, pid, 0);
		one = fd < 0 ? NULL : ayac_perf_attach(prog, fd, what, cookies ? cookies[i] : 0);
		if (!one || (link && ayac_link_absorb(link, one))) {
			ayac_errctx("%s", path ? "offset" : targets[i]);
			ayac_link_free(link);
			return NULL;
		}
		if (!link)
			link = one;
	}
	return link;
}

/* kretprobe.multi / uretprobe.multi sections return-probe whatever the options say. */
static bool sec_retprobe(const struct ayac_prog *prog)
{
	return prog && prog->sec_def && (prog->sec_def->flags & AYAC_SEC_RETPROBE);
}

struct ayac_link *ayac_attach_kprobe_multi(struct ayac_prog *prog,
					   const struct ayac_kprobe_multi_opts *opts)
{
	struct ayac_kprobe_multi_opts copy, *o = opts ? &copy : NULL;
	const char **matched = NULL;
	const char *const *syms;
	struct ayac_link *link = NULL;
	size_t n;
	int fd;

	if (opts) {
		copy = *opts;
		copy.retprobe = copy.retprobe || sec_retprobe(prog);
	}
	if (ayac_link_prog_fd(prog) < 0)
		goto fail;
	if (!o || (!o->funcs == !o->pattern) || (o->funcs && (!o->cnt || o->cnt > MAX_FUNCS)) ||
	    (o->cookies && !o->funcs)) {
		ayac_seterr(EINVAL, "needs funcs (with cookies, one each) or a pattern");
		goto fail;
	}
	if (o->pattern && kernel_funcs_matching(o->pattern, &matched, &n))
		goto fail;
	syms = matched ? matched : o->funcs;
	n = matched ? n : o->cnt;
	if (prog->attach_type != BPF_TRACE_KPROBE_MULTI &&
	    prog->attach_type != (enum bpf_attach_type)AYAC_BPF_TRACE_KPROBE_SESSION) {
		link = one_by_one(prog, "kprobe", o->retprobe ? "kretprobe" : "kprobe", o->retprobe,
				  syms, NULL, NULL, n, o->cookies, -1);
	} else if ((fd = kprobe_link(prog, o, syms, n)) >= 0) {
		link = ayac_link_new(prog, AYAC_LINK_BPF, o->session ? "kprobe.session" :
				     "kprobe.multi", fd, -1);
	}
fail:
	free(matched);
	if (!link)
		ayac_errctx("attach kprobe.multi%s%s%s for program '%s'",
			    o && o->pattern ? " '" : "", o && o->pattern ? o->pattern : "",
			    o && o->pattern ? "'" : "", prog ? prog->name : "?");
	return link;
}

/* ---- uprobe.multi ------------------------------------------------------------------- */

static int uprobe_link(struct ayac_prog *prog, const struct ayac_uprobe_multi_opts *o,
		       const char *path, const __u64 *offsets, size_t n)
{
	union multi_u u;
	int fd;

	memset(&u, 0, sizeof(u));
	u.m.prog_fd = (__u32)prog->fd;
	u.m.attach_type = o->session ? AYAC_BPF_TRACE_UPROBE_SESSION : AYAC_BPF_TRACE_UPROBE_MULTI;
	u.m.uprobe_multi.path = ptr_to_u64(path);
	u.m.uprobe_multi.offsets = ptr_to_u64(offsets);
	u.m.uprobe_multi.cookies = ptr_to_u64(o->cookies);
	u.m.uprobe_multi.cnt = (__u32)n;
	u.m.uprobe_multi.flags = o->retprobe ? BPF_F_UPROBE_MULTI_RETURN_ : 0;
	u.m.uprobe_multi.pid = o->pid > 0 ? (__u32)o->pid : 0;
	fd = sys_bpf_fd(BPF_LINK_CREATE, &u.attr, sizeof(u));
	if (fd < 0)
		return ayac_seterr(-fd, "BPF_LINK_CREATE (%zu offsets)", n);
	return fd;
}

/* Offsets of the symbols asked for, by pattern or by name. */
static int uprobe_offsets(const char *path, const struct ayac_uprobe_multi_opts *o,
			  __u64 **offsets, size_t *n)
{
	struct ayac_elf_func_list list;
	size_t i;

	if (o->offsets) {
		*n = o->cnt;
		*offsets = ayac_calloc(o->cnt, sizeof(__u64));
		if (*offsets)
			memcpy(*offsets, o->offsets, o->cnt * sizeof(__u64));
		return *offsets ? 0 : -ENOMEM;
	}
	if (o->pattern) {
		if (ayac_elf_funcs_matching(path, o->pattern, &list))
			return -ayac_errnum();
		if (!list.n) {
			ayac_elf_func_list_free(&list);
			return ayac_seterr(ENOENT, "no function matches '%s' in '%s'", o->pattern, path);
		}
		*offsets = ayac_calloc(list.n, sizeof(__u64));
		for (i = 0; *offsets && i < list.n; i++)
			(*offsets)[i] = list.funcs[i].offset;
		*n = list.n;
		ayac_elf_func_list_free(&list);
		return *offsets ? 0 : -ENOMEM;
	}
	*offsets = ayac_calloc(o->cnt, sizeof(__u64));
	for (i = 0; *offsets && i < o->cnt; i++)
		if (ayac_elf_symbol_offset(path, o->symbols[i], &(*offsets)[i])) {
			free(*offsets);
			*offsets = NULL;
			return -ayac_errnum();
		}
	*n = o->cnt;
	return *offsets ? 0 : -ENOMEM;
}

static int check_uprobe_opts(const struct ayac_uprobe_multi_opts *o)
{
	int ways;

	if (!o || !o->path || !*o->path)
		return ayac_seterr(EINVAL, "needs a path (executable or shared library)");
	ways = !!o->symbols + !!o->offsets + !!o->pattern;
	if (ways != 1 || (!o->pattern && (!o->cnt || o->cnt > MAX_FUNCS)))
		return ayac_seterr(EINVAL, "needs one of symbols, offsets or pattern");
	if (o->cookies && o->pattern)
		return ayac_seterr(EINVAL, "cookies go with symbols or offsets (one each), not "
				   "with a pattern");
	return 0;
}

struct ayac_link *ayac_attach_uprobe_multi(struct ayac_prog *prog,
					   const struct ayac_uprobe_multi_opts *opts)
{
	struct ayac_uprobe_multi_opts copy, *o = opts ? &copy : NULL;
	struct ayac_link *link = NULL;
	char path[PATH_MAX];
	__u64 *offsets = NULL;
	size_t n = 0;
	int fd;

	if (opts) {
		copy = *opts;
		copy.retprobe = copy.retprobe || sec_retprobe(prog);
	}
	if (ayac_link_prog_fd(prog) < 0 || check_uprobe_opts(o) ||
	    ayac_uprobe_resolve_path(o->path, path, sizeof(path)) ||
	    uprobe_offsets(path, o, &offsets, &n))
		goto out;
	if (prog->attach_type != (enum bpf_attach_type)AYAC_BPF_TRACE_UPROBE_MULTI &&
	    prog->attach_type != (enum bpf_attach_type)AYAC_BPF_TRACE_UPROBE_SESSION)
		link = one_by_one(prog, "uprobe", o->retprobe ? "uretprobe" : "uprobe", o->retprobe,
				  NULL, offsets, path, n, o->cookies, o->pid > 0 ? o->pid : -1);
	else if ((fd = uprobe_link(prog, o, path, offsets, n)) >= 0)
		link = ayac_link_new(prog, AYAC_LINK_BPF, o->session ? "uprobe.session" :
				     "uprobe.multi", fd, -1);
out:
	free(offsets);
	if (!link)
		ayac_errctx("attach uprobe.multi '%s' for program '%s'", o && o->path ? o->path : "",
			    prog ? prog->name : "?");
	return link;
}
