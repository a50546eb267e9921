/* USDT: probes that programs built with systemtap's <sys/sdt.h> carry in their
 * .note.stapsdt, attached the way libbpf does, so that BPF programs written against
 * libbpf's <bpf/usdt.bpf.h> (BPF_USDT, bpf_usdt_arg, bpf_usdt_cookie) work unchanged:
 *
 *  - every site of provider:name in the file gets a uprobe at its file offset, with
 *    the probe's semaphore (if any) as the uprobe's reference counter, so code guarded
 *    by `if (provider_name_enabled())` runs while attached;
 *  - each site's argument locations go into __bpf_usdt_specs under a spec id
 *    (usdt_spec.c), and the program finds its id from the bpf_cookie or, on kernels
 *    without cookies, from the probe address in __bpf_usdt_ip_to_spec_id;
 *  - the link owns every uprobe, and gives its spec ids back when it goes. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "features/features.h"
#include "usdt_priv.h"

struct usdt_link_state {
	struct ayac_usdt_ids *ids;
	int specs_fd, ip_fd;
	size_t n;
	int *spec_ids;
	long *ips;                 /* keys put in the ip map (no-cookie kernels) */
	size_t nr_ips;
};

static void usdt_release(struct ayac_link *link, void *priv, bool undo)
{
	struct usdt_link_state *st = priv;
	size_t i;

	(void)link;
	if (!st)
		return;
	for (i = 0; undo && i < st->nr_ips; i++)
		ayac_fast_delete(st->ip_fd, &st->ips[i]);
	for (i = 0; undo && i < st->n; i++)
		usdt_id_put(st->ids, st->spec_ids[i]);
	free(st->spec_ids);
	free(st->ips);
	free(st);
}

/* Where the probe sits in a running process (no-cookie kernels key specs by address):
 * a fixed address for non-PIE executables, else through pid's mapping of path. */
static int probe_address(const struct ayac_usdt_notes *notes, const struct ayac_usdt_note *n,
			 const char *path, int pid, long *ip)
{
	unsigned long long start, end, off;
	char line[PATH_MAX + 256], file[PATH_MAX], maps[64], real[PATH_MAX];
	FILE *f;

	if (notes->exec) {
		*ip = (long)n->loc_addr;
		return 0;
	}
	if (pid < 0)
		return ayac_seterr(EOPNOTSUPP, "this kernel has no bpf_cookie, so a USDT probe in "
				   "a shared library or PIE needs a pid to find its address");
	if (!realpath(path, real)) /* /proc/PID/maps names files by their real path */
		return ayac_seterr(errno, "realpath '%s'", path);
	snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	f = fopen(maps, "re");
	if (!f)
		return ayac_seterr(errno, "open %s", maps);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %4095s", &start, &end, &off, file) != 4 ||
		    strcmp(file, real) || n->ip_off < off || n->ip_off - off >= end - start)
			continue;
		fclose(f);
		*ip = (long)(start + n->ip_off - off);
		return 0;
	}
	fclose(f);
	return ayac_seterr(ENOENT, "process %d has no mapping of '%s' at offset 0x%llx", pid,
			   path, (unsigned long long)n->ip_off);
}

struct usdt_ctx {
	struct ayac_prog *prog;
	const struct ayac_usdt_opts *opts;
	const char *path;
	const struct ayac_usdt_notes *notes;
	struct usdt_link_state *st;
	bool cookies;
	unsigned char *spec;       /* scratch, usdt_spec_size bytes */
	struct ayac_link *link;
};

/* The spec id for one site: its arguments encoded, shared with equal ones. */
static int site_spec(struct usdt_ctx *c, const struct ayac_usdt_note *n)
{
	struct ayac_usdt_arg args[AYAC_USDT_MAX_ARGS];
	int cnt, id, err;
	bool fresh;
	__u32 key;

	if (ayac_usdt_parse_args(n->args, args, AYAC_USDT_MAX_ARGS, &cnt) ||
	    usdt_spec_encode(c->st->ids, args, cnt, c->opts->cookie, c->spec))
		return -ayac_errnum();
	id = usdt_id_get(c->st->ids, c->spec, &fresh);
	if (id < 0)
		return id;
	c->st->spec_ids[c->st->n++] = id;
	key = (__u32)id;
	if (fresh && (err = ayac_fast_update(c->st->specs_fd, &key, c->spec, BPF_ANY)))
		return ayac_seterr(-err, "write spec %d to __bpf_usdt_specs", id);
	return id;
}

