-- Kernel feature detection (issue 4): ayac.features() against `bpftool feature probe
-- kernel`, answers against the kernel's version, the AYAC_FEATURES override driving the
-- loader's other paths (ioctl attach, probe_read rewriting, global data refused), and
-- `ayac features [--json]`.
--
-- bpftool here is Debian's 7.1 (libbpf 1.1), older than the kernel. Where its answers
-- and ayac's differ, the difference must be one of these, each checked on its own:
--
--   * names bpftool 7.1 does not know: program type netfilter, map types cgrp_storage
--     and arena, helpers after user_ringbuf_drain (#209): cgrp_storage_get/_delete;
--   * helpers bpftool lists for a type whose programs cannot call them: newer kernels
--     refuse them with "program of this type cannot use helper", a message libbpf 1.1
--     does not look for (it knows "invalid func" and "unknown func"), so bpftool 7.1
--     counts every helper the kernel has as usable everywhere;
--   * a probe that fails for another reason (EPERM: ext and lsm here) is "NOT
--     available" for bpftool and unknown for ayac (false, with the reason);
--   * tracing: bpftool loads an fentry program (attach_btf_id 1), which this kernel
--     refuses with EPERM before looking at it; ayac loads the tp_btf flavour, and a
--     tp_btf program does load here (checked).
--
-- Nothing here asserts how long probing takes (`ayac features` takes ~0.1 s here).
local ffi = require "ffi"
require("helpers").cdef([[
int getpid(void);
long syscall(long number, ...);
]])

local ayac = require "ayac"
local h = require "helpers"

local features = ayac.features
local F = ayac.features()

local PROBE_READ = h.bpf("features_probe_read")
local PROBES = h.bpf("attach_probes")
local GLOBALS = h.bpf("globals")
local BTF_OBJ = h.bpf("attach_btf")
local EXE = h.build .. "/spec/fixtures/uprobe_target"

local NEWER_THAN_BPFTOOL = {
	prog_types = { netfilter = "Linux 6.4" },
	map_types = { cgrp_storage = "Linux 6.2", arena = "Linux 6.9" },
}
local BPFTOOL_LAST_HELPER = "user_ringbuf_drain"
local NOISY = { trace_printk = true, trace_vprintk = true, probe_write_user = true }

local function sh_quote(s)
	return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- ---- bpftool ---------------------------------------------------------------------------

-- { prog_types = { name = bool }, map_types = …, helpers = { type = { name = true } } }
local function bpftool_probe()
	local out, ok = h.capture("bpftool feature probe kernel 2>/dev/null")
	if not ok or out == "" then return nil end
	local t = { prog_types = {}, map_types = {}, helpers = {} }
	local cur
	for line in out:gmatch("[^\n]+") do
		local kind, name, no = line:match("^eBPF (%a+)_type (%S+) is (%u*) ?available")
		local ptype = line:match("^eBPF helpers supported for program type (%S+):")
		if kind then
			t[kind == "program" and "prog_types" or "map_types"][name] = no ~= "NOT"
		elseif ptype then
			cur = {}
			t.helpers[ptype] = cur
		elseif cur and line:match("^%s+%- bpf_") then
			cur[line:match("%- bpf_(%S+)")] = true
		elseif not line:match("^%s") then
			cur = nil
		end
	end
	return t
end

local BT = bpftool_probe()

local function helper_ids()
	local ids = {}
	for id, name in pairs(ayac.core.helper_names()) do ids[name] = id end
	return ids
end

-- ---- a small JSON reader (for `ayac features --json`) ------------------------------------

local function json_decode(s)
	local pos = 1
	local function ws() pos = s:find("[^ \t\r\n]", pos) or #s + 1 end
	local value
	local function str()
		local out = {}
		pos = pos + 1
		while true do
			local c = s:sub(pos, pos)
			if c == '"' then pos = pos + 1 return table.concat(out) end
			if c == "\\" then
				local e = s:sub(pos + 1, pos + 1)
				if e == "u" then
					out[#out + 1] = string.char(tonumber(s:sub(pos + 2, pos + 5), 16))
					pos = pos + 6
				else
					out[#out + 1] = ({ n = "\n", t = "\t", r = "\r", b = "\b", f = "\f" })[e] or e
					pos = pos + 2
				end
			else
				out[#out + 1] = c
				pos = pos + 1
			end
		end
	end
	local function list(close, item)
		local t = {}
		pos = pos + 1
		ws()
		if s:sub(pos, pos) == close then pos = pos + 1 return t end
		while true do
			item(t)
			ws()
			local c = s:sub(pos, pos)
			pos = pos + 1
			if c == close then return t end
			assert(c == ",", "JSON: expected ',' at " .. pos)
		end
	end
	function value()
		ws()
		local c = s:sub(pos, pos)
		if c == "{" then
			return list("}", function(t)
				ws()
				local k = str()
				ws()
				assert(s:sub(pos, pos) == ":", "JSON: expected ':' at " .. pos)
				pos = pos + 1
				t[k] = value()
			end)
		elseif c == "[" then
			return list("]", function(t) t[#t + 1] = value() end)
		elseif c == '"' then
			return str()
		end
		for word, v in pairs({ ["true"] = true, ["false"] = false }) do
			if s:sub(pos, pos + #word - 1) == word then pos = pos + #word return v end
		end
		local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
		assert(num and #num > 0, "JSON: unexpected '" .. c .. "' at " .. pos)
		pos = pos + #num
		return tonumber(num)
	end
	local v = value()
	ws()
	assert(pos > #s, "JSON: trailing text at " .. pos)
	return v
end

-- ---- running with AYAC_FEATURES ------------------------------------------------------------

-- Runs Lua code in a fresh ayac process (AYAC_FEATURES is read once per process) and
-- returns its output (stdout and stderr) and whether it exited 0.
local function run_with(env, code)
	local p = h.tmpname(".lua")
	h.write(p, "local ffi = require 'ffi'\n" ..
		"pcall(ffi.cdef, 'int getpid(void); long syscall(long number, ...);')\n" ..
		"local ayac = require 'ayac'\n" ..
		"local function getpid(n) for _ = 1, n do ffi.C.syscall(ffi.cast('long', 39)) end end\n" ..
		code)
	local out, ok = h.capture("AYAC_FEATURES=" .. sh_quote(env) .. " " .. sh_quote(h.bin) .. " " ..
		sh_quote(p) .. " 2>&1")
	os.remove(p)
	return out, ok
end

-- "key=value" lines of a run's output.
local function fields(out)
	local t = {}
	for k, v in out:gmatch("([%w_.]+)=([^\n]*)") do t[k] = v end
	return t
end

local function calls(log)
	local seen = {}
	for c in log:gmatch("call ([%w_]+#%d+)") do seen[c] = true end
	return seen
end

-- ---- the specs -------------------------------------------------------------------------------

describe("ayac.features()", function()
	it("has the documented shape: booleans, helper lists, reasons for unknown answers", function()
		for _, s in ipairs({ "prog_types", "map_types", "btf", "links", "misc" }) do
			assert.is_table(F[s])
			for k, v in pairs(F[s]) do
				assert.is_string(k)
				assert.is_boolean(v, s .. "." .. k)
			end
		end
		local ids = helper_ids()
		for ptype, list in pairs(F.helpers) do
			assert.is_not_nil(F.prog_types[ptype], ptype)
			for i, name in ipairs(list) do
				assert.is_string(name)
				assert.is_nil(name:match("^bpf_"))
				if i > 1 then
					assert.is_true(ids[list[i - 1]] < ids[name], "enum order")
				end
			end
		end
		for key, why in pairs(F.unknown) do
			local section, name = key:match("^([%w_]+)%.([%w_]+)")
			assert.is_not_nil(F[section], key)
			assert.is_string(why)
			if section ~= "helpers" then assert.is_false(F[section][name], key) end
		end
		for _, name in ipairs({ "ringbuf", "perfbuf", "user_ringbuf", "jit", "global_data" }) do
			assert.is_boolean(F.misc[name], name)
		end
		assert.equal(F.map_types.perf_event_array, F.misc.perfbuf)
	end)

	it("probes once and hands out copies", function()
		local a = ayac.features()
		a.prog_types.xdp = "changed"
		a.helpers.xdp[1] = "changed"
		local b = ayac.features()
		assert.same(F, b)
		assert.is_boolean(b.prog_types.xdp)
	end)

	it("answers one helper for one program type, with the verifier's reason when not", function()
		assert.is_true(features.helper("xdp", "xdp_adjust_head"))
		assert.is_true(features.helper("xdp", "bpf_map_lookup_elem"))
		local ok, why = features.helper("socket_filter", "xdp_adjust_head")
		assert.is_false(ok)
		assert.matches("not available to socket_filter programs", why, 1, true)
		ok, why = features.helper("xdp", 4000)
		assert.is_false(ok)
		assert.matches("no helper with this id", why, 1, true)
		assert.has_error(function() features.helper("xdp", "no_such_helper") end)
		assert.has_error(function() features.helper("no_such_type", "map_lookup_elem") end)
		assert.is_true(features.has("prog_types.xdp"))
		assert.equal(F.links.perf_link, features.has("perf_link"))
		assert.has_error(function() features.has("no_such_feature") end)
	end)

	it("agrees with what the kernel's version promises (a newer kernel saying no fails)", function()
		local a, b = h.read("/proc/sys/kernel/osrelease"):match("^(%d+)%.(%d+)")
		local v = tonumber(a) * 100 + tonumber(b)
		-- Minimum versions of features no kernel option turns off on x86-64.
		local since = {
			btf = 500, btf_func = 500, btf_datasec = 503, btf_global_func = 506,
			btf_float = 513, btf_decl_tag = 516, btf_type_tag = 517, btf_enum64 = 600,
			prog_name = 415, global_data = 502, bounded_loops = 503, array_mmap = 505,
			probe_read_kernel = 505, ringbuf = 508, devmap_prog_id = 508,
			cpumap_prog_id = 509, memcg_account = 511, cgroup_link = 507,
			perf_link = 515, bpf_cookie = 515, bpf_loop = 517, tcx = 606,
			xdp_link = 509, sockmap_link = 610, map_batch = 506,
		}
		for name, min in pairs(since) do
			local section = name:match("^btf") and "btf" or
				F.links[name] ~= nil and "links" or "misc"
			if v >= min then assert.is_true(F[section][name], name) end
		end
	end)
end)

describe("features against bpftool feature probe kernel", function()
	local function need_bpftool()
		if not BT then pending("bpftool is not installed") end
		return BT ~= nil
	end

	-- Every difference in a section of types is explained, or the test fails.
	local function compare_types(section)
		local explained = {}
		for name, theirs in pairs(BT[section]) do
			local ours, why = F[section][name], F.unknown[section .. "." .. name]
			assert.is_not_nil(ours, "ayac does not know " .. section .. "." .. name)
			if ours ~= theirs then
				-- the one difference of its kind: see the top of this file
				assert.equal("prog_types.tracing", section .. "." .. name)
				assert.is_true(ours)
				explained[name] = "fentry refused here"
			elseif why then
				assert.is_false(theirs, name) -- bpftool: any failure is "NOT available"
				explained[name] = why
			end
		end
		for name in pairs(F[section]) do
			if BT[section][name] == nil then
				assert.is_string(NEWER_THAN_BPFTOOL[section][name],
					section .. "." .. name .. " is unknown to bpftool 7.1 but not listed")
				explained[name] = "newer than bpftool"
			end
		end
		return explained
	end

	it("finds the same program types; the differences are explained", function()
		if not need_bpftool() then return end
		local explained = compare_types("prog_types")
		if explained.tracing then
			-- the explanation checked: tracing programs (tp_btf) do load on this kernel
			local obj = assert(ayac.load(BTF_OBJ))
			obj:close()
		end
	end)

	it("finds the same map types; the differences are explained", function()
		if not need_bpftool() then return end
		compare_types("map_types")
	end)

	it("finds the same helpers, or bpftool counts ones the verifier refuses", function()
		if not need_bpftool() then return end
		local ids = helper_ids()
		local last = ids[BPFTOOL_LAST_HELPER]
		local refused = 0
		for ptype, theirs in pairs(BT.helpers) do
			local ours = {}
			for _, name in ipairs(F.helpers[ptype] or {}) do ours[name] = true end
			for name in pairs(theirs) do
				if not ours[name] then
					local ok, why = features.helper(ptype, name)
					assert.is_false(ok, ptype .. "." .. name)
					assert.matches("program of this type cannot use helper", why, 1, true)
					refused = refused + 1
				end
			end
			for name in pairs(ours) do
				if not theirs[name] then
					assert.is_true(ids[name] > last, ptype .. "." .. name .. " only in ayac")
				end
			end
			for name in pairs(NOISY) do assert.is_nil(ours[name]) end
			if F.unknown["helpers." .. ptype] then
				assert.is_nil(next(theirs), ptype .. ": bpftool probes no helper there either")
			end
		end
	end)
end)

describe("AYAC_FEATURES", function()
	it("perf_link=0: a tracepoint goes on through the ioctl and still counts exactly", function()
		local out, ok = run_with("perf_link=0", ([[
			local obj = assert(ayac.load(%q, { globals = { target_tgid = ffi.C.getpid() } }))
			local link = assert(obj:program("tp_getpid"):attach())
			getpid(25)
			print("link_id=" .. tostring(link:info().id))
			print("count=" .. tonumber(obj:map("counts"):get(0) or 0))
			link:detach()
			getpid(5)
			print("after=" .. tonumber(obj:map("counts"):get(0) or 0))
			local l, msg, code = obj:program("up_cookie"):attach {
				path = %q, symbol = "ayacfix_exe_func", cookie = 17 }
			print("cookie=" .. tostring(code) .. " " .. tostring(msg))
			print("perf_link=" .. tostring(ayac.features().links.perf_link))
		]]):format(PROBES, EXE))
		assert.is_true(ok, out)
		local r = fields(out)
		assert.equal("nil", r.link_id) -- no bpf_link: the perf event itself holds the program
		assert.equal("25", r.count)
		assert.equal("25", r.after)
		assert.matches("^EOPNOTSUPP .*bpf_cookie", r.cookie)
		assert.equal("false", r.perf_link)
	end)

	it("without it, the same attach is a bpf_link when the kernel has perf links", function()
		local obj = assert(ayac.load(PROBES, { globals = { target_tgid = ffi.C.getpid() } }))
		local link = assert(obj:program("tp_getpid"):attach())
		if F.links.perf_link then
			assert.is_number(link:info().id)
		else
			assert.is_nil(link:info().id)
		end
		obj:close()
	end)

	it("an unknown answer (perf_link=EPERM) is reported and the link still tried", function()
		local out, ok = run_with("perf_link=EPERM", ([[
			local obj = assert(ayac.load(%q, { globals = { target_tgid = ffi.C.getpid() } }))
			local link = assert(obj:program("tp_getpid"):attach())
			getpid(7)
			print("count=" .. tonumber(obj:map("counts"):get(0) or 0))
			print("is_link=" .. tostring(link:info().id ~= nil))
			local f = ayac.features()
			print("perf_link=" .. tostring(f.links.perf_link))
			print("why=" .. tostring(f.unknown["links.perf_link"]))
		]]):format(PROBES))
		assert.is_true(ok, out)
		local r = fields(out)
		assert.equal("7", r.count)
		assert.equal(tostring(F.links.perf_link), r.is_link)
		assert.equal("false", r.perf_link)
		assert.equal("forced unknown by AYAC_FEATURES", r.why)
	end)

	it("probe_read_kernel=0: bpf_probe_read_kernel[_str] become bpf_probe_read[_str] and work",
		function()
		local code = ([[
			local obj = assert(ayac.load(%q, { globals = { target_tgid = ffi.C.getpid() },
				verifier_log_level = 2 }))
			local link = assert(obj:program("read_ctx"):attach())
			getpid(3)
			local r = obj:map("results"):get(0)
			print("calls=" .. tonumber(r.calls))
			print("nr=" .. tonumber(r.nr))
			print("str_len=" .. tonumber(r.str_len))
			print("str=" .. r.str)
			local seen = {}
			for c in obj:program("read_ctx"):verifier_log():gmatch("call ([%%w_]+#%%d+)") do
				seen[#seen + 1] = c
			end
			table.sort(seen)
			print("calls_made=" .. table.concat(seen, " "))
		]]):format(PROBE_READ)
		local out, ok = run_with("probe_read_kernel=0", code)
		assert.is_true(ok, out)
		local r = fields(out)
		assert.equal("3", r.calls)
		assert.equal("39", r.nr) -- __NR_getpid
		assert.equal("19", r.str_len)
		assert.equal("hello from .rodata", r.str)
		assert.matches("bpf_probe_read#4", r.calls_made, 1, true)
		assert.matches("bpf_probe_read_str#45", r.calls_made, 1, true)
		assert.is_nil(r.calls_made:match("probe_read_kernel"))

		-- and without the override, the program keeps the helpers it asked for
		out, ok = run_with("", code)
		assert.is_true(ok, out)
		r = fields(out)
		assert.equal("39", r.nr)
		if F.misc.probe_read_kernel then
			assert.matches("bpf_probe_read_kernel#113", r.calls_made, 1, true)
			assert.matches("bpf_probe_read_kernel_str#115", r.calls_made, 1, true)
		end
	end)

	it("global_data=0: an object with globals is refused, naming the section", function()
		local out, ok = run_with("global_data=0", ([[
			local obj, msg, code = ayac.load(%q)
			print("obj=" .. tostring(obj))
			print("code=" .. tostring(code))
			print("msg=" .. tostring(msg))
		]]):format(GLOBALS))
		assert.is_true(ok, out)
		local r = fields(out)
		assert.equal("nil", r.obj)
		assert.equal("EOPNOTSUPP", r.code)
		assert.matches("section '%.[rodatbs]+' holds global variables", r.msg)
		assert.matches("no global data", r.msg, 1, true)
	end)

	it("forces program types, map types and helpers; reports malformed entries", function()
		local out, ok = run_with("helper.xdp.redirect=0, map_type.ringbuf=0;prog_type.lwt_in=EPERM " ..
			"helper.get_prandom_u32=no,bogus=1,btf_float,jit=maybe", [[
			local f = ayac.features()
			local function has(list, x) for _, v in ipairs(list) do if v == x then return true end end return false end
			print("xdp_redirect=" .. tostring(has(f.helpers.xdp, "redirect")))
			print("xdp_redirect_map=" .. tostring(has(f.helpers.xdp, "redirect_map")))
			print("prandom=" .. tostring(has(f.helpers.xdp, "get_prandom_u32") or has(f.helpers.socket_filter, "get_prandom_u32")))
			print("ringbuf=" .. tostring(f.map_types.ringbuf) .. "," .. tostring(f.misc.ringbuf))
			print("lwt_in=" .. tostring(f.prog_types.lwt_in))
			print("lwt_in_why=" .. tostring(f.unknown["prog_types.lwt_in"]))
			print("lwt_in_helpers=" .. #f.helpers.lwt_in)
		]])
		assert.is_true(ok, out)
		local r = fields(out)
		assert.equal("false", r.xdp_redirect)
		assert.equal(tostring(F.prog_types.xdp), r.xdp_redirect_map)
		assert.equal("false", r.prandom)
		assert.equal("false,false", r.ringbuf)
		assert.equal("false", r.lwt_in)
		assert.matches("^EPERM", r.lwt_in_why)
		assert.equal("0", r.lwt_in_helpers)
		assert.matches("ignoring 'bogus': no such feature", out, 1, true)
		assert.matches("ignoring 'btf_float': expected name=value", out, 1, true)
		assert.matches("ignoring 'jit=maybe'", out, 1, true)
	end)
end)

describe("ayac features", function()
	local function ayac_cmd(args)
		return h.capture(sh_quote(h.bin) .. " features " .. args .. " 2>&1")
	end

	it("prints every section for people", function()
		local out, ok = ayac_cmd("")
		assert.is_true(ok, out)
		for _, s in ipairs({ "Program types: ", "Map types: ", "BTF:", "Links and attach paths:",
			"Loader and runtime:", "Helpers per program type" }) do
			assert.matches(s, out, 1, true)
		end
		assert.matches("\n  perf_link +" .. (F.links.perf_link and "yes" or "no"), out)
		assert.matches("\n  xdp %(%d+%):\n", out)
	end)

	it("--json gives ayac.features() as JSON", function()
		local out, ok = ayac_cmd("--json")
		assert.is_true(ok, out)
		assert.same(F, json_decode(out))
		assert.equal(features.json(F) .. "\n", out)
	end)

	it("refuses unknown arguments with its usage", function()
		local out, ok, rc = ayac_cmd("--bogus")
		assert.is_false(ok)
		assert.equal(2, rc)
		assert.matches("usage: ayac features", out, 1, true)
	end)

	it("encodes JSON: sorted keys, arrays (even empty ones), escapes", function()
		local t = { b = { 1, 2.5, true }, a = setmetatable({}, features.array_mt), c = {},
			d = 'q"\\\n\1' }
		assert.equal('{"a":[],"b":[1,2.5,true],"c":{},"d":"q\\"\\\\\\n\\u0001"}', features.json(t))
		assert.same({ x = { 1, "y" }, z = false }, json_decode(features.json { x = { 1, "y" }, z = false }))
	end)
end)
