-- `ayac inspect`, `ayac --help`, `ayac help TOPIC`, and an object given as a script.
local h = require "helpers"
local inspect = require "ayac.inspect"

local function run(args)
	return h.capture(h.bin .. " " .. args .. " 2>&1")
end

local function find(list, name)
	for _, x in ipairs(list) do
		if x.name == name then return x end
	end
end

describe("ayac inspect", function()
	it("reports programs, maps, globals, license and BTF of an object", function()
		local r = assert(inspect.report(h.bpf("toolkit")))
		assert.are.equal("toolkit", r.name)
		assert.are.equal("GPL", r.license)
		assert.are.equal(0, r.kern_version)
		local lseek = find(r.programs, "on_lseek")
		assert.are.same({ "tracepoint/syscalls/sys_enter_lseek", "tracepoint", "syscalls/sys_enter_lseek", true },
			{ lseek.section, lseek.type, lseek.target, lseek.autoload })
		assert.is_true(lseek.insns > 20)
		assert.is_true(lseek.core_relos >= 3) -- ctx->args[0..2] through vmlinux.h
		local ret = find(r.programs, "on_leaf_return")
		assert.are.same({ "uretprobe", "kprobe" }, { ret.section, ret.type })
		local m = find(r.maps, "h_log2")
		assert.are.same({ "array", 4, 8, 66, "ayac_hist_slot_t", "__u64", "none" },
			{ m.type, m.key_size, m.value_size, m.max_entries, m.key_type, m.value_type, m.pinning })
		assert.are.equal("struct whence_key", find(r.maps, "h_keyed").key_type)
		assert.are.equal("stack_trace", find(r.maps, "stacks").type)
		local g = find(r.globals, "getppid_nr")
		assert.are.same({ ".data", "__s32", 4, -1 }, { g.section, g.type, g.size, g.value })
		g = find(r.globals, "ayac_lhist_h_lin")
		assert.are.same({ min = 0, max = 100, step = 10 }, g.value)
		assert.are.equal("const volatile struct ayac_lhist_params", g.type)
		assert.are.equal("const volatile __u32", find(r.globals, "target_tgid").type)
		assert.is_true(r.btf.types > 50)
		assert.is_true(r.btf.kinds.struct > 0)
		assert.is_true(r.btf.core_relos >= lseek.core_relos)
		assert.are.equal(0, #r.externs)
	end)

	it("works on objects this kernel cannot load, and lists externs", function()
		-- fentry/fexit and kfuncs: refused here, inspected all the same.
		local r = assert(inspect.report(h.bpf("vm_tracing")))
		local fe = find(r.programs, "fe_getpid")
		assert.are.equal("tracing", fe.type)
		assert.are.equal("trace_fentry", fe.attach_type)
		assert.are.equal("__task_pid_nr_ns", fe.target)
		r = assert(inspect.report(h.bpf("externs_ksyms")))
		local kinds = {}
		for _, e in ipairs(r.externs) do kinds[e.kind] = (kinds[e.kind] or 0) + 1 end
		assert.is_true(kinds.ksym > 0 and kinds.kfunc > 0)
		assert.is_true(find(r.externs, "bpf_task_acquire").weak)
	end)

	it("prints text and JSON from the command line", function()
		local out, ok = run("inspect " .. h.bpf("toolkit"))
		assert.is_true(ok)
		assert.matches("object toolkit", out)
		assert.matches("license%s+GPL", out)
		assert.matches("\nprograms %(3%)\n", out)
		assert.matches("on_lseek%s+tracepoint/syscalls/sys_enter_lseek%s+tracepoint%s+%-%s+syscalls/sys_enter_lseek%s+%d+%s+%d+%s+yes", out)
		assert.matches("h_log2%s+array%s+4%s+8%s+66%s+ayac_hist_slot_t%s+__u64%s+none", out)
		assert.matches("getppid_nr%s+%.data%s+__s32%s+4%s+%-1", out)
		local json, jok = run("inspect --json " .. h.bpf("toolkit"))
		assert.is_true(jok)
		assert.matches('^{"btf":{', json)
		assert.matches('"programs":%[{', json)
		assert.matches('"name":"on_lseek"', json)
		assert.matches('"externs":%[%]', json)
	end)

	it("fails clearly on a file that is not an object", function()
		local out, ok, rc = run("inspect " .. h.root .. "/README.md")
		assert.is_false(ok)
		assert.are.equal(1, rc)
		assert.matches("ayac inspect: .*README%.md", out)
		out, ok, rc = run("inspect")
		assert.is_false(ok)
		assert.are.equal(2, rc)
		assert.matches("usage: ayac inspect", out)
	end)
end)

describe("the host's help", function()
	it("lists every subcommand in --help", function()
		local out, ok = run("--help")
		assert.is_true(ok)
		for _, sub in ipairs({ "inspect", "features", "btf dump", "help" }) do
			assert.matches("\n  " .. sub:gsub("%p", "%%%0"), out)
		end
	end)

	it("prints topics with ayac help TOPIC", function()
		local out, ok = run("help")
		assert.is_true(ok)
		for _, t in ipairs({ "repl", "cc", "hist", "symbols", "print", "inspect", "examples" }) do
			assert.matches("\n  " .. t .. "%s", out)
			local text, tok = run("help " .. t)
			assert.is_true(tok)
			assert.is_true(#text > 100)
		end
		local _, nok, rc = run("help nonsense")
		assert.is_false(nok)
		assert.are.equal(1, rc)
	end)

	it("points to inspect when an object is run as a script", function()
		local out, ok, rc = run(h.bpf("toolkit"))
		assert.is_false(ok)
		assert.are.equal(1, rc)
		assert.matches("is an ELF file", out)
		assert.matches("ayac inspect " .. h.bpf("toolkit"):gsub("%p", "%%%0"), out)
	end)
end)
