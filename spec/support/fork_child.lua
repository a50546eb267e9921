-- Run by spec/link_fork_spec.lua in a process of its own: attaches, forks a child that
-- detaches its copy of the link, closes the object and exits (what an nginx worker
-- does), then reports whether the parent's attachment still works.
--   fork_child.lua count OBJECT        a getpid counter: prints counted=N for 5 calls
--   fork_child.lua netns OBJECT PIN    a pinned sk_lookup link on this netns: prints
--                                      the link's netns_ino (0 once BPF_LINK_DETACHed)
local ffi = require "ffi"
local ayac = require "ayac"
pcall(ffi.cdef, "int fork(void);")
pcall(ffi.cdef, "int waitpid(int pid, int *status, int options);")
pcall(ffi.cdef, "long syscall(long nr, ...);")
pcall(ffi.cdef, "int getpid(void);")

local mode, path, pin = arg[1], arg[2], arg[3]
local self = ffi.C.getpid() -- once: every getpid() from here on is counted

local obj, link
if mode == "count" then
	obj = assert(ayac.load(path, { globals = { target_tgid = self } }))
	link = assert(obj:program("count_getpid"):attach())
else
	local opened, only = assert(ayac.open(path)), {}
	for name in opened:programs() do
		if name ~= "steer" then only[name] = false end
	end
	opened:close()
	obj = assert(ayac.load(path, { autoload = only }))
	link = assert(obj:program("steer"):attach({ netns = "/proc/self/ns/net" }))
	assert(link:pin(pin))
end
print("via=" .. tostring(link:info().via))
local id = link:info().id

io.stdout:flush() -- or the child would print the buffered lines again
local pid = ffi.C.fork()
if pid == 0 then
	link:detach()
	obj:close()
	-- Closing the Lua state and exit()'s handlers run, as in an nginx worker's exit.
	os.exit(0, true)
end
assert(pid > 0, "fork failed")
local st = ffi.new("int[1]")
assert(ffi.C.waitpid(pid, st, 0) == pid)
print("child_status=" .. st[0])

if mode == "count" then
	local counts = obj:map("counts")
	local before = tonumber(counts[self] or 0)
	for _ = 1, 5 do ffi.C.syscall(39) end -- __NR_getpid, not libc's
	print("counted=" .. (tonumber(counts[self] or 0) - before))
else
	local p = io.popen("bpftool -j link show id " .. tonumber(id))
	print("link=" .. p:read("*a"):gsub("\n", ""))
	p:close()
	link:unpin(pin)
end
link:detach()
obj:close()
