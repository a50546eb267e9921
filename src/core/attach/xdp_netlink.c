/* XDP over rtnetlink: IFLA_XDP in RTM_SETLINK to attach, replace and remove a program,
 * and RTM_GETLINK (one interface, or a dump of all) to see what is attached in each
 * mode. The attach logic (bpf_link or netlink, occupied slots) is xdp.c. */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "attach_priv.h"

static struct nlmsghdr *put_link_header(char *buf, __u16 type, __u16 flags, int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nlh;
}

int xdp_nl_set(struct ayac_nl *nl, int ifindex, int fd, __u32 flags, int expected_fd)
{
	_Alignas(NLMSG_ALIGNTO) char buf[AYAC_NL_BUF];
	struct nlmsghdr *nlh = put_link_header(buf, RTM_SETLINK, 0, ifindex);
	struct nlattr *nest = mnl_attr_nest_start(nlh, IFLA_XDP | NLA_F_NESTED);

	mnl_attr_put_u32(nlh, IFLA_XDP_FD, (__u32)fd);
	if (flags)
		mnl_attr_put_u32(nlh, IFLA_XDP_FLAGS, flags);
	if (flags & XDP_FLAGS_REPLACE)
		mnl_attr_put_u32(nlh, IFLA_XDP_EXPECTED_FD, (__u32)expected_fd);
	mnl_attr_nest_end(nlh, nest);
	return ayac_nl_talk(nl, nlh, NULL, NULL);
}

static int xdp_attr(const struct nlattr *attr, void *data)
{
	struct ayac_xdp_query *q = data;

	if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return MNL_CB_OK; /* IFLA_XDP_ATTACHED is a u8; nothing else is needed */
	switch (mnl_attr_get_type(attr)) {
	case IFLA_XDP_DRV_PROG_ID:
		q->drv_id = mnl_attr_get_u32(attr);
		break;
	case IFLA_XDP_SKB_PROG_ID:
		q->skb_id = mnl_attr_get_u32(attr);
		break;
	case IFLA_XDP_HW_PROG_ID:
		q->hw_id = mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

static int link_attr(const struct nlattr *attr, void *data)
{
	struct ayac_xdp_query *q = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			snprintf(q->ifname, sizeof(q->ifname), "%s", mnl_attr_get_str(attr));
		break;
	case IFLA_XDP:
		if (mnl_attr_validate(attr, MNL_TYPE_NESTED) == 0)
			mnl_attr_parse_nested(attr, xdp_attr, q);
		break;
	}
	return MNL_CB_OK;
}

static int parse_link(const struct nlmsghdr *nlh, struct ayac_xdp_query *q)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return -1;
	memset(q, 0, sizeof(*q));
	q->ifindex = ifi->ifi_index;
	mnl_attr_parse(nlh, sizeof(*ifi), link_attr, q);
	return 0;
}

static int on_one(const struct nlmsghdr *nlh, void *data)
{
	parse_link(nlh, data);
	return MNL_CB_OK;
}

/* RTEXT_FILTER_SKIP_STATS: the answer need not carry every counter. */
static void put_ext_mask(struct nlmsghdr *nlh)
{
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, 1U << 3);
}

int ayac_xdp_query(const char *ifname, int ifindex, struct ayac_xdp_query *out)
{
	_Alignas(NLMSG_ALIGNTO) char buf[AYAC_NL_BUF];
	char name[IF_NAMESIZE];
	struct nlmsghdr *nlh;
	int idx, err;

	memset(out, 0, sizeof(*out));
	idx = attach_ifindex(ifname, ifindex, name);
	if (idx < 0)
		return ayac_errctx("xdp query");
	nlh = put_link_header(buf, RTM_GETLINK, 0, idx);
	put_ext_mask(nlh);
	err = ayac_nl_talk_once(nlh, on_one, out, false);
	if (err < 0)
		return ayac_errctx("xdp query '%s'", name);
	out->ifindex = idx;
	snprintf(out->ifname, sizeof(out->ifname), "%s", name);
	return 0;
}

struct query_all {
	struct ayac_xdp_query *v;
	size_t n, cap;
	int err;
};

static int on_each(const struct nlmsghdr *nlh, void *data)
{
	struct query_all *all = data;
	struct ayac_xdp_query q, *nv;

	if (parse_link(nlh, &q) < 0 || !(q.skb_id || q.drv_id || q.hw_id))
		return MNL_CB_OK;
	if (all->n == all->cap) {
		nv = ayac_reallocarray(all->v, all->cap ? all->cap * 2 : 8, sizeof(*nv));
		if (!nv) {
			errno = all->err = ENOMEM;
			return MNL_CB_ERROR;
		}
		all->v = nv;
		all->cap = all->cap ? all->cap * 2 : 8;
	}
	all->v[all->n++] = q;
	return MNL_CB_OK;
}

int ayac_xdp_query_all(struct ayac_xdp_query **out, size_t *n)
{
	_Alignas(NLMSG_ALIGNTO) char buf[AYAC_NL_BUF];
	struct query_all all = { 0 };
	struct nlmsghdr *nlh = put_link_header(buf, RTM_GETLINK, 0, 0);
	int err;

	put_ext_mask(nlh);
	err = ayac_nl_talk_once(nlh, on_each, &all, true);
	if (err < 0) {
		free(all.v);
		*out = NULL;
		*n = 0;
		return ayac_errctx("xdp query (every interface)");
	}
	*out = all.v;
	*n = all.n;
	return 0;
}
