-- A child for spec/net_lifetime_spec.lua, run by the ayac binary inside a network
-- namespace (nsenter --net=…): attaches XDP on IFNAME and TC on its ingress and egress
-- from spec/bpf/net_xdp_tc.bpf.o, says so on stdout, then waits to be killed:
--
--   ayac net_attach_child.lua OBJECT IFNAME [wait | exit FILE]
--
-- prints "pid N", then "ready XDP_VIA TC_IN_VIA TC_OUT_VIA" ("bpf_link" or "netlink"),
-- then waits for a signal ("wait", the default), or until FILE exists and then calls
-- os.exit(0) without closing anything ("exit").
local ffi = require "ffi"
pcall(ffi.cdef, "int getpid(void); int poll(void *fds, unsigned long n, int timeout);")
local ayac = require "ayac"

local path, ifname, how = arg[1], arg[2], arg[3] or "wait"
io.stdout:setvbuf("line")
print("pid " .. ffi.C.getpid())

local obj = assert(ayac.load(path, { globals = { target_port = 7000 } }))
local xdp = assert(obj:program("xdp_count"):attach { ifname = ifname, mode = "skb" })
local tc_in = assert(obj:program("tc_in_count"):attach { ifname = ifname })
local tc_out = assert(obj:program("tc_out_count"):attach { ifname = ifname })
print("ready " .. xdp:info().via .. " " .. tc_in:info().via .. " " .. tc_out:info().via)

if how == "exit" then
	while not io.open(arg[4], "r") do ffi.C.poll(nil, 0, 10) end
	os.exit(0)
end
while true do
	ffi.C.poll(nil, 0, 1000) -- a signal ends the wait; the next Lua step raises
end
