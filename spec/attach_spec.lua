-- Attaching programs and the links it leaves, against the real kernel.
--
-- Every probe counts its hits in the `counts` array map of spec/bpf/attach_probes.bpf.c
-- (attach_btf.bpf.c for tp_btf), and each test checks that an attach fires EXACTLY as
-- often as its target ran: getpid() calls this process makes (syscall probes filter on
-- the tgid in .rodata `target_tgid`, set with the load option `globals`), and calls the
-- fixture executable spec/fixtures/uprobe_target makes to its own functions and to
-- libayacfix.so (nothing else runs them, so uprobes count every process).
-- Also: detach stops counting and is idempotent, obj:close() detaches (the program
-- leaves the kernel), a pinned link outlives close, and failures return nil, message,
-- code with the target named. kprobes are compiled out of this kernel: untested here.

local ffi = require "ffi"
require("helpers").cdef([[
int getpid(void);
long syscall(long number, ...);
]])

local ayac = require "ayac"

local BUILD = os.getenv("AYAC_BUILD") or "build"
local PROBES = BUILD .. "/spec/bpf/attach_probes.bpf.o"
local BTF_OBJ = BUILD .. "/spec/bpf/attach_btf.bpf.o"
local FIXTURES = BUILD .. "/spec/fixtures"
local EXE = FIXTURES .. "/uprobe_target"
local EXE_NOPIE = FIXTURES .. "/uprobe_target_nopie"
local LIB = FIXTURES .. "/libayacfix.so"

-- Slots of `counts` (see attach_probes.bpf.c).
local SLOT = { tp = 0, tp_manual = 1, raw_tp = 2, uprobe = 3, uprobe_sum = 4,
	uretprobe = 5, uretprobe_sum = 6, libc = 7, libc_ret = 8 }

local PID = ffi.C.getpid()
local NO_SUCH_PID = 4194305 -- above the kernel's largest pid_max
local N = 25

local SYS_getpid = ffi.cast("long", 39) -- a vararg takes a C long, not a Lua double

local function sys_getpid(n)
	for _ = 1, n do ffi.C.syscall(SYS_getpid) end
end

local function libc_getpid(n)
	for _ = 1, n do ffi.C.getpid() end
end

local function load(path, tgid)
	return assert(ayac.load(path, { globals = { target_tgid = tgid or PID } }))
end

local function count(obj, slot)
	return tonumber(obj:map("counts"):get(slot) or 0)
end

local function sh(cmd)
	local r = os.execute(cmd)
	return r == true or r == 0
end

-- Runs the fixture: n calls to each of its functions.
local function run_fixture(exe, n)
	assert(sh(exe .. " " .. n .. " >/dev/null"), "fixture " .. exe .. " failed")
end

local function prog_exists(id)
	return sh("bpftool prog show id " .. id .. " >/dev/null 2>&1")
end

-- Kernel objects go a little after their last fd (deferred work, RCU).
local function eventually_gone(id)
	for _ = 1, 200 do
		if not prog_exists(id) then return true end
		sh("sleep 0.01")
	end
	return false
end

local function sum(from, to, plus)
	local s = 0
	for i = from, to do s = s + i + (plus or 0) end
	return s
end

