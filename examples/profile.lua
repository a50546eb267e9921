-- Samples stacks on every CPU at 99 Hz and prints them folded, one line per distinct
-- stack ("comm;frame;frame;... count", outermost frame first, kernel frames marked
-- _[k]): the input of flamegraph.pl and speedscope. Frames are symbolized (ayac.stack);
-- those with no symbol print as their address.
--   ./ayac examples/profile.lua [seconds=5] [hz=99] [pid]
local ffi = require "ffi"
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

-- A stack id into folded frames, outermost first (ayac.stack gives the innermost
-- first). User frames are looked up in the process's mappings, kernel ones in
-- /proc/kallsyms; what has no symbol stays an address.
local stacks = obj:map("stacks")
local function frames(id, pid, suffix, out)
	if id < 0 then return end
	local f = ayac.stack(stacks, id, { pid = pid })
	if not f then return end
	for i = #f, 1, -1 do
		local name = f[i].name
		if not name or name == "[unknown]" then
			name = ("0x%x"):format(f[i].addr):gsub("ULL$", "")
		end
		out[#out + 1] = name .. suffix
	end
end

local lines = {}
for key, count in obj:map("samples"):pairs() do
	local parts = { key.comm }
	frames(key.ustack, key.pid, "", parts)
	frames(key.kstack, nil, "_[k]", parts)
	local line = table.concat(parts, ";")
	lines[line] = (lines[line] or 0) + tonumber(count)
end
for line, count in pairs(lines) do print(line .. " " .. count) end
obj:close()
