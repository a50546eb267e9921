/* Kprobes and kretprobes through the kprobe PMU (Linux 4.17): the perf event names the
 * function and offset, and the program goes on it (attach_perf.c). Kernels built
 * without CONFIG_KPROBE_EVENTS have no kprobe PMU; the error says so. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "attach.h"

#define KSYM_NAME_MAX 512 /* KSYM_NAME_LEN */

struct ayac_link *ayac_attach_kprobe(struct ayac_prog *prog, const struct ayac_kprobe_opts *opts)
{
	const char *what = opts && opts->retprobe ? "kretprobe" : "kprobe";
	char target[KSYM_NAME_MAX + 32];
	int fd;

	if (opts && opts->func && opts->offset)
		snprintf(target, sizeof(target), "%s+0x%llx", opts->func,
			 (unsigned long long)opts->offset);
	else
		snprintf(target, sizeof(target), "%s", opts && opts->func ? opts->func : "");
	if (ayac_link_prog_fd(prog) < 0)
		goto fail;
	if (!opts || !opts->func || !*opts->func || strlen(opts->func) >= KSYM_NAME_MAX) {
		ayac_seterr(EINVAL, "needs a kernel function name");
		goto fail;
	}
	if (opts->retprobe && opts->offset) {
		ayac_seterr(EINVAL, "a kretprobe takes no offset");
		goto fail;
	}
	fd = ayac_probe_perf_open("kprobe", opts->retprobe, opts->func, opts->offset, -1, 0);
	if (fd < 0)
		goto fail;
	return ayac_attach_perf_event_to(prog, fd, what, target, opts->cookie);
fail:
	ayac_errctx("attach %s '%s' for program '%s'", what, target, prog ? prog->name : "?");
	return NULL;
}
