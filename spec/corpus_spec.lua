-- The real-world corpus: every BPF object embedded in Debian's libbpf-tools binaries
-- (extracted by scripts/extract-libbpf-tools into <build>/libbpf-tools on first use).
--
-- For each object: it opens (from a path and from bytes) with the programs, sections,
-- program types and maps its ELF declares; truncated copies are refused with EBADELF;
-- damaged copies (byte mutations) open or are refused, never raise. Objects load with
-- the run-time setup their tools do (CO-RE relocations against this kernel's BTF
-- included), every loaded program and map has an fd, and close is idempotent; loading
-- every program as-is succeeds exactly when libbpf's does (bpftool prog loadall), and
-- where libbpf loads the object, every program ayac loads has the same tag as
-- libbpf's (the kernel's hash of the instructions: relocations, CO-RE included, came
-- out the same). Objects with extern symbols (.kconfig, __ksym) are checked the same
-- way; AYAC_CORPUS_EXTERNS=0 leaves them pending.
--
-- This kernel refuses fentry/fexit (no trampolines), so their programs are not
-- autoloaded (libbpf-tools themselves pick fentry or kprobe at run time);
-- AYAC_CORPUS_TRAMPOLINES=1 keeps them (for the VM runs with a stock kernel).

local corpus = require "corpus"

local ayac_mod
local function ayac()
	if not ayac_mod then ayac_mod = require "ayac" end
	return ayac_mod
end

local function read(path)
	local f = assert(io.open(path, "rb"))
	local s = f:read("*a")
	f:close()
	return s
end

-- BPF_PROG_TYPE_* (lower case, no prefix) that a SEC() prefix implies.
local PROG_TYPE = {
	tracepoint = "tracepoint", tp = "tracepoint",
	kprobe = "kprobe", kretprobe = "kprobe", uprobe = "kprobe", uretprobe = "kprobe",
	usdt = "kprobe", ksyscall = "kprobe", kretsyscall = "kprobe",
	raw_tp = "raw_tracepoint", raw_tracepoint = "raw_tracepoint",
	tp_btf = "tracing", fentry = "tracing", fexit = "tracing", fmod_ret = "tracing",
	iter = "tracing", perf_event = "perf_event", lsm = "lsm", socket = "socket_filter",
	xdp = "xdp", tc = "sched_cls", classifier = "sched_cls",
}

local TRAMPOLINE = { fentry = true, fexit = true, fmod_ret = true, lsm = true }
local keep_trampolines = os.getenv("AYAC_CORPUS_TRAMPOLINES") == "1"
-- Damaged copies opened per object (AYAC_CORPUS_MUTATIONS=500 for a longer fuzz run).
local MUTATIONS = tonumber(os.getenv("AYAC_CORPUS_MUTATIONS") or "") or 20
local run_externs = os.getenv("AYAC_CORPUS_EXTERNS") ~= "0"

-- What each tool's userspace does before load, where the object cannot load without it
-- (checked with libbpf 1.1 and the real tools on kernel 6.18).
local SETUP = {
	-- stack maps get value_size = perf_max_stack_depth * 8 and max_entries at run time
	capable = { value_size = { stackmap = 127 * 8 }, max_entries = { stackmap = 1024 } },
	offcputime = { value_size = { stackmap = 127 * 8 }, max_entries = { stackmap = 1024 } },
	wakeuptime = { value_size = { stackmap = 127 * 8 }, max_entries = { stackmap = 1024 } },
	-- hash maps declared without max_entries; the tool sets pid_max
	cpudist = { max_entries = { start = 32768, hists = 32768 } },
}

-- { funcname = false } for programs this kernel cannot load as compiled.
local function autoload_off(a)
	local off = {}
	for _, p in ipairs(a.programs) do
		local target = p.section:match("^[^/]+/(.*)$") or ""
		-- fsdist/fsslower: placeholders the tool retargets at run time
		local placeholder = target:match("^dummy_") ~= nil
		if placeholder or (TRAMPOLINE[p.prefix] and not keep_trampolines) then
			for _, f in ipairs(p.funcs) do off[f] = false end
		end
	end
	return off
end

-- Does libbpf load every program of the object as it is? { ok = bool, tags = { prog =
-- tag } } (tags when ok), or nil when bpftool is missing. One bpftool run per object.
local function sh(cmd)
	local r = os.execute(cmd)
	return r == 0 or r == true -- LuaJIT returns the status, Lua 5.2+ a boolean
end

