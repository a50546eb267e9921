-- execsnoop: one line per exec, as bcc's and libbpf-tools' execsnoop print them.
--
--   ./ayac examples/execsnoop.lua [-d SECONDS] [-n NAME]
--
--   -d SECONDS   stop after that long (default: until Ctrl-C)
--   -n NAME      only execs whose command or file name contains NAME
--
-- TIME is seconds since the tool started; RET is execve's return value (a negative
-- errno on failure: the filename is what was asked for, the comm the caller's).
local ayac = require "ayac"

local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local duration, filter
local i = 1
while arg[i] do
	if arg[i] == "-d" and tonumber(arg[i + 1]) then
		duration, i = tonumber(arg[i + 1]), i + 2
	elseif arg[i] == "-n" and arg[i + 1] then
		filter, i = arg[i + 1], i + 2
	else
		io.stderr:write("usage: execsnoop.lua [-d SECONDS] [-n NAME]\n")
		os.exit(2)
	end
end

local obj = assert(ayac.load(here .. "/execsnoop.bpf.o"))
local links = {
	assert(obj:program("enter_execve"):attach()),
	assert(obj:program("exit_execve"):attach()),
}

local start
local function on_exec(e)
	if filter and not (e.comm:find(filter, 1, true) or e.filename:find(filter, 1, true)) then
		return
	end
	start = start or e.ts_ns
	io.stdout:write(("%-9.3f %-7d %-7d %4d %-16s %s\n"):format((e.ts_ns - start) / 1e9, e.pid,
		e.ppid, e.retval, e.comm, e.filename))
	io.stdout:flush()
end

local rb = assert(ayac.ringbuf(obj:map("events"), on_exec, { type = "struct event" }))
io.stdout:write(("%-9s %-7s %-7s %4s %-16s %s\n"):format("TIME(s)", "PID", "PPID", "RET", "COMM",
	"FILENAME"))
io.stdout:flush()

local deadline = duration and os.time() + duration
while not deadline or os.time() < deadline do
	rb:poll(100)
end
local lost = obj:global("lost")
if lost > 0 then
	io.stderr:write(("execsnoop: %d events lost (ring buffer full)\n"):format(lost))
end
rb:close()
for _, l in ipairs(links) do l:detach() end
obj:close()
