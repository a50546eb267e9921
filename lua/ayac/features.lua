-- ayac.features: what this kernel can do (issue 4; the probes are src/core/features/probe_*.c).
--
--   local ayac = require "ayac"
--   local f = ayac.features()            -- probed once per process; a fresh copy per call
--   if f.links.tcx then … end
--   ayac.features.helper("xdp", "redirect_map")   --> true | false, why | nil, why, code
--   ayac.features.has("perf_link")                --> true | false | nil, why, code
--
-- The table ayac.features() returns (every answer is a boolean):
--
--   {
--     prog_types = { socket_filter = true, xdp = true, lirc_mode2 = false, … },
--                  -- every program type ayac knows, by the kernel's name without
--                  -- BPF_PROG_TYPE_, lower case
--     map_types  = { hash = true, ringbuf = true, arena = true, … },       -- likewise
--     helpers    = { xdp = { "map_lookup_elem", "map_update_elem", … }, … },
--                  -- for every program type: the helpers its programs may call, names
--                  -- without "bpf_", in enum bpf_func_id order; {} when the type is
--                  -- missing or its helpers cannot be probed (tracing, ext, lsm,
--                  -- struct_ops load only against a target; bpftool skips them too).
--                  -- trace_printk, trace_vprintk and probe_write_user are left out
--                  -- unless ayac.features{ full = true }: probing them writes warnings
--                  -- to the kernel log (bpftool leaves them out too).
--     btf        = { btf, btf_func, btf_global_func, btf_datasec, btf_zero_datasec,
--                    btf_float, btf_decl_tag, btf_type_tag, btf_enum64,
--                    btf_qmark_datasec },
--     links      = { perf_link, kprobe_multi, uprobe_multi, tcx, netkit, cgroup_link,
--                    xdp_link, sockmap_link },
--     misc       = { prog_name, global_data, array_mmap, probe_read_kernel, bpf_cookie,
--                    bounded_loops, bpf_loop, ringbuf, memcg_account, cpumap_prog_id,
--                    devmap_prog_id, jit, unpriv_bpf, map_batch,
--                    perfbuf, user_ringbuf },  -- the event buffers there are: ringbuf
--                                              -- (BPF_MAP_TYPE_RINGBUF), perfbuf
--                                              -- (PERF_EVENT_ARRAY), user_ringbuf
--     unknown    = { ["prog_types.lsm"] = "EPERM: Operation not permitted",
--                    ["helpers.tracing"] = "not probed: …",
--                    ["helpers.xdp.redirect"] = "…", … },
--                  -- answers the probe could not give (its load failed for another
--                  -- reason than "not supported"): they read false above, and the
--                  -- reason is here under "section.name" (helpers: "helpers.TYPE" for
--                  -- a whole type, "helpers.TYPE.HELPER" for one pair). Empty when
--                  -- every probe answered.
--   }
--
-- The names in btf, links and misc are also what AYAC_FEATURES takes to force an answer
-- (see src/core/features/probe_override.c), e.g. AYAC_FEATURES="perf_link=0,btf_enum64=0".
--
-- `ayac features` prints this for people, `ayac features --json` as JSON (M.main).
local core = require "ayac.core"

local M = {}

local LINKS = { perf_link = true, kprobe_multi = true, uprobe_multi = true, tcx = true,
	netkit = true, cgroup_link = true, xdp_link = true, sockmap_link = true }
-- Helpers whose probe writes to the kernel log.
local NOISY = { trace_printk = true, trace_vprintk = true, probe_write_user = true }
local SECTIONS = { "prog_types", "map_types", "helpers", "btf", "links", "misc" }

-- Tables that are JSON arrays even when empty.
local array_mt = {}
M.array_mt = array_mt

local function section_of(name)
	if name:match("^btf") then return "btf" end
	return LINKS[name] and "links" or "misc"
end

local function new_table()
	local t = { unknown = {} }
	for _, s in ipairs(SECTIONS) do t[s] = {} end
	return t
end

-- Records one answer: ok is true/false, or nil with why.
local function put(t, section, name, ok, why)
	t[section][name] = ok == true
	if ok == nil then t.unknown[section .. "." .. name] = why end
end

