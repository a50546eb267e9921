-- Packets and bytes per protocol arriving on an interface, counted by XDP
-- (examples/xdp_count.bpf.c), as a table refreshed every second:
--
--   ./ayac examples/xdp_count.lua IFNAME [-m skb|drv] [-i SECONDS] [-n TIMES]
--
-- -m picks the XDP mode (default: the driver's, else generic), -i the refresh interval,
-- -n how many tables to print before exiting (default: until Ctrl-C or SIGTERM). The
-- program is attached through a bpf_link where the kernel has one, so it is gone as
-- soon as this process is, however it ends.
local ffi = require "ffi"
local ayac = require "ayac"
pcall(ffi.cdef, "int poll(void *fds, unsigned long n, int timeout); int isatty(int fd);")

local function usage(msg)
	io.stderr:write(msg, "\nusage: xdp_count.lua IFNAME [-m skb|drv] [-i SECONDS] [-n TIMES]\n")
	os.exit(2)
end

local opts = { interval = 1 }
local i = 1
while arg[i] do
	local a = arg[i]
	if a == "-m" then opts.mode = arg[i + 1]; i = i + 2
	elseif a == "-i" then opts.interval = tonumber(arg[i + 1]); i = i + 2
	elseif a == "-n" then opts.times = tonumber(arg[i + 1]); i = i + 2
	elseif a:sub(1, 1) == "-" then usage("unknown option " .. a)
	elseif not opts.ifname then opts.ifname = a; i = i + 1
	else usage("too many arguments") end
end
if not opts.ifname then usage("no interface") end
if not opts.interval or opts.interval <= 0 then usage("bad interval") end

local ETHERTYPES = { [0x0800] = "ipv4", [0x86dd] = "ipv6", [0x0806] = "arp", [0x8100] = "vlan",
	[0x88cc] = "lldp" }
local IPPROTOS = { [1] = "icmp", [2] = "igmp", [6] = "tcp", [17] = "udp", [58] = "icmpv6",
	[132] = "sctp", [0] = "other" }

local function proto_name(k)
	local l3 = ETHERTYPES[k.ethertype] or ("0x%04x"):format(k.ethertype)
	if k.ethertype ~= 0x0800 and k.ethertype ~= 0x86dd then return l3 end
	return l3 .. "/" .. (IPPROTOS[k.ipproto] or tostring(k.ipproto))
end

local dir = arg[0]:match("^(.*)/") or "."
local obj = assert(ayac.load(dir .. "/xdp_count.bpf.o"))
local link = assert(obj:program("xdp_count"):attach { ifname = opts.ifname, mode = opts.mode })
local info = link:info()
io.stdout:setvbuf("line")
print(("attached to %s (xdp %s mode, via %s)"):format(opts.ifname, info.mode or "default",
	info.via))

local clear = ffi.C.isatty(1) == 1
local stats = obj:map("stats")

local function show()
	local rows = {}
	for k, per_cpu in stats:pairs() do
		local p, b = 0, 0
		for _, s in ipairs(per_cpu) do p, b = p + s.packets, b + s.bytes end
		rows[#rows + 1] = { proto_name(k), p, b }
	end
	table.sort(rows, function(x, y) return x[2] > y[2] end)
	if clear then io.write("\27[H\27[2J") end
	print(("%s  %s"):format(opts.ifname, os.date("%H:%M:%S")))
	print(("  %-16s %12s %14s"):format("protocol", "packets", "bytes"))
	for _, r in ipairs(rows) do print(("  %-16s %12d %14d"):format(r[1], r[2], r[3])) end
end

local n = 0
repeat
	ffi.C.poll(nil, 0, math.floor(opts.interval * 1000)) -- Ctrl-C ends the wait at once
	show()
	n = n + 1
until opts.times and n >= opts.times
link:detach()
obj:close()
