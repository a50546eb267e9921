-- Opens one file in a fresh process and reports what that cost, for
-- spec/big_file_spec.lua:
--
--   ayac open_probe.lua object|btf|btf_option PATH
--
-- Prints one line: "ms=<wall time of the call> hwm0=<VmHWM before, kB> hwm=<VmHWM
-- after, kB> code=<error code or ok> msg=<message>".
local ffi = require "ffi"
local ayac = require "ayac"

pcall(ffi.cdef, [[
typedef struct { long tv_sec; long tv_nsec; } ayac_probe_timespec;
int clock_gettime(int clk, ayac_probe_timespec *ts);
]])

local what, path = arg[1], arg[2]

local function now_ms()
	local ts = ffi.new("ayac_probe_timespec")
	ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
	return tonumber(ts.tv_sec) * 1e3 + tonumber(ts.tv_nsec) / 1e6
end

local function hwm_kb()
	for line in io.lines("/proc/self/status") do
		local kb = line:match("^VmHWM:%s+(%d+) kB")
		if kb then return tonumber(kb) end
	end
	error("no VmHWM in /proc/self/status")
end

local calls = {
	object = function() return ayac.open(path) end,
	btf = function() return ayac.btf.load(path) end,
	-- An object that needs no BTF, with btf = PATH.
	btf_option = function() return ayac.open(arg[3], { btf = path }) end,
}

local hwm0 = hwm_kb()
local t0 = now_ms()
local ok, msg, code = assert(calls[what], "unknown call " .. tostring(what))()
local ms = now_ms() - t0
io.write(string.format("ms=%.3f hwm0=%d hwm=%d code=%s msg=%s\n", ms, hwm0, hwm_kb(),
	ok and "ok" or tostring(code), tostring(msg):gsub("\n", " ")))
