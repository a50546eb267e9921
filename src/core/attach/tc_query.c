/* ayac_tc_query: what runs on an interface's ingress or egress. TCX programs come from
 * BPF_PROG_QUERY (in run order, with their link ids), cls_bpf filters from a netlink
 * dump of the clsact hook. An interface without TCX support or without a clsact qdisc
 * simply has none of that kind. */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "attach_priv.h"
#include "tc_priv.h"

#define MAX_TCX 64

struct entries {
	struct ayac_tc_entry *v;
	size_t n, cap;
};

static int push(struct entries *es, const struct ayac_tc_entry *e)
{
	struct ayac_tc_entry *nv;

	if (es->n == es->cap) {
		nv = ayac_reallocarray(es->v, es->cap ? es->cap * 2 : 8, sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		es->v = nv;
		es->cap = es->cap ? es->cap * 2 : 8;
	}
	es->v[es->n++] = *e;
	return 0;
}

static int query_tcx(int ifindex, enum ayac_tc_dir dir, struct entries *es)
{
	__u32 prog_ids[MAX_TCX], link_ids[MAX_TCX], i;
	struct ayac_tc_entry e;
	union attach_attr u;
	int err;

	memset(&u, 0, sizeof(u));
	u.q.target = (__u32)ifindex;
	u.q.attach_type = dir == AYAC_TC_EGRESS ? ATTACH_TCX_EGRESS : ATTACH_TCX_INGRESS;
	u.q.prog_ids = attach_ptr(prog_ids);
	u.q.link_ids = attach_ptr(link_ids);
	u.q.count = MAX_TCX;
	err = sys_bpf(BPF_PROG_QUERY, &u.attr, sizeof(u));
	if (err == -EINVAL)
		return 0; /* no TCX on this kernel */
	if (err < 0)
		return ayac_seterr(err, "BPF_PROG_QUERY (tcx)");
	for (i = 0; i < u.q.count && i < MAX_TCX; i++) {
		memset(&e, 0, sizeof(e));
		e.via = "tcx";
		e.prog_id = prog_ids[i];
		e.link_id = link_ids[i];
		attach_prog_name(e.prog_id, e.name, sizeof(e.name));
		if (push(es, &e) < 0)
			return ayac_seterr(ENOMEM, "tc query");
	}
	return 0;
}

static int add_filter(const struct ayac_tc_entry *e, bool is_bpf, void *data)
{
	if (!is_bpf)
		return 0; /* u32, flower…: not programs */
	if (push(data, e) < 0) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int ayac_tc_query(const char *ifname, int ifindex, enum ayac_tc_dir dir,
		  struct ayac_tc_entry **out, size_t *n)
{
	struct entries es = { 0 };
	char name[IF_NAMESIZE];
	struct ayac_nl *nl = NULL;
	int idx, err;

	*out = NULL;
	*n = 0;
	idx = attach_ifindex(ifname, ifindex, name);
	if (idx < 0)
		return ayac_errctx("tc query");
	if (dir != AYAC_TC_INGRESS && dir != AYAC_TC_EGRESS)
		return ayac_seterr(EINVAL, "tc query '%s': bad direction", name);
	err = query_tcx(idx, dir, &es);
	if (err == 0 && !(nl = ayac_nl_open()))
		err = -ayac_errnum();
	if (err == 0) {
		err = tc_nl_filter_dump(nl, idx, tc_parent(dir), add_filter, &es);
		if (err == -EINVAL || err == -ENOENT)
			err = 0; /* no clsact qdisc: no filters */
	}
	ayac_nl_close(nl);
	if (err < 0) {
		free(es.v);
		return ayac_errctx("tc query '%s' %s", name, dir == AYAC_TC_EGRESS ? "egress" : "ingress");
	}
	*out = es.v;
	*n = es.n;
	return 0;
}
