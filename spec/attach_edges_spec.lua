-- The edges of attaching, against the real kernel: a tracepoint full of programs
-- (E2BIG, said plainly), the kind of a link reopened from its pin (asked of the
-- kernel), probe targets that lack their file or function (each with its own
-- message), offset = 0 meaning offset 0, and btf = a path that is not there.
local ffi = require "ffi"
require("helpers").cdef([[
int getpid(void);
]])

local ayac = require "ayac"
local h = require "helpers"
local kernel = require "kernel"

local EDGES = h.bpf("attach_edges")
local PROBES = h.bpf("attach_probes")
local BTF_OBJ = h.bpf("attach_btf")
local EXE = h.build .. "/spec/fixtures/uprobe_target"
local PID = ffi.C.getpid()
local TRACE_MAX_PROGS = 64

local function load(path, opts)
	opts = opts or {}
	opts.globals = opts.globals or (path ~= EDGES and { target_tgid = PID } or nil)
	return assert(ayac.load(path, opts))
end

-- The fdinfo of a link fd, as a table ("offset" = "0x12b0", "event_type" = "uprobe").
local function fdinfo(link)
	local t = {}
	for line in io.lines("/proc/self/fdinfo/" .. link:fd()) do
		local k, v = line:match("^([%w_]+):%s*(.-)%s*$")
		if k then t[k] = v end
	end
	return t
end

local function sleep_a_bit()
	os.execute("sleep 0.01")
end

