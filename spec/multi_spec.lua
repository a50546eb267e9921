-- kprobe.multi and uprobe.multi (spec/bpf/multi.bpf.c): many functions under one
-- program and one link, by names (with a bpf_cookie each), by offsets, or by a glob.
-- The uprobe fixture (spec/fixtures/uprobe_target.c) calls ayacfix_exe_func(i) and
-- ayacfix_static_func(i) N times each, returning i + 1 and i + 2, so every count is
-- exact. Kernels without the multi link get one perf uprobe per function instead,
-- under the same program and one link: checked here by hiding the link
-- (AYAC_FEATURES=uprobe_multi=0) in a process of its own. kprobes are compiled out
-- of this kernel: the kprobe.multi specs run in scripts/vmtest's kernels.
local ffi = require "ffi"
pcall(ffi.cdef, "int getpid(void);")
pcall(ffi.cdef, "long syscall(long number, ...);")
local ayac = require "ayac"
local helpers = require "helpers"
local kernel = require "kernel"

local FIX = helpers.build .. "/spec/fixtures/"
local EXE, LIB = FIX .. "uprobe_target", FIX .. "libayacfix.so"
local N = 10
local SLOT = { up = 0, uret = 1, uret_sum = 2, auto = 3, kp = 4, kret = 5, ip_ok = 6 }
local PID = ffi.C.getpid()

local function sum(plus)
	local s = 0
	for i = 0, N - 1 do s = s + i + plus end
	return s
end

local function load()
	return assert(ayac.load(helpers.bpf("multi"), { globals = { target_tgid = PID } }))
end

local function get(obj, slot)
	return tonumber(obj:map("counts"):get(slot) or 0)
end

local function run(exe)
	local out, ok = helpers.capture((exe or EXE) .. " " .. N)
	assert(ok, out)
end

local MULTI = ayac.features().links.uprobe_multi

