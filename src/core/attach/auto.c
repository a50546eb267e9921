/* prog:attach() with no target: the section name says where the program goes, as in
 * libbpf's bpf_program__attach(). The section table (section.c) tells the kind; the
 * target is what follows the first '/' of the section name:
 *
 *   tracepoint/cat/name, tp/cat/name          → ayac_attach_tracepoint
 *   raw_tp/name, raw_tracepoint[.w]/name       → ayac_attach_raw_tp
 *   tp_btf/x, fentry/x, fexit/x, lsm/x, ...    → ayac_attach_raw_tp(NULL) (BTF id)
 *   kprobe/func[+off], kretprobe/func          → ayac_attach_kprobe
 *   ksyscall/name, kretsyscall/name            → kprobe on the arch's syscall entry
 *   uprobe[.s]/path:sym[+off], uretprobe/...   → ayac_attach_uprobe
 *
 * Anything else needs a target the section cannot hold (an interface, a cgroup...),
 * and the error says which target table to pass. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"

#define TARGET_MAX 4096

#if defined(__x86_64__)
#define SYSCALL_PREFIX "__x64_sys_"
#elif defined(__aarch64__)
#define SYSCALL_PREFIX "__arm64_sys_"
#elif defined(__s390x__)
#define SYSCALL_PREFIX "__s390x_sys_"
#else
#define SYSCALL_PREFIX "sys_"
#endif

/* The target table a program type takes, for the error when there is none to guess. */
static const char *target_hint(const struct ayac_prog *prog)
{
	if (prog->sec_def && prog->sec_def->attach_kind == AYAC_ATTACH_UPROBE)
		return "{ path=, symbol= | offset=, pid=, retprobe= }";
	if (prog->sec_def && prog->sec_def->attach_kind == AYAC_ATTACH_KPROBE)
		return "{ func=, offset=, retprobe= }";
	switch ((int)prog->type) {
	case BPF_PROG_TYPE_XDP:
		return "{ ifname= | ifindex=, mode= }";
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
		return "{ ifname= | ifindex=, direction=\"ingress\"|\"egress\" }";
	case BPF_PROG_TYPE_CGROUP_SKB:
	case BPF_PROG_TYPE_CGROUP_SOCK:
	case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
	case BPF_PROG_TYPE_CGROUP_DEVICE:
	case BPF_PROG_TYPE_CGROUP_SYSCTL:
	case BPF_PROG_TYPE_CGROUP_SOCKOPT:
	case BPF_PROG_TYPE_SOCK_OPS:
		return "{ cgroup=\"/sys/fs/cgroup/...\", mode= }";
	case BPF_PROG_TYPE_SOCKET_FILTER:
	case BPF_PROG_TYPE_SK_REUSEPORT:
		return "{ socket=fd }";
	case BPF_PROG_TYPE_LIRC_MODE2:
		return "{ device=\"/dev/lirc0\" }";
	case BPF_PROG_TYPE_SYSCALL + 1: /* netfilter */
		return "{ pf=\"ipv4\", hooknum=\"local_in\", priority= }";
	case BPF_PROG_TYPE_SK_LOOKUP:
	case BPF_PROG_TYPE_FLOW_DISSECTOR:
		return "{ netns=\"/proc/self/ns/net\" }";
	case BPF_PROG_TYPE_SK_MSG:
	case BPF_PROG_TYPE_SK_SKB:
		return "{ map=sockmap }";
	case BPF_PROG_TYPE_PERF_EVENT:
		return "{ type=, config=, sample_freq= | sample_period= }";
	case BPF_PROG_TYPE_EXT:
		return "{ target_prog=, func= }";
	case BPF_PROG_TYPE_TRACEPOINT:
		return "{ category=, name= } or \"category:name\"";
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
	case BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE:
		return "{ name= }";
	case BPF_PROG_TYPE_KPROBE:
		return "{ func= } (kprobe) or { path=, symbol= } (uprobe)";
	default:
		return NULL;
	}
}

/* A section without a usable target: say which target table prog:attach takes. */
static int no_target(const struct ayac_prog *prog, int err, const char *why)
{
	const char *hint = target_hint(prog);

	if (hint)
		return ayac_seterr(err, "%s; pass one: prog:attach%s", why, hint);
	return ayac_seterr(err, "%s", why);
}

/* Failures found here, before an attach function (which names its own target) runs. */
static struct ayac_link *sec_fail(const struct ayac_prog *prog)
{
	ayac_errctx("attach program '%s' (section '%s')", prog->name,
		    prog->sec_name ? prog->sec_name : "");
	return NULL;
}

static struct ayac_link *auto_tracepoint(struct ayac_prog *prog, char *target)
{
	char *slash = strchr(target, '/');

	if (!slash || slash == target || !slash[1]) {
		no_target(prog, EINVAL, "needs a target 'category/name' in the section name");
		return sec_fail(prog);
	}
	*slash = '\0';
	return ayac_attach_tracepoint(prog, target, slash + 1);
}