static int attach_site(struct usdt_ctx *c, const struct ayac_usdt_note *n)
{
	struct ayac_link *one;
	long ip;
	__u32 val;
	int id = site_spec(c, n), fd, err;

	if (id < 0)
		return id;
	if (!c->cookies) {
		if (probe_address(c->notes, n, c->path, c->opts->pid, &ip))
			return -ayac_errnum();
		val = (__u32)id;
		if ((err = ayac_fast_update(c->st->ip_fd, &ip, &val, BPF_NOEXIST)))
			return ayac_seterr(-err, "add 0x%lx to __bpf_usdt_ip_to_spec_id", ip);
		c->st->ips[c->st->nr_ips++] = ip;
	}
	fd = ayac_probe_perf_open("uprobe", false, c->path, n->ip_off, c->opts->pid,
				  n->sema_off);
	if (fd < 0)
		return fd;
	one = ayac_perf_attach(c->prog, fd, "usdt", c->cookies ? (__u64)id : 0);
	if (!one)
		return -ayac_errnum();
	if (!c->link) {
		c->link = one;
		return 0;
	}
	return ayac_link_absorb(c->link, one);
}

static struct ayac_map *usdt_map(struct ayac_prog *prog, const char *name)
{
	size_t i;

	for (i = 0; i < prog->obj->nr_maps; i++)
		if (!strcmp(prog->obj->maps[i]->name, name) && prog->obj->maps[i]->fd >= 0)
			return prog->obj->maps[i];
	ayac_seterr(EINVAL, "the object has no map '%s': USDT programs use libbpf's "
		    "<bpf/usdt.bpf.h> (BPF_USDT, bpf_usdt_arg)", name);
	return NULL;
}

static int state_new(struct usdt_ctx *c, size_t sites)
{
	struct ayac_map *specs = usdt_map(c->prog, "__bpf_usdt_specs");
	struct ayac_map *ips = specs ? usdt_map(c->prog, "__bpf_usdt_ip_to_spec_id") : NULL;
	struct usdt_link_state *st;

	if (!ips)
		return -ayac_errnum();
	st = ayac_calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	c->st = st;
	st->ids = usdt_ids_get(c->prog->obj, specs);
	st->specs_fd = specs->fd;
	st->ip_fd = ips->fd;
	st->spec_ids = ayac_calloc(sites, sizeof(int));
	st->ips = ayac_calloc(sites, sizeof(long));
	if (!st->ids || !st->spec_ids || !st->ips)
		return -ayac_errnum();
	c->spec = ayac_calloc(1, usdt_spec_size(st->ids));
	return c->spec ? 0 : -ENOMEM;
}

static bool note_matches(const struct ayac_usdt_note *n, const struct ayac_usdt_opts *o)
{
	return !strcmp(n->provider, o->provider) && !strcmp(n->name, o->name);
}

static int attach_all(struct usdt_ctx *c)
{
	size_t i, sites = 0;
	int err;

	for (i = 0; i < c->notes->n; i++)
		sites += note_matches(&c->notes->notes[i], c->opts);
	if (!sites)
		return ayac_seterr(ENOENT, "no USDT probe %s:%s in '%s' (%zu probes there)",
				   c->opts->provider, c->opts->name, c->path, c->notes->n);
	if ((err = state_new(c, sites)))
		return err;
	c->cookies = ayac_feature(AYAC_FEAT_BPF_COOKIE) != 0;
	for (i = 0; i < c->notes->n; i++) {
		const struct ayac_usdt_note *n = &c->notes->notes[i];
		if (note_matches(n, c->opts) && (err = attach_site(c, n)))
			return ayac_errctx("site at 0x%llx ('%s')", (unsigned long long)n->loc_addr,
					   n->args);
	}
	c->link->release = usdt_release;
	c->link->priv = c->st;
	c->st = NULL;
	return 0;
}

static int check_opts(const struct ayac_usdt_opts *o)
{
	if (!o || !o->path || !*o->path)
		return ayac_seterr(EINVAL, "needs a path (executable or shared library)");
	if (!o->provider || !*o->provider || !o->name || !*o->name)
		return ayac_seterr(EINVAL, "needs a provider and a probe name");
	return 0;
}

struct ayac_link *ayac_attach_usdt(struct ayac_prog *prog, const struct ayac_usdt_opts *opts)
{
	struct ayac_usdt_notes notes = { 0 };
	struct usdt_ctx c = { .prog = prog, .opts = opts, .notes = &notes };
	char path[PATH_MAX];
	int err;

	err = ayac_link_prog_fd(prog) < 0 || check_opts(opts) ||
	      ayac_uprobe_resolve_path(opts->path, path, sizeof(path)) ||
	      ayac_usdt_notes_read(path, &notes);
	if (!err) {
		c.path = path;
		err = attach_all(&c);
	}
	if (err) { /* the clean-up below sets no error: the attach's stays */
		if (c.link) {
			/* give back what the sites took, then detach them */
			c.link->release = usdt_release;
			c.link->priv = c.st;
			c.st = NULL;
			ayac_link_free(c.link);
		}
		usdt_release(NULL, c.st, true);
		c.link = NULL;
	}
	free(c.spec);
	ayac_usdt_notes_free(&notes);
	if (!c.link)
		ayac_errctx("attach usdt '%s:%s:%s' for program '%s'",
			    opts && opts->path ? opts->path : "",
			    opts && opts->provider ? opts->provider : "",
			    opts && opts->name ? opts->name : "", prog ? prog->name : "?");
	return c.link;
}