local libbpf_cache = {}
local function libbpf_result(path)
	if libbpf_cache[path] ~= nil then return libbpf_cache[path] or nil end
	if not sh("command -v bpftool >/dev/null 2>&1") then
		libbpf_cache[path] = false
		return nil
	end
	local pin = string.format("/sys/fs/bpf/ayac-corpus-%d-%d", os.time(), math.random(1e9))
	local q = "'" .. path:gsub("'", "'\\''") .. "'"
	local r = { ok = sh("bpftool prog loadall " .. q .. " " .. pin .. " >/dev/null 2>&1"), tags = {} }
	if r.ok then
		local p = io.popen("ls " .. pin)
		for f in p:lines() do
			local j = io.popen("bpftool -j prog show pinned " .. pin .. "/" .. f)
			r.tags[f] = j:read("*a"):match('"tag":"(%x+)"')
			j:close()
		end
		p:close()
	end
	sh("rm -rf " .. pin)
	libbpf_cache[path] = r
	return r
end

local function errtext(err, code)
	return string.format("%s (%s)", tostring(err), tostring(code))
end

local function mentions_any(msg, a, name)
	if msg:find(name, 1, true) then return true end
	for _, p in ipairs(a.programs) do
		if msg:find(p.section, 1, true) then return true end
		for _, f in ipairs(p.funcs) do
			if msg:find(f, 1, true) then return true end
		end
	end
	for _, m in ipairs(a.maps) do
		if msg:find(m.name, 1, true) then return true end
	end
	return false
end

-- The programs, their types and the maps of an opened object match the ELF.
local function check_opened(obj, a, name)
	local want, got = {}, {}
	for _, p in ipairs(a.programs) do
		for _, f in ipairs(p.funcs) do want[f] = p.section end
	end
	for pname, prog in obj:programs() do
		got[pname] = prog.section
		local prefix = prog.section:match("^([^/]+)/") or prog.section
		if PROG_TYPE[prefix] then
			assert.are.equal(PROG_TYPE[prefix], prog.type,
				name .. ": type of program '" .. pname .. "' (" .. prog.section .. ")")
		end
		assert.are.equal(prog, obj:program(pname))
	end
	assert.are.same(want, got)
	for _, m in ipairs(a.maps) do
		local map = obj:map(m.name)
		assert(map, name .. ": no map '" .. m.name .. "'")
		assert.are.equal(m.name, map.name)
		assert.are.equal(m.type_name, map.type)
		if m.max_entries and m.max_entries > 0 then
			assert.are.equal(m.max_entries, map.max_entries, name .. ": max_entries of " .. m.name)
		end
	end
end

-- Load with the tool's setup and the autoload rules; check fds; close twice.
local function load_and_close(path, a, name)
	local setup = SETUP[name] or {}
	local off = autoload_off(a)
	local obj, err, code = ayac().open(path)
	assert(obj, "open " .. name .. ": " .. errtext(err, code))
	for pname in pairs(off) do assert(obj:program(pname)):set_autoload(false) end
	for mname, n in pairs(setup.max_entries or {}) do
		assert(obj:map(mname)):set_max_entries(n)
	end
	for mname, n in pairs(setup.value_size or {}) do
		local map = assert(obj:map(mname))
		-- m[k] looks up elements, so an absent method is an error or a non-function
		local has, fn = pcall(function() return map.set_value_size end)
		assert(has and type(fn) == "function", name .. ": needs Map:set_value_size " ..
			"(libbpf's bpf_map__set_value_size): the tool sizes '" .. mname .. "' at run time")
		map:set_value_size(n)
	end
	local ok, lerr, lcode = obj:load()
	assert(ok, "load " .. name .. ": " .. errtext(lerr, lcode))
	local nloaded = 0
	for pname, prog in obj:programs() do
		if off[pname] == nil then
			assert(prog:fd() >= 0, name .. ": program '" .. pname .. "' has no fd")
			nloaded = nloaded + 1
		end
	end
	for mname, map in obj:maps() do
		assert(map:fd() >= 0, name .. ": map '" .. mname .. "' has no fd")
	end
	obj:close()
	obj:close()
	return nloaded
end