describe("attach", function()
	describe("tracepoint", function()
		it("counts exactly the getpid calls of this process, and stops on detach", function()
			local obj = load(PROBES)
			local link = assert(obj:program("tp_getpid"):attach())
			assert.equal("tracepoint", link.kind)
			assert.is_true(link.attached)
			sys_getpid(N)
			assert.equal(N, count(obj, SLOT.tp))
			assert.is_true(link:detach())
			assert.is_false(link.attached)
			sys_getpid(N)
			assert.equal(N, count(obj, SLOT.tp))
			assert.is_true(link:detach()) -- idempotent
			obj:close()
		end)

		it("counts nothing for another tgid", function()
			local obj = load(PROBES, NO_SUCH_PID)
			local link = assert(obj:program("tp_getpid"):attach())
			sys_getpid(N)
			assert.equal(0, count(obj, SLOT.tp))
			link:detach()
			obj:close()
		end)

		it("takes a target table or \"category:name\" over the section name", function()
			local obj = load(PROBES)
			local prog = obj:program("tp_manual") -- SEC names sys_enter_getppid
			local link = assert(prog:attach { category = "syscalls", name = "sys_enter_getpid" })
			sys_getpid(N)
			link:detach()
			assert.equal(N, count(obj, SLOT.tp_manual))
			link = assert(prog:attach("syscalls:sys_enter_getpid"))
			sys_getpid(N)
			link:detach()
			assert.equal(2 * N, count(obj, SLOT.tp_manual))
			obj:close()
		end)

		it("fails with ENOENT naming a missing tracepoint and the program", function()
			local obj = load(PROBES)
			local link, msg, code = obj:program("tp_manual"):attach("syscalls:sys_enter_nope")
			assert.is_nil(link)
			assert.equal("ENOENT", code)
			assert.matches("syscalls:sys_enter_nope", msg, 1, true)
			assert.matches("tp_manual", msg, 1, true)
			obj:close()
		end)
	end)

	describe("raw_tp", function()
		it("fires from the section name and from { name = }", function()
			local obj = load(PROBES)
			local prog = obj:program("raw_sys_enter")
			local link = assert(prog:attach())
			assert.equal("raw_tp", link.kind)
			sys_getpid(N)
			link:detach()
			sys_getpid(N)
			assert.equal(N, count(obj, SLOT.raw_tp))
			link = assert(prog:attach { name = "sys_enter" })
			sys_getpid(N)
			link:detach()
			assert.equal(2 * N, count(obj, SLOT.raw_tp))
			obj:close()
		end)

		it("fails with ENOENT naming a missing raw tracepoint", function()
			local obj = load(PROBES)
			local link, msg, code = obj:program("raw_sys_enter"):attach { name = "no_such_tp" }
			assert.is_nil(link)
			assert.equal("ENOENT", code)
			assert.matches("no_such_tp", msg, 1, true)
			obj:close()
		end)
	end)

	describe("tp_btf", function()
		it("fires, attached by BTF id", function()
			local obj = load(BTF_OBJ)
			local link = assert(obj:program("btf_sys_enter"):attach())
			assert.equal("tp_btf", link.kind)
			sys_getpid(N)
			link:detach()
			sys_getpid(N)
			assert.equal(N, count(obj, 0))
			obj:close()
		end)
	end)

	describe("uprobe", function()
		local function attach_pair(obj, path, symbol)
			local up = assert(obj:program("up_count"):attach { path = path, symbol = symbol })
			local ret = assert(obj:program("uret_count"):attach { path = path, symbol = symbol,
				retprobe = true })
			return up, ret
		end

		it("fires on a function of a PIE executable, uretprobe with its return value", function()
			local obj = load(PROBES)
			local up, ret = attach_pair(obj, EXE, "ayacfix_exe_func")
			assert.equal("uprobe", up.kind)
			assert.equal("uretprobe", ret.kind)
			run_fixture(EXE, N)
			assert.equal(N, count(obj, SLOT.uprobe))
			assert.equal(sum(0, N - 1), count(obj, SLOT.uprobe_sum))     -- first arguments
			assert.equal(N, count(obj, SLOT.uretprobe))
			assert.equal(sum(0, N - 1, 1), count(obj, SLOT.uretprobe_sum)) -- x + 1
			up:detach()
			ret:detach()
			run_fixture(EXE, N)
			assert.equal(N, count(obj, SLOT.uprobe))
			assert.equal(N, count(obj, SLOT.uretprobe))
			obj:close()
		end)

		it("fires on a static function (.symtab) of a non-PIE executable", function()
			local obj = load(PROBES)
			local up, ret = attach_pair(obj, EXE_NOPIE, "ayacfix_static_func")
			run_fixture(EXE_NOPIE, N)
			assert.equal(N, count(obj, SLOT.uprobe))
			assert.equal(sum(0, N - 1, 2), count(obj, SLOT.uretprobe_sum)) -- x + 2
			up:detach()
			ret:detach()
			obj:close()
		end)

		it("fires on a function of a stripped shared library, by plain and versioned name", function()
			local obj = load(PROBES)
			local up, ret = attach_pair(obj, LIB, "ayacfix_lib_func")
			run_fixture(EXE, N)
			assert.equal(N, count(obj, SLOT.uprobe))
			assert.equal(N, count(obj, SLOT.uretprobe))
			assert.equal(sum(0, N - 1, 10), count(obj, SLOT.uretprobe_sum)) -- AYACFIX_1.0
			up:detach()
			ret:detach()
			-- The default version is what the fixture calls; the old one never runs.
			local v1 = assert(obj:program("up_count"):attach { path = LIB,
				symbol = "ayacfix_lib_func@@AYACFIX_1.0" })
			local v0 = assert(obj:program("uret_count"):attach { path = LIB,
				symbol = "ayacfix_lib_func@AYACFIX_0.9", retprobe = true })
			run_fixture(EXE, N)
			assert.equal(2 * N, count(obj, SLOT.uprobe))
			assert.equal(N, count(obj, SLOT.uretprobe))
			v1:detach()
			v0:detach()
			obj:close()
		end)

		it("follows only the process given by pid", function()
			local obj = load(PROBES)
			local mine = assert(obj:program("up_count"):attach { path = EXE,
				symbol = "ayacfix_exe_func", pid = PID })
			run_fixture(EXE, N)
			assert.equal(0, count(obj, SLOT.uprobe))
			mine:detach()
			-- The fixture prints its pid and waits for the flag file to go.
			local flag = os.tmpname()
			local p = assert(io.popen(EXE .. " " .. N .. " " .. flag))
			local child = tonumber(p:read("*l"))
			local link, msg = obj:program("up_count"):attach { path = EXE,
				symbol = "ayacfix_exe_func", pid = child }
			os.remove(flag)
			p:read("*a")
			p:close()
			assert.truthy(link, msg)
			assert.equal(N, count(obj, SLOT.uprobe))
			link:detach()
			obj:close()
		end)

		it("passes the bpf_cookie", function()
			local obj = load(PROBES)
			local link = assert(obj:program("up_cookie"):attach { path = EXE,
				symbol = "ayacfix_exe_func", cookie = 20 })
			run_fixture(EXE, N)
			assert.equal(N, count(obj, 20))
			link:detach()
			obj:close()
		end)

		it("attaches from the section name, finding libc.so.6 in the library path", function()
			local obj = load(PROBES)
			local up = assert(obj:program("up_libc_getpid"):attach())
			local ret = assert(obj:program("uret_libc_getpid"):attach())
			libc_getpid(N)
			up:detach()
			ret:detach()
			libc_getpid(N)
			assert.equal(N, count(obj, SLOT.libc))
			assert.equal(N, count(obj, SLOT.libc_ret)) -- each returned our pid
			obj:close()
		end)

		it("fails with ENOENT naming a missing symbol and the file", function()
			local obj = load(PROBES)
			local link, msg, code = obj:program("up_count"):attach { path = EXE,
				symbol = "no_such_function" }
			assert.is_nil(link)
			assert.equal("ENOENT", code)
			assert.matches("no_such_function", msg, 1, true)
			assert.matches(EXE, msg, 1, true)
			link, msg, code = obj:program("up_count"):attach { path = FIXTURES .. "/nope",
				symbol = "f" }
			assert.is_nil(link)
			assert.equal("ENOENT", code)
			assert.matches("nope", msg, 1, true)
			obj:close()
		end)

		it("refuses a bare uprobe section without a target", function()
			local obj = load(PROBES)
			local link, msg, code = obj:program("up_count"):attach()
			assert.is_nil(link)
			assert.equal("EINVAL", code)
			assert.matches("needs a target", msg, 1, true)
			assert.matches("up_count", msg, 1, true)
			obj:close()
		end)
	end)

	describe("without a target in the section name", function()
		it("says which target table to pass", function()
			local obj = load(PROBES)
			local link, msg, code = obj:program("xdp_pass"):attach()
			assert.is_nil(link)
			assert.equal("EOPNOTSUPP", code)
			assert.matches("xdp_pass", msg, 1, true)
			assert.matches("ifname=", msg, 1, true)
			obj:close()
		end)
	end)

	describe("links", function()
		it("are detached by obj:close(): the program leaves the kernel", function()
			local obj = load(PROBES)
			local prog = obj:program("tp_getpid")
			local id = prog:id()
			local tp = assert(prog:attach())
			local up = assert(obj:program("up_count"):attach { path = EXE,
				symbol = "ayacfix_exe_func" })
			local raw = assert(obj:program("raw_sys_enter"):attach())
			obj:close()
			assert.is_false(tp.attached)
			assert.is_false(up.attached)
			assert.is_false(raw.attached)
			assert.is_true(eventually_gone(id))
			assert.is_true(tp:detach()) -- after close: still fine
			run_fixture(EXE, 1)
		end)

		it("stay while pinned, past obj:close(), until the pin goes", function()
			local obj = load(PROBES)
			local prog = obj:program("raw_sys_enter")
			local id = prog:id()
			local path = "/sys/fs/bpf/ayac_attach_spec_" .. PID
			local link = assert(prog:attach())
			assert.is_true(link:pin(path))
			obj:close()
			assert.is_true(prog_exists(id))
			link:detach() -- raw_tp links cannot be cut off while pinned
			assert.is_true(prog_exists(id))
			assert.truthy(os.remove(path))
			assert.is_true(eventually_gone(id))
		end)
	end)
end)
