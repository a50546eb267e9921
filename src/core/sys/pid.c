/* This process's pid, cached. Links compare it with the pid that attached them (fork
 * safety), and asking the kernel on every attach would put a getpid() into the very
 * syscall streams that tracing programs count. A forked child forgets the cache through
 * pthread_atfork, so it never sees its parent's pid as its own. */
#include <pthread.h>
#include <unistd.h>

#include "sys.h"

static int pid_cache;
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;

static void pid_forget(void)
{
	__atomic_store_n(&pid_cache, 0, __ATOMIC_RELAXED);
}

static void pid_register(void)
{
	pthread_atfork(NULL, NULL, pid_forget);
}

int ayac_self_pid(void)
{
	int pid;

	pthread_once(&pid_once, pid_register);
	pid = __atomic_load_n(&pid_cache, __ATOMIC_RELAXED);
	if (!pid) {
		pid = (int)getpid();
		__atomic_store_n(&pid_cache, pid, __ATOMIC_RELAXED);
	}
	return pid;
}
