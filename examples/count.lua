-- Counts this process's getpid() calls with examples/getpid_count.bpf.o:
--   ./ayac examples/count.lua [N]
local ffi = require "ffi"
ffi.cdef "int getpid(void);"
local ayac = require "ayac"

local n = tonumber(arg[1]) or 10
local obj = assert(ayac.load("examples/getpid_count.bpf.o",
  { globals = { target_tgid = ffi.C.getpid() } }))
local link = assert(obj:program("count_getpid"):attach())
for _ = 1, n do ffi.C.getpid() end
for tgid, count in obj:map("counts"):pairs() do print(tgid, count) end
link:detach()
obj:close()
