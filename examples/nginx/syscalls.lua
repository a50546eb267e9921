-- The Lua half of examples/nginx/: syscalls of this nginx's own processes, counted and
-- timed by syscalls.bpf.c, served as Prometheus metrics. Phases (see nginx.conf):
--   init()         init_by_lua, the master: load and attach
--   init_worker()  every worker: register the worker (and the master) for tracing,
--                  worker 0 consumes the ring buffer of slow syscalls
--   metrics()      GET /metrics: map reads through the FFI fast path, no other syscall
--   events()       GET /events: the latest slow syscalls, from the shared dict
local ffi = require "ffi"
local an = require "ayac.nginx"
local prom = require "ayac.prometheus"

pcall(ffi.cdef, "int getppid(void);")

local M = {}

local NAME = "syscalls"
local KEEP = 100 -- slow syscalls kept for /events

function M.init()
	local obj, err = an.load(NAME, ngx.config.prefix() .. "syscalls.bpf.o", {
		globals = { slow_ns = 10 * 1000 * 1000 },
	})
	if not obj then
		-- Refusing the configuration is what a reload should do: the running
		-- generation keeps serving, the error log says why.
		error(err, 0)
	end
end

-- One record of the ring buffer, as text in the shared dict under its sequence number
-- (modulo KEEP): readers in any worker see the latest KEEP without taking them away.
local function on_slow(ev)
	local dict = ngx.shared.ayac_slow
	local seq = dict:incr("slow_total", 1, 0)
	dict:set("slow:" .. seq % KEEP, ("%d %d %d %d"):format(ev.tgid, ev.tid, tonumber(ev.nr),
		tonumber(ev.latency_ns)))
end

function M.init_worker()
	an.init_worker()
	local watched = an.map(NAME, "watched")
	-- The master's pid is only known after it daemonized, so workers register it.
	assert(watched:set(ngx.worker.pid(), 1))
	assert(watched:set(ffi.C.getppid(), 1))
	local ok, err = an.consume(NAME, "slow", on_slow, { type = "struct slow_event" })
	if ok == nil then
		ngx.log(ngx.ERR, err)
	end
end

function M.metrics()
	local syscalls = an.map(NAME, "syscalls")
	local sum = an.map(NAME, "latency_sum")[0]
	local dict = ngx.shared.ayac_slow
	ngx.print(assert(prom.counter(syscalls, {
		name = "nginx_syscalls_total",
		help = "Syscalls made by each nginx process (pid) since the configuration was loaded.",
		label = "pid",
	})))
	ngx.print(assert(prom.histogram(an.map(NAME, "latency"), {
		name = "nginx_syscall_duration_seconds",
		help = "Time from syscall entry to exit in the nginx processes.",
		unit = 1e-9,
		sum = sum,
		slots = 37, -- bounds up to 2^36 - 1 ns, about 69 s; longer ones count in +Inf
	})))
	ngx.print(assert(prom.counter({ dict:get("slow_total") or 0 }, {
		name = "nginx_slow_syscalls_total",
		help = "Syscalls slower than 10 ms, received through the ring buffer.",
		label = false,
	})))
	ngx.print(assert(prom.counter({ an.get(NAME):global("slow_lost") or 0 }, {
		name = "nginx_slow_syscalls_lost_total",
		help = "Slow syscalls the BPF program could not report (ring buffer full).",
		label = false,
	})))
end

function M.events()
	local dict = ngx.shared.ayac_slow
	local total = dict:get("slow_total") or 0
	ngx.say("# tgid tid syscall_nr latency_ns: the latest of ", total, " slow syscalls")
	for seq = math.max(1, total - KEEP + 1), total do
		local line = dict:get("slow:" .. seq % KEEP)
		if line then ngx.say(line) end
	end
end

return M
