/* Perf events → programs, shared by every perf-based attach (tracepoint, kprobe,
 * uprobe): put the program on an open perf event, and open the kprobe/uprobe PMU
 * events.
 *
 * A program goes on a perf event in one of two ways. BPF_LINK_CREATE with
 * BPF_PERF_EVENT (Linux 5.15) gives a bpf_link that can carry a bpf_cookie and be
 * pinned; older kernels only have PERF_EVENT_IOC_SET_BPF. Which one this kernel has is
 * ayac_feature(AYAC_FEAT_PERF_LINK) (kfeatures.c); when that probe could not tell, the
 * link is tried and the ioctl used if the kernel refuses the link as unknown. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "attach.h"
#include "features/features.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's internal "not supported", seen by user space */
#endif

static int perf_link_create(int prog_fd, int perf_fd, __u64 cookie)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = prog_fd;
	attr.link_create.target_fd = perf_fd;
	attr.link_create.attach_type = BPF_PERF_EVENT;
	attr.link_create.perf_event.bpf_cookie = cookie;
	return sys_bpf_fd(BPF_LINK_CREATE, &attr, sizeof(attr));
}

/* A tracepoint holds at most this many programs, all processes' together (the kernel's
 * BPF_TRACE_MAX_PROGS); one more is E2BIG. */
#define TRACE_MAX_PROGS 64

/* The failed attach, named; E2BIG alone would not say what is full. */
static void attach_error(int err, const char *op)
{
	if (err == -E2BIG)
		ayac_seterr(err, "%s: the kernel allows at most %d BPF programs on one tracepoint "
			    "(all processes' together); detach links no longer needed",
			    op, TRACE_MAX_PROGS);
	else
		ayac_seterr(err, "%s", op);
}

/* Errors that say "this kernel has no perf bpf_link" rather than "this attach is wrong". */
static bool no_perf_link(int err)
{
	return err == -EINVAL || err == -EOPNOTSUPP || err == -ENOTSUPP;
}

static int perf_enable(int perf_fd)
{
	return ioctl(perf_fd, PERF_EVENT_IOC_ENABLE, 0) < 0 ? -errno : 0;
}

static int perf_set_bpf(int perf_fd, int prog_fd)
{
	if (ioctl(perf_fd, PERF_EVENT_IOC_SET_BPF, prog_fd) < 0)
		return -errno;
	return perf_enable(perf_fd);
}

/* Sets a bare message on failure (the caller names the attach); closes perf_fd then. */
struct ayac_link *ayac_perf_attach(struct ayac_prog *prog, int perf_fd, const char *what,
				     __u64 cookie)
{
	int prog_fd, link_fd = -1, err = 0, have_link;

	prog_fd = ayac_link_prog_fd(prog);
	if (prog_fd < 0)
		goto fail;
	if (perf_fd < 0) {
		ayac_seterr(EBADF, "no perf event");
		goto fail;
	}
	have_link = ayac_feature(AYAC_FEAT_PERF_LINK); /* 1, 0, or < 0: unknown */
	if (have_link != 0) {
		link_fd = perf_link_create(prog_fd, perf_fd, cookie);
		if (link_fd >= 0) {
			err = perf_enable(perf_fd);
			if (err < 0) {
				ayac_seterr(-err, "enable perf event");
				goto fail;
			}
			return ayac_link_new(prog, AYAC_LINK_PERF_LINK, what, link_fd, perf_fd);
		}
		if (have_link > 0 || !no_perf_link(link_fd)) {
			attach_error(link_fd, "BPF_LINK_CREATE on perf event");
			goto fail;
		}
	}
	if (cookie) {
		ayac_seterr(EOPNOTSUPP, "a bpf_cookie needs BPF_LINK_CREATE on perf events "
			    "(Linux 5.15), which this kernel lacks");
		goto fail;
	}
	err = perf_set_bpf(perf_fd, prog_fd);
	if (err < 0) {
		attach_error(err, "PERF_EVENT_IOC_SET_BPF");
		goto fail;
	}
	return ayac_link_new(prog, AYAC_LINK_PERF_IOCTL, what, -1, perf_fd);
fail:
	if (link_fd >= 0)
		close(link_fd);
	if (perf_fd >= 0)
		close(perf_fd);
	return NULL;
}

