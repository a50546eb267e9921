/* XDP on an interface. A bpf_link (BPF_LINK_CREATE, BPF_XDP; Linux 5.9) goes away with
 * its last fd, so nothing stays behind even after SIGKILL; netlink IFLA_XDP (older
 * kernels, { netlink = true }, and replace, which only netlink has) stays until it is
 * removed, which the link does on detach, close, gc and exit (link.c).
 *
 * The slot is never taken over silently: netlink attaches with
 * XDP_FLAGS_UPDATE_IF_NOEXIST, and an occupied slot is refused with EBUSY naming the
 * program there. Replacing is explicit (replace = the program attached now:
 * XDP_FLAGS_REPLACE with its fd as IFLA_XDP_EXPECTED_FD). A netlink detach removes the
 * program only if it is still the one this link attached. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>

#include "attach_priv.h"
#include "features/features.h"

struct xdp_priv {
	struct ayac_nl *nl;          /* in the namespace the program was attached in */
	int ifindex;
	int prog_fd;                 /* a dup: the expected program on detach */
	__u32 flags;                 /* the mode in effect */
	char ifname[IF_NAMESIZE];
};

static const char *const mode_names[] = { NULL, "skb", "drv", "hw" };
static const __u32 mode_flags[] = { 0, XDP_FLAGS_SKB_MODE, XDP_FLAGS_DRV_MODE,
				    XDP_FLAGS_HW_MODE };

static void xdp_release(struct ayac_link *link)
{
	struct xdp_priv *p = link->priv;

	if (!p)
		return;
	ayac_nl_close(p->nl);
	if (p->prog_fd >= 0)
		close(p->prog_fd);
	free(p);
	link->priv = NULL;
}

static int xdp_detach(struct ayac_link *link)
{
	struct xdp_priv *p = link->priv;
	int err = xdp_nl_set(p->nl, p->ifindex, -1, p->flags | XDP_FLAGS_REPLACE, p->prog_fd);

	/* EEXIST: another program is there now (replaced); ENODEV: the interface is gone.
	 * Either way this link's program is no longer attached. */
	if (err == -EEXIST || err == -ENODEV)
		return 0;
	if (err < 0)
		return ayac_errctx("detach xdp from '%s'", p->ifname);
	return 0;
}

static const struct ayac_link_ops xdp_nl_ops = {
	.detach = xdp_detach,
	.release = xdp_release,
	.at_exit = true,
};

/* The mode a program runs in on the interface, from a query ("" when not found). */
static const char *mode_of(const struct ayac_xdp_query *q, __u32 id, __u32 *flags)
{
	if (id && q->drv_id == id) {
		*flags = XDP_FLAGS_DRV_MODE;
		return "drv";
	}
	if (id && q->skb_id == id) {
		*flags = XDP_FLAGS_SKB_MODE;
		return "skb";
	}
	if (id && q->hw_id == id) {
		*flags = XDP_FLAGS_HW_MODE;
		return "hw";
	}
	return NULL;
}

/* After a refusal: name what occupies the interface (EBUSY), keeping the kernel's
 * message. Leaves other errors as they are. */
static int occupied(int err, int ifindex, const char *ifname)
{
	struct ayac_xdp_query q;
	char why[512], name[64];
	__u32 id;
	const char *mode;

	if (err != -EBUSY && err != -EEXIST)
		return err;
	snprintf(why, sizeof(why), "%s", ayac_errmsg());
	if (ayac_xdp_query(NULL, ifindex, &q) < 0)
		return ayac_seterr(EBUSY, "the slot is occupied (%s)", why);
	id = q.drv_id ? q.drv_id : q.skb_id ? q.skb_id : q.hw_id;
	mode = q.drv_id ? "drv" : q.skb_id ? "skb" : "hw";
	attach_prog_name(id, name, sizeof(name));
	return ayac_seterr(EBUSY, "interface '%s' already runs XDP program '%s' (id %u) in %s "
			   "mode; detach it first, or pass replace = that program to swap it "
			   "(%s)", ifname, name, id, mode, why);
}

static int mode_error(int err, enum ayac_xdp_mode mode, const char *ifname)
{
	if (mode == AYAC_XDP_AUTO || (err != -EOPNOTSUPP && err != -EINVAL))
		return err;
	return ayac_errctx("the driver of '%s' may not support XDP in %s mode",
			   ifname, mode_names[mode]);
}

/* Fill desc.mode (and p->flags) with the mode the program ended up in. */
static void settle_mode(struct ayac_link_desc *desc, int prog_fd, int ifindex, __u32 *flags)
{
	struct ayac_xdp_query q;
	__u32 f = 0;
	const char *mode;

	if (ayac_xdp_query(NULL, ifindex, &q) < 0)
		return;
	mode = mode_of(&q, attach_prog_id(prog_fd), &f);
	if (mode) {
		desc->mode = mode;
		if (flags)
			*flags = f;
	}
}

static struct ayac_link *xdp_by_link(struct ayac_prog *prog, int prog_fd, int ifindex,
				     const char *ifname, enum ayac_xdp_mode mode,
				     struct ayac_link_desc *desc)
{
	union attach_attr u;
	int fd;

