/* The fuzz targets' shared helpers (fuzz.h): the no-kernel guard and input splitting. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <ayac/ayac.h>
#include "fuzz.h"

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	static const char msg[] = "fuzz: a parser made a kernel call (bpf or perf_event_open); "
				  "parsing must not reach the kernel\n";

	(void)sig;
	(void)si;
	(void)uc;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to say */
	}
	abort();
}

void fuzz_forbid_kernel(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_bpf, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_perf_event_open, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0)) {
		perror("fuzz: install the no-kernel guard");
		exit(2);
	}
	/* spec/fuzz_spec.lua checks that the guard bites */
	if (getenv("AYAC_FUZZ_GUARD_SELFTEST"))
		syscall(__NR_bpf, 0, NULL, 0);
}

bool fuzz_take(const uint8_t **data, size_t *size, const uint8_t **part, size_t *part_size)
{
	uint32_t n;

	if (*size < sizeof(n))
		return false;
	memcpy(&n, *data, sizeof(n));
	*data += sizeof(n);
	*size -= sizeof(n);
	if (n > *size)
		n = (uint32_t)*size;
	*part = *data;
	*part_size = n;
	*data += n;
	*size -= n;
	return true;
}

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz: invariant broken: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void fuzz_check_error(const char *what)
{
	const char *msg = ayac_errmsg();

	if (ayac_errnum() == 0 || !msg || !*msg)
		fuzz_fail("%s failed without an error number and message (errnum %d)", what,
			  ayac_errnum());
}
