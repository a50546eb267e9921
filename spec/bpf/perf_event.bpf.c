// SPDX-License-Identifier: GPL-2.0
/* Programs for spec/perf_event_spec.lua. on_sample counts the samples of the process
 * whose tgid is in target_tgid, and per CPU; for each of them it also keeps what the
 * event's counter (bpf_perf_prog_read_value) and the thread's minor-fault count
 * (task->min_flt) read at the first and at the last sample, so the spec can check that
 * every event of a period-1 event ran the program exactly once. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

enum {
	SLOT_SAMPLES = 0,      /* samples of the target */
	SLOT_FIRST_VALUE = 1,  /* counter at the first sample */
	SLOT_LAST_VALUE = 2,   /* counter at the last sample */
	SLOT_FIRST_FLT = 3,    /* task->min_flt at the first sample */
	SLOT_LAST_FLT = 4,     /* task->min_flt at the last sample */
	SLOT_READ_ERRORS = 5,  /* bpf_perf_prog_read_value failures */
	SLOT_CPU0 = 8,         /* samples per CPU: slot 8 + cpu */
	NR_SLOTS = 8 + 64,
};

#include "counts.h"

static __always_inline void set(__u32 slot, __u64 v)
{
	bpf_map_update_elem(&counts, &slot, &v, BPF_ANY);
}

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	struct bpf_perf_event_value v = {};
	struct task_struct *task;
	__u32 slot = SLOT_SAMPLES, cpu;
	__u64 *n, flt;

	if (!is_target())
		return 0;
	n = bpf_map_lookup_elem(&counts, &slot);
	if (!n)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	flt = BPF_CORE_READ(task, min_flt);
	if (bpf_perf_prog_read_value(ctx, &v, sizeof(v)))
		add(SLOT_READ_ERRORS, 1);
	if (*n == 0) {
		set(SLOT_FIRST_VALUE, v.counter);
		set(SLOT_FIRST_FLT, flt);
	}
	set(SLOT_LAST_VALUE, v.counter);
	set(SLOT_LAST_FLT, flt);
	__sync_fetch_and_add(n, 1);
	cpu = bpf_get_smp_processor_id();
	if (cpu < 64)
		add(SLOT_CPU0 + cpu, 1);
	return 0;
}
