-- Run by spec/capabilities_spec.lua under setpriv, with fewer privileges than the spec:
--   caps_child.lua OBJECT PROGRAM [xdp]
-- Prints key=value lines: what ayac.capabilities() says, then the load and attach
-- results (the error message and code when they fail), and how often the attached
-- program saw this process call getpid().
local ffi = require "ffi"
local ayac = require "ayac"
ffi.cdef "long syscall(long nr, ...); int getpid(void);"

local function out(k, v) io.write(k, "=", tostring(v):gsub("\n", " "), "\n") end

local caps = assert(ayac.capabilities())
for _, k in ipairs({ "euid", "cap_bpf", "cap_perfmon", "cap_net_admin", "cap_sys_admin",
	"bpf", "tracing", "networking" }) do
	out("caps." .. k, caps[k])
end

local path, pname = arg[1], arg[2]
-- Only the program under test is loaded: what it needs is what the spec checks.
local opened = assert(ayac.open(path))
local autoload, has_target = {}, nil
for name in opened:programs() do
	if name ~= pname then autoload[name] = false end
end
has_target = opened:global("target_tgid") ~= nil
opened:close()
local obj, err, code = ayac.load(path, { autoload = autoload,
	globals = has_target and { target_tgid = ffi.C.getpid() } or nil })
out("load", obj and "ok" or code)
if not obj then out("load.err", err) return end
local link
link, err, code = obj:program(pname):attach()
out("attach", link and "ok" or code)
if not link then out("attach.err", err) return end
for _ = 1, 5 do ffi.C.syscall(39) end -- __NR_getpid, not cached by libc
local total = 0
for _, v in obj:map("counts"):pairs() do total = total + tonumber(v) end
out("count", total)
link:detach()
obj:close()
