-- tcpconnect: every TCP connection this machine opens (the SYN it sends): process,
-- addresses, port. One file: the BPF program is C inside this script (ayac.load_c).
-- It follows the sock:inet_sock_set_state tracepoint into TCP_SYN_SENT, so it needs
-- no kprobe.
--
--   ayac examples/tcpconnect.lua [-p PID] [seconds]
local ayac = require "ayac"
local ffi = require "ffi"

ffi.cdef "int poll(void *fds, unsigned long nfds, int timeout);"

local pid, duration = 0, nil
local i = 1
while arg[i] do
	if arg[i] == "-p" then pid = assert(tonumber(arg[i + 1]), "-p PID") i = i + 2
	else duration = assert(tonumber(arg[i]), "usage: tcpconnect.lua [-p PID] [seconds]") i = i + 1
	end
end

local obj = assert(ayac.load_c([[
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define AF_INET 2
#define AF_INET6 10

const volatile __u32 target_tgid = 0; /* 0: every process */

struct event {
	__u32 pid;
	__u32 uid;
	__u16 family;
	__u16 sport;
	__u16 dport;
	char comm[16];
	__u8 saddr[16];
	__u8 daddr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 4096);
	__type(value, struct event);
} events SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int on_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct event e = {};

	if (ctx->protocol != IPPROTO_TCP || ctx->newstate != TCP_SYN_SENT)
		return 0;
	e.pid = bpf_get_current_pid_tgid() >> 32;
	if (target_tgid && e.pid != target_tgid)
		return 0;
	e.uid = (__u32)bpf_get_current_uid_gid();
	e.family = ctx->family;
	e.sport = ctx->sport;
	e.dport = ctx->dport;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	/* Arrays of the context through a helper: the verifier refuses loads from a
	 * context pointer moved by a CO-RE offset. */
	if (e.family == AF_INET) {
		bpf_probe_read_kernel(e.saddr, 4, ctx->saddr);
		bpf_probe_read_kernel(e.daddr, 4, ctx->daddr);
	} else {
		bpf_probe_read_kernel(e.saddr, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(e.daddr, 16, ctx->daddr_v6);
	}
	bpf_map_push_elem(&events, &e, BPF_EXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
]], { globals = { target_tgid = pid } }))

local link = assert(obj:program("on_state"):attach())
local events = obj:map("events")
io.stdout:write(("%-7s %-16s %-2s %-39s %-39s %5s\n"):format("PID", "COMM", "IP", "SADDR",
	"DADDR", "DPORT"))
io.stdout:flush()

-- __u8 arrays come as byte strings (as char arrays do).
local function bytes(b)
	if type(b) == "string" then return { b:byte(1, -1) } end
	return b
end

local function ipv4(b)
	b = bytes(b)
	return ("%d.%d.%d.%d"):format(b[1], b[2], b[3], b[4])
end

-- RFC 5952: lower-case hex groups, the longest run of zero groups as "::".
local function ipv6(b)
	b = bytes(b)
	local g = {}
	for k = 1, 8 do g[k] = b[2 * k - 1] * 256 + b[2 * k] end
	local best, best_len, run, run_len = nil, 1, nil, 0
	for k = 1, 8 do
		if g[k] == 0 then
			run, run_len = run or k, run_len + 1
			if run_len > best_len then best, best_len = run, run_len end
		else
			run, run_len = nil, 0
		end
	end
	local parts = {}
	local k = 1
	while k <= 8 do
		if k == best then
			parts[#parts + 1] = (k == 1 and ":" or "")
			k = k + best_len
			if k > 8 then parts[#parts + 1] = "" end
		else
			parts[#parts + 1] = ("%x"):format(g[k])
			k = k + 1
		end
	end
	return table.concat(parts, ":")
end

local function drain()
	while true do
		local e = events:pop()
		if not e then return end
		local v4 = e.family == 2
		local fmt = v4 and ipv4 or ipv6
		io.stdout:write(("%-7d %-16s %-2d %-39s %-39s %5d\n"):format(e.pid, e.comm,
			v4 and 4 or 6, fmt(e.saddr), fmt(e.daddr), e.dport))
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
link:detach()
obj:close()
