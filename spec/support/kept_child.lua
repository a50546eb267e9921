-- A child for spec/cleanup_spec.lua, run by the ayac binary: attaches what the kernel
-- keeps without a link and then waits to be killed, so that SIGKILL leaves it behind.
--
--   ayac kept_child.lua net OBJECT IFNAME      XDP and TC on IFNAME through netlink
--                                              (run inside the namespace, with
--                                              AYAC_FEATURES=xdp_link=0,tcx=0)
--   ayac kept_child.lua cgroup OBJECT CGROUP   cgroup_skb ingress, mode "override"
--                                              (BPF_PROG_ATTACH)
--
-- prints "pid N", then "ready" with the attached program ids, then waits.
local ffi = require "ffi"
pcall(ffi.cdef, "int getpid(void);")
pcall(ffi.cdef, "int poll(void *fds, unsigned long n, int timeout);")
local ayac = require "ayac"

local what, path, target = arg[1], arg[2], arg[3]
io.stdout:setvbuf("line")
print("pid " .. ffi.C.getpid())

local links = {}
if what == "net" then
	local obj = assert(ayac.load(path, { globals = { target_port = 7000 } }))
	links[1] = assert(obj:program("xdp_count"):attach { ifname = target, mode = "skb" })
	links[2] = assert(obj:program("tc_in_count"):attach { ifname = target })
	links[3] = assert(obj:program("tc_out_count"):attach { ifname = target })
else
	local obj = assert(ayac.load(path))
	links[1] = assert(obj:program("count_ingress"):attach { cgroup = target, mode = "override" })
end
local vias = {}
for i, l in ipairs(links) do vias[i] = l:info().via end
print("ready " .. table.concat(vias, " "))
while true do
	ffi.C.poll(nil, 0, 1000) -- until killed
end
