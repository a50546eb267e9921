-- What the running kernel can do, for specs that need more than every kernel has.
--
--   local kernel = require "kernel"
--   kernel.has("kprobe")            --> true, or false and the reason
--   kernel.it("fentry", "counts getpid calls", function() ... end)
--   kernel.it({ "kprobe", "kretprobe" }, "...", fn)
--
-- kernel.it declares the test when every feature is there, and otherwise declares it
-- pending with the reason, so busted prints it: "needs fentry: load program ...".
-- In scripts/vmtest's guests (AYAC_VMTEST=1) the features in AYAC_VM_EXPECT must be
-- there: a spec that needs one the guest kernel lacks fails instead of being skipped,
-- so that a broken probe cannot hide a spec where it is supposed to run; and each
-- gated spec that passed there is written to $AYAC_VM_GATED, which scripts/vmtest
-- sums up per feature ("ran in the VM: kprobe 5, fentry 1, …").
--
-- Features:
--   kprobe, kretprobe   the kprobe PMU (/sys/bus/event_source/devices/kprobe)
--   ksyscall            kprobe + the arch's syscall wrappers (__x64_sys_getpid in kallsyms)
--   iter_map_elem       an iter/bpf_map_elem program (spec/bpf/iter.bpf.c) loads
--   freplace            an extension (spec/bpf/freplace.bpf.c) loads and attaches
--   uprobe_session      a uprobe.session program (spec/bpf/session.bpf.c) attaches
--   global_spin_lock    spin locks in global data (spec/bpf/loader_lock.bpf.c) load
--   struct_ops_link     .struct_ops.link maps (Linux 6.4) are created
--   fentry, fexit, fmod_ret, lsm
--                       a do-nothing program of that kind (spec/bpf/vm_probe.bpf.c)
--                       loads and attaches through ayac; lsm also needs "bpf" among
--                       the active LSMs (/sys/kernel/security/lsm) where that is readable
-- Each is probed once per process.
local M = {}

local root = os.getenv("AYAC_ROOT") or "."
local build = os.getenv("AYAC_BUILD") or (root .. "/build")

M.in_vm = os.getenv("AYAC_VMTEST") == "1"
M.expected = {}
for f in (os.getenv("AYAC_VM_EXPECT") or ""):gmatch("%S+") do M.expected[f] = true end

local function read(path)
	local f = io.open(path, "rb")
	if not f then return nil end
	local s = f:read("*a")
	f:close()
	return s
end

local function exists(path)
	local f = io.open(path, "rb")
	if f then f:close() return true end
	return false
end

M.release = (read("/proc/sys/kernel/osrelease") or "?"):gsub("%s+$", "")

-- Whether the running kernel is Linux major.minor or later, for what older kernels
-- lack without a way to ask (a helper offered to more program types, a link kind).
function M.at_least(major, minor)
	local a, b = M.release:match("^(%d+)%.(%d+)")
	a, b = tonumber(a), tonumber(b)
	return a > major or (a == major and b >= minor)
end

-- Debian's 6.1 (the qemu matrix's) walks no kernel frames from a syscall tracepoint:
-- bpf_get_stackid fails there every time. A spec that got no kernel stack calls this:
-- on kernels before 6.6 it declares the test pending and returns true; on newer ones
-- it returns false, and the spec fails as it should.
function M.no_syscall_kstack()
	if M.at_least(6, 6) then return false end
	getfenv(2).pending("this kernel (" .. M.release .. ") gives no kernel stack from a " ..
		"syscall tracepoint (bpf_get_stackid fails)")
	return true
end

local probes = {}

function probes.kprobe()
	if exists("/sys/bus/event_source/devices/kprobe/type") then return true end
	return false, "this kernel has no kprobe PMU (/sys/bus/event_source/devices/kprobe)"
end

function probes.kretprobe()
	local ok, why = M.has("kprobe")
	if not ok then return false, why end
	if exists("/sys/bus/event_source/devices/kprobe/format/retprobe") then return true end
	return false, "the kprobe PMU has no retprobe format bit"
end

function probes.ksyscall()
	local ok, why = M.has("kprobe")
	if not ok then return false, why end
	local f = io.open("/proc/kallsyms", "r")
	if not f then return false, "no /proc/kallsyms" end
	for line in f:lines() do
		if line:find(" __x64_sys_getpid", 1, true) and line:match(" __x64_sys_getpid$") then
			f:close()
			return true
		end
	end
	f:close()
	return false, "no __x64_sys_getpid in /proc/kallsyms (no syscall wrappers)"
end

-- Loads and attaches one program of spec/bpf/vm_probe.bpf.o, others not loaded.
local function try_program(want)
	local ok_ayac, ayac = pcall(require, "ayac")
	if not ok_ayac then return false, "require 'ayac' failed: " .. tostring(ayac) end
	local path = build .. "/spec/bpf/vm_probe.bpf.o"
	local names = { "probe_fentry", "probe_fexit", "probe_fmod_ret", "probe_lsm" }
	local autoload = {}
	for _, n in ipairs(names) do
		if n ~= want then autoload[n] = false end
	end
	local obj, err = ayac.load(path, { autoload = autoload })
	if not obj then return false, err end
	local link, aerr = obj:program(want):attach()
	if link then link:detach() end
	obj:close()
	if not link then return false, aerr end
	return true
