-- BPF iterators (spec/bpf/iter.bpf.c): prog:attach(opts) makes the iterator link,
-- link:read() and link:lines() run it, ayac.iter(prog, opts) does both at once, and a
-- pinned iterator reads with cat. Each output is checked against what the kernel says
-- elsewhere (/proc, /proc/kallsyms) or what the spec made (files, cgroups, sockets,
-- map elements).
local ffi = require "ffi"
require("helpers").cdef([[
int getpid(void);
long syscall(long number, ...);
int socket(int domain, int type, int protocol);
int close(int fd);
struct ayac_spec_sockaddr_in { uint16_t family; uint16_t port; uint32_t addr; uint8_t zero[8]; };
int bind(int fd, const void *addr, unsigned int len);
int listen(int fd, int backlog);
int getsockname(int fd, void *addr, unsigned int *len);
]])

local ayac = require "ayac"
local helpers = require "helpers"
local kernel = require "kernel"

local OBJ = helpers.bpf("iter")
local PID = ffi.C.getpid()
-- The cgroup2 mount: /sys/fs/cgroup/unified here, /sys/fs/cgroup elsewhere.
local CGROOT = (function()
	for line in io.lines("/proc/mounts") do
		local dir, fs = line:match("^%S+ (%S+) (%S+)")
		if fs == "cgroup2" then return dir end
	end
	return "/sys/fs/cgroup"
end)()

local function load()
	-- bpf_map_elem iterators only where the kernel loads them (see kernel.lua)
	return assert(ayac.load(OBJ, { autoload = { dump_elems = kernel.has("iter_map_elem") } }))
end