struct ayac_link *ayac_attach_perf_event_to(struct ayac_prog *prog, int perf_fd,
					    const char *what, const char *target, __u64 cookie)
{
	struct ayac_link *link;

	link = ayac_perf_attach(prog, perf_fd, what, cookie);
	if (!link)
		ayac_errctx("attach %s%s%s%s for program '%s'", what, target ? " '" : "",
			    target ? target : "", target ? "'" : "", prog ? prog->name : "?");
	return link;
}

/* Takes ownership of perf_fd: it ends up in the link or is closed. */
struct ayac_link *ayac_attach_perf_event(struct ayac_prog *prog, int perf_fd, const char *what,
					 __u64 cookie)
{
	return ayac_attach_perf_event_to(prog, perf_fd, what, NULL, cookie);
}

/* ---- kprobe / uprobe PMUs ----------------------------------------------------------- */

/* First line of a small sysfs file, NUL-terminated, newline dropped. */
static int read_line(const char *path, char *buf, size_t size)
{
	FILE *f;
	int err = 0;

	f = fopen(path, "re");
	if (!f)
		return ayac_seterr(errno, "read '%s'", path);
	if (!fgets(buf, (int)size, f)) {
		err = ayac_seterr(EIO, "read '%s': empty", path);
		goto out;
	}
	buf[strcspn(buf, "\n")] = '\0';
out:
	fclose(f);
	return err;
}

/* The PMU's perf type, from /sys/bus/event_source/devices/<pmu>/type. */
static int pmu_type(const char *pmu)
{
	char path[128], line[32], *end;
	long v;
	int err;

	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/type", pmu);
	err = read_line(path, line, sizeof(line));
	if (err < 0)
		return err;
	errno = 0;
	v = strtol(line, &end, 10);
	if (errno || end == line || *end || v < 0 || v > 0x7fffffff)
		return ayac_seterr(EINVAL, "read '%s': not a perf type: '%s'", path, line);
	return (int)v;
}

/* The config bit that makes a probe a return probe: format/retprobe reads "config:N". */
static int pmu_retprobe_bit(const char *pmu)
{
	char path[128], line[32], *end;
	long v;
	int err;

	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/format/retprobe", pmu);
	err = read_line(path, line, sizeof(line));
	if (err < 0)
		return err;
	if (strncmp(line, "config:", 7) != 0)
		return ayac_seterr(EINVAL, "read '%s': expected 'config:N', got '%s'", path, line);
	errno = 0;
	v = strtol(line + 7, &end, 10);
	if (errno || end == line + 7 || *end || v < 0 || v > 63)
		return ayac_seterr(EINVAL, "read '%s': bad bit in '%s'", path, line);
	return (int)v;
}

int ayac_probe_perf_open(const char *pmu, bool retprobe, const char *target, __u64 offset,
			 int pid, __u64 ref_ctr_off)
{
	struct perf_event_attr attr;
	int type, bit, fd;

	type = pmu_type(pmu);
	if (type < 0)
		return ayac_errctx("%s PMU", pmu);
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = (__u32)type;
	if (retprobe) {
		bit = pmu_retprobe_bit(pmu);
		if (bit < 0)
			return ayac_errctx("%s PMU", pmu);
		attr.config |= 1ULL << bit;
	}
	/* The uprobe PMU takes a reference counter offset (USDT semaphores) in the
	 * config's upper half. */
	attr.config |= ref_ctr_off << 32;
	attr.config1 = (__u64)(unsigned long)target; /* kprobe_func / uprobe_path */
	attr.config2 = offset;                        /* probe_offset */
	/* Every process: one event on CPU 0 is enough, since the program runs from the
	 * probe itself on whatever CPU hits it. One process: follow it on every CPU. */
	fd = sys_perf_event_open(&attr, pid < 0 ? -1 : pid, pid < 0 ? 0 : -1, -1,
				 PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return ayac_seterr(-fd, "perf_event_open (%s PMU)", pmu);
	return fd;
}
