/* perf_event programs: sampling perf events (software, hardware, cache, raw,
 * tracepoint, or any PMU's), opened on one CPU, for one thread, or on every online
 * CPU, each with the program put on it (perf.c). One link owns every event.
 *
 * perf_event_open needs a pid or a CPU: with neither, an event per online CPU counts
 * every process; with a pid and no CPU, one event follows that thread everywhere. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"

#define CPU_LIST_MAX 8192

/* "0-3,5,7-8\n" into an array of CPU numbers. */
static int parse_cpu_list(const char *s, int **out, size_t *n)
{
	int *cpus = NULL, *grown;
	size_t cnt = 0;
	const char *p = s;
	char *end;
	long a, b, c;

	while (*p && *p != '\n') {
		errno = 0;
		a = strtol(p, &end, 10);
		if (end == p || errno || a < 0 || a > 65535)
			goto bad;
		b = a;
		if (*end == '-') {
			p = end + 1;
			b = strtol(p, &end, 10);
			if (end == p || errno || b < a || b > 65535)
				goto bad;
		}
		grown = ayac_reallocarray(cpus, cnt + (size_t)(b - a + 1), sizeof(*cpus));
		if (!grown) {
			free(cpus);
			return -ENOMEM;
		}
		cpus = grown;
		for (c = a; c <= b; c++)
			cpus[cnt++] = (int)c;
		p = *end == ',' ? end + 1 : end;
		if (*end != ',' && *end && *end != '\n')
			goto bad;
	}
	if (!cnt)
		goto bad;
	*out = cpus;
	*n = cnt;
	return 0;
bad:
	free(cpus);
	return ayac_seterr(EINVAL, "cannot parse the CPU list '%.64s'", s);
}

int ayac_online_cpus(int **cpus, size_t *n)
{
	char buf[CPU_LIST_MAX];
	ssize_t len;
	int fd;

	fd = open("/sys/devices/system/cpu/online", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ayac_seterr(errno, "open /sys/devices/system/cpu/online");
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return ayac_seterr(len < 0 ? errno : EIO, "read /sys/devices/system/cpu/online");
	buf[len] = '\0';
	return parse_cpu_list(buf, cpus, n);
}

static int check_opts(const struct ayac_perf_event_opts *o)
{
	if (!o)
		return ayac_seterr(EINVAL, "no perf event options");
	if (!o->sample_period == !o->sample_freq)
		return ayac_seterr(EINVAL, "needs exactly one of sample_period and sample_freq "
				   "(a counting event would never run the program)");
	if (o->pid < -1 || o->cpu < -1)
		return ayac_seterr(EINVAL, "bad pid %d or cpu %d", o->pid, o->cpu);
	return 0;
}

static int event_open(const struct ayac_perf_event_opts *o, int pid, int cpu)
{
	struct perf_event_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = o->type;
	attr.config = o->config;
	if (o->sample_freq) {
		attr.freq = 1;
		attr.sample_freq = o->sample_freq;
	} else {
		attr.sample_period = o->sample_period;
	}
	attr.disabled = 1; /* enabled once the program is on it (perf.c) */
	fd = sys_perf_event_open(&attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd == -EINVAL && o->sample_freq)
		return ayac_seterr(EINVAL, "perf_event_open (cpu %d): refused; is sample_freq %llu "
				   "above kernel.perf_event_max_sample_rate?", cpu,
				   (unsigned long long)o->sample_freq);
	if (fd == -ENOENT || fd == -EOPNOTSUPP)
		return ayac_seterr(-fd, "perf_event_open (cpu %d): this machine has no such event "
				   "(type %u, config 0x%llx)", cpu, o->type,
				   (unsigned long long)o->config);
	if (fd < 0)
		return ayac_seterr(-fd, "perf_event_open (cpu %d)", cpu);
	return fd;
}

/* Opens and attaches one event; adds it to *link (the first becomes the link). */
static int attach_one(struct ayac_prog *prog, const struct ayac_perf_event_opts *o, int pid,
		      int cpu, struct ayac_link **link)
{
	struct ayac_link *one;
	int fd = event_open(o, pid, cpu);

	if (fd < 0)
		return fd;
	one = ayac_perf_attach(prog, fd, "perf_event", o->cookie);
	if (!one)
		return cpu >= 0 ? ayac_errctx("cpu %d", cpu) : -ayac_errnum();
	if (!*link) {
		*link = one;
		return 0;
	}
	return ayac_link_absorb(*link, one);
}

static struct ayac_link *attach_all(struct ayac_prog *prog, const struct ayac_perf_event_opts *o)
{
	struct ayac_link *link = NULL;
	int *cpus = NULL, err;
	size_t n = 0, i;

	if (o->pid >= 0 || o->cpu >= 0) {
		err = attach_one(prog, o, o->pid, o->cpu, &link);
		return err ? NULL : link;
	}
	if (ayac_online_cpus(&cpus, &n) < 0)
		return NULL;
	for (i = 0; i < n; i++) {
		err = attach_one(prog, o, -1, cpus[i], &link);
		if (err)
			break;
	}
	free(cpus);
	if (i < n && link) { /* all or nothing */
		int saved = ayac_errnum();
		char *msg = ayac_strdup(ayac_errmsg());
		ayac_link_free(link);
		ayac_seterr(saved, "%s", msg ? msg : "attach failed");
		free(msg);
		link = NULL;
	}
	return link;
}

struct ayac_link *ayac_attach_perf_events(struct ayac_prog *prog,
					  const struct ayac_perf_event_opts *opts)
{
	struct ayac_link *link = NULL;

	if (ayac_link_prog_fd(prog) >= 0 && check_opts(opts) == 0)
		link = attach_all(prog, opts);
	if (!link)
		ayac_errctx("attach perf_event (type %u, config 0x%llx) for program '%s'",
			    opts ? opts->type : 0, opts ? (unsigned long long)opts->config : 0ULL,
			    prog ? prog->name : "?");
	return link;
}