local function lines_of(s)
	local t = {}
	for line in s:gmatch("[^\n]+") do t[#t + 1] = line end
	return t
end

local function proc_pids()
	local out = helpers.capture("ls /proc")
	local set = {}
	for p in out:gmatch("%d+") do set[tonumber(p)] = true end
	return set
end

local function read_file(path)
	local f = io.open(path)
	if not f then return nil end
	local s = f:read("*a")
	f:close()
	return s
end

-- A bound IPv4 socket on 127.0.0.1 (type 1: TCP, listening; 2: UDP): fd and port.
local function bound_socket(kind)
	local fd = ffi.C.socket(2, kind, 0)
	assert(fd >= 0)
	local sa = ffi.new("struct ayac_spec_sockaddr_in")
	sa.family = 2
	sa.addr = 0x0100007f -- 127.0.0.1, network order
	assert(ffi.C.bind(fd, sa, ffi.sizeof(sa)) == 0)
	if kind == 1 then assert(ffi.C.listen(fd, 4) == 0) end
	local len = ffi.new("unsigned int[1]", ffi.sizeof(sa))
	assert(ffi.C.getsockname(fd, sa, len) == 0)
	local port = bit.bor(bit.lshift(bit.band(sa.port, 0xff), 8), bit.rshift(sa.port, 8))
	return fd, port
end

describe("iterators", function()
	local obj
	before_each(function() obj = load() end)
	after_each(function() if obj then obj:close() end end)

	it("task: every process that lived through the read, and this one's threads", function()
		local before = proc_pids()
		local out = assert(ayac.iter(obj:program("dump_task")))
		local after = proc_pids()
		local seen, mine = {}, {}
		for _, line in ipairs(lines_of(out)) do
			local tgid, tid, comm = line:match("^(%d+) (%d+) (.*)$")
			assert.is_not_nil(tgid, line)
			seen[tonumber(tgid)] = true
			if tonumber(tgid) == PID then mine[tonumber(tid)] = comm end
		end
		for pid in pairs(before) do
			if after[pid] and pid ~= 1 then -- pid 1 is not iterated by the kernel
				assert.is_true(seen[pid] or false, "pid " .. pid .. " missing from iter/task")
			end
		end
		local threads = 0
		for tid in helpers.capture("ls /proc/" .. PID .. "/task"):gmatch("%d+") do
			local comm = read_file("/proc/" .. PID .. "/task/" .. tid .. "/comm")
			if comm then
				threads = threads + 1
				assert.equal(comm:gsub("\n$", ""), mine[tonumber(tid)])
			end
		end
		assert.is_true(threads >= 1)
	end)

	it("task with { pid = } and { tid = }: that process only", function()
		local link = assert(obj:program("dump_task"):attach { pid = PID })
		local n = 0
		for line in link:lines() do
			assert.equal(PID, tonumber(line:match("^(%d+) ")))
			n = n + 1
		end
		assert.is_true(n >= 1)
		link:detach()
		local out = assert(ayac.iter(obj:program("dump_task"), { tid = PID }))
		assert.same({ ("%d %d "):format(PID, PID) }, { out:match("^[^\n]*"):match("^%d+ %d+ ") })
		assert.equal(1, #lines_of(out))
	end)

	it("task_file: the files this process opens and closes", function()
		local prog = obj:program("dump_task_file")
		local files = {}
		for i = 1, 3 do files[i] = assert(io.open("/dev/null")) end
		-- which fds are /dev/null: /proc/<pid>/fd says
		local function fd_set()
			local out = assert(ayac.iter(prog, { pid = PID }))
			local set = {}
			for _, line in ipairs(lines_of(out)) do
				local tgid, fd = line:match("^(%d+) (%d+)$")
				assert.equal(PID, tonumber(tgid))
				set[tonumber(fd)] = true
			end
			return set
		end
		local set = fd_set()
		local nulls = {}
		for fd in pairs(set) do
			local target = helpers.capture("readlink /proc/" .. PID .. "/fd/" .. fd)
			if target:match("^/dev/null") then nulls[#nulls + 1] = fd end
		end
		assert.is_true(#nulls >= 3)
		for i = 1, 3 do files[i]:close() end
		local set2 = fd_set()
		local still = 0
		for _, fd in ipairs(nulls) do
			if set2[fd] then
				local target = helpers.capture("readlink /proc/" .. PID .. "/fd/" .. fd)
				if target:match("^/dev/null") then still = still + 1 end
			end
		end
		assert.equal(#nulls - 3, still)
	end)

	it("bpf_map: lists this object's maps by id and name", function()
		local out = assert(ayac.iter(obj:program("dump_bpf_map")))
		local ids = {}
		for _, line in ipairs(lines_of(out)) do
			local id, name = line:match("^(%d+) (.*)$")
			ids[tonumber(id)] = name
		end
		local m = obj:map("elems")
		assert.equal("elems", ids[m:info().id])
	end)

	kernel.it("iter_map_elem", "bpf_map_elem: each element of the map given, read whole or by lines", function()
		local m = obj:map("elems")
		local want = {}
		for k = 1, 20000 do
			m[k] = k * 3
			want[k] = k * 3
		end
		local link = assert(obj:program("dump_elems"):attach { map = m })
		local out = assert(link:read())
		assert.is_true(#out > 128 * 1024) -- several read() chunks
		local got, n = {}, 0
		for line in link:lines() do
			local k, v = line:match("^(%d+) (%d+)$")
			got[tonumber(k)] = tonumber(v)
			n = n + 1
		end
		assert.equal(20000, n)
		assert.same(want, got)
		assert.equal(n, select(2, out:gsub("\n", "")))
		link:detach()
	end)

	kernel.it("iter_map_elem", "bpf_map_elem without a map says what is missing", function()
		local link, err, code = obj:program("dump_elems"):attach()
		assert.is_nil(link)
		assert.is_not_nil(code)
		assert.matches("needs its map", err, 1, true)
	end)

	describe("cgroup", function()
		local dir
		before_each(function()
			dir = ("%s/ayac_iter_%d_%d"):format(CGROOT, PID, math.random(1e6))
			for _, d in ipairs { dir, dir .. "/a", dir .. "/a/c", dir .. "/b" } do
				assert(helpers.capture("mkdir " .. d) and select(2, helpers.capture("test -d " .. d)))
			end
		end)
		after_each(function()
			for _, d in ipairs { dir .. "/a/c", dir .. "/a", dir .. "/b", dir } do
				helpers.capture("rmdir " .. d .. " 2>/dev/null")
			end
		end)

		local function walk(opts)
			local out = assert(ayac.iter(obj:program("dump_cgroup"), opts))
			local names = {}
			for _, line in ipairs(lines_of(out)) do names[#names + 1] = line:match("^%d+ (.*)$") end
			return names
		end

		local function pos(t, v)
			for i, x in ipairs(t) do if x == v then return i end end
		end

		it("walks a tree in the order asked, from a path", function()
			local base = dir:match("[^/]+$")
			assert.same({ base }, walk { cgroup = dir, order = "self_only" })
			local pre = walk { cgroup = dir, order = "descendants_pre" }
			assert.equal(4, #pre)
			assert.equal(base, pre[1])
			assert.is_true(pos(pre, "a") < pos(pre, "c"))
			local post = walk { cgroup = dir, order = "descendants_post" }
			assert.equal(4, #post)
			assert.equal(base, post[4])
			assert.is_true(pos(post, "c") < pos(post, "a"))
			local up = walk { cgroup = dir .. "/a/c", order = "ancestors_up" }
			assert.same({ "c", "a", base }, { up[1], up[2], up[3] })
		end)

		it("pinned, reads with cat as link:read() does", function()
			local link = assert(obj:program("dump_cgroup"):attach {
				cgroup = dir, order = "descendants_pre" })
			local pin = ("/sys/fs/bpf/ayac_iter_%d_%d"):format(PID, math.random(1e6))
			assert(link:pin(pin))
			local ok, out = pcall(helpers.capture, "cat " .. pin)
			os.remove(pin)
			assert.is_true(ok)
			assert.equal(link:read(), out)
			assert.equal(4, #lines_of(out))
			link:detach()
		end)

		it("fails for a path that is not a cgroup", function()
			local link, err, code = obj:program("dump_cgroup"):attach { cgroup = dir .. "/nope" }
			assert.is_nil(link)
			assert.equal("ENOENT", code)
			assert.matches("nope", err, 1, true)
			assert.has_error(function()
				obj:program("dump_cgroup"):attach { cgroup = dir, order = "sideways" }
			end)
		end)
	end)

	it("ksym: the symbols of /proc/kallsyms, by lines", function()
		local link = assert(obj:program("dump_ksym"):attach())
		local want = {}
		local f = assert(io.open("/proc/kallsyms"))
		local total = 0
		for line in f:lines() do
			total = total + 1
			local addr, name = line:match("^(%x+) %a ([%w_.]+)$")
			if name == "_stext" or name == "bpf_iter_run_prog" or name == "schedule" then
				want[("%x %s"):format(tonumber(addr, 16) or 0, name)] = true
				want[addr:gsub("^0+", "") .. " " .. name] = true
			end
		end
		f:close()
		local n, found = 0, 0
		for line in link:lines() do
			n = n + 1
			if want[line] then found = found + 1 end
		end
		link:detach()
		assert.is_true(found >= 3, "found " .. found)
		-- the same table: as many lines, give or take what others load meanwhile
		assert.is_true(math.abs(n - total) < total / 50, n .. " vs " .. total)
	end)

	it("tcp and udp: the sockets this process binds", function()
		local tfd, tport = bound_socket(1)
		local ufd, uport = bound_socket(2)
		local ok, err = pcall(function()
			local found = false
			for line in obj:program("dump_tcp"):attach():lines() do
				if line == ("2 10 %d"):format(tport) then found = true end -- AF_INET, LISTEN
			end
			assert.is_true(found, "tcp port " .. tport)
			local out = assert(ayac.iter(obj:program("dump_udp")))
			assert.is_truthy(("\n" .. out):find("\n" .. uport .. "\n", 1, true), "udp " .. uport)
		end)
		ffi.C.close(tfd)
		ffi.C.close(ufd)
		assert(ok, err)
	end)

	it("reads fail plainly: detached links, links that are not iterators", function()
		local link = assert(obj:program("dump_task"):attach())
		link:detach()
		local out, err, code = link:read()
		assert.is_nil(out)
		assert.equal("EBADF", code)
		assert.matches("detached", err, 1, true)
		out, err, code = link:lines()
		assert.is_nil(out)
		assert.equal("EBADF", code)
		local probes = assert(ayac.load(helpers.bpf("attach_probes"),
			{ globals = { target_tgid = PID } }))
		local tp = assert(probes:program("raw_sys_enter"):attach())
		out, err, code = tp:read()
		assert.is_nil(out)
		assert.equal("EINVAL", code)
		assert.matches("not an iterator", err, 1, true)
		probes:close()
		assert.has_error(function() obj:program("dump_task"):attach { pid = "me" } end)
		out, err, code = obj:program("dump_task"):attach { pid = PID, tid = PID }
		assert.is_nil(out)
		assert.equal("EINVAL", code)
	end)
end)
