/* The pseudo file systems attaching needs: tracefs (tracepoint ids) and bpffs (pins).
 * Minimal systems and containers often boot without them; ayac mounts them where they
 * are missing, as bpftool and libbpf-based tools do. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "sys.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

#define TRACEFS "/sys/kernel/tracing"
#define DEBUGFS_TRACING "/sys/kernel/debug/tracing"
#define BPFFS "/sys/fs/bpf"

/* Whether root has an events directory; errno tells why not. */
static bool has_events(const char *root)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "%s/events", root);
	if (stat(path, &st) < 0)
		return false;
	errno = S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
	return errno == 0;
}

static const char *remember(const char **cache, const char *root)
{
	__atomic_store_n(cache, root, __ATOMIC_RELAXED);
	return root;
}

/* Found once, then kept: mounts do not come and go under a running tracer. The cache
 * is only ever one of two constant strings, so threads racing to fill it agree. */
const char *ayac_tracefs(void)
{
	static const char *root;
	const char *known = __atomic_load_n(&root, __ATOMIC_RELAXED);

	if (known && has_events(known))
		return known;
	if (has_events(TRACEFS))
		return remember(&root, TRACEFS);
	if (errno == EACCES) {
		/* Mounted, but mode 0700 root (the default): capabilities do not help a
		 * service user here, only the uid or the mount's mode do. */
		ayac_seterr(EACCES, "tracefs at " TRACEFS " is not readable by this user "
			    "(uid %u; tracepoint ids are read there)", (unsigned)getuid());
		ayac_errsuffix(": run as uid 0 (its capabilities may still be only CAP_BPF and "
			       "CAP_PERFMON), make tracefs readable (mount -o remount,mode=0755 "
			       TRACEFS "), or use a raw_tp/ program, which needs no tracefs; see "
			       "docs/embedding.md");
		return NULL;
	}
	/* Kernels before 4.1, or systems that only mount debugfs, expose it there. */
	if (has_events(DEBUGFS_TRACING))
		return remember(&root, DEBUGFS_TRACING);
	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL) < 0 && errno != EBUSY) {
		ayac_seterr(errno, "mount tracefs at " TRACEFS);
		return NULL;
	}
	if (!has_events(TRACEFS)) {
		ayac_seterr(ENOENT, "tracefs: no events directory under " TRACEFS
			    " (kernel without CONFIG_EVENT_TRACING?)");
		return NULL;
	}
	return remember(&root, TRACEFS);
}

int ayac_ensure_bpffs(void)
{
	struct statfs st;

	if (statfs(BPFFS, &st) == 0 && (unsigned long)st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", BPFFS, "bpf", 0, "mode=0700") < 0)
		return ayac_seterr(errno, "mount bpffs at " BPFFS);
	return 0;
}
