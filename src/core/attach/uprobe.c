/* Uprobes and uretprobes: a perf event of the uprobe PMU at a file offset (a symbol
 * resolved by elf_symbols.c, plus an offset), with the program put on it.
 *
 * A path without a slash is looked up as libbpf does: names of shared libraries
 * ("libc.so.6") in LD_LIBRARY_PATH and the usual library directories, anything else in
 * PATH. The kernel gets the resolved path (it resolves relative paths against the
 * caller's working directory, which is seldom what a section name meant). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"

#define LIB_DIRS "/lib64:/usr/lib64:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:" \
		 "/lib/aarch64-linux-gnu:/usr/lib/aarch64-linux-gnu:/lib:/usr/lib:"   \
		 "/usr/local/lib"

/* Looks for name in each directory of a ':'-separated list; true when found. */
static bool search_dirs(const char *dirs, const char *name, int mode, char *out, size_t size)
{
	const char *p = dirs, *end;
	size_t len;
	int n;

	while (p && *p) {
		end = strchr(p, ':');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len) {
			n = snprintf(out, size, "%.*s/%s", (int)len, p, name);
			if (n > 0 && (size_t)n < size && access(out, mode) == 0)
				return true;
		}
		p = end ? end + 1 : NULL;
	}
	return false;
}

int ayac_uprobe_resolve_path(const char *path, char *out, size_t size)
{
	bool lib = strstr(path, ".so") != NULL;

	if (strlen(path) >= size)
		return ayac_seterr(ENAMETOOLONG, "path too long");
	if (strchr(path, '/')) {
		strcpy(out, path);
		return 0;
	}
	if (lib && (search_dirs(getenv("LD_LIBRARY_PATH"), path, R_OK, out, size) ||
		    search_dirs(LIB_DIRS, path, R_OK, out, size)))
		return 0;
	if (!lib && search_dirs(getenv("PATH"), path, X_OK, out, size))
		return 0;
	return ayac_seterr(ENOENT, "'%s' not found in %s", path,
			   lib ? "LD_LIBRARY_PATH or the library directories" : "PATH");
}

/* "path:symbol+0x10", "path:0x1234": the target as messages show it. */
static void describe(char *buf, size_t size, const struct ayac_uprobe_opts *opts)
{
	const char *path = opts && opts->path ? opts->path : "";

	if (opts && opts->symbol && opts->offset)
		snprintf(buf, size, "%s:%s+0x%llx", path, opts->symbol,
			 (unsigned long long)opts->offset);
	else if (opts && opts->symbol)
		snprintf(buf, size, "%s:%s", path, opts->symbol);
	else
		snprintf(buf, size, "%s:0x%llx", path, opts ? (unsigned long long)opts->offset : 0ULL);
}

static int probe_offset(const char *path, const struct ayac_uprobe_opts *opts, __u64 *off)
{
	int err;

	if (!opts->symbol) {
		/* No symbol: the offset is the file offset, 0 included, as in libbpf. */
		*off = opts->offset;
		return 0;
	}
	err = ayac_elf_symbol_offset(path, opts->symbol, off);
	if (err < 0)
		return err;
	if (*off + opts->offset < *off)
		return ayac_seterr(EINVAL, "offset 0x%llx overflows", (unsigned long long)opts->offset);
	*off += opts->offset;
	return 0;
}

struct ayac_link *ayac_attach_uprobe(struct ayac_prog *prog, const struct ayac_uprobe_opts *opts)
{
	const char *what = opts && opts->retprobe ? "uretprobe" : "uprobe";
	char path[PATH_MAX], target[PATH_MAX + 256];
	__u64 off = 0;
	int fd;

	describe(target, sizeof(target), opts);
	if (ayac_link_prog_fd(prog) < 0)
		goto fail;
	if (!opts || !opts->path || !*opts->path) {
		ayac_seterr(EINVAL, "needs a path (executable or shared library)");
		goto fail;
	}
	if (ayac_uprobe_resolve_path(opts->path, path, sizeof(path)) < 0 || probe_offset(path, opts, &off) < 0)
		goto fail;
	fd = ayac_probe_perf_open("uprobe", opts->retprobe, path, off, opts->pid, 0);
	if (fd < 0)
		goto fail;
	return ayac_attach_perf_event_to(prog, fd, what, target, opts->cookie);
fail:
	ayac_errctx("attach %s '%s' for program '%s'", what, target, prog ? prog->name : "?");
	return NULL;
}
