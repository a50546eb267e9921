/* attach: helpers shared by the attach mechanisms. */
#ifndef AYAC_ATTACH_H
#define AYAC_ATTACH_H

#include "model.h"

/* Attach prog to an open perf event: bpf_link when the kernel has it, ioctl otherwise. */
struct ayac_link *ayac_attach_perf_event(struct ayac_prog *prog, int perf_fd, const char *what,
					 __u64 cookie);
/* The same with a bare error message (the caller names the attach). */
struct ayac_link *ayac_perf_attach(struct ayac_prog *prog, int perf_fd, const char *what,
				   __u64 cookie);
/* ayac_attach_perf_event naming the target in error messages ("attach tracepoint
 * 'syscalls:sys_enter_getpid' for program 'x': ..."); target may be NULL. Both take
 * ownership of perf_fd (it ends in the link or is closed). */
struct ayac_link *ayac_attach_perf_event_to(struct ayac_prog *prog, int perf_fd,
					    const char *what, const char *target, __u64 cookie);
/* attach_perf.c: open a kprobe/uprobe PMU event (pmu "kprobe" or "uprobe"): target is
 * the function name or the file path, offset the probe offset, pid -1 for every
 * process, ref_ctr_off the USDT semaphore offset (uprobe only, 0: none). Returns the
 * perf fd (O_CLOEXEC) or a negative error with a bare message. */
int ayac_probe_perf_open(const char *pmu, bool retprobe, const char *target, __u64 offset,
			 int pid, __u64 ref_ctr_off);

/* uprobe.c: a path as uprobes take it: a name without '/' is searched in the library
 * path (names with ".so") or PATH. */
int ayac_uprobe_resolve_path(const char *path, char *out, size_t size);
/* tracepoint.c: the id of tracefs events/<category>/<name>, or a negative error. */
int ayac_tracepoint_id(const char *category, const char *name);
/* perf_event.c: the online CPUs (/sys/devices/system/cpu/online) into a new array. */
int ayac_online_cpus(int **cpus, size_t *n);

#endif
