-- Privileges: ayac.capabilities(), and EPERM messages that name the capabilities and
-- docs/embedding.md. Children run under setpriv with less than the spec's root: none
-- at all (uid nobody), only CAP_BPF + CAP_PERFMON (uid 0 with a reduced bounding set,
-- and uid nobody with ambient capabilities), only CAP_BPF.
local h = require "helpers"

local probes = h.bpf("attach_probes")
local xdp = h.root .. "/examples/xdp_count.bpf.o"
local child = h.root .. "/spec/support/caps_child.lua"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local PRIVS = {
	none = "--reuid=65534 --regid=65534 --clear-groups",
	bpf_perfmon = "--inh-caps=-all,+bpf,+perfmon --ambient-caps=+bpf,+perfmon " ..
		"--bounding-set=-all,+bpf,+perfmon",
	bpf_perfmon_nobody = "--reuid=65534 --regid=65534 --clear-groups " ..
		"--inh-caps=-all,+bpf,+perfmon --ambient-caps=+bpf,+perfmon --bounding-set=-all,+bpf,+perfmon",
	bpf_only = "--inh-caps=-all,+bpf --ambient-caps=+bpf --bounding-set=-all,+bpf",
}

-- key=value lines of caps_child.lua run with privs; the raw output for messages.
local function run(privs, object, prog)
	-- LeakSanitizer cannot stop the world without the privileges the child lost.
	local cmd = ("ASAN_OPTIONS=detect_leaks=0 setpriv %s %s %s %s %s 2>&1"):format(PRIVS[privs],
		q(h.lua), q(child), q(object), q(prog))
	local text = h.capture(cmd)
	local r = {}
	for k, v in text:gmatch("([%w_.]+)=([^\n]*)") do r[k] = v end
	return r, text
end

describe("privileges", function()
	it("ayac.capabilities() reports root's capabilities here", function()
		local ayac = require "ayac"
		local c = assert(ayac.capabilities())
		assert.are.equal(0, c.euid)
		assert.is_true(c.root)
		assert.is_true(c.bpf and c.tracing and c.networking)
		assert.is_number(c.unprivileged_bpf_disabled)
	end)

	it("an unprivileged load fails with EPERM naming CAP_BPF, CAP_PERFMON and the docs", function()
		local r, text = run("none", probes, "tp_getpid")
		assert.are.equal("65534", r["caps.euid"], text)
		assert.are.equal("false", r["caps.bpf"], text)
		assert.are.equal("EPERM", r.load, text)
		assert.matches("needs CAP_BPF and CAP_PERFMON, or root (this process lacks CAP_BPF and " ..
			"CAP_PERFMON); see docs/embedding.md", r["load.err"], 1, true)
	end)

	it("with only CAP_BPF and CAP_PERFMON loads, attaches and runs a tracepoint program", function()
		local r, text = run("bpf_perfmon", probes, "tp_getpid")
		assert.are.equal("true", r["caps.cap_bpf"], text)
		assert.are.equal("false", r["caps.cap_sys_admin"], text)
		assert.are.equal("true", r["caps.tracing"], text)
		assert.are.equal("false", r["caps.networking"], text)
		assert.are.equal("ok", r.load, text)
		if r.attach == "EACCES" then
			-- Debian's kernels (the qemu matrix): perf_event_paranoid 3, a level their
			-- patch adds, leaves perf_event_open to CAP_SYS_ADMIN
			local f = io.open("/proc/sys/kernel/perf_event_paranoid")
			local paranoid = f and tonumber(f:read("*l")) or 0
			if f then f:close() end
			if paranoid >= 3 then
				assert.matches("kernel.perf_event_paranoid is " .. paranoid, r["attach.err"], 1, true)
				pending("perf_event_paranoid " .. paranoid .. " on this kernel (" ..
					(require "kernel").release .. ") needs CAP_SYS_ADMIN for perf_event_open")
				return
			end
		end
		assert.are.equal("ok", r.attach, text)
		assert.are.equal("5", r.count, text)
	end)

	it("as a service user with CAP_BPF and CAP_PERFMON: raw_tp runs, a tracepoint says tracefs is closed",
		function()
			local r, text = run("bpf_perfmon_nobody", probes, "raw_sys_enter")
			assert.are.equal("ok", r.load, text)
			assert.are.equal("ok", r.attach, text)
			assert.are.equal("5", r.count, text)
			r, text = run("bpf_perfmon_nobody", probes, "tp_getpid")
			assert.are.equal("ok", r.load, text)
			local _, readable = h.capture("setpriv " .. PRIVS.none ..
				" test -r /sys/kernel/tracing/events/syscalls/sys_enter_getpid/id")
			if not readable then -- tracefs's default mode, 0700
				assert.are.equal("EACCES", r.attach, text)
				assert.matches("tracefs at /sys/kernel/tracing is not readable by this user",
					r["attach.err"], 1, true)
				assert.matches("raw_tp/ program, which needs no tracefs; see docs/embedding.md",
					r["attach.err"], 1, true)
			else
				assert.are.equal("ok", r.attach, text) -- tracefs made readable on this host
			end
		end)

	it("with CAP_BPF alone names the missing CAP_PERFMON; an XDP object names CAP_NET_ADMIN", function()
		local r, text = run("bpf_only", probes, "tp_getpid")
		assert.are.equal("EPERM", r.load, text)
		assert.matches("needs CAP_BPF and CAP_PERFMON, or root (this process lacks CAP_PERFMON)",
			r["load.err"], 1, true)
		r, text = run("bpf_perfmon", xdp, "xdp_count")
		assert.are.equal("EPERM", r.load, text)
		assert.matches("needs CAP_BPF and CAP_NET_ADMIN, or root (this process lacks CAP_NET_ADMIN)",
			r["load.err"], 1, true)
	end)
end)
