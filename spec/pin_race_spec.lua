-- Pinning by name under concurrency: several processes load the same object with a
-- LIBBPF_PIN_BY_NAME map at the same moment. Whichever pins first wins; the others
-- must take the winner's map (as libbpf does), never fail with EEXIST.
--
-- WORKERS host processes (spec/support/pin_race_worker.lua) run ROUNDS rounds. In
-- each round they all wait at a barrier, a FIFO they block on reading; once every
-- worker has said it is ready, the spec writes one byte per worker into it and they
-- all load spec/bpf/pinning.bpf.o at once. The pin is removed between rounds, so
-- every round is a fresh race to create and pin the map.
local ffi = require "ffi"
local h = require "helpers"
local ayac = require "ayac"

require("helpers").cdef([[
int getpid(void);
int open(const char *path, int flags, ...);
long write(int fd, const void *buf, size_t n);
int close(int fd);
]])

local WORKERS, ROUNDS = 4, 50
local O_RDWR, O_CLOEXEC = 2, 0x80000

local function sh(cmd)
	local r = os.execute(cmd)
	return r == true or r == 0
end

describe("pinning by name, several loaders at once", function()
	local tag = ffi.C.getpid() .. "_" .. os.time()
	local pin_dir = "/sys/fs/bpf/ayac_pin_race_" .. tag
	local pin = pin_dir .. "/pinned_by_name"
	local fifo_dir = "/tmp/ayac_pin_race_" .. tag
	local workers, pids = {}, {}

	local function cleanup()
		for _, pid in ipairs(pids) do sh("kill " .. pid .. " 2>/dev/null") end
		for _, p in ipairs(workers) do p:close() end
		workers, pids = {}, {}
		os.remove(pin)
		os.remove(pin_dir)
		sh("rm -rf '" .. fifo_dir .. "'")
	end

	local function line(i, want)
		local l = workers[i]:read("*l")
		assert(l, "worker " .. i .. " ended early (waiting for '" .. want .. "')")
		return l
	end

	it("all load, every round, and share one map", function()
		finally(cleanup)
		assert(sh("mkdir -p '" .. pin_dir .. "' '" .. fifo_dir .. "'"))
		local names = {}
		for r = 1, ROUNDS do names[r] = "'" .. fifo_dir .. "/" .. r .. "'" end
		assert(sh("mkfifo " .. table.concat(names, " ")))
		local cmd = string.format("timeout 120 %s %s/spec/support/pin_race_worker.lua %s %s %s %d",
			h.bin, h.root, h.bpf("pinning"), pin_dir, fifo_dir, ROUNDS)
		for i = 1, WORKERS do
			workers[i] = assert(io.popen(cmd, "r"))
			pids[i] = assert(tonumber(line(i, "pid"):match("^pid (%d+)$")))
		end

		local failures, ids_seen = {}, {}
		for r = 1, ROUNDS do
			local fd = ffi.C.open(fifo_dir .. "/" .. r, O_RDWR + O_CLOEXEC)
			assert(fd >= 0, "open the barrier FIFO")
			for i = 1, WORKERS do assert.equal("ready " .. r, line(i, "ready " .. r)) end
			assert.equal(WORKERS, tonumber(ffi.C.write(fd, string.rep("x", WORKERS), WORKERS)))
			local ids = {}
			for i = 1, WORKERS do
				local l = line(i, "round " .. r)
				local id = l:match("^ok " .. r .. " (%d+)$")
				if id then ids[#ids + 1] = tonumber(id) else failures[#failures + 1] = l end
			end
			ffi.C.close(fd)
			for k = 2, #ids do
				assert.equal(ids[1], ids[k], "round " .. r .. ": the loaders made different maps")
			end
			if ids[1] then
				local pinned = assert(ayac.map_from_pin(pin))
				assert.equal(ids[1], pinned:info().id, "round " .. r .. ": the pin is another map")
				pinned:close()
				ids_seen[#ids_seen + 1] = ids[1]
			end
			assert(os.remove(pin))
		end
		assert.same({}, failures)
		assert.equal(ROUNDS, #ids_seen)
		for k = 2, #ids_seen do assert.are_not.equal(ids_seen[k - 1], ids_seen[k]) end
	end)
end)
