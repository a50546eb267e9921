-- Loader details libbpf users rely on (spec/bpf/loader_details.bpf.c): which global
-- data maps are mmap-able, data maps the kernel will not map, writable raw
-- tracepoints, syscall programs.
local ffi = require "ffi"
pcall(ffi.cdef, "int getpid(void);")
local ayac = require "ayac"
local helpers = require "helpers"
local kernel = require "kernel"

local MMAPABLE, RDONLY_PROG, SLEEPABLE = 1024, 128, 16
local PID = ffi.C.getpid()

local function load()
	return assert(ayac.load(helpers.bpf("loader_details"), { globals = { target_tgid = PID } }))
end

-- Runs add_args(a, b): retval and the sum it wrote back into the context.
local function add_args(obj, a, b)
	local args = ffi.new("uint64_t[3]", a, b, 0)
	local r = assert(obj:program("add_args"):test_run { ctx = ffi.string(args, 24) })
	return r.retval, tonumber(ffi.cast("const uint64_t *", r.ctx)[2])
end

describe("loader details", function()
	it("mmap-able global data only where a variable is public (as libbpf)", function()
		local obj = load()
		assert.equal(MMAPABLE, bit.band(obj:map(".data.pub").flags, MMAPABLE))
		-- only a static and a __hidden variable: not mmap-able
		assert.equal(0, bit.band(obj:map(".data.priv").flags, MMAPABLE))
		assert.equal(MMAPABLE + RDONLY_PROG, bit.band(obj:map(".rodata").flags, MMAPABLE + RDONLY_PROG))
		-- the unmapped ones still read and write, through the map
		assert.equal(5, obj:global("priv_counter"))
		assert.equal(7, obj:global("hidden_counter"))
		add_args(obj, 1, 2)
		assert.equal(6, obj:global("priv_counter"))
		assert.equal(9, obj:global("hidden_counter"))
		assert.equal(2, obj:global("pub_counter"))
		assert.is_true(obj:set_global("priv_counter", 100))
		add_args(obj, 1, 2)
		assert.equal(101, obj:global("priv_counter"))
		obj:close()
	end)

	kernel.it("global_spin_lock", "a data section holding a spin lock loads, the kernel not mapping it", function()
		local obj = assert(ayac.load(helpers.bpf("loader_lock")))
		local prog, pkt = obj:program("lock_add"), string.rep("x", 64)
		for _ = 1, 3 do assert(prog:test_run { data = pkt }) end
		assert.equal(15, obj:global("locked_total"))
		assert.is_true(obj:set_global("locked_total", 1000))
		assert(prog:test_run { data = pkt })
		assert.equal(1005, obj:global("locked_total"))
		obj:close()
	end)

	it("syscall programs: sleepable, run with test_run, their context written back", function()
		local obj = load()
		local prog = obj:program("add_args")
		assert.equal("syscall", prog.type)
		assert.equal(SLEEPABLE, bit.band(prog.flags, SLEEPABLE))
		local ret, sum = add_args(obj, 20, 22)
		assert.equal(40, ret)
		assert.equal(42, sum)
		obj:close()
	end)

	it("raw_tp.w: a writable raw tracepoint changes what the kernel returns", function()
		local obj = load()
		local pass = obj:program("pass")
		local pkt = string.rep("x", 64)
		assert.equal(1, assert(pass:test_run { data = pkt }).retval)
		local link = assert(obj:program("make_e2big"):attach())
		assert.equal("raw_tracepoint_writable", obj:program("make_e2big").type)
		local r, err, code = pass:test_run { data = pkt }
		link:detach()
		assert.is_nil(r)
		assert.equal("E2BIG", code, err)
		assert.equal(1, assert(pass:test_run { data = pkt }).retval)
		obj:close()
	end)
end)
