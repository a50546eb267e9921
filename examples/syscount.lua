-- syscount: the system calls made most, by name, refreshed every interval. One file:
-- the BPF program is C inside this script (ayac.load_c). Names come from the running
-- kernel's own syscall table (ayac.syscall_name).
--
--   ayac examples/syscount.lua [-p PID] [-i SECONDS] [-t TOP] [seconds]
local ayac = require "ayac"
local ffi = require "ffi"

ffi.cdef "int poll(void *fds, unsigned long nfds, int timeout);"

local pid, interval, top, duration = 0, 1, 10, nil
local i = 1
while arg[i] do
	local a, v = arg[i], arg[i + 1]
	if a == "-p" then pid = assert(tonumber(v), "-p PID") i = i + 2
	elseif a == "-i" then interval = assert(tonumber(v), "-i SECONDS") i = i + 2
	elseif a == "-t" then top = assert(tonumber(v), "-t TOP") i = i + 2
	else duration = assert(tonumber(a), "usage: syscount.lua [-p PID] [-i SECONDS] [-t TOP] [seconds]") i = i + 1
	end
end

local obj = assert(ayac.load_c([[
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

const volatile __u32 target_tgid = 0; /* 0: every process */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);    /* syscall number */
	__type(value, __u64);  /* calls */
} counts SEC(".maps");

SEC("tracepoint/raw_syscalls/sys_enter")
int on_sys_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u32 nr = (__u32)ctx->id;
	__u64 one = 1, *n;

	if (target_tgid && (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	n = bpf_map_lookup_elem(&counts, &nr);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&counts, &nr, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
]], { globals = { target_tgid = pid } }))

local link = assert(obj:program("on_sys_enter"):attach())
local counts = obj:map("counts")
io.stdout:write("Tracing syscalls", pid ~= 0 and (" of pid " .. pid) or "", ", printing the top ",
	top, " every ", interval, "s... Ctrl-C to end.\n")
io.stdout:flush()

local function report()
	local rows = {}
	for nr, n in counts:pairs() do
		rows[#rows + 1] = { name = ayac.syscall_name(nr) or ("[" .. nr .. "]"), n = n }
	end
	counts:clear()
	table.sort(rows, function(a, b) return a.n > b.n or a.n == b.n and a.name < b.name end)
	io.stdout:write(os.date("[%H:%M:%S]"), "\n", ("%-22s %10s\n"):format("SYSCALL", "COUNT"))
	for k = 1, math.min(top, #rows) do
		io.stdout:write(("%-22s %10d\n"):format(rows[k].name, rows[k].n))
	end
	io.stdout:write("\n")
	io.stdout:flush()
end

local left = duration
while not left or left > 0 do
	local step = left and math.min(interval, left) or interval
	ffi.C.poll(nil, 0, math.floor(step * 1000))
	report()
	left = left and left - step
end
link:detach()
obj:close()