end

function probes.fentry() return try_program("probe_fentry") end
function probes.fexit() return try_program("probe_fexit") end
function probes.fmod_ret() return try_program("probe_fmod_ret") end

function probes.lsm()
	local lsms = read("/sys/kernel/security/lsm")
	if lsms and not (("," .. lsms .. ","):find(",bpf,", 1, true)) then
		return false, "bpf is not an active LSM (" .. lsms .. "): boot with lsm=...,bpf"
	end
	return try_program("probe_lsm")
end

-- Loads one program of an object with the others not loaded: true, or false and why.
local function try_load(object, want)
	local ok_ayac, ayac = pcall(require, "ayac")
	if not ok_ayac then return false, "require 'ayac' failed: " .. tostring(ayac) end
	local obj, err = ayac.open(build .. "/spec/bpf/" .. object .. ".bpf.o")
	if not obj then return false, err end
	for name, prog in obj:programs() do
		if name ~= want then prog:set_autoload(false) end
	end
	local ok, lerr = obj:load()
	obj:close()
	if not ok then return false, lerr end
	return true
end

-- freplace: an extension loads against a loaded program and attaches (spec/bpf/freplace.bpf.c)
function probes.freplace()
	local ok_ayac, ayac = pcall(require, "ayac")
	if not ok_ayac then return false, "require 'ayac' failed: " .. tostring(ayac) end
	local obj, err = ayac.load(build .. "/spec/bpf/freplace.bpf.o",
		{ extensions = { "replace_decide" } })
	if not obj then return false, err end
	local link, aerr = obj:program("replace_decide"):attach {
		target_prog = obj:program("target") }
	if link then link:detach() end
	obj:close()
	if not link then return false, aerr end
	return true
end

-- uprobe.session: a session program (spec/bpf/session.bpf.c) loads and attaches
function probes.uprobe_session()
	local ok_ayac, ayac = pcall(require, "ayac")
	if not ok_ayac then return false, "require 'ayac' failed: " .. tostring(ayac) end
	local obj, err = ayac.load(build .. "/spec/bpf/session.bpf.o")
	if not obj then return false, err end
	local link, aerr = obj:program("up_session"):attach {
		path = build .. "/spec/fixtures/uprobe_target", symbols = { "main" } }
	if link then link:detach() end
	obj:close()
	if not link then return false, aerr end
	return true
end

-- .struct_ops.link maps (Linux 6.4): spec/bpf/struct_ops.bpf.c with only its link map
function probes.struct_ops_link()
	local ok_ayac, ayac = pcall(require, "ayac")
	if not ok_ayac then return false, "require 'ayac' failed: " .. tostring(ayac) end
	local obj, err = ayac.open(build .. "/spec/bpf/struct_ops.bpf.o")
	if not obj then return false, err end
	obj:map("ayac_cc_plain"):set_autocreate(false)
	local ok, lerr = obj:load()
	obj:close()
	if not ok then return false, lerr end
	return true
end

-- a struct bpf_spin_lock in global data (Linux 6.2)
function probes.global_spin_lock() return try_load("loader_lock", "lock_add") end

-- bpf_map_elem iterators: some kernels refuse to load them (EPERM after verification)
function probes.iter_map_elem() return try_load("iter", "dump_elems") end

local cache = {}

-- true, or false and why not.
function M.has(feature)
	local c = cache[feature]
	if not c then
		local probe = probes[feature]
		if not probe then error("kernel.has: unknown feature '" .. tostring(feature) .. "'", 2) end
		local ok, why = probe()
		c = { ok = ok and true or false, why = why }
		cache[feature] = c
	end
	return c.ok, c.why
end

-- The first missing feature of a list (or one name): name and reason, or nil.
function M.missing(features)
	if type(features) == "string" then features = { features } end
	for _, f in ipairs(features) do
		local ok, why = M.has(f)
		if not ok then return f, (why or "not supported") end
	end
	return nil
end

-- Declares the test, or a pending one that says what is missing and why. Inside
-- scripts/vmtest with the feature expected there, a missing feature is a failure.
-- (busted's it and pending live in the spec file's environment, not in _G.)
function M.it(features, name, fn)
	local env = getfenv(2)
	local it, pending = env.it, env.pending
	local f, why = M.missing(features)
	if not f then
		local log = M.in_vm and os.getenv("AYAC_VM_GATED")
		if not log then return it(name, fn) end
		-- In the VM: note each gated spec that passed, for scripts/vmtest's summary.
		local what = type(features) == "string" and features or table.concat(features, "+")
		return it(name, function(...)
			fn(...)
			local out = io.open(log, "a")
			if out then
				out:write(what, "\t", name, "\n")
				out:close()
			end
		end)
	end
	local msg = ("needs %s (kernel %s): %s"):format(f, M.release, why)
	if M.in_vm and M.expected[f] then
		return it(name, function()
			error("this VM kernel must support " .. f .. " (AYAC_VM_EXPECT), but it " .. msg, 0)
		end)
	end
	return pending(name .. " — " .. msg)
end

return M
