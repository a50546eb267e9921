/* TC classifiers (sched_cls) on an interface's ingress or egress, and netkit.
 *
 * Where the kernel has TCX (Linux 6.6), a TCX link: ordered (before/after a program
 * or link), gone with its last fd. Otherwise, or with { netlink = true } (or a handle or
 * priority, which only cls_bpf has), netlink: the clsact qdisc is created when the
 * interface has none, and a cls_bpf filter in direct-action mode is added with the
 * program's fd and name. Detach removes exactly that filter (when it still runs this
 * program), and removes the qdisc only when ayac created it and no filter is left on
 * either of its hooks. The qdiscs ayac created are remembered per process, by network
 * namespace and interface, so that the last of several links removes it. */
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach_priv.h"
#include "features/features.h"
#include "tc_priv.h"

struct tc_priv {
	struct ayac_nl *nl;            /* in the namespace of the interface */
	struct tc_filter_id id;
	__u32 prog_id;
	unsigned long long netns;
	char ifname[IF_NAMESIZE];
};

/* ---- qdiscs created by ayac ------------------------------------------------------------ */

struct owned_qdisc {
	unsigned long long netns;
	int ifindex;
};

static pthread_mutex_t owned_lock = PTHREAD_MUTEX_INITIALIZER;
static struct owned_qdisc *owned;
static size_t nr_owned;

static unsigned long long current_netns(void)
{
	struct stat st;

	if (stat("/proc/thread-self/ns/net", &st) == 0 || stat("/proc/self/ns/net", &st) == 0)
		return (unsigned long long)st.st_ino;
	return 0;
}

static void owned_add(unsigned long long netns, int ifindex)
{
	struct owned_qdisc *n;

	pthread_mutex_lock(&owned_lock);
	n = realloc(owned, (nr_owned + 1) * sizeof(*owned));
	if (n) {
		owned = n;
		owned[nr_owned].netns = netns;
		owned[nr_owned++].ifindex = ifindex;
	}
	pthread_mutex_unlock(&owned_lock);
}

