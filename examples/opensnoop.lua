-- opensnoop: every openat() on the system, as it happens: pid, command, fd (or error),
-- path. One file: the BPF program is C inside this script, compiled by ayac.load_c
-- (cached after the first run).
--
--   ayac examples/opensnoop.lua [-p PID] [-n NAME] [seconds]
--
-- Events travel from the kernel through a BPF queue map that this loop drains ten
-- times a second.
local ayac = require "ayac"
local ffi = require "ffi"

ffi.cdef [[
int poll(void *fds, unsigned long nfds, int timeout);
int getpid(void);
]]

local pid_filter, name_filter, duration
local i = 1
while arg[i] do
	if arg[i] == "-p" then pid_filter = assert(tonumber(arg[i + 1]), "-p PID") i = i + 2
	elseif arg[i] == "-n" then name_filter = assert(arg[i + 1], "-n NAME") i = i + 2
	else duration = assert(tonumber(arg[i]), "usage: opensnoop.lua [-p PID] [-n NAME] [seconds]") i = i + 1
	end
end

local obj = assert(ayac.load_c([[
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

const volatile __u32 target_tgid = 0;   /* 0: every process */
const volatile __u32 self_tgid = 0;     /* this tool: not traced */

struct args {
	const char *fname;
	int flags;
};

struct event {
	__u32 pid;
	__u32 uid;
	int ret;
	int flags;
	char comm[16];
	char fname[256];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct args);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 10240);
	__type(value, struct event);
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int on_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct args a = {};

	if (tgid == self_tgid || (target_tgid && tgid != target_tgid))
		return 0;
	a.fname = (const char *)ctx->args[1];
	a.flags = (int)ctx->args[2];
	bpf_map_update_elem(&start, &tid, &a, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int on_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct args *a = bpf_map_lookup_elem(&start, &tid);
	struct event e = {};

	if (!a)
		return 0;
	e.pid = id >> 32;
	e.uid = (__u32)bpf_get_current_uid_gid();
	e.ret = (int)ctx->ret;
	e.flags = a->flags;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	bpf_probe_read_user_str(e.fname, sizeof(e.fname), a->fname);
	bpf_map_push_elem(&events, &e, BPF_EXIST); /* full: the oldest goes */
	bpf_map_delete_elem(&start, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
]], { globals = { target_tgid = pid_filter or 0, self_tgid = ffi.C.getpid() } }))

local links = {}
for _, prog in obj:programs() do
	links[#links + 1] = assert(prog:attach())
end

local events = obj:map("events")
io.stdout:write(("%-7s %-16s %4s %3s %s\n"):format("PID", "COMM", "FD", "ERR", "PATH"))
io.stdout:flush()

local function drain()
	while true do
		local e = events:pop()
		if not e then return end
		if not name_filter or e.comm:find(name_filter, 1, true) then
			local fd, err = e.ret, 0
			if fd < 0 then fd, err = -1, -e.ret end
			io.stdout:write(("%-7d %-16s %4d %3d %s\n"):format(e.pid, e.comm, fd, err, e.fname))
		end
	end
end

local left = duration and duration * 10
while not left or left > 0 do
	ffi.C.poll(nil, 0, 100)
	drain()
	io.stdout:flush()
	left = left and left - 1
end
drain()
for _, l in ipairs(links) do l:detach() end
obj:close()
