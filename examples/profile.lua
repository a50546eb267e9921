-- Samples stacks on every CPU at 99 Hz and prints them folded, one line per distinct
-- stack ("comm;frame;frame;... count", outermost frame first, kernel frames marked
-- _[k]): the input of flamegraph.pl and speedscope. Frames are raw addresses until
-- ayac symbolizes them.
--   ./ayac examples/profile.lua [seconds=5] [hz=99] [pid]
local ffi = require "ffi"
local bit = require "bit"
ffi.cdef "int poll(void *fds, unsigned long nfds, int timeout);"
local ayac = require "ayac"

local seconds = tonumber(arg[1]) or 5
local hz = tonumber(arg[2]) or 99
local pid = tonumber(arg[3]) or 0

local obj = assert(ayac.load("examples/profile.bpf.o", { globals = { target_tgid = pid } }))
local link = assert(obj:program("profile"):attach {
	type = "software", config = "cpu-clock", sample_freq = hz })
io.stderr:write(("sampling %d CPUs at %d Hz for %g s...\n"):format(link:info().count, hz, seconds))
ffi.C.poll(nil, 0, math.floor(seconds * 1000))
link:detach()

-- A stack id into its frames, outermost first (the map keeps the innermost first).
local stacks = obj:map("stacks")
stacks:codec { key = "u32", value = "bytes" }
local function frames(id, suffix, out)
	if id < 0 then return end
	local raw = stacks:get(id)
	if not raw then return end
	local addrs = ffi.cast("const uint64_t *", raw)
	local n = 0
	while n < #raw / 8 and addrs[n] ~= 0 do n = n + 1 end
	for i = n - 1, 0, -1 do
		out[#out + 1] = "0x" .. bit.tohex(addrs[i], 16):gsub("^0+", "") .. suffix
	end
end

local lines = {}
for key, count in obj:map("samples"):pairs() do
	local parts = { key.comm }
	frames(key.ustack, "", parts)
	frames(key.kstack, "_[k]", parts)
	local line = table.concat(parts, ";")
	lines[line] = (lines[line] or 0) + tonumber(count)
end
for line, count in pairs(lines) do print(line .. " " .. count) end
obj:close()
