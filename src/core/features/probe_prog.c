/* Probes that load programs: is a program type there, and can programs of a type call
 * a helper. The method is bpftool's (feature.c, libbpf_probes.c): load a minimal
 * program and read the answer, and for helpers the verifier's log. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "probe_priv.h"

static inline __u64 ptr_to_u64(const void *p)
{
	return (__u64)(unsigned long)p;
}

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), \
						  .off = (o), .imm = (i) })

/* LINUX_VERSION_CODE of the running kernel: kprobe programs had to carry it (< 5.0). */
static __u32 kernel_version(void)
{
	struct utsname u;
	unsigned a = 0, b = 0, c = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u.%u", &a, &b, &c) < 2)
		return 0;
	return (a << 16) | (b << 8) | (c > 255 ? 255 : c);
}

int probe_prog_load(const struct probe_prog *p, char *log, size_t log_size)
{
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = p->type;
	attr.expected_attach_type = p->expected_attach_type;
	attr.attach_btf_id = p->attach_btf_id;
	attr.prog_flags = p->prog_flags;
	attr.kern_version = p->kern_version;
	attr.insns = ptr_to_u64(p->insns);
	attr.insn_cnt = p->insn_cnt;
	attr.license = ptr_to_u64("GPL");
	if (p->name)
		strncpy(attr.prog_name, p->name, sizeof(attr.prog_name) - 1);
	if (log && log_size) {
		log[0] = '\0';
		attr.log_level = 1;
		attr.log_buf = ptr_to_u64(log);
		attr.log_size = (__u32)log_size;
	}
	fd = sys_bpf_fd(BPF_PROG_LOAD, &attr, sizeof(attr));
	/* Kernels before 6.4 fail even a good load whose log did not fit: the verdict is
	 * then the one given without a log (the text so far stays in log). */
	if (fd == -ENOSPC && attr.log_level) {
		attr.log_level = 0;
		attr.log_buf = 0;
		attr.log_size = 0;
		fd = sys_bpf_fd(BPF_PROG_LOAD, &attr, sizeof(attr));
	}
	return fd;
}

void probe_prog_setup(struct probe_prog *p, enum bpf_prog_type type)
{
	memset(p, 0, sizeof(*p));
	p->type = type;
	switch ((int)type) {
	case BPF_PROG_TYPE_KPROBE:
		p->kern_version = kernel_version();
		break;
	case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
		p->expected_attach_type = BPF_CGROUP_INET4_CONNECT;
		break;
	case BPF_PROG_TYPE_CGROUP_SOCKOPT:
		p->expected_attach_type = BPF_CGROUP_GETSOCKOPT;
		break;
	case BPF_PROG_TYPE_SK_LOOKUP:
		p->expected_attach_type = BPF_SK_LOOKUP;
		break;
	case BPF_PROG_TYPE_LIRC_MODE2:
		p->expected_attach_type = BPF_LIRC_MODE2;
		break;
	case BPF_PROG_TYPE_SYSCALL:
		p->prog_flags = BPF_F_SLEEPABLE;
		break;
	case PROBE_PROG_TYPE_NETFILTER:
		p->expected_attach_type = PROBE_ATTACH_NETFILTER;
		break;
	/* These load only against a target. BTF id 1 of vmlinux is never a function or
	 * a tracepoint typedef, so the verifier refuses them with a telling message. The
	 * tp_btf flavour of tracing is used (bpftool uses fentry, which some kernels
	 * refuse with EPERM before looking at the target). */
	case BPF_PROG_TYPE_TRACING:
		p->expected_attach_type = BPF_TRACE_RAW_TP;
		p->attach_btf_id = 1;
		break;
	case BPF_PROG_TYPE_LSM:
		p->expected_attach_type = BPF_LSM_MAC;
		p->attach_btf_id = 1;
		break;
	case BPF_PROG_TYPE_EXT:
		p->attach_btf_id = 1;
		break;
	default:
		break;
	}
}

