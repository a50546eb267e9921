/* TC's netlink messages (tc_netlink.c), shared by the attach logic (tc.c) and the query
 * (tc_query.c). Each returns 0 or -errno with the error set (no context). */
#ifndef AYAC_TC_PRIV_H
#define AYAC_TC_PRIV_H

#include "attach_priv.h"

/* Where a cls_bpf filter sits: parent is the clsact hook (tc_parent). */
struct tc_filter_id {
	int ifindex;
	__u32 parent, handle, priority;
};

__u32 tc_parent(enum ayac_tc_dir dir);
/* Add (NLM_F_EXCL: -EEXIST when there is one) or delete the clsact qdisc. */
int tc_nl_qdisc(struct ayac_nl *nl, int ifindex, bool add);
/* Add a direct-action cls_bpf filter; handle and priority 0 are chosen by the kernel
 * and written back into id. */
int tc_nl_filter_add(struct ayac_nl *nl, struct tc_filter_id *id, int prog_fd, const char *name);
/* The program id of the bpf filter at id (-ENOENT when there is none). */
int tc_nl_filter_get(struct ayac_nl *nl, const struct tc_filter_id *id, __u32 *prog_id);
int tc_nl_filter_del(struct ayac_nl *nl, const struct tc_filter_id *id);

/* Called for each filter of a dump (is_bpf: a cls_bpf one); < 0 with errno set stops. */
typedef int (*tc_filter_cb)(const struct ayac_tc_entry *e, bool is_bpf, void *data);
int tc_nl_filter_dump(struct ayac_nl *nl, int ifindex, __u32 parent, tc_filter_cb cb, void *data);

#endif
