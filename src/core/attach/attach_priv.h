/* Shared by the files of src/core/attach only: kernel constants newer than the uapi
 * headers this builds against (Debian's 6.1), the BPF_LINK_CREATE / BPF_PROG_QUERY
 * layouts of Linux 6.18, the netlink request helper (netlink.c) and small helpers for
 * the attach paths that keep state in the kernel without an fd (common.c). */
#ifndef AYAC_ATTACH_PRIV_H
#define AYAC_ATTACH_PRIV_H

#include <stdbool.h>
#include <linux/netlink.h>

#include "attach.h"

/* ---- kernel constants by value ------------------------------------------------------ */

#define ATTACH_PROG_TYPE_NETFILTER 32
#define ATTACH_NETFILTER 45
#define ATTACH_TCX_INGRESS 46
#define ATTACH_TCX_EGRESS 47
#define ATTACH_NETKIT_PRIMARY 54
#define ATTACH_NETKIT_PEER 55

#ifndef BPF_F_BEFORE
#define BPF_F_BEFORE (1U << 3)
#define BPF_F_AFTER (1U << 4)
#define BPF_F_ID (1U << 5)
#endif
#define ATTACH_F_LINK (1U << 13) /* BPF_F_LINK: the relative object is a link */

#ifndef SO_DETACH_REUSEPORT_BPF
#define SO_DETACH_REUSEPORT_BPF 68
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* BPF_LINK_CREATE as Linux 6.18 lays it out, for the parts used here. */
struct attach_link_create {
	__u32 prog_fd;
	__u32 target;        /* target_fd or target_ifindex */
	__u32 attach_type;
	__u32 flags;
	union {
		struct {
			__u32 pf, hooknum;
			__s32 priority;
			__u32 flags;
		} netfilter;
		struct {
			__u32 relative;      /* fd, or id with BPF_F_ID */
			__u32 pad;
			__u64 expected_revision;
		} mprog;                     /* tcx and netkit */
	};
};

/* BPF_PROG_QUERY as Linux 6.6+ lays it out (link ids and revision for tcx). */
struct attach_query {
	__u32 target;        /* target_fd or target_ifindex */
	__u32 attach_type;
	__u32 query_flags;
	__u32 attach_flags;
	__u64 prog_ids;
	__u32 count;
	__u32 pad;
	__u64 prog_attach_flags;
	__u64 link_ids;
	__u64 link_attach_flags;
	__u64 revision;
};

union attach_attr {
	union bpf_attr attr;
	struct attach_link_create lc;
	struct attach_query q;
};

static inline __u64 attach_ptr(const void *p)
{
	return (__u64)(unsigned long)p;
}

/* ---- netlink (netlink.c) -------------------------------------------------------------- */

/* One NETLINK_ROUTE socket. It stays in the network namespace it was opened in, so a
 * link that keeps one removes its attachment there even after the thread moved on. */
struct ayac_nl;

#define AYAC_NL_BUF 4096 /* requests built here are small */

/* Handles one reply message (not NLMSG_ERROR/DONE): MNL_CB_OK, MNL_CB_STOP, or
 * MNL_CB_ERROR with errno set. */
typedef int (*ayac_nl_cb)(const struct nlmsghdr *nlh, void *data);

struct ayac_nl *ayac_nl_open(void);                  /* NULL with the error set */
void ayac_nl_close(struct ayac_nl *nl);
/* Sends the request req and reads the answer: each reply to cb (may be NULL), until the
 * ack. Fills in the sequence number, NLM_F_REQUEST and NLM_F_ACK. On failure: -errno
 * with the error set to the errno text and the kernel's extended ack message, for the
 * caller's context. */
int ayac_nl_talk(struct ayac_nl *nl, struct nlmsghdr *req, ayac_nl_cb cb, void *data);
/* The same for a dump (NLM_F_DUMP): every message to cb, over as many datagrams as it
 * takes, until NLMSG_DONE. */
int ayac_nl_dump(struct ayac_nl *nl, struct nlmsghdr *req, ayac_nl_cb cb, void *data);
/* Either, on a socket opened for this one exchange (in the current namespace). */
int ayac_nl_talk_once(struct nlmsghdr *req, ayac_nl_cb cb, void *data, bool dump);

/* ---- XDP over netlink (xdp_netlink.c) ------------------------------------------------- */

/* IFLA_XDP: fd -1 removes; with XDP_FLAGS_REPLACE only when expected_fd's program is
 * the one attached. -errno with the error set (no context). */
int xdp_nl_set(struct ayac_nl *nl, int ifindex, int fd, __u32 flags, int expected_fd);

/* ---- common helpers (common.c) -------------------------------------------------------- */

/* ifindex from opts: ifname (looked up in the current network namespace) or ifindex;
 * the interface's name into name (IF_NAMESIZE bytes). -errno with the error set. */
int attach_ifindex(const char *ifname, int ifindex, char *name);
/* BPF_LINK_CREATE: the link fd or -errno (no message). */
int attach_link_create(union attach_attr *u);
/* A dup of fd (O_CLOEXEC, above stdio) for a link to keep; -errno with the error set. */
int attach_dup(int fd, const char *what);
/* BPF_PROG_ATTACH / BPF_PROG_DETACH: 0 or -errno (no message). */
int attach_prog_attach(int target_fd, int prog_fd, __u32 attach_type, __u32 flags);
int attach_prog_detach(int target_fd, int prog_fd, __u32 attach_type);
/* The program's name as the kernel has it, by id ("" when it is gone). */
void attach_prog_name(__u32 id, char *name, size_t size);
/* A loaded program's id (0 when unknown). */
__u32 attach_prog_id(int prog_fd);
/* An fd of the program with that id: -errno with the error set ("program id N"). */
int attach_prog_fd_by_id(__u32 id);
/* What prog:attach failed on: "attach <what> <target> for program '<name>'" before the
 * current error. Returns NULL for `return attach_fail(...)`. */
struct ayac_link *attach_fail(const struct ayac_prog *prog, const char *what, const char *target);

/* A link for an attachment the kernel keeps without an fd, or with a bpf_link fd.
 * desc is copied; priv (owned by the link from here, released by ops->release even on
 * failure) is for ops. */
struct ayac_link *attach_link_kept(struct ayac_prog *prog, const char *what,
				   const struct ayac_link_ops *ops, void *priv,
				   const struct ayac_link_desc *desc);
struct ayac_link *attach_link_fd(struct ayac_prog *prog, const char *what, int fd,
				 const struct ayac_link_desc *desc);

#endif
