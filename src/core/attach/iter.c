/* BPF iterators (iter/task, iter/bpf_map_elem, iter/cgroup, ...): BPF_LINK_CREATE with
 * BPF_TRACE_ITER makes the iterator link, with the target's parameters (a map, a
 * cgroup and its walk order, one task or process) in bpf_iter_link_info. Each
 * BPF_ITER_CREATE on that link opens a new read of the iterator: the program runs as
 * the reader asks for more, and read() returns what it printed, 0 at the end.
 * Pinning the link gives a file that `cat` reads the same way. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"

static inline __u64 ptr_to_u64(const void *p)
{
	return (__u64)(unsigned long)p;
}

static bool iter_info_set(const struct ayac_iter_opts *o)
{
	return o && (o->map_fd > 0 || o->cgroup_fd > 0 || o->cgroup_id || o->order || o->tid ||
		     o->pid || o->pid_fd > 0);
}

static int check_opts(const struct ayac_iter_opts *o)
{
	int targets;

	if (!o)
		return 0;
	targets = (o->map_fd > 0) + (o->cgroup_fd > 0 || o->cgroup_id || o->order) +
		  (o->tid || o->pid || o->pid_fd > 0);
	if (targets > 1)
		return ayac_seterr(EINVAL, "give one kind of target: a map, a cgroup, or a task");
	if (o->cgroup_fd > 0 && o->cgroup_id)
		return ayac_seterr(EINVAL, "give a cgroup or a cgroup id, not both");
	if ((o->tid != 0) + (o->pid != 0) + (o->pid_fd > 0) > 1)
		return ayac_seterr(EINVAL, "give one of tid, pid and pid_fd");
	if (o->order > BPF_CGROUP_ITER_ANCESTORS_UP)
		return ayac_seterr(EINVAL, "bad cgroup walk order %u", o->order);
	return 0;
}

static void fill_info(union bpf_iter_link_info *info, const struct ayac_iter_opts *o)
{
	memset(info, 0, sizeof(*info));
	if (o->map_fd > 0) {
		info->map.map_fd = (__u32)o->map_fd;
	} else if (o->cgroup_fd > 0 || o->cgroup_id || o->order) {
		info->cgroup.order = (enum bpf_cgroup_iter_order)o->order;
		info->cgroup.cgroup_fd = o->cgroup_fd > 0 ? (__u32)o->cgroup_fd : 0;
		info->cgroup.cgroup_id = o->cgroup_id;
	} else {
		info->task.tid = o->tid;
		info->task.pid = o->pid;
		info->task.pid_fd = o->pid_fd > 0 ? (__u32)o->pid_fd : 0;
	}
}

/* The iterator the program was loaded for ("task" of iter/task), for messages. */
static const char *iter_target(const struct ayac_prog *prog)
{
	const char *slash = prog && prog->sec_name ? strchr(prog->sec_name, '/') : NULL;

	return slash ? slash + 1 : "?";
}

static int link_create(struct ayac_prog *prog, const struct ayac_iter_opts *opts)
{
	union bpf_iter_link_info info;
	union bpf_attr attr;
	int prog_fd = ayac_link_prog_fd(prog), fd;

	if (prog_fd < 0)
		return prog_fd;
	if (prog->attach_type != BPF_TRACE_ITER)
		return ayac_seterr(EINVAL, "not an iterator (section '%s'): iterators are "
				   "SEC(\"iter/<target>\") programs", prog->sec_name);
	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = (__u32)prog_fd;
	attr.link_create.attach_type = BPF_TRACE_ITER;
	if (iter_info_set(opts)) {
		fill_info(&info, opts);
		attr.link_create.iter_info = ptr_to_u64(&info);
		attr.link_create.iter_info_len = sizeof(info);
	}
	fd = sys_bpf_fd(BPF_LINK_CREATE, &attr, sizeof(attr));
	if (fd >= 0)
		return fd;
	if ((fd == -EBADF || fd == -EINVAL) && !strcmp(iter_target(prog), "bpf_map_elem") &&
	    !(opts && opts->map_fd > 0))
		return ayac_seterr(-fd, "BPF_LINK_CREATE: a bpf_map_elem iterator needs its map: "
				   "prog:attach{ map = m }");
	return ayac_seterr(-fd, "BPF_LINK_CREATE");
}

struct ayac_link *ayac_attach_iter(struct ayac_prog *prog, const struct ayac_iter_opts *opts)
{
	struct ayac_link *link = NULL;
	int fd;

	if (check_opts(opts) < 0)
		goto fail;
	fd = link_create(prog, opts);
	if (fd < 0)
		goto fail;
	link = ayac_link_new(prog, AYAC_LINK_BPF, "iter", fd, -1);
	if (link)
		return link;
fail:
	ayac_errctx("attach iter '%s' for program '%s'", iter_target(prog),
		    prog ? prog->name : "?");
	return NULL;
}

int ayac_link_iter_open(struct ayac_link *link)
{
	union bpf_attr attr;
	int fd;

	if (!link)
		return ayac_seterr(EINVAL, "read iterator: no link");
	if (link->fd < 0)
		return ayac_seterr(EBADF, "read %s link: detached", ayac_link_kind(link));
	memset(&attr, 0, sizeof(attr));
	attr.iter_create.link_fd = (__u32)link->fd;
	fd = sys_bpf_fd(BPF_ITER_CREATE, &attr, sizeof(attr));
	if (fd == -EINVAL)
		return ayac_seterr(EINVAL, "read %s link: not an iterator (only iter/ programs' "
				   "links can be read)", ayac_link_kind(link));
	if (fd < 0)
		return ayac_seterr(-fd, "read %s link: BPF_ITER_CREATE", ayac_link_kind(link));
	return fd;
}