describe("a tracepoint full of programs", function()
	it("refuses the 65th with E2BIG, saying the limit and that the collector frees links", function()
		local objs, links = {}, {}
		finally(function()
			for _, l in ipairs(links) do l:detach() end
			for _, o in ipairs(objs) do o:close() end
		end)
		local link, msg, code
		-- One program goes on a tracepoint once: 65 objects of one program each.
		for i = 1, TRACE_MAX_PROGS + 1 do
			objs[i] = load(EDGES, { autoload = { up_nop = false, kp_nop = false } })
			link, msg, code = objs[i]:program("tp_nop"):attach()
			if not link then break end
			links[i] = link
		end
		assert.is_nil(link, "65 programs went on one tracepoint")
		assert.equal("E2BIG", code)
		-- Exactly 64 unless some other process has programs on this tracepoint too.
		assert.is_true(#links >= 1 and #links <= TRACE_MAX_PROGS, #links .. " attached")
		assert.matches("tp_nop", msg, 1, true)
		assert.matches("syscalls:sys_enter_acct", msg, 1, true)
		assert.matches("at most 64 BPF programs on one tracepoint", msg, 1, true)
		assert.matches("link:detach()", msg, 1, true)

		-- Links nobody holds any more: the attach that finds the tracepoint full
		-- collects them itself and tries again.
		local last = objs[#objs]:program("tp_nop")
		links = {}
		local again, why, what
		for _ = 1, 200 do -- the kernel lets go of a perf event right after its fd
			again, why, what = last:attach()
			if again or what ~= "E2BIG" then break end
			sleep_a_bit()
		end
		assert.is_truthy(again, why)
		again:detach()
	end)
end)

describe("a link reopened from its pin", function()
	local path = "/sys/fs/bpf/ayac_attach_edges_" .. PID .. "_" .. os.time()
	after_each(function() os.remove(path) end)

	-- perf event links name their event only on Linux 6.6 and later.
	local perf_names = kernel.at_least(6, 6)
	local cases = {
		{ "tracepoint", PROBES, "tp_getpid", nil, perf_names and "tracepoint" or "perf_event" },
		{ "uprobe", PROBES, "up_count", { path = EXE, symbol = "ayacfix_exe_func" },
			perf_names and "uprobe" or "perf_event" },
		{ "uretprobe", PROBES, "uret_count", { path = EXE, symbol = "ayacfix_exe_func",
			retprobe = true }, perf_names and "uretprobe" or "perf_event" },
		{ "raw_tp", PROBES, "raw_sys_enter", nil, "raw_tp" },
		{ "tp_btf", BTF_OBJ, "btf_sys_enter", nil, "tp_btf" },
	}
	for _, c in ipairs(cases) do
		local kind, obj_path, prog_name, target, reopened_kind = c[1], c[2], c[3], c[4], c[5]
		it("reports the kernel's kind of it: " .. kind, function()
			local obj = load(obj_path)
			finally(function() obj:close() end)
			local prog = obj:program(prog_name)
			local link = assert(prog:attach(target))
			assert.equal(kind, link.kind)
			assert.is_true(link:pin(path))
			local again = assert(ayac.link_from_pin(path))
			assert.equal(reopened_kind, again.kind)
			assert.equal(reopened_kind, again:info().kind)
			assert.equal(link:info().id, again:info().id)
			assert.matches(reopened_kind, tostring(again), 1, true)
			assert(os.remove(path))
			again:detach()
			link:detach()
		end)
	end
end)

describe("probe targets", function()
	it("without path, a uprobe says it needs the file to probe", function()
		local obj = load(EDGES)
		finally(function() obj:close() end)
		local prog = obj:program("up_nop")
		local ok, err = pcall(prog.attach, prog, { symbol = "ayacfix_exe_func" })
		assert.is_false(ok)
		assert.matches("path: string expected", err, 1, true)
		assert.is_nil(err:find("func", 1, true))
	end)

	it("without func, a kprobe says it needs the kernel function", function()
		local obj = load(EDGES)
		finally(function() obj:close() end)
		local prog = obj:program("kp_nop")
		local ok, err = pcall(prog.attach, prog, { offset = 0 })
		assert.is_false(ok)
		assert.matches("func: string expected", err, 1, true)
		-- path= makes a kprobe-type program a uprobe, whatever its section says
		ok, err = pcall(prog.attach, prog, { path = EXE })
		assert.is_false(ok)
		assert.matches("symbol or offset expected", err, 1, true)
	end)

	it("uprobe offset = 0 without a symbol is file offset 0; with one, the symbol itself", function()
		local obj = load(EDGES)
		finally(function() obj:close() end)
		local prog = obj:program("up_nop")
		local at0 = assert(prog:attach { path = EXE, offset = 0 })
		assert.equal("uprobe", at0.kind)
		local sym = assert(prog:attach { path = EXE, symbol = "ayacfix_exe_func", offset = 0 })
		local plain = assert(prog:attach { path = EXE, symbol = "ayacfix_exe_func" })
		local info0, info_sym, info_plain = fdinfo(at0), fdinfo(sym), fdinfo(plain)
		if info0.offset then -- the kernel shows probe offsets in fdinfo (6.14+)
			assert.equal(0, tonumber(info0.offset))
			assert.is_true(tonumber(info_sym.offset) > 0)
			assert.equal(info_plain.offset, info_sym.offset)
		end
		at0:detach()
		sym:detach()
		plain:detach()
	end)

	kernel.it("ksyscall", "kprobe offset = 0 is the function's first instruction, also for kretprobes", function()
		local obj = load(EDGES)
		finally(function() obj:close() end)
		local prog = obj:program("kp_nop")
		local kp = assert(prog:attach { func = "__x64_sys_getpid", offset = 0 })
		assert.equal("kprobe", kp.kind)
		local kret = assert(prog:attach { func = "__x64_sys_getpid", offset = 0, retprobe = true })
		assert.equal("kretprobe", kret.kind)
		local info = fdinfo(kp)
		if info.offset then assert.equal(0, tonumber(info.offset)) end
		kp:detach()
		kret:detach()
	end)
end)

describe("btf = path", function()
	it("refuses a file that is not there, even for an object without CO-RE", function()
		local missing = h.tmpname(".btf")
		local obj = assert(ayac.open(EDGES, { btf = missing }))
		local ok, msg, code = obj:load()
		assert.is_nil(ok)
		assert.equal("ENOENT", code)
		assert.matches("btf = '" .. missing .. "'", msg, 1, true)
		assert.equal("opened", obj.state)
		obj:close()
		ok, msg, code = ayac.load(EDGES, { btf = "/nonexistent" })
		assert.is_nil(ok)
		assert.equal("ENOENT", code)
		assert.matches("/nonexistent", msg, 1, true)
	end)

	it("refuses a file that is not BTF, and a directory", function()
		local ok, msg, code = ayac.load(EDGES, { btf = "/proc/self/status" })
		assert.is_nil(ok)
		assert.equal("EBTF", code)
		assert.matches("neither raw BTF nor an ELF file", msg, 1, true)
		ok, msg, code = ayac.load(EDGES, { btf = "/tmp" })
		assert.is_nil(ok)
		assert.equal("EISDIR", code)
		assert.matches("/tmp", msg, 1, true)
	end)

	it("takes a file that is BTF without needing it", function()
		local obj = load(EDGES, { btf = "/sys/kernel/btf/vmlinux" })
		assert.equal("loaded", obj.state)
		obj:close()
	end)
end)