/* "func", "func+0x10": split and parse the offset (base 0: hex or decimal). */
static int split_offset(char *s, __u64 *offset)
{
	char *plus = strrchr(s, '+'), *end;
	unsigned long long v;

	*offset = 0;
	if (!plus)
		return 0;
	errno = 0;
	v = strtoull(plus + 1, &end, 0);
	if (!isdigit((unsigned char)plus[1]) || errno || *end)
		return ayac_seterr(EINVAL, "bad offset '%s'", plus + 1);
	*plus = '\0';
	*offset = v;
	return 0;
}

static struct ayac_link *auto_kprobe(struct ayac_prog *prog, char *target)
{
	struct ayac_kprobe_opts opts = { 0 };
	char func[512]; /* KSYM_NAME_LEN */

	opts.retprobe = prog->sec_def->flags & AYAC_SEC_RETPROBE;
	if (split_offset(target, &opts.offset) < 0)
		return sec_fail(prog);
	opts.func = target;
	/* ksyscall/NAME: the syscall's entry point, whose name depends on the arch. */
	if (!strncmp(prog->sec_name, "ksyscall/", 9) || !strncmp(prog->sec_name, "kretsyscall/", 12)) {
		if ((size_t)snprintf(func, sizeof(func), SYSCALL_PREFIX "%s", target) >= sizeof(func)) {
			ayac_seterr(ENAMETOOLONG, "syscall name too long");
			return sec_fail(prog);
		}
		opts.func = func;
	}
	return ayac_attach_kprobe(prog, &opts);
}

/* "path:symbol", "path:symbol+0x10", "path:0x1234" (a file offset). */
static struct ayac_link *auto_uprobe(struct ayac_prog *prog, char *target)
{
	struct ayac_uprobe_opts opts = { 0 };
	char *colon = strrchr(target, ':'), *end;

	if (!colon || colon == target || !colon[1]) {
		no_target(prog, EINVAL, "needs a target 'path:symbol' in the section name");
		return sec_fail(prog);
	}
	*colon = '\0';
	opts.path = target;
	opts.pid = -1;
	opts.retprobe = prog->sec_def->flags & AYAC_SEC_RETPROBE;
	errno = 0;
	opts.offset = strtoull(colon + 1, &end, 0);
	if (!isdigit((unsigned char)colon[1]) || errno || *end) {
		/* Not a number: a symbol, maybe with "+offset". */
		if (split_offset(colon + 1, &opts.offset) < 0)
			return sec_fail(prog);
		opts.symbol = colon + 1;
	}
	return ayac_attach_uprobe(prog, &opts);
}

static struct ayac_link *auto_dispatch(struct ayac_prog *prog, char *target)
{
	switch (prog->sec_def->attach_kind) {
	case AYAC_ATTACH_TRACEPOINT:
		return auto_tracepoint(prog, target);
	case AYAC_ATTACH_RAW_TP:
		return ayac_attach_raw_tp(prog, target);
	case AYAC_ATTACH_TRACING:
		if (prog->attach_type == BPF_TRACE_ITER) {
			ayac_seterr(EOPNOTSUPP, "iterator links are not supported yet");
			return sec_fail(prog);
		}
		if (prog->attach_type == BPF_LSM_CGROUP) {
			ayac_seterr(EOPNOTSUPP, "lsm_cgroup programs attach to a cgroup; "
				    "pass one: prog:attach{ cgroup=\"/sys/fs/cgroup/...\" }");
			return sec_fail(prog);
		}
		return ayac_attach_raw_tp(prog, NULL);
	case AYAC_ATTACH_KPROBE:
		return auto_kprobe(prog, target);
	case AYAC_ATTACH_UPROBE:
		return auto_uprobe(prog, target);
	default:
		no_target(prog, EOPNOTSUPP, "the section name holds no attach target");
		return sec_fail(prog);
	}
}

struct ayac_link *ayac_prog_attach_auto(struct ayac_prog *prog)
{
	char target[TARGET_MAX];
	const char *slash;
	enum ayac_attach_kind kind;

	if (!prog) {
		ayac_seterr(EINVAL, "attach: no program");
		return NULL;
	}
	if (!prog->sec_def) {
		no_target(prog, EOPNOTSUPP, "unknown section name");
		return sec_fail(prog);
	}
	kind = prog->sec_def->attach_kind;
	slash = prog->sec_name ? strchr(prog->sec_name, '/') : NULL;
	/* tp_btf/fentry/lsm find their target by BTF id; the others read it here. */
	if ((kind == AYAC_ATTACH_TRACEPOINT || kind == AYAC_ATTACH_RAW_TP ||
	     kind == AYAC_ATTACH_KPROBE || kind == AYAC_ATTACH_UPROBE) && (!slash || !slash[1])) {
		no_target(prog, EINVAL, "needs a target");
		return sec_fail(prog);
	}
	if (slash && strlen(slash + 1) >= sizeof(target)) {
		ayac_seterr(ENAMETOOLONG, "section name too long");
		return sec_fail(prog);
	}
	snprintf(target, sizeof(target), "%s", slash ? slash + 1 : "");
	return auto_dispatch(prog, target);
}