describe("libbpf-tools corpus", function()
	local dir, why = corpus.ensure()
	local objects = dir and corpus.objects(dir) or {}

	it("is extracted from the libbpf-tools binaries", function()
		assert(dir, why)
		assert.is_true(#objects > 0, "no objects in " .. tostring(dir))
		-- running the extractor again changes nothing
		assert.is_true(sh("'" .. corpus.extractor .. "' '" .. dir .. "' >/dev/null"))
		assert.are.equal(#objects, #corpus.objects(dir))
	end)

	for _, o in ipairs(objects) do
		local name, path = o.name, o.path
		local a, aerr = corpus.analyse(path)

		describe(name, function()
			it("is a well-formed BPF object: " .. name, function()
				assert(a, aerr)
				assert.is_true(#a.programs > 0 and a.has_btf, name)
			end)
			if not a then return end

			it("opens " .. name, function()
				local obj, err, code = ayac().open(path)
				assert(obj, "open " .. name .. ": " .. errtext(err, code))
				assert.are.equal(name, obj.name)
				check_opened(obj, a, name)
				obj:close()
				obj:close()
			end)

			it("opens " .. name .. " from bytes", function()
				local obj, err, code = ayac().open(read(path))
				assert(obj, "open " .. name .. " (bytes): " .. errtext(err, code))
				check_opened(obj, a, name)
				obj:close()
			end)

			it("opens or refuses damaged copies of " .. name .. " without raising", function()
				-- Deterministic byte mutations, half of them in the ELF and section
				-- headers: open must give an object or nil, message, code.
				local ffi = require "ffi"
				local bytes = read(path)
				local hdr_lo, hdr_hi = a.shoff, a.shoff + a.nsections * 64 - 1
				local seed = 0
				for i = 1, #name do seed = seed * 31 + name:byte(i) end
				math.randomseed(seed % 2147483647)
				for round = 1, MUTATIONS do
					local buf = ffi.new("uint8_t[?]", #bytes)
					ffi.copy(buf, bytes, #bytes)
					for _ = 1, math.random(1, 8) do
						local at = math.random() < 0.5 and math.random(hdr_lo, hdr_hi)
							or math.random(16, #bytes - 1)
						if math.random() < 0.2 then at = math.random(16, 63) end
						buf[at] = math.random(0, 255)
					end
					local ok, obj, err, code = pcall(ayac().open, ffi.string(buf, #bytes))
					assert(ok, name .. " mutation " .. round .. " raised: " .. tostring(obj))
					if obj then
						obj:close()
					else
						assert(type(err) == "string" and type(code) == "string",
							name .. " mutation " .. round .. ": nil without message and code")
					end
				end
			end)

			it("refuses truncated copies of " .. name, function()
				local bytes = read(path)
				local shdr_end = a.shoff + a.nsections * 64
				for _, n in ipairs({ 16, 64, shdr_end - 1 }) do
					local obj, err, code = ayac().open(bytes:sub(1, n))
					assert.is_nil(obj, name .. " cut at " .. n .. " bytes opened")
					assert.is_string(err)
					assert.are.equal("EBADELF", code, name .. " cut at " .. n .. ": " .. tostring(err))
				end
			end)

			local function describe_needs()
				local needs = {}
				if a.core_relo > 0 then needs[#needs + 1] = a.core_relo .. " CO-RE relocations" end
				for _, e in ipairs(a.externs) do
					needs[#needs + 1] = "extern " .. e.name .. " (" .. e.kind .. ")"
				end
				return table.concat(needs, ", ")
			end

			if a.needs_externs and not run_externs then
				pending("needs extern symbols (issue 3, externs): " .. name .. " (" ..
					describe_needs() .. ")")
				return
			end
			local needs = a.simple and "" or " (" .. describe_needs() .. ")"

			-- Kernels differ (renamed fields, tracepoint argument types): a refusal is
			-- right only where libbpf, in the same kernel, refuses the object too, and a
			-- CO-RE refusal names its relocation.
			it("loads " .. name .. needs .. " with its tool's setup, unless libbpf refuses it too", function()
				local ok, res = pcall(load_and_close, path, a, name)
				if ok then return end
				res = tostring(res)
				local lib = libbpf_result(path)
				assert(lib and not lib.ok, res)
				if res:find("ECORE", 1, true) or res:find("CO-RE", 1, true) then
					assert.matches("CO%-RE relocation #%d+ %(", res)
				end
			end)

			it("loads every program of " .. name .. " exactly when libbpf does", function()
				local lib = libbpf_result(path)
				if lib == nil then return end -- no bpftool: nothing to compare with
				local obj, err, code = ayac().load(path)
				if lib.ok then
					assert(obj, "libbpf loads " .. name .. ", ayac: " .. errtext(err, code))
					obj:close()
				else
					if obj then obj:close() end
					assert.is_nil(obj, "libbpf refuses " .. name .. " as compiled; ayac loaded it")
					assert.is_string(err)
					assert.is_string(code)
					assert(mentions_any(err, a, name),
						"the message names no object, program or map: " .. err)
				end
			end)

			it("relocates " .. name .. " as libbpf does (the same program tags)", function()
				local lib = libbpf_result(path)
				if not lib or not lib.ok then return end -- libbpf cannot load it whole here
				local obj, err, code = ayac().load(path)
				assert(obj, "libbpf loads " .. name .. ", ayac: " .. errtext(err, code))
				for pname, prog in obj:programs() do
					assert(lib.tags[pname], name .. ": bpftool pinned no program '" .. pname .. "'")
					assert.are.equal(lib.tags[pname], prog:info().tag,
						name .. ": program '" .. pname .. "' differs from libbpf's")
				end
				obj:close()
			end)
		end)
	end
end)
