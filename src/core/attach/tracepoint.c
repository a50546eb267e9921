/* Tracepoints: the event's id from tracefs, a PERF_TYPE_TRACEPOINT perf event for it,
 * and the program put on that event (attach_perf.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"

#define TP_PART_MAX 256

/* Category and name become path components under tracefs: no separators, no "..". */
static int check_part(const char *what, const char *s)
{
	if (!s || !*s)
		return ayac_seterr(EINVAL, "no tracepoint %s", what);
	if (strlen(s) >= TP_PART_MAX || strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, ".."))
		return ayac_seterr(EINVAL, "bad tracepoint %s '%s'", what, s);
	return 0;
}

static int tracepoint_id(const char *category, const char *name)
{
	char path[2 * TP_PART_MAX + 64], buf[32], *end;
	const char *root;
	ssize_t n;
	long id;
	int fd, err = 0;

	root = ayac_tracefs();
	if (!root)
		return -ayac_errnum();
	snprintf(path, sizeof(path), "%s/events/%s/%s/id", root, category, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return ayac_seterr(ENOENT, "no such tracepoint (%s)", path);
		return ayac_seterr(errno, "open %s", path);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0) {
		err = ayac_seterr(n < 0 ? errno : EIO, "read %s", path);
		goto out;
	}
	buf[n] = '\0';
	errno = 0;
	id = strtol(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || id < 0 || id > 0x7fffffff) {
		err = ayac_seterr(EINVAL, "read %s: not an id: '%.*s'", path, (int)n, buf);
		goto out;
	}
	err = (int)id;
out:
	close(fd);
	return err;
}

int ayac_tracepoint_id(const char *category, const char *name)
{
	if (check_part("category", category) < 0 || check_part("name", name) < 0)
		return -ayac_errnum();
	return tracepoint_id(category, name);
}

static int tracepoint_perf_open(int id)
{
	struct perf_event_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.config = (__u64)id;
	attr.sample_period = 1;
	attr.wakeup_events = 1;
	/* A tracepoint's program runs from the tracepoint on any CPU: one event, on CPU 0,
	 * for every process. */
	fd = sys_perf_event_open(&attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		ayac_seterr(-fd, "perf_event_open");
		ayac_perm_explain(AYAC_NEED_PERFMON);
		return fd;
	}
	return fd;
}

struct ayac_link *ayac_attach_tracepoint(struct ayac_prog *prog, const char *category,
					 const char *name)
{
	char target[2 * TP_PART_MAX + 2];
	int id, fd;

	snprintf(target, sizeof(target), "%s:%s", category ? category : "",
		 name ? name : "");
	if (ayac_link_prog_fd(prog) < 0 || check_part("category", category) < 0 ||
	    check_part("name", name) < 0)
		goto fail;
	id = tracepoint_id(category, name);
	if (id < 0)
		goto fail;
	fd = tracepoint_perf_open(id);
	if (fd < 0)
		goto fail;
	return ayac_attach_perf_event_to(prog, fd, "tracepoint", target, 0);
fail:
	ayac_errctx("attach tracepoint '%s' for program '%s'", target, prog ? prog->name : "?");
	return NULL;
}
