-- Symbols: ayac.ksym/kaddr against /proc/kallsyms, ayac.usym against the run-time
-- addresses spec/fixtures/symtarget prints of its own functions (PIE, fixed-address,
-- stripped with a build-id debug file; its stripped shared library), stack traces a
-- program of spec/bpf/toolkit.bpf.c takes, and the kernel's system call numbers.
local ffi = require "ffi"
local h = require "helpers"
local ayac = require "ayac"
local syms = require "ayac.syms"

require("helpers").cdef([[
int getpid(void);
int getppid(void);
int setenv(const char *name, const char *value, int overwrite);
int unsetenv(const char *name);
]])

local FIX = h.build .. "/spec/fixtures"
local PID = ffi.C.getpid()

-- /proc/kallsyms as the spec reads it: entries in file order.
local function kallsyms()
	local list = {}
	for line in io.lines("/proc/kallsyms") do
		local a, t, name, mod = line:match("^(%x+) (%a) (%S+)%s*%[?([^%]]*)%]?")
		if a then
			list[#list + 1] = { addr = syms.to_u64("0x" .. a), hex = a, type = t, name = name,
				module = mod ~= "" and mod or nil }
		end
	end
	return list
end

-- Distinct addresses in order, each with the first entry listed at it (what ksym says).
local function by_address(list)
	local first, addrs = {}, {}
	for _, e in ipairs(list) do
		if e.type ~= "a" and e.type ~= "A" and e.addr ~= 0 and not first[e.hex] then
			first[e.hex] = e
			addrs[#addrs + 1] = e
		end
	end
	table.sort(addrs, function(x, y) return x.addr < y.addr end)
	return addrs
end

describe("ayac.ksym", function()
	local obj, addrs
	setup(function()
		-- Our own BPF program puts a "[bpf]" module symbol into kallsyms.
		obj = assert(ayac.load(h.bpf("toolkit"), { globals = { target_tgid = PID } }))
		ayac.ksym_refresh()
		addrs = by_address(kallsyms())
	end)
	teardown(function() obj:close() end)

	it("names symbol+N for addresses taken from /proc/kallsyms", function()
		local checked = 0
		math.randomseed(7)
		for _ = 1, 300 do
			local i = math.random(1, #addrs - 1)
			local e, nxt = addrs[i], addrs[i + 1]
			local gap = tonumber(nxt.addr - e.addr)
			if not e.module and gap > 1 then
				local n = math.random(0, math.min(gap - 1, 4096))
				local name, off, mod = ayac.ksym(e.addr + n)
				assert.are.same({ e.name, n, nil }, { name, off, mod })
				checked = checked + 1
			end
		end
		assert.is_true(checked > 100)
	end)

	it("names the exact start of a symbol with offset 0, from a hex string too", function()
		local e = addrs[math.floor(#addrs / 2)]
		assert.are.same({ e.name, 0 }, { ayac.ksym(e.addr) })
		assert.are.same({ e.name, 0 }, { ayac.ksym("0x" .. e.hex) })
	end)

	it("answers past the last symbol with the last symbol", function()
		local last = addrs[#addrs]
		local name, off, mod = ayac.ksym(last.addr + 100)
		assert.are.same({ last.name, 100, last.module }, { name, off, mod })
	end)

	it("names module symbols with their module", function()
		local tag
		for _, e in ipairs(addrs) do
			if e.module == "bpf" and e.name:match("_on_lseek$") then tag = e end
		end
		assert.is_not_nil(tag, "our program's bpf_prog_<tag>_on_lseek is in /proc/kallsyms")
		assert.are.same({ tag.name, 8, "bpf" }, { ayac.ksym(tag.addr + 8) })
		assert.are.equal(tag.addr, ayac.kaddr(tag.name))
		assert.are.equal(tag.addr, ayac.kaddr("bpf:" .. tag.name))
		local none, _, code = ayac.kaddr("vmlinux:" .. tag.name)
		assert.is_nil(none)
		assert.are.equal("ENOENT", code)
	end)

	it("gives exact 64-bit addresses from kaddr", function()
		local e = addrs[#addrs - 10]
		if e.module then e = addrs[100] end
		local a = ayac.kaddr(e.name)
		assert.is_true(ffi.istype("uint64_t", a))
		assert.are.equal(e.addr, a)
		local none, msg, code = ayac.kaddr("ayac_no_such_symbol")
		assert.is_nil(none)
		assert.matches("ayac_no_such_symbol", msg)
		assert.are.equal("ENOENT", code)
	end)

	it("refuses numbers a double cannot hold exactly, and garbage", function()
		assert.has_error(function() ayac.ksym(2 ^ 63) end)
		assert.has_error(function() ayac.ksym(1.5) end)
		assert.has_error(function() ayac.ksym("0xnothex") end)
		assert.has_error(function() ayac.ksym("0x1ffffffffffffffff") end)
		assert.has_error(function() ayac.ksym({}) end)
		assert.has_error(function() ayac.kaddr(12) end)
		local none, _, code = ayac.ksym(1)
		assert.is_nil(none)
		assert.are.equal("ENOENT", code)
	end)
end)

-- symtarget: started with a file that keeps it running; its pid and addresses.
local function spawn(exe, env)
	local run = h.tmpname(".run")
	h.write(run, "")
	local p = assert(io.popen((env or "") .. " " .. exe .. " " .. run, "r"))
	local t = { run = run, proc = p }
	for line in p:lines() do
		if line == "ready" then break end
		local k, v = line:match("^(%S+) (%S+)$")
		if k then t[k] = v end
	end
	t.pid = tonumber(t.pid)
	assert(t.pid, "symtarget did not start")
	return t
end

local function stop(t)
	os.remove(t.run)
	t.proc:close()
end

local function addr(t, name, off)
	return syms.to_u64(t[name]) + (off or 0)
end

local function basename(p) return p and p:match("[^/]+$") end

local function check_process(t, exe, static_ok)
	local name, off, path = ayac.usym(t.pid, addr(t, "sym_outer"))
	assert.are.same({ "sym_outer", 0, exe }, { name, off, basename(path) })
	name, off, path = ayac.usym(t.pid, addr(t, "sym_middle", 5))
	assert.are.same({ "sym_middle", 5, exe }, { name, off, basename(path) })
	name, off, path = ayac.usym(t.pid, addr(t, "sym_inner", 3))
	assert.are.same({ "sym_inner", 3, exe }, { name, off, basename(path) })
	if static_ok then -- a static function: only .symtab (or the debug file) has it
		name, off = ayac.usym(t.pid, addr(t, "sym_static", 1))
		assert.are.same({ "sym_static", 1 }, { name, off })
	end
	name, off, path = ayac.usym(t.pid, addr(t, "symlib_leaf", 2))
	assert.are.same({ "symlib_leaf", 2, "libsymfix.so" }, { name, off, basename(path) })
end

describe("ayac.usym", function()
	local started = {}
	after_each(function()
		for _, t in ipairs(started) do stop(t) end
		started = {}
	end)

	local function run(exe, env)
		local t = spawn(FIX .. "/" .. exe, env)
		started[#started + 1] = t
		return t
	end

	it("resolves a PIE executable and its stripped shared library", function()
		check_process(run("symtarget"), "symtarget", true)
	end)

	it("resolves a fixed-address (non-PIE) executable", function()
		local t = run("symtarget_nopie")
		assert.is_true(tonumber(addr(t, "sym_outer")) < 0x1000000) -- linked at 0x400000
		check_process(t, "symtarget_nopie", true)
	end)

	it("reads a stripped executable's symbols from its build-id debug file", function()
		local t = run("symtarget_stripped")
		ffi.C.setenv("AYAC_DEBUG_ROOT", h.build .. "/spec/fixtures/nowhere", 1)
		ayac.usym_forget()
		-- Without the debug file: .dynsym has no static function (nor, stripped, any
		-- of the executable's own).
		assert.are.equal("[unknown]", (ayac.usym(t.pid, addr(t, "sym_static", 1))))
		ffi.C.setenv("AYAC_DEBUG_ROOT", FIX .. "/debug", 1)
		ayac.usym_forget()
		check_process(t, "symtarget_stripped", true)
		ffi.C.unsetenv("AYAC_DEBUG_ROOT")
		ayac.usym_forget()
	end)

	it("says [unknown] where no symbol covers an address, with its mapping", function()
		local t = run("symtarget")
		local stack
		for line in io.lines("/proc/" .. t.pid .. "/maps") do
			local s = line:match("^(%x+)%-%x+ .*%[stack%]$")
			if s then stack = syms.to_u64("0x" .. s) end
		end
		assert.are.same({ "[unknown]", nil, "[stack]" }, { ayac.usym(t.pid, stack + 16) })
		local none, _, code = ayac.usym(t.pid, 16)
		assert.is_nil(none)
		assert.are.equal("ENOENT", code)
	end)

	it("keeps resolving a process that has exited, once its mappings were seen", function()
		local t = run("symtarget")
		assert.are.equal("sym_inner", (ayac.usym(t.pid, addr(t, "sym_inner"))))
		stop(t)
		started = {}
		local name, off = ayac.usym(t.pid, addr(t, "sym_middle", 2))
		assert.are.same({ "sym_middle", 2 }, { name, off })
		name, off = ayac.usym(t.pid, addr(t, "symlib_leaf", 1))
		assert.are.same({ "symlib_leaf", 1 }, { name, off })
	end)

	it("fails with ESRCH for a process it never saw that is gone", function()
		local t = spawn(FIX .. "/symtarget")
		stop(t)
		ayac.usym_forget(t.pid)
		local none, msg, code = ayac.usym(t.pid, addr(t, "sym_outer"))
		assert.is_nil(none)
		assert.matches(tostring(t.pid), msg)
		assert.are.equal("ESRCH", code)
	end)

	it("raises on a bad pid or address", function()
		assert.has_error(function() ayac.usym(0, 1) end)
		assert.has_error(function() ayac.usym("x", 1) end)
		assert.has_error(function() ayac.usym(PID, 2 ^ 60) end)
	end)
end)

local function wait_for(cond, what)
	local deadline = os.time() + 20
	while os.time() < deadline do
		if cond() then return end
		ffi.C.getpid()
		os.execute("sleep 0.01")
	end
	error("timed out waiting for " .. (type(what) == "function" and what() or what))
end

describe("ayac.stack", function()
	local obj, links, t

	after_each(function()
		for _, l in ipairs(links or {}) do l:detach() end
		links = {}
		if obj then obj:close() end
		obj = nil
		if t then stop(t) end
		t = nil
	end)

	it("symbolizes a user stack: a uretprobe's call chain in symtarget", function()
		t = spawn(FIX .. "/symtarget")
		obj = assert(ayac.load(h.bpf("toolkit"), { globals = { uprobe_tgid = t.pid } }))
		local ids = obj:map("stack_ids")
		ids[2] = -1
		links = { assert(obj:program("on_leaf_return"):attach {
			path = FIX .. "/libsymfix.so", symbol = "symlib_leaf", retprobe = true, pid = t.pid }) }
		wait_for(function() return ids[2] >= 0 end, "the uretprobe")
		local frames = assert(ayac.stack(obj:map("stacks"), ids[2], { pid = t.pid }))
		local names = {}
		for i = 1, 4 do names[i] = frames[i].name end
		assert.are.same({ "sym_inner", "sym_middle", "sym_outer", "main" }, names)
		assert.are.equal("symtarget", basename(frames[1].module))
		assert.is_true(frames[1].offset > 0 and frames[1].offset < 64)
		assert.is_true(ffi.istype("uint64_t", frames[1].addr))
		assert.matches("^    sym_inner%+%d+\n    sym_middle%+%d+\n    sym_outer%+%d+\n    main%+%d+\n",
			ayac.format_stack(frames))
		assert.matches("main;sym_outer;sym_middle;sym_inner$", ayac.folded(frames))
		assert.matches("^symtarget;.*main;sym_outer;sym_middle;sym_inner$", ayac.folded(frames, "symtarget"))
		assert.matches("sym_inner%+%d+ %(.*/symtarget%)\n", ayac.format_stack(frames, { modules = true }))
	end)

	it("symbolizes a kernel stack, and numbers getppid as the kernel's tracepoint does", function()
		obj = assert(ayac.load(h.bpf("toolkit"), { globals = { target_tgid = PID } }))
		local ids = obj:map("stack_ids")
		ids[0], ids[1] = -1, -1
		links = { assert(obj:program("on_getppid"):attach()) }
		local deadline = os.time() + 20
		while os.time() < deadline and not (ids[0] >= 0 and ids[1] >= 0) do
			ffi.C.getppid()
			-- EFAULT (-14) for the kernel stack while the user one works
			if ids[0] == -14 and ids[1] >= 0 and (require "kernel").no_syscall_kstack() then
				return
			end
			os.execute("sleep 0.01")
		end
		assert(ids[0] >= 0 and ids[1] >= 0, ("timed out waiting for getppid's stacks (stack " ..
			"ids %s, %s; -1: never ran)"):format(tostring(ids[0]), tostring(ids[1])))
		local k = assert(ayac.stack(obj:map("stacks"), ids[0]))
		local seen = {}
		for _, f in ipairs(k) do
			seen[f.name] = true
			assert.is_true(f.addr >= 0xffff800000000000ULL)
			assert.is_nil(f.module)
		end
		assert.is_true(seen.do_syscall_64 or seen.el0_svc or seen.invoke_syscall or false,
			"a syscall entry function in " .. ayac.format_stack(k))
		local u = assert(ayac.stack(obj:map("stacks"), ids[1], { pid = PID }))
		assert.matches("getppid", u[1].name)
		assert.matches("libc", u[1].module)
		-- Without a pid, user frames stay unknown and print as addresses.
		local bare = assert(ayac.stack(obj:map("stacks"), ids[1]))
		assert.are.equal("[unknown]", bare[1].name)
		assert.matches("^    0x%x+\n", ayac.format_stack(bare))
		-- The number the tracepoint reports (struct syscall_trace_enter.nr) is ours.
		local nr = obj:global("getppid_nr")
		assert.are.equal(nr, ayac.syscall_nr("getppid"))
		assert.are.equal("getppid", (ayac.syscall_name(nr)))
	end)

	it("reports a failed stack id, and takes arrays of addresses", function()
		obj = assert(ayac.load(h.bpf("toolkit"), { globals = { target_tgid = PID } }))
		local none, msg, code = ayac.stack(obj:map("stacks"), -14)
		assert.is_nil(none)
		assert.matches("EFAULT", msg)
		assert.are.equal("EINVAL", code)
		none, _, code = ayac.stack(obj:map("stacks"), 60) -- never filled
		assert.is_nil(none)
		assert.are.equal("ENOENT", code)
		local a = ayac.kaddr("do_sys_openat2") or ayac.kaddr("do_syscall_64")
		local frames = ayac.stack({ a + 1, a })
		assert.are.equal(1, frames[1].offset)
		assert.are.equal(0, frames[2].offset)
		assert.has_error(function() ayac.stack(42) end)
	end)
end)

describe("ayac.syscall_name / syscall_nr", function()
	it("reads the running kernel's table, agreeing with its tracepoints", function()
		local all, source = assert(ayac.syscalls())
		assert.are.equal("kernel", source)
		local tracefs = io.open("/sys/kernel/tracing/events/syscalls") and "/sys/kernel/tracing" or
			"/sys/kernel/debug/tracing"
		local n = 0
		for nr in pairs(all) do
			local abi, kname = ayac.syscall_name(nr)
			assert.are.equal(all[nr], abi)
			local f = io.open(tracefs .. "/events/syscalls/sys_enter_" .. kname .. "/id")
			if f then
				f:close()
				n = n + 1
			end
			assert.are.equal(nr, ayac.syscall_nr(kname))
		end
		assert.is_true(n > 200, "kernel names are tracepoint names")
	end)

	it("uses the ABI names, and takes the kernel's and sys_ names too", function()
		local stat = ayac.syscall_nr("stat")
		assert.are.equal(stat, ayac.syscall_nr("newstat")) -- x86-64: sys_newstat
		assert.are.equal(ayac.syscall_nr("getpid"), ayac.syscall_nr("sys_getpid"))
		assert.is_nil(ayac.syscall_name(100000))
		assert.is_nil(ayac.syscall_name(-1))
		local none, _, code = ayac.syscall_nr("no_such_call")
		assert.is_nil(none)
		assert.are.equal("ENOENT", code)
		assert.has_error(function() ayac.syscall_name("read") end)
	end)
end)
