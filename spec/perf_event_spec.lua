-- perf_event programs on sampling perf events (spec/bpf/perf_event.bpf.c).
--
-- Exact: a minor-faults event with sample_period = 1 on this thread runs the program
-- once per fault. The program reads the event's counter (bpf_perf_prog_read_value) and
-- the thread's own fault count (task->min_flt) at the first and last samples, so the
-- number of samples must equal both differences plus one, and cover the pages this
-- spec touched. (Fewer than 400 faults a tick: the kernel's sample throttle, which
-- could drop samples, stays out of the way.)
-- Bounded: cpu-clock with a period turns CPU time into samples; the spec burns a known
-- amount of this thread's CPU time (CLOCK_THREAD_CPUTIME_ID, so a busy machine only
-- makes it take longer) and expects that many samples give or take a few.
local ffi = require "ffi"
require("helpers").cdef([[
int getpid(void);
long syscall(long number, ...);
void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off);
int munmap(void *addr, size_t len);
struct ayac_spec_timespec { long tv_sec; long tv_nsec; };
int clock_gettime(int clk, struct ayac_spec_timespec *ts);
]])

local ayac = require "ayac"
local helpers = require "helpers"

local OBJ = helpers.bpf("perf_event")
local PID = ffi.C.getpid()
local SYS_gettid = ffi.cast("long", 186)
local TID = tonumber(ffi.C.syscall(SYS_gettid))
local CLOCK_THREAD_CPUTIME_ID = 3
local PAGE = 4096

local SLOT = { samples = 0, first_value = 1, last_value = 2, first_flt = 3, last_flt = 4,
	read_errors = 5, cpu0 = 8 }

local function load()
	return assert(ayac.load(OBJ, { globals = { target_tgid = PID } }))
end

local function get(obj, slot)
	return tonumber(obj:map("counts"):get(slot) or 0)
end

local ts = ffi.new("struct ayac_spec_timespec")
local function thread_cpu()
	assert(ffi.C.clock_gettime(CLOCK_THREAD_CPUTIME_ID, ts) == 0)
	return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

-- Burns `secs` of this thread's CPU time.
local function burn(secs)
	local t0, x = thread_cpu(), 0
	while thread_cpu() - t0 < secs do
		for i = 1, 10000 do x = x + i end
	end
	return x
end

local function online_cpus()
	local f = assert(io.open("/sys/devices/system/cpu/online"))
	local s = f:read("*l")
	f:close()
	local n = 0
	for part in s:gmatch("[^,]+") do
		local a, b = part:match("^(%d+)-(%d+)$")
		n = n + (a and (tonumber(b) - tonumber(a) + 1) or 1)
	end
	return n
end

