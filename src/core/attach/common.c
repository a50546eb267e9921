/* What the network, cgroup and socket attach paths share: interface lookup, the bpf(2)
 * commands they use, fds a link keeps, and error context. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attach_priv.h"

int attach_ifindex(const char *ifname, int ifindex, char *name)
{
	unsigned int idx;

	name[0] = '\0';
	if (ifname) {
		if (!*ifname || strlen(ifname) >= IF_NAMESIZE)
			return ayac_seterr(EINVAL, "bad interface name '%s'", ifname);
		idx = if_nametoindex(ifname);
		if (!idx)
			return ayac_seterr(ENODEV, "no network interface '%s' in this network "
					   "namespace", ifname);
		snprintf(name, IF_NAMESIZE, "%s", ifname);
		return (int)idx;
	}
	if (ifindex <= 0)
		return ayac_seterr(EINVAL, "no interface: pass ifname= or ifindex=");
	if (!if_indextoname((unsigned int)ifindex, name))
		return ayac_seterr(ENODEV, "no network interface with index %d in this network "
				   "namespace", ifindex);
	return ifindex;
}

int attach_link_create(union attach_attr *u)
{
	return sys_bpf_fd(BPF_LINK_CREATE, &u->attr, sizeof(*u));
}

int attach_dup(int fd, const char *what)
{
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);

	if (nfd < 0)
		return ayac_seterr(errno, "keep the %s fd %d", what, fd);
	return nfd;
}

int attach_prog_attach(int target_fd, int prog_fd, __u32 attach_type, __u32 flags)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (__u32)target_fd;
	attr.attach_bpf_fd = (__u32)prog_fd;
	attr.attach_type = attach_type;
	attr.attach_flags = flags;
	return sys_bpf(BPF_PROG_ATTACH, &attr, sizeof(attr));
}

int attach_prog_detach(int target_fd, int prog_fd, __u32 attach_type)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (__u32)target_fd;
	attr.attach_bpf_fd = (__u32)prog_fd;
	attr.attach_type = attach_type;
	return sys_bpf(BPF_PROG_DETACH, &attr, sizeof(attr));
}

void attach_prog_name(__u32 id, char *name, size_t size)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	union bpf_attr attr;
	int fd;

	name[0] = '\0';
	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id;
	fd = sys_bpf_fd(BPF_PROG_GET_FD_BY_ID, &attr, sizeof(attr));
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	if (sys_obj_info(fd, &info, &len) == 0)
		snprintf(name, size, "%s", info.name);
	close(fd);
}

int attach_prog_fd_by_id(__u32 id)
{
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id;
	fd = sys_bpf_fd(BPF_PROG_GET_FD_BY_ID, &attr, sizeof(attr));
	if (fd < 0)
		return ayac_seterr(fd, "program id %u%s", id,
				   fd == -ENOENT ? ": no such program (gone already?)" : "");
	return fd;
}

__u32 attach_prog_id(int prog_fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (prog_fd < 0 || sys_obj_info(prog_fd, &info, &len) < 0)
		return 0;
	return info.id;
}

struct ayac_link *attach_fail(const struct ayac_prog *prog, const char *what, const char *target)
{
	if (target && *target)
		ayac_errctx("attach %s %s for program '%s'", what, target, prog ? prog->name : "?");
	else
		ayac_errctx("attach %s for program '%s'", what, prog ? prog->name : "?");
	return NULL;
}

struct ayac_link *attach_link_kept(struct ayac_prog *prog, const char *what,
				   const struct ayac_link_ops *ops, void *priv,
				   const struct ayac_link_desc *desc)
{
	struct ayac_link *link = ayac_link_new_kept(prog, what, ops, priv);

	if (link && desc)
		link->desc = *desc;
	return link;
}

struct ayac_link *attach_link_fd(struct ayac_prog *prog, const char *what, int fd,
				 const struct ayac_link_desc *desc)
{
	struct ayac_link *link = ayac_link_new(prog, AYAC_LINK_BPF, what, fd, -1);

	if (link && desc) {
		link->desc = *desc;
		link->desc.via = "bpf_link";
	}
	return link;
}

int ayac_prog_name_by_id(__u32 id, char *name, size_t size)
{
	if (!name || !size)
		return ayac_seterr(EINVAL, "no buffer for the name");
	attach_prog_name(id, name, size);
	return name[0] ? 0 : ayac_seterr(ENOENT, "no program with id %u", id);
}
