-- BTF-attached tracing through ayac: fentry/fexit on what getpid() calls, fmod_ret
-- changing what a kernel function returns, and a BPF LSM program refusing opens.
-- The programs (spec/bpf/vm_tracing.bpf.c) act on this process only and count what
-- they see, so every count is exact. This machine's kernel refuses all four kinds:
-- the specs are pending here, with the reason, and run in scripts/vmtest's Debian
-- kernels (booted with lsm=...,bpf), where a refusal is a failure.

local ffi = require "ffi"
require("helpers").cdef([[
int getpid(void);
long syscall(long number, ...);
]])

local kernel = require "kernel"

local BUILD = os.getenv("AYAC_BUILD") or "build"
local OBJ = BUILD .. "/spec/bpf/vm_tracing.bpf.o"

-- Slots of `counts` (see vm_tracing.bpf.c).
local SLOT = { fentry = 0, fexit = 1, fexit_pid = 2, fmod_ret = 3, lsm_open = 4,
	lsm_denied = 5 }

local PID = ffi.C.getpid()
local N = 25
local SYS_getpid = ffi.cast("long", 39) -- a vararg takes a C long, not a Lua double

local function sys_getpid(n)
	for _ = 1, n do ffi.C.syscall(SYS_getpid) end
end

local ayac
local function load(only)
	ayac = ayac or require "ayac"
	local autoload = {}
	for _, name in ipairs { "fe_getpid", "fx_getpid", "fm_file_open", "lsm_file_open" } do
		if name ~= only then autoload[name] = false end
	end
	return assert(ayac.load(OBJ, { globals = { target_tgid = PID }, autoload = autoload }))
end

local function count(obj, slot)
	return tonumber(obj:map("counts"):get(slot) or 0)
end

-- The file the LSM and fmod_ret specs open: on devtmpfs, a single layer, so each
-- open is one security_file_open (a file on overlayfs is opened once per layer).
local DEVNULL = "/dev/null"

-- Opens path n times; returns how many opens succeeded and the last error.
local function open_n(path, n)
	local ok, last = 0, nil
	for _ = 1, n do
		local f, err = io.open(path, "rb")
		if f then
			ok = ok + 1
			f:close()
		else
			last = err
		end
	end
	return ok, last
end

describe("fentry", function()
	kernel.it("fentry", "counts exactly the calls of a kernel function, and stops on detach", function()
		local obj = load("fe_getpid")
		local prog = obj:program("fe_getpid")
		assert.equal("tracing", prog.type)
		local link = assert(prog:attach())
		assert.equal("fentry", link.kind)
		sys_getpid(N)
		assert.equal(N, count(obj, SLOT.fentry))
		assert.is_true(link:detach())
		sys_getpid(N)
		assert.equal(N, count(obj, SLOT.fentry))
		obj:close()
	end)
end)

describe("fexit", function()
	kernel.it("fexit", "sees every return with its value", function()
		local obj = load("fx_getpid")
		local link = assert(obj:program("fx_getpid"):attach())
		assert.equal("fexit", link.kind)
		sys_getpid(N)
		link:detach()
		sys_getpid(N)
		assert.equal(N, count(obj, SLOT.fexit))
		assert.equal(N, count(obj, SLOT.fexit_pid)) -- each returned our pid
		obj:close()
	end)
end)

describe("fmod_ret", function()
	kernel.it("fmod_ret", "replaces a kernel function's return value while attached", function()
		local path = DEVNULL
		local obj = load("fm_file_open")
		local link = assert(obj:program("fm_file_open"):attach())
		assert.equal("fmod_ret", link.kind)
		-- 0: security_file_open runs as usual.
		assert.equal(N, (open_n(path, N)))
		-- Nonzero: the function is skipped and this is its result (-EACCES). Nothing
		-- between set and reset opens a file (a failing assert might load modules).
		assert.is_true(obj:set_global("fmod_ret_value", -13))
		local ok, err = open_n(path, N)
		assert.is_true(obj:set_global("fmod_ret_value", 0))
		assert.equal(0, ok)
		assert.matches("Permission denied", err, 1, true)
		assert.equal(2 * N, count(obj, SLOT.fmod_ret))
		assert.equal(N, (open_n(path, N)))
		assert.equal(3 * N, count(obj, SLOT.fmod_ret))
		assert.is_true(obj:set_global("fmod_ret_value", -13))
		link:detach()
		local after = open_n(path, N) -- detached: nothing refuses
		assert.is_true(obj:set_global("fmod_ret_value", 0))
		assert.equal(N, after)
		assert.equal(3 * N, count(obj, SLOT.fmod_ret))
		obj:close()
	end)
end)

describe("lsm", function()
	kernel.it("lsm", "sees every open of this process, refuses them when told, and stops on detach", function()
		local path = DEVNULL
		local obj = load("lsm_file_open")
		local prog = obj:program("lsm_file_open")
		assert.equal("lsm", prog.type)
		local link = assert(prog:attach())
		assert.equal("lsm", link.kind)
		assert.equal(N, (open_n(path, N)))
		assert.equal(N, count(obj, SLOT.lsm_open))
		assert.is_true(obj:set_global("deny_open", 1))
		local ok, err = open_n(path, N)
		assert.is_true(obj:set_global("deny_open", 0))
		assert.equal(0, ok)
		assert.matches("Operation not permitted", err, 1, true)
		assert.equal(N, count(obj, SLOT.lsm_denied))
		assert.equal(N, (open_n(path, N)))
		assert.equal(3 * N, count(obj, SLOT.lsm_open))
		assert.is_true(obj:set_global("deny_open", 1))
		assert.is_true(link:detach())
		local after = open_n(path, N) -- detached: nothing refuses
		assert.is_true(obj:set_global("deny_open", 0))
		assert.equal(N, after)
		assert.equal(3 * N, count(obj, SLOT.lsm_open))
		obj:close()
	end)
end)
