-- Run by spec/usdt_spec.lua as `ayac spec/support/usdt_run.lua EXE N MODE`, in a process
-- of its own (so AYAC_FEATURES=bpf_cookie=0 can hide bpf_cookie from it): attaches
-- spec/bpf/usdt.bpf.o's on_args to EXE's ayac:args, every process (MODE "all") or the
-- fixture's own pid (MODE "pid": it waits for SIGUSR1 until attached), runs the
-- fixture N times, and prints the counts slots 0..7 on one line.
local ayac = require "ayac"
local helpers = require "helpers"

local exe, n, mode = arg[1], tonumber(arg[2]), arg[3]
local obj = assert(ayac.load(helpers.bpf("usdt")))
local opts = { path = exe, provider = "ayac", name = "args", cookie = 5 }
if mode == "pid" then
	local p = assert(io.popen(exe .. " " .. n .. " wait"))
	opts.pid = assert(tonumber(p:read("*l")))
	local link, err = obj:program("on_args"):attach(opts)
	os.execute("kill -USR1 " .. opts.pid) -- attached or not, let the fixture finish
	assert(link, err)
	p:read("*a")
	p:close()
	link:detach()
else
	local link = assert(obj:program("on_args"):attach(opts))
	assert(helpers.capture(exe .. " " .. n))
	link:detach()
end
local out = {}
for i = 0, 7 do out[#out + 1] = tostring(obj:map("counts"):get(i) or 0) end
print(table.concat(out, " "))
obj:close()
