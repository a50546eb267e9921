/* Privileges: which capabilities this process has (capget(2), no libcap), what each
 * kind of program needs, and an EPERM that says so. Embedders hit this first: an nginx
 * worker or a service user loads nothing, and a bare "Operation not permitted" does
 * not say that CAP_BPF + CAP_PERFMON would do (docs/embedding.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "sys.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool cap_has(const struct __user_cap_data_struct *d, int cap)
{
	return (d[cap / 32].effective >> (cap % 32)) & 1;
}

static int read_int_file(const char *path)
{
	char buf[32];
	int v = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f) || sscanf(buf, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* 0 or -errno, without touching the error record (ayac_perm_explain adds to it). */
static int caps_read(struct ayac_caps *caps)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(caps, 0, sizeof(*caps));
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	caps->uid = (__u32)getuid();
	caps->euid = (__u32)geteuid();
	caps->cap_bpf = cap_has(data, CAP_BPF);
	caps->cap_perfmon = cap_has(data, CAP_PERFMON);
	caps->cap_net_admin = cap_has(data, CAP_NET_ADMIN);
	caps->cap_sys_admin = cap_has(data, CAP_SYS_ADMIN);
	caps->cap_dac_override = cap_has(data, CAP_DAC_OVERRIDE);
	/* The kernel's bpf_capable(), perfmon_capable() and its CAP_NET_ADMIN checks all
	 * accept CAP_SYS_ADMIN instead. */
	caps->bpf = caps->cap_bpf || caps->cap_sys_admin;
	caps->tracing = caps->bpf && (caps->cap_perfmon || caps->cap_sys_admin);
	caps->networking = caps->bpf && (caps->cap_net_admin || caps->cap_sys_admin);
	caps->unprivileged_bpf_disabled = read_int_file("/proc/sys/kernel/unprivileged_bpf_disabled");
	return 0;
}

int ayac_caps_get(struct ayac_caps *caps)
{
	int err;

	if (!caps)
		return ayac_seterr(EINVAL, "capabilities: no result buffer");
	err = caps_read(caps);
	return err < 0 ? ayac_seterr(err, "capget") : 0;
}

unsigned ayac_prog_type_needs(enum bpf_prog_type type)
{
	switch (type) {
	/* is_perfmon_prog_type() in the kernel's syscall.c */
	case BPF_PROG_TYPE_KPROBE:
	case BPF_PROG_TYPE_TRACEPOINT:
	case BPF_PROG_TYPE_PERF_EVENT:
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
	case BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE:
	case BPF_PROG_TYPE_TRACING:
	case BPF_PROG_TYPE_LSM:
	case BPF_PROG_TYPE_STRUCT_OPS:
	case BPF_PROG_TYPE_EXT:
		return AYAC_NEED_BPF | AYAC_NEED_PERFMON;
	/* is_net_admin_prog_type() */
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
	case BPF_PROG_TYPE_XDP:
	case BPF_PROG_TYPE_LWT_IN:
	case BPF_PROG_TYPE_LWT_OUT:
	case BPF_PROG_TYPE_LWT_XMIT:
	case BPF_PROG_TYPE_LWT_SEG6LOCAL:
	case BPF_PROG_TYPE_SK_SKB:
	case BPF_PROG_TYPE_SK_MSG:
	case BPF_PROG_TYPE_FLOW_DISSECTOR:
	case BPF_PROG_TYPE_CGROUP_DEVICE:
	case BPF_PROG_TYPE_CGROUP_SOCK:
	case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
	case BPF_PROG_TYPE_CGROUP_SOCKOPT:
	case BPF_PROG_TYPE_CGROUP_SYSCTL:
	case BPF_PROG_TYPE_SOCK_OPS:
	case BPF_PROG_TYPE_CGROUP_SKB:
	case BPF_PROG_TYPE_SK_LOOKUP:
		return AYAC_NEED_BPF | AYAC_NEED_NET_ADMIN;
	default:
		return AYAC_NEED_BPF;
	}
}

/* "CAP_BPF and CAP_PERFMON" for the bits of needs set in mask. */
static void cap_list(char *buf, size_t size, unsigned needs)
{
	static const char *const names[] = { "CAP_BPF", "CAP_PERFMON", "CAP_NET_ADMIN" };
	size_t n = 0, i, count = 0, total = 0;

	for (i = 0; i < 3; i++)
		total += (needs >> i) & 1;
	buf[0] = '\0';
	for (i = 0; i < 3 && n < size; i++) {
		if (!((needs >> i) & 1))
			continue;
		count++;
		n += (size_t)snprintf(buf + n, size - n, "%s%s",
				      count == 1 ? "" : (count == total ? " and " : ", "), names[i]);
	}
}

/* kernel.perf_event_paranoid, or -100 when unreadable. */
static int perf_paranoid(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "re");
	int v = -100;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -100;
		fclose(f);
	}
	return v;
}

void ayac_perm_explain(unsigned needs)
{
	struct ayac_caps caps;
	unsigned missing = 0;
	char need[64], lack[64], hint[320];
	int err = ayac_errnum();

	if ((err != EPERM && err != EACCES) || !needs)
		return;
	if (caps_read(&caps) < 0)
		memset(&caps, 0, sizeof(caps)); /* unknown: name every capability needed */
	if ((needs & AYAC_NEED_BPF) && !caps.bpf)
		missing |= AYAC_NEED_BPF;
	if ((needs & AYAC_NEED_PERFMON) && !caps.cap_perfmon && !caps.cap_sys_admin)
		missing |= AYAC_NEED_PERFMON;
	if ((needs & AYAC_NEED_NET_ADMIN) && !caps.cap_net_admin && !caps.cap_sys_admin)
		missing |= AYAC_NEED_NET_ADMIN;
	cap_list(need, sizeof(need), needs);
	cap_list(lack, sizeof(lack), missing);
	if (missing)
		snprintf(hint, sizeof(hint), ": needs %s, or root (this process lacks %s); "
			 "see docs/embedding.md", need, lack);
	else if ((needs & AYAC_NEED_PERFMON) && !caps.cap_sys_admin && perf_paranoid() >= 3)
		/* Debian's kernel patch adds level 3: perf_event_open for CAP_SYS_ADMIN alone
		 * (upstream treats anything above 2 as 2). */
		snprintf(hint, sizeof(hint), ": needs %s, or root; this process has them, but "
			 "kernel.perf_event_paranoid is %d, which on some kernels (Debian's) "
			 "leaves perf_event_open to CAP_SYS_ADMIN: add it, or set "
			 "kernel.perf_event_paranoid=2; see docs/embedding.md", need, perf_paranoid());
	else
		snprintf(hint, sizeof(hint), ": needs %s, or root (this process has them: a "
			 "security module, a seccomp filter or a user namespace may refuse it); "
			 "see docs/embedding.md", need);
	ayac_errsuffix(hint);
}
