/* Programs on a cgroup v2 directory: every cgroup_* and cgroup/… attach type, sock_ops,
 * and lsm_cgroup. The default (and mode "multi") is a bpf_link (Linux 5.7), which runs
 * alongside other programs like BPF_F_ALLOW_MULTI and goes with its last fd; modes
 * "override" (BPF_F_ALLOW_OVERRIDE) and "single" (no flag) only exist for
 * BPF_PROG_ATTACH, which the kernel keeps until BPF_PROG_DETACH: the link keeps the
 * cgroup and program fds for that and detaches on close, gc and exit. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "attach_priv.h"
#include "features/features.h"

struct cgroup_priv {
	int cg_fd, prog_fd;
	__u32 attach_type;
};

static const char *const mode_names[] = { "multi", "multi", "override", "single" };
static const __u32 mode_flags[] = { BPF_F_ALLOW_MULTI, BPF_F_ALLOW_MULTI, BPF_F_ALLOW_OVERRIDE, 0 };

static void cgroup_release(struct ayac_link *link)
{
	struct cgroup_priv *p = link->priv;

	if (!p)
		return;
	if (p->cg_fd >= 0)
		close(p->cg_fd);
	if (p->prog_fd >= 0)
		close(p->prog_fd);
	free(p);
	link->priv = NULL;
}

static int cgroup_detach(struct ayac_link *link)
{
	struct cgroup_priv *p = link->priv;
	int err = attach_prog_detach(p->cg_fd, p->prog_fd, p->attach_type);

	if (err < 0 && err != -ENOENT)
		return ayac_seterr(err, "detach %s program from cgroup",
				   ayac_attach_type_name(p->attach_type));
	return 0;
}

static const struct ayac_link_ops cgroup_ops = {
	.detach = cgroup_detach,
	.release = cgroup_release,
	.at_exit = true,
};

/* Where cgroup v2 is mounted, for the hint ("" when not found). */
static void cgroup2_mount(char *out, size_t size)
{
	char line[1024], dev[256], dir[512], type[64];
	FILE *f = fopen("/proc/self/mounts", "re");

	out[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %511s %63s", dev, dir, type) == 3 &&
		    !strcmp(type, "cgroup2")) {
			snprintf(out, size, "%s", dir);
			break;
		}
	}
	fclose(f);
}

static int check_cgroup2(int fd, const char *what)
{
	struct statfs sfs;
	char mnt[512];

	if (fstatfs(fd, &sfs) < 0)
		return ayac_seterr(errno, "cgroup %s", what);
	if (sfs.f_type == CGROUP2_SUPER_MAGIC)
		return 0;
	cgroup2_mount(mnt, sizeof(mnt));
	if (mnt[0])
		return ayac_seterr(EINVAL, "%s is not a cgroup v2 directory (cgroup2 is mounted "
				   "at %s)", what, mnt);
	return ayac_seterr(EINVAL, "%s is not a cgroup v2 directory (no cgroup2 mount)", what);
}

/* An fd of the cgroup (opened here, or a dup of the caller's), checked to be cgroup v2. */
static int open_cgroup(const char *path, int fd, char *what, size_t size)
{
	int cg;

	if (path) {
		snprintf(what, size, "'%s'", path);
		cg = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cg < 0 && errno == ENOTDIR)
			return ayac_seterr(EINVAL, "%s is not a cgroup v2 directory (not a "
					   "directory)", what);
		if (cg < 0)
			return ayac_seterr(errno, "open cgroup %s", what);
		cg = sys_fd_above_stdio(cg);
	} else {
		snprintf(what, size, "fd %d", fd);
		if (fd < 0)
			return ayac_seterr(EINVAL, "no cgroup: pass a path or an fd");
		cg = attach_dup(fd, "cgroup");
	}
	if (cg >= 0 && check_cgroup2(cg, what) < 0) {
		close(cg);
		return -ayac_errnum();
	}
	return cg;
}

