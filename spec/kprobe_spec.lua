-- kprobe, kretprobe, ksyscall and kretsyscall through ayac: programs of
-- spec/bpf/vm_kprobe.bpf.c count this process's getpid()/getppid() calls, which the
-- spec makes itself, so every count is exact. Needs the kprobe PMU: this machine's
-- kernel has none and the specs are pending here (with the reason); they run in
-- scripts/vmtest's Debian kernels, where a missing kprobe PMU is a failure.

local ffi = require "ffi"
require("helpers").cdef([[
int getpid(void);
long syscall(long number, ...);
]])

local kernel = require "kernel"

local BUILD = os.getenv("AYAC_BUILD") or "build"
local OBJ = BUILD .. "/spec/bpf/vm_kprobe.bpf.o"

-- Slots of `counts` (see vm_kprobe.bpf.c).
local SLOT = { kprobe = 0, kretprobe = 1, kret_pid = 2, ksyscall = 3, kretsyscall = 4,
	manual = 5 }

local PID = ffi.C.getpid()
local N = 25
local SYS_getpid = ffi.cast("long", 39) -- a vararg takes a C long, not a Lua double
local SYS_getppid = ffi.cast("long", 110)

local function sys(nr, n)
	for _ = 1, n do ffi.C.syscall(nr) end
end

local ayac
local function load()
	ayac = ayac or require "ayac"
	return assert(ayac.load(OBJ, { globals = { target_tgid = PID } }))
end

local function count(obj, slot)
	return tonumber(obj:map("counts"):get(slot) or 0)
end

describe("kprobe", function()
	kernel.it("kprobe", "counts exactly the calls of a kernel function, and stops on detach", function()
		local obj = load()
		local prog = obj:program("kp_getpid")
		assert.equal("kprobe", prog.type)
		local link = assert(prog:attach())
		assert.equal("kprobe", link.kind)
		sys(SYS_getpid, N)
		assert.equal(N, count(obj, SLOT.kprobe))
		assert.is_true(link:detach())
		sys(SYS_getpid, N)
		assert.equal(N, count(obj, SLOT.kprobe))
		assert.is_true(link:detach()) -- idempotent
		obj:close()
	end)

	kernel.it("kprobe", "takes a target table over the section name", function()
		local obj = load()
		local link = assert(obj:program("kp_manual"):attach { func = "__x64_sys_getppid" })
		sys(SYS_getppid, N)
		sys(SYS_getpid, N) -- not the target
		link:detach()
		assert.equal(N, count(obj, SLOT.manual))
		obj:close()
	end)

	kernel.it("kprobe", "passes the bpf_cookie", function()
		local obj = load()
		local a = assert(obj:program("kp_cookie"):attach { func = "__x64_sys_getpid", cookie = 17 })
		local b = assert(obj:program("kp_cookie"):attach { func = "__x64_sys_getppid", cookie = 18 })
		sys(SYS_getpid, N)
		sys(SYS_getppid, 2 * N)
		a:detach()
		b:detach()
		assert.equal(N, count(obj, 17))
		assert.equal(2 * N, count(obj, 18))
		obj:close()
	end)

	kernel.it("kprobe", "fails naming a kernel function that does not exist, and the program", function()
		local obj = load()
		local link, msg, code = obj:program("kp_manual"):attach { func = "ayac_no_such_function" }
		assert.is_nil(link)
		assert.is_string(code)
		assert.matches("ayac_no_such_function", msg, 1, true)
		assert.matches("kp_manual", msg, 1, true)
		obj:close()
	end)

	kernel.it("kprobe", "is detached by obj:close()", function()
		local obj = load()
		local link = assert(obj:program("kp_getpid"):attach())
		obj:close()
		assert.is_false(link.attached)
		assert.is_true(link:detach())
	end)
end)

describe("kretprobe", function()
	kernel.it("kretprobe", "sees every return with its value", function()
		local obj = load()
		local link = assert(obj:program("krp_getpid"):attach())
		assert.equal("kretprobe", link.kind)
		sys(SYS_getpid, N)
		link:detach()
		sys(SYS_getpid, N)
		assert.equal(N, count(obj, SLOT.kretprobe))
		assert.equal(N, count(obj, SLOT.kret_pid)) -- each returned our pid
		obj:close()
	end)

	kernel.it("kretprobe", "takes { retprobe = true } and refuses an offset", function()
		local obj = load()
		local prog = obj:program("kp_manual")
		local link = assert(prog:attach { func = "__x64_sys_getppid", retprobe = true })
		assert.equal("kretprobe", link.kind)
		sys(SYS_getppid, N)
		link:detach()
		assert.equal(N, count(obj, SLOT.manual))
		local bad, msg, code = prog:attach { func = "__x64_sys_getppid", retprobe = true, offset = 4 }
		assert.is_nil(bad)
		assert.equal("EINVAL", code)
		assert.matches("offset", msg, 1, true)
		obj:close()
	end)
end)

describe("ksyscall", function()
	kernel.it("ksyscall", "finds the syscall's entry point from ksyscall/NAME and kretsyscall/NAME", function()
		local obj = load()
		local entry = assert(obj:program("ks_getpid"):attach())
		local exit = assert(obj:program("krs_getpid"):attach())
		assert.equal("kprobe", entry.kind)
		assert.equal("kretprobe", exit.kind)
		sys(SYS_getpid, N)
		entry:detach()
		exit:detach()
		sys(SYS_getpid, N)
		assert.equal(N, count(obj, SLOT.ksyscall))
		assert.equal(N, count(obj, SLOT.kretsyscall))
		obj:close()
	end)
end)
