-- One of the loaders of spec/pin_race_spec.lua, run by the host binary:
--
--   ayac pin_race_worker.lua OBJECT PIN_DIR FIFO_DIR ROUNDS
--
-- Prints "pid N", then for each round r: "ready r", waits at the barrier (one byte
-- from the FIFO FIFO_DIR/r, which the spec writes once every worker is ready), loads
-- OBJECT with pin_path = PIN_DIR and prints "ok r MAP_ID" or "fail r CODE MESSAGE".
local ffi = require "ffi"
local ayac = require "ayac"

pcall(ffi.cdef, [[
int getpid(void);
int open(const char *path, int flags, ...);
long read(int fd, void *buf, size_t n);
int close(int fd);
]])

local O_RDONLY, O_CLOEXEC = 0, 0x80000
local object, pin_dir, fifo_dir, rounds = arg[1], arg[2], arg[3], tonumber(arg[4])

io.stdout:setvbuf("line")
io.stdout:write("pid ", ffi.C.getpid(), "\n")

-- Blocks until the spec releases round r. A raw one-byte read(2), so that one worker
-- never takes another's byte into a stdio buffer.
local function barrier(r)
	local fd = ffi.C.open(fifo_dir .. "/" .. r, O_RDONLY + O_CLOEXEC)
	assert(fd >= 0, "open barrier " .. r .. ": errno " .. ffi.errno())
	local byte = ffi.new("char[1]")
	local n = ffi.C.read(fd, byte, 1)
	ffi.C.close(fd)
	assert(n == 1, "read barrier " .. r .. ": " .. tostring(n))
end

for r = 1, rounds do
	io.stdout:write("ready ", r, "\n")
	barrier(r)
	local obj, msg, code = ayac.load(object, { pin_path = pin_dir })
	if obj then
		io.stdout:write("ok ", r, " ", obj:map("pinned_by_name"):info().id, "\n")
		obj:close()
	else
		io.stdout:write("fail ", r, " ", tostring(code), " ", (tostring(msg):gsub("\n", " ")), "\n")
	end
end