local function probe_helpers(t, ptype, names, max_id, full)
	local list = setmetatable({}, array_mt)
	t.helpers[ptype] = list
	if not t.prog_types[ptype] then return end
	for id = 1, max_id do
		local h = names[id]
		if h and (full or not NOISY[h]) then
			local ok, why = core.feature_helper(ptype, id)
			if ok then
				list[#list + 1] = h
			elseif ok == nil and why:match("^not probed") then
				t.unknown["helpers." .. ptype] = why
				return
			elseif ok == nil then
				t.unknown["helpers." .. ptype .. "." .. h] = why
			end
		end
	end
end

local function probe_all(full)
	local t = new_table()
	for _, name in ipairs(core.feature_names()) do
		put(t, section_of(name), name, core.feature(name))
	end
	for _, name in ipairs(core.prog_type_names()) do
		put(t, "prog_types", name, core.feature_prog_type(name))
	end
	for _, name in ipairs(core.map_type_names()) do
		put(t, "map_types", name, core.feature_map_type(name))
	end
	t.misc.perfbuf = t.map_types.perf_event_array
	t.misc.user_ringbuf = t.map_types.user_ringbuf
	local names = core.helper_names()
	local max_id = table.maxn(names)
	for _, ptype in ipairs(core.prog_type_names()) do
		probe_helpers(t, ptype, names, max_id, full)
	end
	return t
end

local function copy(v)
	if type(v) ~= "table" then return v end
	local c = setmetatable({}, getmetatable(v))
	for k, x in pairs(v) do c[k] = copy(x) end
	return c
end

local cache = {}

-- ayac.features([opts]): opts.full also probes the helpers that write to the kernel log.
function M.get(opts)
	local full = type(opts) == "table" and opts.full and true or false
	cache[full] = cache[full] or probe_all(full)
	return copy(cache[full])
end

-- One answer by name: a feature ("perf_link"), "prog_types.xdp" or "map_types.arena".
function M.has(name)
	local section, rest = name:match("^(%w+_types)%.(.+)$")
	if section == "prog_types" then return core.feature_prog_type(rest) end
	if section == "map_types" then return core.feature_map_type(rest) end
	return core.feature(name)
end

-- One helper for one program type, probed on its own (names with or without "bpf_").
function M.helper(prog_type, helper)
	return core.feature_helper(prog_type, helper)
end

-- ---- JSON ----------------------------------------------------------------------------

local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
	['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }

local function json_string(s)
	return '"' .. s:gsub('[%c"\\]', function(c)
		return escapes[c] or string.format("\\u%04x", c:byte())
	end) .. '"'
end

local function is_array(t)
	if getmetatable(t) == array_mt then return true end
	local n = #t
	if n == 0 then return false end
	for k in pairs(t) do
		if type(k) ~= "number" or k < 1 or k > n or k % 1 ~= 0 then return false end
	end
	return true
end

local encode

local function encode_table(t, out)
	if is_array(t) then
		out[#out + 1] = "["
		for i = 1, #t do
			if i > 1 then out[#out + 1] = "," end
			encode(t[i], out)
		end
		out[#out + 1] = "]"
		return
	end
	local keys = {}
	for k in pairs(t) do keys[#keys + 1] = tostring(k) end
	table.sort(keys)
	out[#out + 1] = "{"
	for i, k in ipairs(keys) do
		if i > 1 then out[#out + 1] = "," end
		out[#out + 1] = json_string(k)
		out[#out + 1] = ":"
		local v = t[k]
		if v == nil then v = t[tonumber(k)] end
		encode(v, out)
	end
	out[#out + 1] = "}"
end

function encode(v, out)
	local ty = type(v)
	if ty == "table" then
		encode_table(v, out)
	elseif ty == "string" then
		out[#out + 1] = json_string(v)
	elseif ty == "number" then
		if v ~= v or v == math.huge or v == -math.huge then
			out[#out + 1] = "null"
		elseif v % 1 == 0 and math.abs(v) < 2 ^ 53 then
			out[#out + 1] = string.format("%d", v)
		else
			out[#out + 1] = string.format("%.17g", v)
		end
	elseif ty == "boolean" then
		out[#out + 1] = tostring(v)
	else
		out[#out + 1] = "null"
	end
end

-- JSON text of v (tables with array_mt, or with keys 1..n, are arrays; object keys
-- are sorted so the output is stable).
function M.json(v)
	local out = {}
	encode(v, out)
	return table.concat(out)
end

-- ---- for people -------------------------------------------------------------------------

local function sorted_keys(t)
	local keys = {}
	for k in pairs(t) do keys[#keys + 1] = k end
	table.sort(keys)
	return keys
end

-- Words wrapped at width, each line starting with indent.
local function wrap(words, indent, width)
	local lines, line = {}, indent
	for _, w in ipairs(words) do
		if #line > #indent and #line + 1 + #w > width then
			lines[#lines + 1] = line
			line = indent
		end
		line = line .. (#line > #indent and " " or "") .. w
	end
	if #line > #indent then lines[#lines + 1] = line end
	return table.concat(lines, "\n")
end

-- prog_types / map_types: the supported ones wrapped, then the others with reasons.
local function print_types(out, title, f, section, order)
	local yes, no, unknown = {}, {}, {}
	for _, name in ipairs(order) do
		local why = f.unknown[section .. "." .. name]
		if f[section][name] then yes[#yes + 1] = name
		elseif why then unknown[#unknown + 1] = name .. " (" .. why .. ")"
		else no[#no + 1] = name end
	end
	out[#out + 1] = string.format("%s: %d of %d", title, #yes, #order)
	out[#out + 1] = wrap(yes, "  ", 88)
	if #no > 0 then out[#out + 1] = wrap(no, "  not supported: ", 88) end
	for _, u in ipairs(unknown) do out[#out + 1] = "  unknown: " .. u end
end

local function print_flags(out, title, f, section, order)
	out[#out + 1] = title .. ":"
	for _, name in ipairs(order) do
		local why = f.unknown[section .. "." .. name]
		local v = f[section][name] and "yes" or why and ("unknown (" .. why .. ")") or "no"
		out[#out + 1] = string.format("  %-20s %s", name, v)
	end
end

local function print_helpers(out, f, order, full)
	out[#out + 1] = "Helpers per program type" .. (full and "" or
		" (without trace_printk, trace_vprintk, probe_write_user: --full probes them)") .. ":"
	for _, ptype in ipairs(order) do
		local list, why = f.helpers[ptype], f.unknown["helpers." .. ptype]
		if why then
			out[#out + 1] = string.format("  %s: %s", ptype, why)
		elseif not f.prog_types[ptype] then
			out[#out + 1] = string.format("  %s: (program type not available)", ptype)
		else
			out[#out + 1] = string.format("  %s (%d):", ptype, #list)
			out[#out + 1] = wrap(list, "    ", 88)
		end
	end
	for _, k in ipairs(sorted_keys(f.unknown)) do
		if k:match("^helpers%.[^.]+%.") then out[#out + 1] = "  unknown: " .. k .. ": " .. f.unknown[k] end
	end
end

local function read_line(path)
	local fh = io.open(path)
	if not fh then return nil end
	local s = fh:read("*l")
	fh:close()
	return s
end

local function flag_names(section)
	local names = {}
	for _, name in ipairs(core.feature_names()) do
		if section_of(name) == section then names[#names + 1] = name end
	end
	if section == "misc" then
		names[#names + 1] = "perfbuf"
		names[#names + 1] = "user_ringbuf"
	end
	return names
end

-- The report `ayac features` prints.
function M.text(f, full)
	local out = { "Kernel " .. (read_line("/proc/sys/kernel/osrelease") or "?"), "" }
	local ptypes = core.prog_type_names()
	print_types(out, "Program types", f, "prog_types", ptypes)
	print_types(out, "Map types", f, "map_types", core.map_type_names())
	out[#out + 1] = ""
	print_flags(out, "BTF", f, "btf", flag_names("btf"))
	print_flags(out, "Links and attach paths", f, "links", flag_names("links"))
	print_flags(out, "Loader and runtime", f, "misc", flag_names("misc"))
	out[#out + 1] = ""
	print_helpers(out, f, ptypes, full)
	return table.concat(out, "\n") .. "\n"
end

local USAGE = [[
usage: ayac features [--json] [--full]
  --json   the ayac.features() table as JSON
  --full   also probe trace_printk, trace_vprintk and probe_write_user (the kernel logs
           a warning for each)
AYAC_FEATURES="name=0,…" forces answers (see lua/ayac/features.lua).
]]

-- `ayac features [--json] [--full]`: the exit status.
function M.main(...)
	local json, full = false, false
	for _, a in ipairs({ ... }) do
		if a == "--json" then json = true
		elseif a == "--full" then full = true
		elseif a == "-h" or a == "--help" then io.stdout:write(USAGE) return 0
		else
			io.stderr:write("ayac features: unknown argument '", a, "'\n", USAGE)
			return 2
		end
	end
	local f = M.get { full = full }
	io.stdout:write(json and (M.json(f) .. "\n") or M.text(f, full))
	return 0
end

return setmetatable(M, { __call = function(_, opts) return M.get(opts) end })
