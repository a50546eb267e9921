/* Reading kernel memory, for the facts the kernel keeps only in memory (its system call
 * table). A BPF_PROG_TYPE_SYSCALL program (5.14+; sleepable, run by BPF_PROG_TEST_RUN;
 * its context is memory we pass in and get back) copies with bpf_probe_read_kernel (or
 * the _str variant) to its stack, and from there into its context:
 *
 *   struct ctx { u64 src; u32 len; u32 str; s64 ret; u8 buf[KMEM_CHUNK]; }
 *
 * (helpers may not write into a context directly). Built from instructions here, so it
 * needs no compiler and no object file. Root (CAP_BPF + CAP_PERFMON) only, like
 * reading /proc/kcore. */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "syms.h"

#define KMEM_CHUNK 256 /* bytes per run: a stack buffer (the stack is 512 bytes) */
#define BUF_OFF 24
#define WORDS (KMEM_CHUNK / 8)
#define MAX_INSNS (24 + 3 * WORDS)

struct kmem_ctx {
	__u64 src;
	__u32 len;
	__u32 str;
	__s64 ret;
	__u8 buf[KMEM_CHUNK];
};

_Static_assert(offsetof(struct kmem_ctx, buf) == BUF_OFF, "kmem ctx layout");

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

enum { MODE_READ, MODE_READ_STR, MODE_TASK };

/* r6 = ctx; mode MODE_TASK: ctx->ret = bpf_get_current_task(). Otherwise zero the stack
 * buffer; bail out (r0 = 1) when len > KMEM_CHUNK; call the helper (dst = stack, size =
 * len, src); ctx->ret = r0; copy the buffer into ctx->buf. */
static size_t build_prog(struct bpf_insn *p)
{
	size_t n = 0, i, jtask, jgt, jdone;

	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0);
	p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_6, 12, 0);      /* r4 = mode */
	jtask = n++;
	for (i = 0; i < WORDS; i++)
		p[n++] = INSN(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, (short)(-KMEM_CHUNK + 8 * i), 0);
	p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_6, 8, 0);       /* r2 = len */
	jgt = n++;
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_10, 0, 0);
	p[n++] = INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, -KMEM_CHUNK);   /* r1 = stack */
	p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_3, BPF_REG_6, 0, 0);      /* r3 = src */
	p[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 2, MODE_READ);
	p[n++] = INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_probe_read_kernel);
	p[n++] = INSN(BPF_JMP | BPF_JA, 0, 0, 1, 0);
	p[n++] = INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_probe_read_kernel_str);
	p[n++] = INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_6, BPF_REG_0, 16, 0);     /* ret = r0 */
	for (i = 0; i < WORDS; i++) {
		p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_10, (short)(-KMEM_CHUNK + 8 * i), 0);
		p[n++] = INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_6, BPF_REG_1, (short)(BUF_OFF + 8 * i), 0);
	}
	jdone = n++;
	/* task: */
	p[jtask] = INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_4, 0, (short)(n - jtask - 1), MODE_TASK);
	p[n++] = INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_current_task);
	p[n++] = INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_6, BPF_REG_0, 16, 0);
	/* done: */
	p[jdone] = INSN(BPF_JMP | BPF_JA, 0, 0, (short)(n - jdone - 1), 0);
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	/* out: */
	p[jgt] = INSN(BPF_JMP | BPF_JGT | BPF_K, BPF_REG_2, 0, (short)(n - jgt - 1), KMEM_CHUNK);
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
	p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return n;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int prog_fd = -1;
static int load_err;

static int load_prog(void)
{
	static char log[16384];
	struct bpf_insn insns[MAX_INSNS];
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SYSCALL;
	attr.insn_cnt = (__u32)build_prog(insns);
	attr.insns = (__u64)(unsigned long)insns;
	attr.license = (__u64)(unsigned long)"GPL";
	attr.prog_flags = BPF_F_SLEEPABLE;
	attr.log_buf = (__u64)(unsigned long)log;
	attr.log_size = sizeof(log);
	attr.log_level = 1;
	memcpy(attr.prog_name, "ayac_kmem", sizeof("ayac_kmem"));
	log[0] = '\0';
	fd = sys_bpf_fd(BPF_PROG_LOAD, &attr, sizeof(attr));
	if (fd < 0) {
		ayac_seterr(-fd, "load the kernel memory reader (BPF_PROG_TYPE_SYSCALL, needs "
			    "Linux 5.14+ and CAP_BPF + CAP_PERFMON)");
		if (log[0])
			ayac_errappend(log);
	}
	return fd;
}

/* One run of the program; ctx->ret is returned in *ret. */
static int run(__u32 mode, __u64 addr, void *buf, size_t len, __s64 *ret)
{
	static struct kmem_ctx ctx;
	union bpf_attr attr;
	int err;

	memset(&ctx, 0, offsetof(struct kmem_ctx, buf));
	ctx.src = addr;
	ctx.len = (__u32)len;
	ctx.str = mode;
	memset(&attr, 0, sizeof(attr));
	attr.test.prog_fd = (__u32)prog_fd;
	attr.test.ctx_in = (__u64)(unsigned long)&ctx;
	attr.test.ctx_size_in = sizeof(ctx); /* the program writes every word of buf */
	if ((err = sys_bpf(BPF_PROG_TEST_RUN, &attr, sizeof(attr))) < 0)
		return ayac_seterr(-err, "run the kernel memory reader");
	if (attr.test.retval != 0 || (mode != MODE_TASK && ctx.ret < 0))
		return ayac_seterr(attr.test.retval ? EINVAL : (int)-ctx.ret,
				   "read %zu bytes of kernel memory at 0x%llx", len,
				   (unsigned long long)addr);
	if (buf)
		memcpy(buf, ctx.buf, len);
	*ret = ctx.ret;
	return 0;
}

/* Load the program once; a refusal is remembered (and reported again) rather than
 * retried on every call. Under the lock. */
static int ready(void)
{
	if (prog_fd >= 0)
		return 0;
	if (!load_err) {
		prog_fd = load_prog();
		if (prog_fd >= 0)
			return 0;
		load_err = prog_fd;
		return load_err;
	}
	return ayac_seterr(-load_err, "the kernel memory reader (BPF_PROG_TYPE_SYSCALL) could "
			   "not be loaded");
}

int ayac_kmem_read(__u64 addr, void *buf, size_t len, bool str)
{
	size_t done = 0;
	__s64 ret;
	int err;

	pthread_mutex_lock(&lock);
	err = ready();
	while (!err && done < len) {
		size_t n = len - done < KMEM_CHUNK ? len - done : KMEM_CHUNK;

		err = run(str ? MODE_READ_STR : MODE_READ, addr + done, (char *)buf + done, n, &ret);
		if (str) /* one string: its first chunk */
			break;
		done += n;
	}
	pthread_mutex_unlock(&lock);
	return err;
}

int ayac_kmem_current_task(__u64 *task)
{
	__s64 ret = 0;
	int err;

	pthread_mutex_lock(&lock);
	err = ready();
	if (!err)
		err = run(MODE_TASK, 0, NULL, 0, &ret);
	pthread_mutex_unlock(&lock);
	*task = (__u64)ret;
	return err;
}