/* Forget it; true when it was there. */
static bool owned_take(unsigned long long netns, int ifindex)
{
	bool found = false;
	size_t i;

	pthread_mutex_lock(&owned_lock);
	for (i = 0; i < nr_owned; i++) {
		if (owned[i].netns == netns && owned[i].ifindex == ifindex) {
			owned[i] = owned[--nr_owned];
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&owned_lock);
	return found;
}

static int count_filter(const struct ayac_tc_entry *e, bool is_bpf, void *data)
{
	(void)e;
	(void)is_bpf;
	++*(int *)data;
	return 0;
}

/* The qdisc goes when ayac created it and neither hook has a filter left. */
static void release_qdisc(struct tc_priv *p)
{
	int n = 0;

	if (!owned_take(p->netns, p->id.ifindex))
		return;
	if (tc_nl_filter_dump(p->nl, p->id.ifindex, tc_parent(AYAC_TC_INGRESS), count_filter, &n) < 0 ||
	    tc_nl_filter_dump(p->nl, p->id.ifindex, tc_parent(AYAC_TC_EGRESS), count_filter, &n) < 0)
		return; /* the interface or the qdisc is gone */
	if (n > 0) {
		owned_add(p->netns, p->id.ifindex); /* still ours, for the last filter */
		return;
	}
	tc_nl_qdisc(p->nl, p->id.ifindex, false);
}

/* ---- netlink links ------------------------------------------------------------------ */

static void tc_release(struct ayac_link *link)
{
	struct tc_priv *p = link->priv;

	if (!p)
		return;
	ayac_nl_close(p->nl);
	free(p);
	link->priv = NULL;
}

static bool gone(int err)
{
	/* no such filter, no qdisc ("Parent Qdisc doesn't exists"), no interface */
	return err == -ENOENT || err == -EINVAL || err == -ENODEV;
}

static int tc_detach(struct ayac_link *link)
{
	struct tc_priv *p = link->priv;
	__u32 id = 0;
	int err = tc_nl_filter_get(p->nl, &p->id, &id);

	/* Another program in the same place means someone replaced it: not ours to remove. */
	if (err == 0 && id == p->prog_id)
		err = tc_nl_filter_del(p->nl, &p->id);
	if (err < 0 && !gone(err))
		return ayac_errctx("detach tc filter (handle %#x, priority %u) from '%s'",
				   p->id.handle, p->id.priority, p->ifname);
	release_qdisc(p);
	return 0;
}

static const struct ayac_link_ops tc_nl_ops = {
	.detach = tc_detach,
	.release = tc_release,
	.at_exit = true,
};

/* The clsact qdisc: 1 when created here, 0 when it was there, -errno. */
static int ensure_clsact(struct tc_priv *p)
{
	int err = tc_nl_qdisc(p->nl, p->id.ifindex, true);

	if (err == -EEXIST)
		return 0;
	if (err < 0)
		return ayac_errctx("add clsact qdisc");
	owned_add(p->netns, p->id.ifindex);
	return 1;
}

static int add_filter(struct tc_priv *p, const struct ayac_prog *prog, int prog_fd)
{
	char name[AYAC_OBJ_NAME_LEN + 16];
	int err;

	p->prog_id = attach_prog_id(prog_fd);
	snprintf(name, sizeof(name), "%s:[%u]", prog->name, p->prog_id);
	err = tc_nl_filter_add(p->nl, &p->id, prog_fd, name);
	if (err == -EEXIST)
		return ayac_errctx("a filter with handle %#x and priority %u is there already",
				   p->id.handle, p->id.priority);
	if (err < 0)
		return ayac_errctx("add cls_bpf filter");
	return 0;
}

static struct ayac_link *tc_by_netlink(struct ayac_prog *prog, int prog_fd,
				       const struct ayac_tc_opts *o, struct ayac_link_desc *desc)
{
	struct tc_priv *p = ayac_calloc(1, sizeof(*p));
	int created = 0;

	if (!p)
		return NULL;
	p->id.ifindex = desc->ifindex;
	p->id.parent = tc_parent(!strcmp(desc->direction, "egress") ? AYAC_TC_EGRESS :
				 AYAC_TC_INGRESS);
	p->id.handle = o->handle;
	p->id.priority = o->priority;
	p->netns = current_netns();
	if (!if_indextoname((unsigned)desc->ifindex, p->ifname))
		p->ifname[0] = '\0';
	p->nl = ayac_nl_open();
	if (!p->nl || (created = ensure_clsact(p)) < 0)
		goto fail;
	if (add_filter(p, prog, prog_fd) < 0) {
		if (created > 0)
			release_qdisc(p);
		goto fail;
	}
	desc->via = "netlink";
	desc->handle = p->id.handle;
	desc->priority = p->id.priority;
	return attach_link_kept(prog, "tc", &tc_nl_ops, p, desc);
fail:
	tc_release(&(struct ayac_link){ .priv = p });
	return NULL;
}

/* ---- TCX and netkit links ------------------------------------------------------------ */

static struct ayac_link *mprog_link(struct ayac_prog *prog, int prog_fd, __u32 attach_type,
				    const struct ayac_tc_opts *o, const char *what,
				    struct ayac_link_desc *desc)
{
	union attach_attr u;
	int fd;

	memset(&u, 0, sizeof(u));
	u.lc.prog_fd = (__u32)prog_fd;
	u.lc.target = (__u32)desc->ifindex;
	u.lc.attach_type = attach_type;
	if (o->where != AYAC_REL_NONE) {
		u.lc.flags = o->where == AYAC_REL_BEFORE ? BPF_F_BEFORE : BPF_F_AFTER;
		if (o->relative_fd >= 0) {
			u.lc.mprog.relative = (__u32)o->relative_fd;
			if (o->relative_is_link)
				u.lc.flags |= ATTACH_F_LINK;
		}
	}
	fd = attach_link_create(&u);
	if (fd < 0) {
		ayac_seterr(-fd, "BPF_LINK_CREATE");
		if (fd == -ENOENT && o->where != AYAC_REL_NONE)
			ayac_errctx("the program or link to go %s is not attached there",
				    o->where == AYAC_REL_BEFORE ? "before" : "after");
		return NULL;
	}
	desc->attach_type = attach_type;
	desc->has_attach_type = true;
	return attach_link_fd(prog, what, fd, desc);
}

/* ---- choosing ----------------------------------------------------------------------- */

static int tc_direction(const struct ayac_prog *prog, const struct ayac_tc_opts *o)
{
	if (o->direction == AYAC_TC_INGRESS || o->direction == AYAC_TC_EGRESS)
		return o->direction;
	if (o->direction != AYAC_TC_FROM_PROG)
		return ayac_seterr(EINVAL, "bad direction %d", (int)o->direction);
	if (prog->attach_type == ATTACH_TCX_INGRESS)
		return AYAC_TC_INGRESS;
	if (prog->attach_type == ATTACH_TCX_EGRESS)
		return AYAC_TC_EGRESS;
	return ayac_seterr(EINVAL, "needs a direction: pass direction = \"ingress\" or "
			   "\"egress\" (or name it in the section: tc/ingress, tcx/egress)");
}

static int check_tc(const struct ayac_prog *prog, const struct ayac_tc_opts *o, bool netlink)
{
	if (prog->type == BPF_PROG_TYPE_SCHED_ACT)
		return ayac_seterr(EOPNOTSUPP, "a tc action program runs from a filter's action "
				   "list; attach a classifier (SEC(\"tc\")) instead");
	if (prog->type != BPF_PROG_TYPE_SCHED_CLS)
		return ayac_seterr(EINVAL, "not a sched_cls (tc) program");
	if (netlink && o->where != AYAC_REL_NONE)
		return ayac_seterr(EINVAL, "before/after order TCX links (Linux 6.6); a cls_bpf "
				   "filter is ordered by priority instead");
	return 0;
}

static struct ayac_link *tc_attach(struct ayac_prog *prog, const struct ayac_tc_opts *o,
				   struct ayac_link_desc *desc, int prog_fd, int dir)
{
	bool netlink = o->netlink || o->handle || o->priority;
	struct ayac_link *link;
	int have_tcx;

	if (check_tc(prog, o, netlink) < 0)
		return NULL;
	have_tcx = netlink ? 0 : ayac_feature(AYAC_FEAT_TCX);
	if (have_tcx != 0) {
		link = mprog_link(prog, prog_fd, dir == AYAC_TC_EGRESS ? ATTACH_TCX_EGRESS :
				  ATTACH_TCX_INGRESS, o, "tc", desc);
		if (link || have_tcx > 0 || ayac_errnum() != EINVAL)
			return link;
	}
	if (o->where != AYAC_REL_NONE) {
		ayac_seterr(EOPNOTSUPP, "before/after need TCX links (Linux 6.6)");
		return NULL;
	}
	return tc_by_netlink(prog, prog_fd, o, desc);
}

struct ayac_link *ayac_attach_tc(struct ayac_prog *prog, const struct ayac_tc_opts *o)
{
	struct ayac_link_desc desc = { .via = "bpf_link" };
	char name[IF_NAMESIZE] = "", target[IF_NAMESIZE + 8] = "";
	struct ayac_link *link;
	int prog_fd, dir;

	if (!o) {
		ayac_seterr(EINVAL, "no options");
		return attach_fail(prog, "tc", NULL);
	}
	desc.ifindex = attach_ifindex(o->ifname, o->ifindex, name);
	if (desc.ifindex < 0)
		return attach_fail(prog, "tc", NULL);
	snprintf(target, sizeof(target), "to '%s'", name);
	prog_fd = ayac_link_prog_fd(prog);
	if (prog_fd < 0 || (dir = tc_direction(prog, o)) < 0)
		return attach_fail(prog, "tc", target);
	desc.direction = dir == AYAC_TC_EGRESS ? "egress" : "ingress";
	link = tc_attach(prog, o, &desc, prog_fd, dir);
	if (!link)
		return attach_fail(prog, dir == AYAC_TC_EGRESS ? "tc egress" : "tc ingress", target);
	return link;
}

struct ayac_link *ayac_attach_netkit(struct ayac_prog *prog, const struct ayac_tc_opts *o,
				     bool peer)
{
	struct ayac_link_desc desc = { .via = "bpf_link", .direction = peer ? "peer" : "primary" };
	char name[IF_NAMESIZE] = "", target[IF_NAMESIZE + 8] = "";
	struct ayac_link *link = NULL;
	int prog_fd;

	if (!o) {
		ayac_seterr(EINVAL, "no options");
		return attach_fail(prog, "netkit", NULL);
	}
	desc.ifindex = attach_ifindex(o->ifname, o->ifindex, name);
	if (desc.ifindex < 0)
		return attach_fail(prog, "netkit", NULL);
	snprintf(target, sizeof(target), "to '%s'", name);
	prog_fd = ayac_link_prog_fd(prog);
	if (prog_fd >= 0 && check_tc(prog, o, false) == 0) {
		if (ayac_feature(AYAC_FEAT_NETKIT) == 0)
			ayac_seterr(EOPNOTSUPP, "this kernel has no netkit devices (Linux 6.7, "
				    "CONFIG_NETKIT)");
		else
			link = mprog_link(prog, prog_fd, peer ? ATTACH_NETKIT_PEER :
					  ATTACH_NETKIT_PRIMARY, o, "netkit", &desc);
	}
	return link ? link : attach_fail(prog, peer ? "netkit peer" : "netkit primary", target);
}