static bool is_cgroup_prog(const struct ayac_prog *prog, __u32 attach_type)
{
	switch (prog->type) {
	case BPF_PROG_TYPE_CGROUP_SKB:
	case BPF_PROG_TYPE_CGROUP_SOCK:
	case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
	case BPF_PROG_TYPE_CGROUP_DEVICE:
	case BPF_PROG_TYPE_CGROUP_SYSCTL:
	case BPF_PROG_TYPE_CGROUP_SOCKOPT:
	case BPF_PROG_TYPE_SOCK_OPS:
		return true;
	case BPF_PROG_TYPE_LSM:
		return attach_type == BPF_LSM_CGROUP;
	default:
		return false;
	}
}

static struct ayac_link *by_prog_attach(struct ayac_prog *prog, int cg, int prog_fd,
					enum ayac_cgroup_mode mode, struct ayac_link_desc *desc)
{
	struct cgroup_priv *p = ayac_calloc(1, sizeof(*p));
	int err;

	if (!p) {
		close(cg);
		return NULL;
	}
	p->cg_fd = cg;
	p->attach_type = desc->attach_type;
	p->prog_fd = attach_dup(prog_fd, "program");
	if (p->prog_fd < 0)
		goto fail;
	err = attach_prog_attach(cg, prog_fd, desc->attach_type, mode_flags[mode]);
	if (err == -EPERM)
		ayac_seterr(err, "BPF_PROG_ATTACH (mode '%s'): the cgroup has programs "
			    "attached in a mode that does not allow this one (see "
			    "ayac.cgroup_query)", mode_names[mode]);
	else if (err < 0)
		ayac_seterr(err, "BPF_PROG_ATTACH (mode '%s')", mode_names[mode]);
	if (err < 0)
		goto fail;
	desc->via = "prog_attach";
	return attach_link_kept(prog, "cgroup", &cgroup_ops, p, desc);
fail:
	cgroup_release(&(struct ayac_link){ .priv = p });
	return NULL;
}

static struct ayac_link *by_link(struct ayac_prog *prog, int cg, int prog_fd,
				 struct ayac_link_desc *desc)
{
	union attach_attr u;
	int fd;

	memset(&u, 0, sizeof(u));
	u.lc.prog_fd = (__u32)prog_fd;
	u.lc.target = (__u32)cg;
	u.lc.attach_type = desc->attach_type;
	fd = attach_link_create(&u);
	if (fd == -EPERM)
		ayac_seterr(EPERM, "BPF_LINK_CREATE: the cgroup has a program attached in mode "
			    "'single' or 'override', which allows no other (see ayac.cgroup_query)");
	else if (fd < 0)
		ayac_seterr(-fd, "BPF_LINK_CREATE");
	if (fd < 0)
		return NULL;
	return attach_link_fd(prog, "cgroup", fd, desc);
}

static struct ayac_link *cgroup_attach(struct ayac_prog *prog, int cg, int prog_fd,
				       enum ayac_cgroup_mode mode, struct ayac_link_desc *desc)
{
	struct ayac_link *link;
	int have_link = 0;

	if (mode == AYAC_CGROUP_DEFAULT || mode == AYAC_CGROUP_MULTI)
		have_link = ayac_feature(AYAC_FEAT_CGROUP_LINK);
	if (have_link != 0) {
		link = by_link(prog, cg, prog_fd, desc);
		if (link || have_link > 0 || ayac_errnum() != EINVAL) {
			close(cg);
			return link;
		}
	}
	return by_prog_attach(prog, cg, prog_fd, mode, desc);
}

struct ayac_link *ayac_attach_cgroup(struct ayac_prog *prog, const struct ayac_cgroup_opts *o)
{
	struct ayac_link_desc desc = { .via = "bpf_link", .has_attach_type = true };
	char what[600] = "", target[620] = "";
	struct ayac_link *link;
	int prog_fd, cg;

