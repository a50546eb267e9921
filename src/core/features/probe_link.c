/* Link types and attach paths: load a trivial program of the right type, then ask
 * BPF_LINK_CREATE to attach it to a target that cannot exist (fd -1, ifindex 0, a
 * function that is not there, the directory "/"). A kernel with the link type gets
 * as far as looking the target up and answers with that error (EBADF, ENODEV,
 * ENOENT…); one without it refuses the attach type itself (EINVAL, EOPNOTSUPP). The
 * method of libbpf's features.c and cilium/ebpf's features/; nothing gets attached. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>

#include "probe_priv.h"

static inline __u64 ptr_to_u64(const void *p)
{
	return (__u64)(unsigned long)p;
}

/* BPF_LINK_CREATE's attributes as Linux 6.18 lays them out (the installed uapi header
 * predates uprobe_multi). */
struct link_create_attr {
	__u32 prog_fd;
	__u32 target;        /* target_fd or target_ifindex */
	__u32 attach_type;
	__u32 flags;
	union {
		struct {
			__u32 flags, cnt;
			__u64 syms, addrs, cookies;
		} kprobe_multi;
		struct {
			__u64 path, offsets, ref_ctr_offsets, cookies;
			__u32 cnt, flags, pid;
		} uprobe_multi;
	};
};

union link_attr {
	union bpf_attr attr;
	struct link_create_attr lc;
};

struct link_probe {
	enum bpf_prog_type prog_type;
	__u32 prog_attach_type;      /* expected_attach_type at load */
	__u32 attach_type;           /* BPF_LINK_CREATE's */
	__u32 target;
	int ok[2];                   /* errnos that mean "the kernel has it" */
};

static int link_probe(const struct link_probe *lp, union link_attr *u)
{
	int prog_fd = probe_trivial_prog(lp->prog_type, lp->prog_attach_type), fd;

	if (prog_fd < 0) /* no such program type (or attach type): no such link either */
		return probe_result(prog_fd, NULL);
	u->lc.prog_fd = (__u32)prog_fd;
	u->lc.target = lp->target;
	u->lc.attach_type = lp->attach_type;
	fd = sys_bpf_fd(BPF_LINK_CREATE, &u->attr, sizeof(*u));
	close(prog_fd);
	if (fd >= 0) { /* attached to something after all: it works, detach */
		close(fd);
		return 1;
	}
	if (-fd == lp->ok[0] || -fd == lp->ok[1])
		return 1;
	return probe_result(fd, NULL);
}

static int probe_kprobe_multi(void)
{
	static const char *const syms[] = { "ayac_no_such_function__" };
	const struct link_probe lp = { BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI,
				       BPF_TRACE_KPROBE_MULTI, 0, { ENOENT, ESRCH } };
	union link_attr u;

	memset(&u, 0, sizeof(u));
	u.lc.kprobe_multi.cnt = 1;
	u.lc.kprobe_multi.syms = ptr_to_u64(syms);
	return link_probe(&lp, &u);
}

static int probe_uprobe_multi(void)
{
	static const __u64 offsets[] = { 0 };
	const struct link_probe lp = { BPF_PROG_TYPE_KPROBE, PROBE_ATTACH_UPROBE_MULTI,
				       PROBE_ATTACH_UPROBE_MULTI, 0, { EBADF, 0 } };
	union link_attr u;

	memset(&u, 0, sizeof(u));
	u.lc.uprobe_multi.path = ptr_to_u64("/"); /* not a regular file: EBADF */
	u.lc.uprobe_multi.offsets = ptr_to_u64(offsets);
	u.lc.uprobe_multi.cnt = 1;
	return link_probe(&lp, &u);
}

int probe_link_feature(enum ayac_feature f)
{
	static const struct link_probe simple[] = {
		[AYAC_FEAT_PERF_LINK] = { BPF_PROG_TYPE_TRACEPOINT, 0, BPF_PERF_EVENT,
					  (__u32)-1, { EBADF, 0 } },
		[AYAC_FEAT_TCX] = { BPF_PROG_TYPE_SCHED_CLS, 0, PROBE_ATTACH_TCX_INGRESS, 0,
				    { ENODEV, 0 } },
		[AYAC_FEAT_NETKIT] = { BPF_PROG_TYPE_SCHED_CLS, 0, PROBE_ATTACH_NETKIT_PRIMARY, 0,
				       { ENODEV, ENXIO } },
		[AYAC_FEAT_CGROUP_LINK] = { BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS,
					    BPF_CGROUP_INET_INGRESS, (__u32)-1, { EBADF, 0 } },
		/* An XDP link for hardware offload on the loopback device (ifindex 1 in
		 * every namespace): a kernel with XDP links gets to the driver, which
		 * has no offload (EOPNOTSUPP); nothing is attached on the way. */
		[AYAC_FEAT_XDP_LINK] = { BPF_PROG_TYPE_XDP, BPF_XDP, BPF_XDP, 1,
					 { EOPNOTSUPP, 0 } },
		[AYAC_FEAT_SOCKMAP_LINK] = { BPF_PROG_TYPE_SK_MSG, BPF_SK_MSG_VERDICT,
					     BPF_SK_MSG_VERDICT, (__u32)-1, { EBADF, 0 } },
	};
	union link_attr u;

	switch (f) {
	case AYAC_FEAT_KPROBE_MULTI:
		return probe_kprobe_multi();
	case AYAC_FEAT_UPROBE_MULTI:
		return probe_uprobe_multi();
	case AYAC_FEAT_PERF_LINK:
	case AYAC_FEAT_TCX:
	case AYAC_FEAT_NETKIT:
	case AYAC_FEAT_CGROUP_LINK:
	case AYAC_FEAT_SOCKMAP_LINK:
		memset(&u, 0, sizeof(u));
		return link_probe(&simple[f], &u);
	case AYAC_FEAT_XDP_LINK:
		memset(&u, 0, sizeof(u));
		u.lc.flags = XDP_FLAGS_HW_MODE;
		return link_probe(&simple[f], &u);
	default:
		return -EINVAL;
	}
}