int probe_result(int fd, const char *log)
{
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	switch (-fd) {
	case EINVAL:
	case E2BIG:
	case EOPNOTSUPP:
	case ENOTSUPP:
		return 0;
	case EACCES:
		/* The verifier looked at the program and said no. */
		return log && log[0] ? 0 : fd;
	default:
		return fd;
	}
}

int probe_trivial_prog(enum bpf_prog_type type, __u32 expected_attach_type)
{
	const struct bpf_insn insns[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	struct probe_prog p;

	probe_prog_setup(&p, type);
	if (expected_attach_type)
		p.expected_attach_type = expected_attach_type;
	p.insns = insns;
	p.insn_cnt = 2;
	return probe_prog_load(&p, NULL, 0);
}

/* What the kernel says when a type that needs a target exists: the error and a piece
 * of the verifier's message (NULL: any message). */
static bool expected_refusal(enum bpf_prog_type type, int *err, const char **msg)
{
	switch (type) {
	case BPF_PROG_TYPE_TRACING:
	case BPF_PROG_TYPE_LSM:
		*err = -EINVAL;
		*msg = "attach_btf_id 1 is not a";
		return true;
	case BPF_PROG_TYPE_EXT:
		*err = -EINVAL;
		*msg = "Cannot replace kernel functions";
		return true;
	case BPF_PROG_TYPE_STRUCT_OPS:
		*err = -ENOTSUPP;
		*msg = NULL;
		return true;
	default:
		return false;
	}
}

int probe_prog_type(enum bpf_prog_type type)
{
	const struct bpf_insn insns[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	struct probe_prog p;
	const char *msg;
	char log[1024];
	int fd, err;

	if (type == BPF_PROG_TYPE_UNSPEC)
		return 0;
	probe_prog_setup(&p, type);
	p.insns = insns;
	p.insn_cnt = 2;
	if (!expected_refusal(type, &err, &msg))
		return probe_result(probe_prog_load(&p, NULL, 0), NULL);
	fd = probe_prog_load(&p, log, sizeof(log));
	if (fd >= 0 || (fd == err && (!msg || strstr(log, msg)))) {
		if (fd >= 0)
			close(fd);
		return 1;
	}
	return probe_result(fd, log);
}

/* The helper probe: `call id; r0 = r6; exit`. The read of r6 (never written) makes
 * every load fail after the verifier has looked at the call, so nothing is JIT-ed or
 * kept, and the answer is in the log: "invalid func" (no such helper at all),
 * "unknown func" or "program of this type cannot use helper" (not for this type; the
 * second is newer kernels' wording, which bpftool 7.1 does not know). Any other
 * verdict means the verifier accepted the call itself, as bpftool counts it. */
int probe_helper(enum bpf_prog_type type, int helper_id, int *why)
{
	const struct bpf_insn insns[] = {
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, helper_id),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_0, BPF_REG_6, 0, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	struct probe_prog p;
	char log[4096];
	int fd;

	switch (type) {
	case BPF_PROG_TYPE_TRACING:
	case BPF_PROG_TYPE_EXT:
	case BPF_PROG_TYPE_LSM:
	case BPF_PROG_TYPE_STRUCT_OPS:
		*why = PROBE_HELPER_UNPROBED;
		return -EOPNOTSUPP;
	default:
		break;
	}
	probe_prog_setup(&p, type);
	p.insns = insns;
	p.insn_cnt = 3;
	fd = probe_prog_load(&p, log, sizeof(log));
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (strstr(log, "invalid func ")) {
		*why = PROBE_HELPER_NO_ID;
		return 0;
	}
	if (strstr(log, "unknown func ") || strstr(log, "program of this type cannot use helper ")) {
		*why = PROBE_HELPER_NOT_TYPE;
		return 0;
	}
	if (log[0])
		return 1;
	*why = PROBE_HELPER_FAILED;
	return fd;
}
