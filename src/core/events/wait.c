/* Waiting for events: one wait over several buffers, an interruptible sleep, and the
 * tracefs trace_pipe read with a timeout. Every wait returns -EINTR when a signal
 * arrives, so that a script's Ctrl-C reaches it (the Lua side then lets the host's
 * interrupt hook run). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "model.h"
#include <ayac/events.h>

#define MAX_WAIT_FDS 1024

int ayac_events_wait_fds(const int *fds, int n, __u8 *ready, int timeout_ms)
{
	struct pollfd pfd[64], *p = pfd;
	int i, rc;

	if (n < 0 || n > MAX_WAIT_FDS)
		return -EINVAL;
	if (n > (int)(sizeof(pfd) / sizeof(pfd[0])) && !(p = calloc((size_t)n, sizeof(*p))))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		p[i].fd = fds[i];
		p[i].events = POLLIN;
		p[i].revents = 0;
	}
	rc = poll(p, (nfds_t)n, timeout_ms);
	if (rc < 0)
		rc = -errno;
	for (i = 0; i < n; i++)
		ready[i] = rc > 0 && (p[i].revents & (POLLIN | POLLERR | POLLHUP)) ? 1 : 0;
	if (p != pfd)
		free(p);
	return rc;
}

int ayac_events_sleep(__u64 ns, __u64 *left)
{
	struct timespec req, rem;

	req.tv_sec = (time_t)(ns / 1000000000u);
	req.tv_nsec = (long)(ns % 1000000000u);
	*left = 0;
	if (nanosleep(&req, &rem) == 0)
		return 0;
	if (errno != EINTR)
		return -errno;
	*left = (__u64)rem.tv_sec * 1000000000u + (__u64)rem.tv_nsec;
	return -EINTR;
}

int ayac_trace_pipe_open(void)
{
	const char *root = ayac_tracefs();
	char path[PATH_MAX];
	int fd;

	if (!root)
		return ayac_errctx("trace_pipe");
	snprintf(path, sizeof(path), "%s/trace_pipe", root);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return ayac_seterr(errno, "open %s", path);
	return fd;
}

long ayac_events_read(int fd, void *buf, size_t n, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t got;
	int rc;

	got = read(fd, buf, n);
	if (got >= 0)
		return (long)got;
	if (errno != EAGAIN)
		return -errno;
	rc = poll(&p, 1, timeout_ms);
	if (rc <= 0)
		return rc < 0 ? -errno : 0;
	got = read(fd, buf, n);
	if (got < 0)
		return errno == EAGAIN ? 0 : -errno;
	return (long)got;
}