describe("perf_event", function()
	it("runs once per event: minor faults of this thread, counted three ways", function()
		local obj = load()
		local pages = 150
		local mem = ffi.C.mmap(nil, pages * PAGE, 3, 0x22, -1, 0) -- rw, private|anonymous
		assert(ffi.cast("intptr_t", mem) ~= -1)
		local p = ffi.cast("uint8_t *", mem)
		local link = assert(obj:program("on_sample"):attach {
			type = "software", config = "minor-faults", sample_period = 1, pid = TID })
		assert.equal("perf_event", link.kind)
		assert.equal(1, link:info().count)
		for i = 0, pages - 1 do p[i * PAGE] = 1 end -- one fault per page
		link:detach()
		ffi.C.munmap(mem, pages * PAGE)
		local n = get(obj, SLOT.samples)
		assert.is_true(n >= pages, ("%d samples for %d page faults"):format(n, pages))
		assert.equal(0, get(obj, SLOT.read_errors))
		assert.equal(n, get(obj, SLOT.last_value) - get(obj, SLOT.first_value) + 1)
		assert.equal(n, get(obj, SLOT.last_flt) - get(obj, SLOT.first_flt) + 1)
		-- detached: faults no longer run it
		mem = ffi.C.mmap(nil, 16 * PAGE, 3, 0x22, -1, 0)
		p = ffi.cast("uint8_t *", mem)
		for i = 0, 15 do p[i * PAGE] = 1 end
		ffi.C.munmap(mem, 16 * PAGE)
		assert.equal(n, get(obj, SLOT.samples))
		obj:close()
	end)

	it("opens one event per online CPU when neither pid nor cpu is given", function()
		local obj = load()
		local link = assert(obj:program("on_sample"):attach { sample_freq = 99 })
		assert.equal(online_cpus(), link:info().count)
		burn(0.5)
		link:detach()
		assert.equal(0, link:info().count)
		local n = get(obj, SLOT.samples)
		-- cpu-clock at 99 Hz: ~49 samples in 0.5 s of this thread's CPU time
		assert.is_true(n >= 30 and n <= 70, n .. " samples in 0.5 s at 99 Hz")
		local per_cpu = 0
		for cpu = 0, online_cpus() - 1 do per_cpu = per_cpu + get(obj, SLOT.cpu0 + cpu) end
		assert.equal(n, per_cpu)
		obj:close()
	end)

	it("follows one thread with a sample_period in its own CPU time (task-clock)", function()
		local obj = load()
		local link = assert(obj:program("on_sample"):attach {
			type = "software", config = "task-clock", sample_period = 2000000, pid = TID })
		assert.equal(1, link:info().count)
		burn(0.3) -- 300 ms: ~150 samples of 2 ms
		link:detach()
		local n = get(obj, SLOT.samples)
		-- at most one sample per 2 ms of this thread's time (fewer where the timer
		-- fires late: an emulated VM)
		assert.is_true(n >= 10 and n <= 170, n .. " samples for 300 ms at 2 ms")
		-- and the event's own clock (read by the program) moved at least a period
		-- from one sample to the next
		local ns = get(obj, SLOT.last_value) - get(obj, SLOT.first_value)
		assert.is_true(ns >= (n - 1) * 2000000 * 0.9, ("%d ns for %d samples"):format(ns, n))
		obj:close()
	end)

	it("takes one CPU and numeric type/config", function()
		local obj = load()
		-- type 1 = PERF_TYPE_SOFTWARE, config 0 = cpu-clock
		local link = assert(obj:program("on_sample"):attach {
			type = 1, config = 0, sample_period = 1000000, cpu = 0 })
		assert.equal(1, link:info().count)
		link:detach()
		obj:close()
	end)

	it("is owned by its object: close detaches every event", function()
		local obj = load()
		local prog = obj:program("on_sample")
		local id = prog:id()
		local link = assert(prog:attach { sample_freq = 49 })
		obj:close()
		assert.is_false(link.attached)
		assert.equal(0, link:info().count)
		-- with its events closed, nothing holds the program: it leaves the kernel
		local gone = false
		for _ = 1, 500 do
			local _, ok = helpers.capture("bpftool prog show id " .. id .. " >/dev/null 2>&1")
			if not ok then gone = true break end
			helpers.capture("sleep 0.01")
		end
		assert.is_true(gone, "program " .. id .. " still loaded after close")
	end)

	it("fails with the reason, nil, message, code", function()
		local obj = load()
		local prog = obj:program("on_sample")
		local link, err, code = prog:attach { sample_freq = 99, sample_period = 10 }
		assert.is_nil(link)
		assert.equal("EINVAL", code)
		assert.matches("exactly one of sample_period and sample_freq", err, 1, true)
		link, err, code = prog:attach { config = "cpu-clock" } -- no rate
		assert.is_nil(link)
		assert.equal("EINVAL", code)
		link, err, code = prog:attach { type = "software", config = "no-such", sample_freq = 9 }
		assert.is_nil(link)
		assert.equal("EINVAL", code)
		assert.matches("unknown software event 'no-such'", err, 1, true)
		assert.matches("program 'on_sample'", err, 1, true)
		link, err, code = prog:attach { type = "no_such_pmu", config = 1, sample_freq = 9 }
		assert.is_nil(link)
		assert.equal("EINVAL", code)
		assert.matches("unknown perf event type 'no_such_pmu'", err, 1, true)
		link, err, code = prog:attach { type = "cache", config = "L9-cache-loads", sample_freq = 9 }
		assert.is_nil(link)
		assert.matches("unknown cache event", err, 1, true)
		assert.has_error(function() prog:attach { type = "software", sample_freq = 9 } end)
		assert.has_error(function() prog:attach { sample_freq = "fast" } end)
		assert.has_error(function() prog:attach { sample_freq = 99, cpu = -2 } end)
		obj:close()
	end)

	it("names hardware events; a machine without them says so", function()
		local obj = load()
		local link, err, code = obj:program("on_sample"):attach {
			type = "hardware", config = "cycles", sample_period = 1000000 }
		if link then
			assert.equal(online_cpus(), link:info().count)
			link:detach()
		else
			assert.equal("ENOENT", code)
			assert.matches("no such event", err, 1, true)
		end
		obj:close()
	end)
end)

describe("examples/profile.lua", function()
	it("prints folded stacks of a busy process, at most 99 a second", function()
		local root = helpers.root
		-- a busy child: its pid filters the samples
		local out, ok = helpers.capture(("cd %s && (sh -c 'while :; do :; done' & bp=$!; "
			.. "%s examples/profile.lua 1 99 $bp 2>/dev/null; kill $bp)"):format(root, helpers.bin))
		assert.is_true(ok, out)
		local total, user = 0, 0
		for line in out:gmatch("[^\n]+") do
			local stack, n = line:match("^(.-) (%d+)$")
			assert.is_not_nil(stack, line)
			assert.matches("^sh", stack) -- comm first
			if stack:match("^sh;[^;]") then user = user + 1 end -- user frames
			total = total + tonumber(n)
		end
		assert.is_true(user >= 1, out)
		-- one second of one always-runnable process: at most ~99 samples, fewer when it
		-- waits for a CPU on a busy machine (the exact rates are checked above)
		assert.is_true(total >= 1 and total <= 110, total .. " samples")
	end)
end)
