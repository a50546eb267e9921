/* TC over rtnetlink: the clsact qdisc, cls_bpf filters in direct-action mode (add with
 * NLM_F_ECHO to learn the handle and priority the kernel chose, get, delete), and
 * filter dumps for tc_query and for "is anything else still on this qdisc". The
 * attach logic (TCX or netlink, who removes the qdisc) is tc.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "attach_priv.h"
#include "tc_priv.h"

__u32 tc_parent(enum ayac_tc_dir dir)
{
	return TC_H_MAKE(TC_H_CLSACT, dir == AYAC_TC_EGRESS ? TC_H_MIN_EGRESS : TC_H_MIN_INGRESS);
}

static struct nlmsghdr *put_tc_header(char *buf, __u16 type, __u16 flags, int ifindex,
				      __u32 parent, __u32 handle, __u32 info)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct tcmsg *tcm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = parent;
	tcm->tcm_handle = handle;
	tcm->tcm_info = info;
	return nlh;
}

int tc_nl_qdisc(struct ayac_nl *nl, int ifindex, bool add)
{
	_Alignas(NLMSG_ALIGNTO) char buf[AYAC_NL_BUF];
	struct nlmsghdr *nlh = put_tc_header(buf, add ? RTM_NEWQDISC : RTM_DELQDISC,
					     add ? NLM_F_CREATE | NLM_F_EXCL : 0, ifindex,
					     TC_H_CLSACT, TC_H_MAKE(TC_H_CLSACT, 0), 0);

	mnl_attr_put_strz(nlh, TCA_KIND, "clsact");
	return ayac_nl_talk(nl, nlh, NULL, NULL);
}

static __u32 filter_info(__u32 priority)
{
	return TC_H_MAKE(priority << 16, htons(ETH_P_ALL));
}

static int opt_attr(const struct nlattr *attr, void *data)
{
	struct ayac_tc_entry *e = data;

	switch (mnl_attr_get_type(attr)) {
	case TCA_BPF_ID:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			e->prog_id = mnl_attr_get_u32(attr);
		break;
	case TCA_BPF_FLAGS:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			e->direct_action = mnl_attr_get_u32(attr) & TCA_BPF_FLAG_ACT_DIRECT;
		break;
	case TCA_BPF_NAME:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			snprintf(e->name, sizeof(e->name), "%s", mnl_attr_get_str(attr));
		break;
	}
	return MNL_CB_OK;
}

struct filter_msg {
	struct ayac_tc_entry *e;
	bool is_bpf;
};

static int filter_attr(const struct nlattr *attr, void *data)
{
	struct filter_msg *m = data;

	if (mnl_attr_get_type(attr) == TCA_KIND &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		m->is_bpf = strcmp(mnl_attr_get_str(attr), "bpf") == 0;
	else if (mnl_attr_get_type(attr) == TCA_OPTIONS &&
		 mnl_attr_validate(attr, MNL_TYPE_NESTED) == 0)
		mnl_attr_parse_nested(attr, opt_attr, m->e);
	return MNL_CB_OK;
}

/* A filter message into e: 1 for a filter (not the per-priority header a dump also
 * sends, handle 0), 0 for anything else. kind: "bpf" or another classifier. */
static int parse_filter(const struct nlmsghdr *nlh, struct ayac_tc_entry *e, bool *is_bpf)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	struct filter_msg m = { e, false };

	if (nlh->nlmsg_type != RTM_NEWTFILTER || mnl_nlmsg_get_payload_len(nlh) < sizeof(*tcm))
		return 0;
	memset(e, 0, sizeof(*e));
	e->via = "netlink";
	e->handle = tcm->tcm_handle;
	e->priority = TC_H_MAJ(tcm->tcm_info) >> 16;
	mnl_attr_parse(nlh, sizeof(*tcm), filter_attr, &m);
	*is_bpf = m.is_bpf;
	return tcm->tcm_handle != 0;
}

static int on_echo(const struct nlmsghdr *nlh, void *data)
{
	struct tc_filter_id *id = data;
	struct ayac_tc_entry e;
	bool is_bpf;

	if (parse_filter(nlh, &e, &is_bpf) == 1) {
		id->handle = e.handle;
		id->priority = e.priority;
	}
	return MNL_CB_OK;
}

int tc_nl_filter_add(struct ayac_nl *nl, struct tc_filter_id *id, int prog_fd, const char *name)
{
	_Alignas(NLMSG_ALIGNTO) char buf[AYAC_NL_BUF];
	struct nlmsghdr *nlh = put_tc_header(buf, RTM_NEWTFILTER,
					     NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO, id->ifindex,
					     id->parent, id->handle, filter_info(id->priority));
	struct nlattr *opts;

	mnl_attr_put_strz(nlh, TCA_KIND, "bpf");
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put_u32(nlh, TCA_BPF_FD, (__u32)prog_fd);
	mnl_attr_put_strz(nlh, TCA_BPF_NAME, name);
	mnl_attr_put_u32(nlh, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
	mnl_attr_nest_end(nlh, opts);
	return ayac_nl_talk(nl, nlh, on_echo, id);
}

static int on_get(const struct nlmsghdr *nlh, void *data)
{
	struct ayac_tc_entry e;
	__u32 *prog_id = data;
	bool is_bpf;

	if (parse_filter(nlh, &e, &is_bpf) == 1 && is_bpf)
		*prog_id = e.prog_id;
	return MNL_CB_OK;
}

int tc_nl_filter_get(struct ayac_nl *nl, const struct tc_filter_id *id, __u32 *prog_id)
{
	_Alignas(NLMSG_ALIGNTO) char buf[AYAC_NL_BUF];
	struct nlmsghdr *nlh = put_tc_header(buf, RTM_GETTFILTER, 0, id->ifindex, id->parent,
					     id->handle, filter_info(id->priority));

	*prog_id = 0;
	mnl_attr_put_strz(nlh, TCA_KIND, "bpf");
	return ayac_nl_talk(nl, nlh, on_get, prog_id);
}

int tc_nl_filter_del(struct ayac_nl *nl, const struct tc_filter_id *id)
{
	_Alignas(NLMSG_ALIGNTO) char buf[AYAC_NL_BUF];
	struct nlmsghdr *nlh = put_tc_header(buf, RTM_DELTFILTER, 0, id->ifindex, id->parent,
					     id->handle, filter_info(id->priority));

	mnl_attr_put_strz(nlh, TCA_KIND, "bpf");
	return ayac_nl_talk(nl, nlh, NULL, NULL);
}

struct dump {
	tc_filter_cb cb;
	void *data;
};

static int on_dump(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct ayac_tc_entry e;
	bool is_bpf;

	if (parse_filter(nlh, &e, &is_bpf) == 1 && d->cb(&e, is_bpf, d->data) < 0)
		return MNL_CB_ERROR; /* the callback set errno */
	return MNL_CB_OK;
}

int tc_nl_filter_dump(struct ayac_nl *nl, int ifindex, __u32 parent, tc_filter_cb cb, void *data)
{
	_Alignas(NLMSG_ALIGNTO) char buf[AYAC_NL_BUF];
	struct nlmsghdr *nlh = put_tc_header(buf, RTM_GETTFILTER, 0, ifindex, parent, 0, 0);
	struct dump d = { cb, data };

	return ayac_nl_dump(nl, nlh, on_dump, &d);
}
