-- What the fuzz targets found stays fixed (docs/reliability.md).
--
-- Every input in fuzz/regress/<target>/ (a finding, kept once fixed) goes through that
-- target's code again on every make test: build/fuzz/replay-<target> is the target
-- linked without libFuzzer (and with the sanitizers under make asan); it aborts on a
-- broken invariant or a kernel call, as the fuzzer would. Then each finding once more
-- through the public API, where the fix shows as a clear error or as BTF the kernel
-- takes.
local h = require "helpers"
local ayac = require "ayac"
local writer = require "btf_writer"

local TARGETS = { "object", "btf", "btf_ext", "core", "kconfig", "symbols", "usdt" }

-- The command's output and whether it exited 0 (this LuaJIT's popen close does not say).
local function run(cmd)
	local p = assert(io.popen("(" .. cmd .. ") 2>&1; echo \"exit=$?\""))
	local out = p:read("*a")
	p:close()
	local status = tonumber(out:match("exit=(%d+)\n$"))
	return status == 0, (out:gsub("exit=%d+\n$", ""))
end

local function files(dir)
	local t = {}
	local p = io.popen("ls " .. dir .. " 2>/dev/null")
	for l in p:lines() do t[#t + 1] = dir .. "/" .. l end
	p:close()
	return t
end

describe("fuzz regression inputs", function()
	for _, t in ipairs(TARGETS) do
		local inputs = files(h.root .. "/fuzz/regress/" .. t)
		if #inputs > 0 then
			it(t .. ": " .. #inputs .. " input(s) replay cleanly", function()
				local ok, out = run(h.build .. "/fuzz/replay-" .. t .. " " .. table.concat(inputs, " "))
				assert(ok, out)
			end)
		end
	end

	it("object: every spec object replays cleanly (open, build, no kernel call)", function()
		local objs = files(h.build .. "/spec/bpf")
		assert.is_true(#objs > 10)
		local ok, out = run(h.build .. "/fuzz/replay-object " .. h.build .. "/spec/bpf")
		assert(ok, out)
	end)

	it("a parser that reaches the kernel is a finding", function()
		-- the targets' guard traps bpf(2): its self-test makes one such call
		local ok, out = run("AYAC_FUZZ_GUARD_SELFTEST=1 " .. h.build .. "/fuzz/replay-btf /dev/null")
		assert.is_false(ok)
		assert.truthy(out:match("a parser made a kernel call"), out)
	end)
end)

describe("fuzz findings, through the API", function()
	it("object: a .bss no kernel could hold is refused at open, not allocated", function()
		-- fuzz/regress/object/bss-two-gib: a 21 KB object whose .bss says 2 GiB
		local obj, msg, code = ayac.open(h.read(h.root .. "/fuzz/regress/object/bss-two-gib"))
		assert.is_nil(obj)
		assert.equal("EBADELF", code)
		assert.truthy(msg:match("data section '%.bss' is 2046824512 bytes: no kernel takes a " ..
			"global data map larger than 512 MiB"), msg)
	end)

	it("symbols: an address that a program header maps past the end of the file is refused", function()
		-- fuzz/regress/symbols/phdr-offset-past-eof: one length byte, the symbol, the ELF
		local input = h.read(h.root .. "/fuzz/regress/symbols/phdr-offset-past-eof")
		local n = input:byte(1)
		local symbol, elf = input:sub(2, 1 + n), input:sub(2 + n)
		local path = h.tmpname("_phdr_past_eof")
		h.write(path, elf)
		finally(function() os.remove(path) end)
		local obj = assert(ayac.load(h.bpf("attach_probes"), { globals = { target_tgid = 1 } }))
		finally(function() obj:close() end)
		local link, msg, code = obj:program("up_count"):attach { path = path, symbol = symbol }
		assert.is_nil(link)
		assert.equal("EBADELF", code)
		assert.truthy(msg:match("maps past the end of the file"), msg)
	end)

	it("btf: sanitizing a datasec whose variables lie outside it is an error, not broken BTF", function()
		local w = writer.new()
		local int = w:int("int", 4, true)
		local v = w:var("zero", int, "global")
		w:datasec(".bss", 0, { { v, 620, 4 } })     -- as in an object before it is opened
		local raw = assert(ayac.btf.parse(w:blob()))
		local s, msg, code = raw:sanitize({ "btf_datasec" })
		assert.is_nil(s)
		assert.equal("EBTF", code)
		assert.truthy(msg:match("datasec '%.bss' entry 0 %(offset 620, 4 bytes%) lies outside its 0 bytes"),
			msg)
	end)

	it("btf: without BTF func, a datasec listing functions keeps only its variables", function()
		local w = writer.new()
		local int = w:int("int", 4, true)                               -- 1
		local proto = w:func_proto(int, { { "x", int } })               -- 2
		local fn = w:func("bpf_kfunc", proto, "extern")                 -- 3
		local v = w:var("kvar", int, "global")                          -- 4
		w:datasec(".ksyms", 4, { { fn, 0, 0 }, { v, 0, 4 } })            -- 5
		local raw = assert(ayac.btf.parse(w:blob()))
		local s = assert(raw:sanitize({ "btf_func" }))
		assert.equal("typedef", s:kind(3))
		local sec = s:type(5)
		assert.equal("datasec", sec.kind)
		assert.equal(1, #sec.vars)
		assert.equal(4, sec.vars[1].type)
		assert(s:fd())                                                  -- the kernel takes it
	end)
end)