describe("uprobe.multi", function()
	it("names with a cookie each: one link, every call counted by cookie", function()
		local obj = load()
		local link = assert(obj:program("up_multi"):attach { path = EXE,
			symbols = { "ayacfix_exe_func", "ayacfix_static_func" }, cookies = { 16, 17 } })
		assert.equal(MULTI and "uprobe.multi" or "uprobe", link.kind)
		assert.equal(MULTI and 1 or 2, link:info().count)
		run()
		assert.equal(2 * N, get(obj, SLOT.up))
		assert.equal(N, get(obj, 16))
		assert.equal(N, get(obj, 17))
		if MULTI then -- perf uprobes have bpf_get_func_ip from Linux 6.4 only
			assert.equal(2 * N, get(obj, SLOT.ip_ok))
		end
		link:detach()
		run()
		assert.equal(2 * N, get(obj, SLOT.up))
		obj:close()
	end)

	it("a glob over the file's functions; return probes see the return values", function()
		local obj = load()
		-- the section (uretprobe.multi) makes it a return probe
		local link = assert(obj:program("uret_multi"):attach { path = EXE, pattern = "ayacfix_*_func" })
		run()
		assert.equal(2 * N, get(obj, SLOT.uret))
		assert.equal(sum(1) + sum(2), get(obj, SLOT.uret_sum))
		link:detach()
		-- '?' is one character: only ayacfix_exe_func
		link = assert(obj:program("up_multi"):attach { path = EXE, pattern = "ayacfix_?xe_func" })
		run()
		assert.equal(N, get(obj, SLOT.up))
		link:detach()
		-- a shared library (its exported symbols, .dynsym only)
		link = assert(obj:program("up_multi"):attach { path = LIB, pattern = "ayacfix_lib*" })
		run()
		assert.equal(2 * N, get(obj, SLOT.up))
		link:detach()
		obj:close()
	end)

	it("offsets, and pid", function()
		local obj = load()
		-- the offsets a pattern would have found: from a symbol attach's file offset
		local off = {}
		for line in helpers.capture("nm " .. EXE):gmatch("[^\n]+") do
			local addr, name = line:match("^(%x+) [tT] (ayacfix_%a+_func)$")
			if addr then off[name] = tonumber(addr, 16) end
		end
		-- a PIE executable's text lies at the same offset as its address
		local link = assert(obj:program("up_multi"):attach { path = EXE,
			offsets = { off.ayacfix_exe_func, off.ayacfix_static_func }, cookies = { 18, 19 } })
		run()
		assert.equal(N, get(obj, 18))
		assert.equal(N, get(obj, 19))
		link:detach()
		-- another process's pid: the fixture does not count
		link = assert(obj:program("up_multi"):attach { path = EXE, pattern = "ayacfix_*", pid = PID })
		run()
		link:detach()
		assert.equal(2 * N, get(obj, SLOT.up))
		obj:close()
	end)

	it("attaches from the section name (uprobe.multi/path:pattern)", function()
		if not io.open(helpers.root .. "/build/spec/fixtures/uprobe_target") then
			pending("the section names build/spec/fixtures/uprobe_target, not built here")
			return
		end
		local obj = load()
		local link = assert(obj:program("up_auto"):attach())
		run(helpers.root .. "/build/spec/fixtures/uprobe_target") -- the file the section names
		assert.equal(2 * N, get(obj, SLOT.auto))
		link:detach()
		obj:close()
	end)

	it("without the multi link: one uprobe per function, the same counts", function()
		local out, ok = helpers.capture(("AYAC_FEATURES=uprobe_multi=0 %s %s/spec/support/multi_run.lua %s %d 2>&1")
			:format(helpers.bin, helpers.root, EXE, N))
		assert.is_true(ok, out)
		assert.equal(("uprobe 2 uretprobe 2 | %d %d %d %d %d\n"):format(2 * N, 2 * N, sum(1) + sum(2), N, N), out)
		if MULTI then -- and with it, the same counts through one link each
			out = helpers.capture(("%s %s/spec/support/multi_run.lua %s %d 2>&1")
				:format(helpers.bin, helpers.root, EXE, N))
			assert.equal(("uprobe.multi 1 uprobe.multi 1 | %d %d %d %d %d\n"):format(2 * N, 2 * N,
				sum(1) + sum(2), N, N), out)
		end
	end)

	kernel.it("uprobe_session", "uprobe.session: one program at entry and return", function()
		local obj = assert(ayac.load(helpers.bpf("session")))
		local link = assert(obj:program("up_session"):attach { path = EXE, pattern = "ayacfix_*_func" })
		assert.equal("uprobe.session", link.kind)
		run()
		link:detach()
		assert.equal(2 * N, get(obj, 0))
		assert.equal(2 * N, get(obj, 1))
		obj:close()
	end)

	it("fails with the reason", function()
		local obj = load()
		local prog = obj:program("up_multi")
		local link, err, code = prog:attach { path = EXE, pattern = "no_such_*" }
		assert.is_nil(link)
		assert.equal("ENOENT", code)
		assert.matches("no function matches 'no_such_*'", err, 1, true)
		link, err, code = prog:attach { path = EXE, symbols = { "no_such_function" } }
		assert.is_nil(link)
		assert.equal("ENOENT", code)
		assert.has_error(function()
			prog:attach { path = EXE, symbols = { "ayacfix_exe_func" }, cookies = { 1, 2 } }
		end)
		assert.has_error(function() prog:attach { path = EXE, symbols = {} } end)
		link, err, code = prog:attach()
		assert.is_nil(link)
		assert.equal("EINVAL", code)
		assert.matches("needs a target; pass one: prog:attach{ path=", err, 1, true)
		obj:close()
	end)
end)

describe("kprobe.multi", function()
	local SYS_getpid = ffi.cast("long", 39)
	local function getpids(n) for _ = 1, n do ffi.C.syscall(SYS_getpid) end end

	-- getpid() calls __task_pid_nr_ns once (as the fentry spec counts it); the kprobe
	-- programs count this process only.
	kernel.it("kprobe", "names with cookies and a glob of kernel functions; return probes", function()
		local obj = load()
		local link = assert(obj:program("kp_multi"):attach {
			funcs = { "__task_pid_nr_ns" }, cookies = { 20 } })
		local ret = assert(obj:program("kret_multi"):attach { pattern = "__task_pid_nr_n?" })
		getpids(N)
		link:detach()
		ret:detach()
		assert.equal(N, get(obj, SLOT.kp))
		assert.equal(N, get(obj, 20))
		assert.equal(N, get(obj, SLOT.ip_ok))
		assert.equal(N, get(obj, SLOT.kret))
		obj:close()
	end)

	it("fails plainly where the kernel cannot", function()
		local obj = load()
		local link, err, code = obj:program("kp_multi"):attach { pattern = "ayac_no_such_fn_*" }
		assert.is_nil(link)
		assert.is_string(code)
		assert.matches("kprobe.multi 'ayac_no_such_fn_*'", err, 1, true)
		assert.has_error(function() obj:program("kp_multi"):attach { funcs = { 1 } } end)
		obj:close()
	end)
end)