	if (!o || (unsigned)o->mode > AYAC_CGROUP_SINGLE) {
		ayac_seterr(EINVAL, "bad cgroup options");
		return attach_fail(prog, "cgroup", NULL);
	}
	desc.attach_type = o->attach_type >= 0 ? (__u32)o->attach_type : prog->attach_type;
	desc.mode = mode_names[o->mode];
	prog_fd = ayac_link_prog_fd(prog);
	if (prog_fd < 0)
		return attach_fail(prog, "cgroup", NULL);
	if (!is_cgroup_prog(prog, desc.attach_type)) {
		ayac_seterr(EINVAL, "a %s program does not attach to a cgroup",
			    ayac_prog_type_name(prog->type));
		return attach_fail(prog, "cgroup", NULL);
	}
	cg = open_cgroup(o->path, o->fd, what, sizeof(what));
	snprintf(target, sizeof(target), "to cgroup %s", what);
	if (cg < 0)
		return attach_fail(prog, ayac_attach_type_name(desc.attach_type), target);
	/* cgroup_attach owns cg from here. */
	link = cgroup_attach(prog, cg, prog_fd, o->mode, &desc);
	return link ? link : attach_fail(prog, ayac_attach_type_name(desc.attach_type), target);
}

int ayac_cgroup_query(const char *path, int fd, enum bpf_attach_type type, bool effective,
		      __u32 *ids, __u32 *count, __u32 *attach_flags)
{
	char what[600];
	union bpf_attr attr;
	int cg = open_cgroup(path, fd, what, sizeof(what)), err;

	if (cg < 0)
		return ayac_errctx("cgroup query");
	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (__u32)cg;
	attr.query.attach_type = type;
	attr.query.query_flags = effective ? BPF_F_QUERY_EFFECTIVE : 0;
	attr.query.prog_ids = attach_ptr(ids);
	attr.query.prog_cnt = *count;
	err = sys_bpf(BPF_PROG_QUERY, &attr, sizeof(attr));
	close(cg);
	if (err == -ENOSPC) { /* more than fit: the first *count are there */
		err = 0;
		attr.query.prog_cnt = *count;
	}
	if (err < 0)
		return ayac_seterr(err, "cgroup query %s (%s)", what,
				   ayac_attach_type_name(type) ? ayac_attach_type_name(type) : "?");
	*count = attr.query.prog_cnt;
	if (attach_flags)
		*attach_flags = attr.query.attach_flags;
	return 0;
}

/* BPF_PROG_DETACH of one program by id (what a killed process attached without a link,
 * see remove.c). The kernel matches the program among those attached without a link:
 * one held by a bpf_link is not found (ENOENT), and goes with the link's last fd. */
int ayac_cgroup_remove(const char *path, int fd, enum bpf_attach_type type, __u32 prog_id)
{
	const char *tname = ayac_attach_type_name(type);
	char what[600];
	int cg, pfd, err;

	if (!prog_id)
		return ayac_seterr(EINVAL, "remove from cgroup: no program id (see "
				   "ayac.cgroup_query)");
	cg = open_cgroup(path, fd, what, sizeof(what));
	if (cg < 0)
		return ayac_errctx("remove from cgroup");
	pfd = attach_prog_fd_by_id(prog_id);
	if (pfd < 0) {
		close(cg);
		return ayac_errctx("remove from cgroup %s", what);
	}
	err = attach_prog_detach(cg, pfd, type);
	close(pfd);
	close(cg);
	if (err == -ENOENT)
		return ayac_seterr(ENOENT, "remove program %u from cgroup %s (%s): not attached "
				   "there without a link (a bpf_link's attachment goes with the "
				   "link's last fd)", prog_id, what, tname ? tname : "?");
	if (err < 0)
		return ayac_seterr(err, "remove program %u from cgroup %s (%s)", prog_id, what,
				   tname ? tname : "?");
	return 0;
}
