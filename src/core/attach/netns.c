/* Programs on a network namespace, all bpf_links (gone with their last fd):
 *
 *   sk_lookup, flow_dissector  BPF_LINK_CREATE on the namespace's fd (Linux 5.8/5.9)
 *   netfilter                  BPF_LINK_CREATE on a netfilter hook (Linux 6.4) of the
 *                              calling thread's namespace */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attach_priv.h"

#define NF_IP_DEFRAG_FLAG 1U /* BPF_F_NETFILTER_IP_DEFRAG */
#define NF_HOOKS 5           /* NF_INET_PRE_ROUTING … NF_INET_POST_ROUTING */

static int open_netns(const char *path, int fd)
{
	int ns;

	if (!path && fd >= 0)
		return attach_dup(fd, "network namespace");
	if (!path)
		path = "/proc/thread-self/ns/net";
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return ayac_seterr(errno, "open network namespace '%s'", path);
	return sys_fd_above_stdio(ns);
}

struct ayac_link *ayac_attach_netns(struct ayac_prog *prog, const char *path, int fd)
{
	struct ayac_link_desc desc = { .via = "bpf_link", .has_attach_type = true };
	const char *what = prog && prog->type == BPF_PROG_TYPE_SK_LOOKUP ? "sk_lookup" :
			   "flow_dissector";
	struct ayac_link *link;
	char target[300];
	union attach_attr u;
	int prog_fd, ns, lfd;

	if (path)
		snprintf(target, sizeof(target), "to netns '%s'", path);
	else if (fd >= 0)
		snprintf(target, sizeof(target), "to netns fd %d", fd);
	else
		snprintf(target, sizeof(target), "to this network namespace");
	prog_fd = ayac_link_prog_fd(prog);
	if (prog_fd < 0)
		return attach_fail(prog, what, target);
	if (prog->type != BPF_PROG_TYPE_SK_LOOKUP && prog->type != BPF_PROG_TYPE_FLOW_DISSECTOR) {
		ayac_seterr(EINVAL, "not an sk_lookup or flow_dissector program");
		return attach_fail(prog, what, target);
	}
	ns = open_netns(path, fd);
	if (ns < 0)
		return attach_fail(prog, what, target);
	memset(&u, 0, sizeof(u));
	u.lc.prog_fd = (__u32)prog_fd;
	u.lc.target = (__u32)ns;
	u.lc.attach_type = prog->attach_type;
	desc.attach_type = prog->attach_type;
	lfd = attach_link_create(&u);
	close(ns);
	if (lfd == -EINVAL && path)
		ayac_seterr(EINVAL, "BPF_LINK_CREATE: is '%s' a network namespace file?", path);
	else if (lfd < 0)
		ayac_seterr(-lfd, "BPF_LINK_CREATE");
	if (lfd < 0)
		return attach_fail(prog, what, target);
	link = attach_link_fd(prog, what, lfd, &desc);
	return link ? link : attach_fail(prog, what, target);
}

struct ayac_link *ayac_attach_netfilter(struct ayac_prog *prog,
					const struct ayac_netfilter_opts *o)
{
	struct ayac_link_desc desc = { .via = "bpf_link", .attach_type = ATTACH_NETFILTER,
				       .has_attach_type = true };
	struct ayac_link *link;
	char target[64] = "";
	union attach_attr u;
	int prog_fd, lfd;

	if (o)
		snprintf(target, sizeof(target), "to pf %u hook %u priority %d", o->pf,
			 o->hooknum, o->priority);
	prog_fd = ayac_link_prog_fd(prog);
	if (prog_fd < 0)
		return attach_fail(prog, "netfilter", target);
	if (!o || o->hooknum >= NF_HOOKS) {
		ayac_seterr(EINVAL, "bad netfilter hook");
		return attach_fail(prog, "netfilter", target);
	}
	if (prog->type != (enum bpf_prog_type)ATTACH_PROG_TYPE_NETFILTER) {
		ayac_seterr(EINVAL, "not a netfilter program");
		return attach_fail(prog, "netfilter", target);
	}
	memset(&u, 0, sizeof(u));
	u.lc.prog_fd = (__u32)prog_fd;
	u.lc.attach_type = ATTACH_NETFILTER;
	u.lc.netfilter.pf = o->pf;
	u.lc.netfilter.hooknum = o->hooknum;
	u.lc.netfilter.priority = o->priority;
	u.lc.netfilter.flags = o->defrag ? NF_IP_DEFRAG_FLAG : 0;
	lfd = attach_link_create(&u);
	if (lfd == -EINVAL)
		ayac_seterr(EINVAL, "BPF_LINK_CREATE: the kernel refused the hook (pf ipv4 or "
			    "ipv6; priority neither INT_MIN nor INT_MAX; defrag needs Linux 6.6)");
	else if (lfd < 0)
		ayac_seterr(-lfd, "BPF_LINK_CREATE");
	if (lfd < 0)
		return attach_fail(prog, "netfilter", target);
	link = attach_link_fd(prog, "netfilter", lfd, &desc);
	return link ? link : attach_fail(prog, "netfilter", target);
}
