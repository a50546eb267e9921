-- Drops TCP and UDP packets to one port as they leave an interface (TC egress,
-- examples/tc_drop.bpf.c), printing how many it dropped:
--
--   ./ayac examples/tc_drop.lua IFNAME PORT [-d SECONDS] [-i SECONDS]
--
-- -d stops after that long (default: at Ctrl-C or SIGTERM), -i is the report interval
-- (1 s). The classifier goes through a TCX link where the kernel has one (Linux 6.6),
-- a clsact qdisc and cls_bpf filter otherwise; either way it is removed when the
-- script ends, also on Ctrl-C and SIGTERM (a netlink filter survives only SIGKILL).
local ffi = require "ffi"
local ayac = require "ayac"
pcall(ffi.cdef, "int poll(void *fds, unsigned long n, int timeout);")

local function usage(msg)
	io.stderr:write(msg, "\nusage: tc_drop.lua IFNAME PORT [-d SECONDS] [-i SECONDS]\n")
	os.exit(2)
end

local opts = { interval = 1 }
local pos = {}
local i = 1
while arg[i] do
	local a = arg[i]
	if a == "-d" then opts.duration = tonumber(arg[i + 1]); i = i + 2
	elseif a == "-i" then opts.interval = tonumber(arg[i + 1]); i = i + 2
	elseif a:sub(1, 1) == "-" then usage("unknown option " .. a)
	else pos[#pos + 1] = a; i = i + 1 end
end
local ifname, port = pos[1], tonumber(pos[2])
if not ifname or not port or port < 1 or port > 65535 or port % 1 ~= 0 then
	usage("an interface and a port (1-65535) are needed")
end
if not opts.interval or opts.interval <= 0 then usage("bad interval") end

local dir = arg[0]:match("^(.*)/") or "."
local obj = assert(ayac.load(dir .. "/tc_drop.bpf.o", { globals = { drop_port = port } }))
local link = assert(obj:program("tc_drop"):attach { ifname = ifname, direction = "egress" })
io.stdout:setvbuf("line")
print(("dropping TCP and UDP to port %d leaving %s (tc egress via %s)"):format(port, ifname,
	link:info().via))

local function dropped()
	local n = 0
	for _, v in ipairs(obj:map("dropped"):get(0)) do n = n + v end
	return n
end

local elapsed = 0
while not opts.duration or elapsed < opts.duration do
	local step = opts.duration and math.min(opts.interval, opts.duration - elapsed) or opts.interval
	ffi.C.poll(nil, 0, math.floor(step * 1000))
	elapsed = elapsed + step
	print(("dropped %d"):format(dropped()))
end
link:detach()
obj:close()