	memset(&u, 0, sizeof(u));
	u.lc.prog_fd = (__u32)prog_fd;
	u.lc.target = (__u32)ifindex;
	u.lc.attach_type = BPF_XDP;
	u.lc.flags = mode_flags[mode];
	fd = attach_link_create(&u);
	if (fd < 0) {
		ayac_seterr(-fd, "BPF_LINK_CREATE");
		mode_error(occupied(fd, ifindex, ifname), mode, ifname);
		return NULL;
	}
	settle_mode(desc, prog_fd, ifindex, NULL);
	return attach_link_fd(prog, "xdp", fd, desc);
}

/* A replaced program's netlink link (in this process) no longer holds the slot. */
static void forget_replaced(const struct ayac_prog *old, int ifindex)
{
	struct ayac_link *l;

	if (!old || !old->obj)
		return;
	for (l = old->obj->links; l; l = l->next) {
		const struct xdp_priv *p = l->priv;

		if (l->ops == &xdp_nl_ops && l->kept && l->prog == old && p->ifindex == ifindex)
			ayac_link_kept_gone(l);
	}
}

static struct ayac_link *xdp_by_netlink(struct ayac_prog *prog, int prog_fd, int ifindex,
					const char *ifname, const struct ayac_xdp_opts *o,
					struct ayac_link_desc *desc)
{
	struct xdp_priv *p = ayac_calloc(1, sizeof(*p));
	int old_fd = -1, err;

	if (!p)
		return NULL;
	p->prog_fd = -1;
	p->ifindex = ifindex;
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	p->flags = mode_flags[o->mode];
	if (o->replace && (old_fd = ayac_link_prog_fd(o->replace)) < 0)
		goto fail;
	p->nl = ayac_nl_open();
	if (!p->nl || (p->prog_fd = attach_dup(prog_fd, "program")) < 0)
		goto fail;
	err = xdp_nl_set(p->nl, ifindex, prog_fd, p->flags | (o->replace ? XDP_FLAGS_REPLACE :
			 XDP_FLAGS_UPDATE_IF_NOEXIST), old_fd);
	if (err < 0) {
		if (!o->replace)
			err = occupied(err, ifindex, ifname);
		mode_error(err, o->mode, ifname);
		goto fail;
	}
	if (o->replace)
		forget_replaced(o->replace, ifindex);
	desc->via = "netlink";
	settle_mode(desc, prog_fd, ifindex, &p->flags);
	return attach_link_kept(prog, "xdp", &xdp_nl_ops, p, desc);
fail:
	xdp_release(&(struct ayac_link){ .priv = p });
	return NULL;
}

static int check_xdp_prog(const struct ayac_prog *prog, const struct ayac_xdp_opts *o)
{
	if (prog->type != BPF_PROG_TYPE_XDP)
		return ayac_seterr(EINVAL, "not an xdp program");
	if (prog->attach_type == BPF_XDP_DEVMAP || prog->attach_type == BPF_XDP_CPUMAP)
		return ayac_seterr(EINVAL, "an %s program runs from a map entry, not on an "
				   "interface: set it as the bpf_prog of a %s value",
				   prog->attach_type == BPF_XDP_DEVMAP ? "xdp/devmap" : "xdp/cpumap",
				   prog->attach_type == BPF_XDP_DEVMAP ? "devmap" : "cpumap");
	if ((unsigned)o->mode > AYAC_XDP_HW)
		return ayac_seterr(EINVAL, "bad XDP mode %d", (int)o->mode);
	return 0;
}

struct ayac_link *ayac_attach_xdp(struct ayac_prog *prog, const struct ayac_xdp_opts *o)
{
	struct ayac_link_desc desc = { .via = "bpf_link", .attach_type = BPF_XDP,
				       .has_attach_type = true };
	char name[IF_NAMESIZE] = "", target[IF_NAMESIZE + 8] = "";
	struct ayac_link *link;
	int prog_fd, ifindex, have_link;

	if (!o) {
		ayac_seterr(EINVAL, "no options");
		return attach_fail(prog, "xdp", NULL);
	}
	ifindex = attach_ifindex(o->ifname, o->ifindex, name);
	if (ifindex < 0)
		return attach_fail(prog, "xdp", NULL);
	snprintf(target, sizeof(target), "to '%s'", name);
	prog_fd = ayac_link_prog_fd(prog);
	if (prog_fd < 0 || check_xdp_prog(prog, o) < 0)
		return attach_fail(prog, "xdp", target);
	desc.ifindex = ifindex;
	desc.mode = mode_names[o->mode];
	have_link = o->netlink || o->replace ? 0 : ayac_feature(AYAC_FEAT_XDP_LINK);
	if (have_link != 0) {
		link = xdp_by_link(prog, prog_fd, ifindex, name, o->mode, &desc);
		/* An unknown answer and EINVAL: maybe a kernel without XDP links after all;
		 * netlink then gives the real reason if there is another. */
		if (link || have_link > 0 || ayac_errnum() != EINVAL)
			return link ? link : attach_fail(prog, "xdp", target);
	}
	link = xdp_by_netlink(prog, prog_fd, ifindex, name, o, &desc);
	return link ? link : attach_fail(prog, "xdp", target);
}

int ayac_ifindex(const char *ifname)
{
	char name[IF_NAMESIZE];

	return attach_ifindex(ifname, 0, name);
}
