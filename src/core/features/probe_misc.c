/* Loader features: what a program or map may use (names, global data, mmap-able
 * arrays, helpers the loader rewrites or needs), and two sysctls. Probes follow
 * libbpf's features.c and bpftool's feature.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe_priv.h"

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), \
						  .off = (o), .imm = (i) })
#define EXIT INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define MOV_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)

/* BPF_FUNC_* ids newer than some kernels (their values never change). */
#define FUNC_PROBE_READ_KERNEL 113
#define FUNC_KTIME_GET_COARSE_NS 160
#define FUNC_GET_ATTACH_COOKIE 174
#define FUNC_LOOP 181

static int load_insns(enum bpf_prog_type type, const struct bpf_insn *insns, __u32 cnt,
		      const char *name)
{
	struct probe_prog p;
	char log[1024];

	probe_prog_setup(&p, type);
	p.insns = insns;
	p.insn_cnt = cnt;
	p.name = name;
	return probe_result(probe_prog_load(&p, log, sizeof(log)), log);
}

static int probe_prog_name(void)
{
	const struct bpf_insn insns[] = { MOV_IMM(BPF_REG_0, 0), EXIT };

	return load_insns(BPF_PROG_TYPE_SOCKET_FILTER, insns, 2, "ayac_probe");
}

/* A store through BPF_PSEUDO_MAP_VALUE (ld_imm64 of an address inside a map value). */
static int probe_global_data(void)
{
	struct bpf_insn insns[] = {
		INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_VALUE, 0, -1),
		INSN(0, 0, 0, 0, 0), /* offset 0 in the value */
		INSN(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_1, 0, 0, 42),
		MOV_IMM(BPF_REG_0, 0),
		EXIT,
	};
	int map_fd = probe_map_create(BPF_MAP_TYPE_ARRAY, 4, 32, 1, 0), res;

	if (map_fd < 0)
		return probe_result(map_fd, NULL);
	insns[0].imm = map_fd;
	res = load_insns(BPF_PROG_TYPE_SOCKET_FILTER, insns, 5, NULL);
	close(map_fd);
	return res;
}

/* bpf_probe_read_kernel(fp - 8, 8, NULL) from a tracepoint program, as libbpf does. */
static int probe_read_kernel(void)
{
	const struct bpf_insn insns[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, -8),
		MOV_IMM(BPF_REG_2, 8),
		MOV_IMM(BPF_REG_3, 0),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, FUNC_PROBE_READ_KERNEL),
		EXIT,
	};

	return load_insns(BPF_PROG_TYPE_TRACEPOINT, insns, 6, NULL);
}

/* A loop the verifier must walk ten times: refused as a back-edge before Linux 5.3. */
static int probe_bounded_loops(void)
{
	const struct bpf_insn insns[] = {
		MOV_IMM(BPF_REG_0, 10),
		INSN(BPF_ALU64 | BPF_SUB | BPF_K, BPF_REG_0, 0, 0, 1),
		INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, -2, 0),
		EXIT,
	};

	return load_insns(BPF_PROG_TYPE_SOCKET_FILTER, insns, 4, NULL);
}

/* libbpf's test: bpf_ktime_get_coarse_ns came in the same release (5.11) as memcg-based
 * accounting of BPF memory, after which RLIMIT_MEMLOCK no longer applies. */
static int probe_memcg_account(void)
{
	const struct bpf_insn insns[] = {
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, FUNC_KTIME_GET_COARSE_NS),
		EXIT,
	};

	return load_insns(BPF_PROG_TYPE_SOCKET_FILTER, insns, 2, NULL);
}

/* A sysctl holding an integer: its value, or -errno. */
static int read_sysctl(const char *path, long *value)
{
	char buf[32], *end;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	*value = strtol(buf, &end, 10);
	return end == buf ? -EIO : 0;
}

static int probe_jit(void)
{
	long v;
	int err = read_sysctl("/proc/sys/net/core/bpf_jit_enable", &v);

	if (err == -ENOENT) /* no JIT built in */
		return 0;
	return err < 0 ? err : v != 0;
}

static int probe_unpriv(void)
{
	long v;
	int err = read_sysctl("/proc/sys/kernel/unprivileged_bpf_disabled", &v);

	return err < 0 ? err : v == 0;
}

int probe_misc_feature(enum ayac_feature f)
{
	switch (f) {
	case AYAC_FEAT_PROG_NAME: return probe_prog_name();
	case AYAC_FEAT_GLOBAL_DATA: return probe_global_data();
	case AYAC_FEAT_ARRAY_MMAP:
		return probe_result(probe_map_create(BPF_MAP_TYPE_ARRAY, 4, 4, 1, BPF_F_MMAPABLE), NULL);
	case AYAC_FEAT_PROBE_READ_KERNEL: return probe_read_kernel();
	case AYAC_FEAT_BPF_COOKIE:
		return ayac_feature_helper(BPF_PROG_TYPE_TRACEPOINT, FUNC_GET_ATTACH_COOKIE);
	case AYAC_FEAT_BOUNDED_LOOPS: return probe_bounded_loops();
	case AYAC_FEAT_BPF_LOOP: return ayac_feature_helper(BPF_PROG_TYPE_SOCKET_FILTER, FUNC_LOOP);
	case AYAC_FEAT_RINGBUF: return ayac_feature_map_type(BPF_MAP_TYPE_RINGBUF);
	case AYAC_FEAT_MEMCG_ACCOUNT: return probe_memcg_account();
	/* struct bpf_cpumap_val / bpf_devmap_val with a program fd: 8-byte values. */
	case AYAC_FEAT_CPUMAP_PROG_ID:
		return probe_result(probe_map_create(BPF_MAP_TYPE_CPUMAP, 4, 8, 1, 0), NULL);
	case AYAC_FEAT_DEVMAP_PROG_ID:
		return probe_result(probe_map_create(BPF_MAP_TYPE_DEVMAP, 4, 8, 1, 0), NULL);
	case AYAC_FEAT_JIT: return probe_jit();
	case AYAC_FEAT_UNPRIV_BPF: return probe_unpriv();
	case AYAC_FEAT_MAP_BATCH: return probe_map_batch();
	default: return -EINVAL;
	}
}
