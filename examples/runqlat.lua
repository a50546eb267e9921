-- runqlat: how long tasks wait on a CPU's run queue between being woken and running,
-- as a histogram of microseconds (bpftrace's runqlat.bt). One file: the BPF program is
-- C inside this script (ayac.load_c), the buckets are <ayac/hist.bpf.h>'s, printed by
-- ayac.hist in bpftrace's layout.
--
--   ayac examples/runqlat.lua [-p PID] [-i SECONDS] [seconds]
local ayac = require "ayac"
local ffi = require "ffi"

ffi.cdef "int poll(void *fds, unsigned long nfds, int timeout);"

local pid, interval, duration = 0, nil, nil
local i = 1
while arg[i] do
	local a, v = arg[i], arg[i + 1]
	if a == "-p" then pid = assert(tonumber(v), "-p PID") i = i + 2
	elseif a == "-i" then interval = assert(tonumber(v), "-i SECONDS") i = i + 2
	else duration = assert(tonumber(a), "usage: runqlat.lua [-p PID] [-i SECONDS] [seconds]") i = i + 1
	end
end

local obj = assert(ayac.load_c([[
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <ayac/hist.bpf.h>

#define TASK_RUNNING 0

const volatile __u32 target_tgid = 0; /* 0: every task */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);    /* pid (thread id) */
	__type(value, __u64);  /* when it was queued, ns */
} queued SEC(".maps");

AYAC_HIST(usecs);

static __always_inline int enqueue(__u32 pid)
{
	__u64 now = bpf_ktime_get_ns();

	if (pid)
		bpf_map_update_elem(&queued, &pid, &now, BPF_ANY);
	return 0;
}

SEC("tracepoint/sched/sched_wakeup")
int on_wakeup(struct trace_event_raw_sched_wakeup_template *ctx)
{
	return enqueue(ctx->pid);
}

SEC("tracepoint/sched/sched_wakeup_new")
int on_wakeup_new(struct trace_event_raw_sched_wakeup_template *ctx)
{
	return enqueue(ctx->pid);
}

SEC("tracepoint/sched/sched_switch")
int on_switch(struct trace_event_raw_sched_switch *ctx)
{
	__u32 next = ctx->next_pid;
	__u64 *ts;

	if (ctx->prev_state == TASK_RUNNING) /* preempted: back on the queue */
		enqueue(ctx->prev_pid);
	ts = bpf_map_lookup_elem(&queued, &next);
	if (!ts)
		return 0;
	if (!target_tgid || (bpf_get_current_pid_tgid() >> 32) == target_tgid)
		usecs_add((bpf_ktime_get_ns() - *ts) / 1000);
	bpf_map_delete_elem(&queued, &next);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
]], { globals = { target_tgid = pid } }))

local links = {}
for _, prog in obj:programs() do
	links[#links + 1] = assert(prog:attach())
end
io.stdout:write("Tracing CPU run queue latency", pid ~= 0 and (" of pid " .. pid) or "",
	"... Ctrl-C to end.\n")
io.stdout:flush()

local hist = obj:map("usecs")
local function report()
	io.stdout:write("\n", os.date("[%H:%M:%S]"), "\n@usecs: \n", ayac.hist(hist), "\n")
	io.stdout:flush()
	for slot = 0, hist.max_entries - 1 do hist[slot] = 0 end
end

local left = duration
while not left or left > 0 do
	local step = math.min(interval or left or 1, left or interval or 1)
	ffi.C.poll(nil, 0, math.floor(step * 1000))
	left = left and left - step
	if interval then report() end
end
if not interval then report() end
for _, l in ipairs(links) do l:detach() end
obj:close()
