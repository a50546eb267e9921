/* Removing attachments by where they are rather than through a link: what a process
 * killed before its exit handlers ran (SIGKILL, a crash) leaves in the kernel — XDP
 * programs set through netlink and cls_bpf filters; cgroup.c removes BPF_PROG_ATTACH
 * ones. Each removal names the program it expects there, so a program attached since by
 * someone else is never taken away. Attachments held by a bpf_link are not removable
 * this way: they go when the link's last fd closes. `ayac cleanup` is built on these. */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>

#include "attach_priv.h"
#include "tc_priv.h"

static const char *const xdp_mode_names[] = { "auto", "skb", "drv", "hw" };

static __u32 xdp_mode_flag(enum ayac_xdp_mode mode)
{
	switch (mode) {
	case AYAC_XDP_SKB: return XDP_FLAGS_SKB_MODE;
	case AYAC_XDP_DRV: return XDP_FLAGS_DRV_MODE;
	case AYAC_XDP_HW: return XDP_FLAGS_HW_MODE;
	default: return 0;
	}
}

static __u32 xdp_mode_id(const struct ayac_xdp_query *q, enum ayac_xdp_mode mode)
{
	return mode == AYAC_XDP_SKB ? q->skb_id : mode == AYAC_XDP_DRV ? q->drv_id : q->hw_id;
}

int ayac_xdp_remove(const char *ifname, int ifindex, enum ayac_xdp_mode mode, __u32 prog_id)
{
	char name[IF_NAMESIZE];
	struct ayac_xdp_query q;
	struct ayac_nl *nl;
	int idx, fd, err;

	if (mode != AYAC_XDP_SKB && mode != AYAC_XDP_DRV && mode != AYAC_XDP_HW)
		return ayac_seterr(EINVAL, "remove XDP: mode must be skb, drv or hw");
	if (!prog_id)
		return ayac_seterr(EINVAL, "remove XDP: no program id (see ayac.xdp_query)");
	idx = attach_ifindex(ifname, ifindex, name);
	if (idx < 0)
		return ayac_errctx("remove XDP");
	if (ayac_xdp_query(NULL, idx, &q) < 0)
		return ayac_errctx("remove XDP from %s", name);
	if (xdp_mode_id(&q, mode) != prog_id)
		return ayac_seterr(ENOENT, "remove XDP from %s (%s): program %u is not there%s", name,
				   xdp_mode_names[mode], prog_id,
				   xdp_mode_id(&q, mode) ? " (another one is)" : "");
	fd = attach_prog_fd_by_id(prog_id);
	if (fd < 0)
		return ayac_errctx("remove XDP from %s", name);
	nl = ayac_nl_open();
	err = nl ? xdp_nl_set(nl, idx, -1, xdp_mode_flag(mode) | XDP_FLAGS_REPLACE, fd)
		 : -ayac_errnum();
	ayac_nl_close(nl);
	close(fd);
	if (err == -EBUSY)
		return ayac_seterr(EBUSY, "remove XDP from %s (%s): program %u is held by a "
				   "bpf_link; it goes when the link's last fd closes (or unpin it)",
				   name, xdp_mode_names[mode], prog_id);
	if (err < 0)
		return ayac_errctx("remove XDP program %u from %s (%s)", prog_id, name,
				   xdp_mode_names[mode]);
	return 0;
}

int ayac_tc_remove(const char *ifname, int ifindex, enum ayac_tc_dir dir, __u32 handle,
		   __u32 priority, __u32 prog_id)
{
	const char *dname = dir == AYAC_TC_EGRESS ? "egress" : "ingress";
	struct tc_filter_id id = { 0 };
	char name[IF_NAMESIZE];
	struct ayac_nl *nl;
	__u32 have = 0;
	int err;

	if (dir != AYAC_TC_INGRESS && dir != AYAC_TC_EGRESS)
		return ayac_seterr(EINVAL, "remove TC filter: direction must be ingress or egress");
	if (!handle || !priority || priority > 0xffff)
		return ayac_seterr(EINVAL, "remove TC filter: handle and priority (1..65535) of the "
				   "filter are needed (see ayac.tc_query)");
	id.ifindex = attach_ifindex(ifname, ifindex, name);
	if (id.ifindex < 0)
		return ayac_errctx("remove TC filter");
	id.parent = tc_parent(dir);
	id.handle = handle;
	id.priority = priority;
	nl = ayac_nl_open();
	if (!nl)
		return ayac_errctx("remove TC filter from %s %s", name, dname);
	err = tc_nl_filter_get(nl, &id, &have);
	if (!err && prog_id && have != prog_id)
		err = ayac_seterr(ENOENT, "program %u is not there (program %u is)", prog_id, have);
	if (!err)
		err = tc_nl_filter_del(nl, &id);
	ayac_nl_close(nl);
	if (err < 0)
		return ayac_errctx("remove TC filter handle %u priority %u from %s %s", handle,
				   priority, name, dname);
	return 0;
}
