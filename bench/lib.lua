-- Helpers shared by the Lua side of the benchmarks and the conformance harness
-- (bench/ayac_load.lua runs inside ayac; bench/run.lua and bench/conformance.lua under
-- a plain luajit). No ayac here.
local ffi = require "ffi"

local M = {}

pcall(ffi.cdef, [[
struct bench_timespec { long tv_sec; long tv_nsec; };
int clock_gettime(int clk, struct bench_timespec *ts);
]])
local ts = ffi.new("struct bench_timespec")
local CLOCK_MONOTONIC = 1

-- Microseconds on the monotonic clock.
function M.now_us()
	ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
	return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

-- Microseconds of CPU this process used (user + system): what the map benchmarks
-- compare, so that other load on the machine does not land on one side only.
local CLOCK_PROCESS_CPUTIME_ID = 2
function M.cpu_us()
	ffi.C.clock_gettime(CLOCK_PROCESS_CPUTIME_ID, ts)
	return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

function M.median(list)
	local t = {}
	for i, v in ipairs(list) do t[i] = v end
	table.sort(t)
	local n = #t
	if n == 0 then return nil end
	if n % 2 == 1 then return t[(n + 1) / 2] end
	return (t[n / 2] + t[n / 2 + 1]) / 2
end

-- "biolatency" from ".../biolatency.bpf.o" (as bench/libbpf_load.c names objects).
function M.object_name(path)
	return (path:match("([^/]+)$"):match("^([^.]*)"))
end

-- bench/corpus-setup: { object = { { what=, map=, value= }, ... } }.
function M.read_setup(path)
	local f, err = io.open(path, "r")
	if not f then return nil, err end
	local setup, n = {}, 0
	for line in f:lines() do
		n = n + 1
		if not line:match("^%s*#") and line:match("%S") then
			local obj, what, map, value = line:match("^%s*(%S+)%s+(%S+)%s+(%S+)%s+(%d+)%s*$")
			if not obj or (what ~= "max_entries" and what ~= "value_size") then
				f:close()
				return nil, ("%s:%d: expected <object> max_entries|value_size <map> <n>"):format(path, n)
			end
			setup[obj] = setup[obj] or {}
			table.insert(setup[obj], { what = what, map = map, value = tonumber(value) })
		end
	end
	f:close()
	return setup
end

-- Sections this kernel cannot load (no BPF trampolines here): the same rule as
-- is_trampoline() in bench/libbpf_load.c.
function M.is_trampoline(section)
	for _, p in ipairs { "fentry", "fexit", "fmod_ret", "lsm" } do
		if section == p or section:sub(1, #p + 1) == p .. "/" or section:sub(1, #p + 1) == p .. "." then
			return true
		end
	end
	return false
end

-- One line of the tab-separated output both sides print, as a list of fields.
function M.fields(line)
	local t = {}
	for f in (line .. "\t"):gmatch("([^\t]*)\t") do t[#t + 1] = f end
	return t
end

-- Run a shell command; its stdout as a list of field lists, and its exit status
-- (LuaJIT's popen close does not report it, so the shell prints it last).
function M.run(cmd)
	local p = assert(io.popen(cmd .. "; printf 'exit\\t%d\\n' $?", "r"))
	local rows, status = {}, nil
	for line in p:lines() do
		local f = M.fields(line)
		if f[1] == "exit" and #f == 2 and tonumber(f[2]) then
			status = tonumber(f[2])
		else
			rows[#rows + 1] = f
		end
	end
	p:close()
	return rows, status == 0, status
end

function M.shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

return M
