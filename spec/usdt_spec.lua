-- USDT (spec/fixtures/usdt_target.c, built with <sys/sdt.h>): programs written against
-- libbpf's <bpf/usdt.bpf.h> (spec/bpf/usdt.bpf.c) read the arguments the fixture
-- passed, exactly: for N runs of the loop, ayac:args(i, 3i, (short)-i, (u8)i, 42)
-- gives sums N(N-1)/2, 3·that, −that, that (i < 256) and 42·N. Arguments sit in
-- registers and constants (-O2, PIE) or in memory below %rbp (-O0, not PIE); ayac:sib
-- takes SIB-addressed memory (spec/bpf/usdt_sib.bpf.c, libbpf 1.7's layout).
-- ayac:sema is guarded by its semaphore: the fixture counts how often it ran.
local ffi = require "ffi"
pcall(ffi.cdef, "int getpid(void);")
local ayac = require "ayac"
local helpers = require "helpers"

local FIX = helpers.build .. "/spec/fixtures/"
local EXE, EXE_O0 = FIX .. "usdt_target", FIX .. "usdt_target_O0"
local N = 10
local SUM = N * (N - 1) / 2
local U64 = 18446744073709551616

-- counts slots of usdt.bpf.c
local SLOT = { hits = 0, i = 1, l = 2, s = 3, c = 4, k = 5, cnt = 6, cookie = 7, sema = 8,
	sema_sum = 9, bad = 10 }

local function load(name, opts)
	return assert(ayac.load(helpers.bpf(name or "usdt"), opts))
end

local function get(obj, slot)
	return obj:map("counts"):get(slot) or 0
end

-- Runs the fixture; returns how often its semaphore-guarded probe ran.
local function run(exe, n)
	local out, ok = helpers.capture(exe .. " " .. (n or N))
	assert(ok, out)
	return tonumber(out:match("sema (%d+)"))
end

local function expect_args(obj, runs, cookie)
	assert.equal(N * runs, get(obj, SLOT.hits))
	assert.equal(SUM * runs, get(obj, SLOT.i))
	assert.equal(3 * SUM * runs, get(obj, SLOT.l))
	assert.equal(U64 - SUM * runs, tonumber(get(obj, SLOT.s))) -- negative, as u64
	assert.equal(SUM * runs, get(obj, SLOT.c))
	assert.equal(42 * N * runs, get(obj, SLOT.k))
	assert.equal(5 * N * runs, get(obj, SLOT.cnt))
	assert.equal(cookie or 0, get(obj, SLOT.cookie))
	assert.equal(0, get(obj, SLOT.bad))
end

describe("usdt", function()
	it("reads arguments in registers and constants (-O2, PIE)", function()
		local obj = load()
		local link = assert(obj:program("on_args"):attach {
			path = EXE, provider = "ayac", name = "args", cookie = 777 })
		assert.equal("usdt", link.kind)
		assert.equal(1, link:info().count) -- one site
		run(EXE)
		expect_args(obj, 1, 777)
		link:detach()
		run(EXE)
		expect_args(obj, 1, 777) -- detached: nothing more
		obj:close()
	end)

	it("reads arguments in memory (-O0, not PIE), and one program takes both", function()
		local obj = load()
		local prog = obj:program("on_args")
		local a = assert(prog:attach { path = EXE_O0, provider = "ayac", name = "args" })
		local b = assert(prog:attach { path = EXE, provider = "ayac", name = "args" })
		run(EXE_O0)
		run(EXE)
		expect_args(obj, 2)
		a:detach()
		b:detach()
		obj:close()
	end)

	it("enables semaphore-guarded probes while attached (auto-attach from the section)", function()
		if not io.open(helpers.root .. "/build/spec/fixtures/usdt_target") then
			pending("the section names build/spec/fixtures/usdt_target, not built here")
			return
		end
		local obj = load()
		local exe = helpers.root .. "/build/spec/fixtures/usdt_target" -- the file the section names
		assert.equal(0, run(exe))
		local link = assert(obj:program("on_sema"):attach()) -- usdt/build/...:ayac:sema
		assert.equal(N, run(exe))
		assert.equal(N, get(obj, SLOT.sema))
		assert.equal(SUM, get(obj, SLOT.sema_sum))
		link:detach()
		assert.equal(0, run(exe))
		assert.equal(N, get(obj, SLOT.sema))
		obj:close()
	end)

	it("follows one process with pid", function()
		local obj = load()
		local prog = obj:program("on_args")
		-- another process's pid: the fixture's probes do not count
		local link = assert(prog:attach { path = EXE, provider = "ayac", name = "args",
			pid = ffi.C.getpid() })
		run(EXE)
		link:detach()
		assert.equal(0, get(obj, SLOT.hits))
		-- the fixture's own pid: they do
		local p = assert(io.popen(EXE .. " " .. N .. " wait"))
		local pid = assert(tonumber(p:read("*l")))
		local err
		link, err = prog:attach { path = EXE, provider = "ayac", name = "args", pid = pid }
		os.execute("kill -USR1 " .. pid)
		p:read("*a")
		p:close()
		assert(link, err)
		link:detach()
		expect_args(obj, 1)
		obj:close()
	end)

	it("works on kernels without bpf_cookie (probe addresses in __bpf_usdt_ip_to_spec_id)", function()
		local function sub(exe, mode)
			local out, ok = helpers.capture(("AYAC_FEATURES=bpf_cookie=0 %s %s/spec/support/usdt_run.lua %s %d %s 2>&1")
				:format(helpers.bin, helpers.root, exe, N, mode))
			return out, ok
		end
		local want = ("%d %d %d %sULL %d %d %d 5\n"):format(N, SUM, 3 * SUM,
			tostring(ffi.cast("uint64_t", ffi.cast("int64_t", -SUM))):gsub("ULL$", ""), SUM,
			42 * N, 5 * N)
		-- a fixed address (not PIE), every process
		local out, ok = sub(EXE_O0, "all")
		assert.is_true(ok, out)
		assert.equal(want, out)
		-- PIE: through the process's mapping
		out, ok = sub(EXE, "pid")
		assert.is_true(ok, out)
		assert.equal(want, out)
		-- PIE, every process: no address to key by
		out, ok = sub(EXE, "all")
		assert.is_false(ok)
		assert.matches("needs a pid to find its address", out, 1, true)
	end)

	it("reads SIB-addressed arguments into libbpf 1.7's spec layout", function()
		local obj = load("usdt_sib")
		local link = assert(obj:program("on_sib"):attach {
			path = EXE, provider = "ayac", name = "sib" })
		run(EXE)
		link:detach()
		-- arr[k] = k*k - 5, read at k = i % 8 and k + 1
		local s0, s1 = 0, 0
		for i = 0, N - 1 do
			local k = i % 8
			s0, s1 = s0 + k * k - 5, s1 + (k + 1) * (k + 1) - 5
		end
		assert.equal(N, get(obj, 0))
		assert.equal(s0, get(obj, 1))
		assert.equal(s1, get(obj, 2))
		assert.equal(0, get(obj, 3))
		obj:close()
		-- an object built against an older usdt.bpf.h cannot describe them
		obj = load()
		local l2, err, code = obj:program("on_args"):attach {
			path = EXE, provider = "ayac", name = "sib" }
		assert.is_nil(l2)
		assert.equal("EOPNOTSUPP", code)
		assert.matches("SIB-addressed", err, 1, true)
		obj:close()
	end)

	it("gives spec ids back on detach (more attaches than ids)", function()
		-- few ids, so that running out is quick (a uprobe takes ~0.2 s to detach)
		local obj = load("usdt", { max_entries = { __bpf_usdt_specs = 4 } })
		local prog = obj:program("on_args")
		local max = obj:map("__bpf_usdt_specs").max_entries
		assert.equal(4, max)
		for i = 1, max + 2 do
			-- a cookie of its own: a spec of its own
			local link = assert(prog:attach { path = EXE, provider = "ayac", name = "args",
				cookie = i })
			link:detach()
		end
		local links = {}
		for i = 1, max do
			links[i] = assert(prog:attach { path = EXE, provider = "ayac", name = "args",
				cookie = i })
		end
		local link, err, code = prog:attach { path = EXE, provider = "ayac", name = "args",
			cookie = max + 1 }
		assert.is_nil(link)
		assert.equal("ENOSPC", code)
		assert.matches("spec ids are in use", err, 1, true)
		-- the same spec again shares its id
		link = assert(prog:attach { path = EXE, provider = "ayac", name = "args", cookie = 1 })
		link:detach()
		for _, l in ipairs(links) do l:detach() end
		obj:close()
	end)

	it("fails with the reason", function()
		local obj = load()
		local prog = obj:program("on_args")
		local link, err, code = prog:attach { path = EXE, provider = "ayac", name = "nope" }
		assert.is_nil(link)
		assert.equal("ENOENT", code)
		assert.matches("no USDT probe ayac:nope", err, 1, true)
		assert.matches("program 'on_args'", err, 1, true)
		link, err, code = prog:attach { path = FIX .. "no_such_file", provider = "a", name = "b" }
		assert.is_nil(link)
		assert.equal("ENOENT", code)
		assert.has_error(function() prog:attach { path = EXE, provider = "ayac" } end)
		-- a program without usdt.bpf.h's maps
		local other = assert(ayac.load(helpers.bpf("attach_probes"), { globals = { target_tgid = 1 } }))
		link, err, code = other:program("up_count"):attach {
			path = EXE, provider = "ayac", name = "args" }
		assert.is_nil(link)
		assert.equal("EINVAL", code)
		assert.matches("__bpf_usdt_specs", err, 1, true)
		other:close()
		-- the section without a target
		link, err, code = prog:attach()
		assert.is_nil(link)
		assert.equal("EINVAL", code)
		assert.matches("path=, provider=, name=", err, 1, true)
		obj:close()
	end)
end)
