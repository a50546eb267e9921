-- Histograms as bpftrace prints them: ayac.hist (log2 buckets), ayac.lhist (linear
-- buckets), ayac.hist_of (raw values, bucketed here).
--
-- Buckets are numbered as include/ayac/hist.bpf.h numbers them, so a BPF program and
-- this printer agree:
--   log2:   0 negative, 1 zero, 2 one, n >= 3 [2^(n-2), 2^(n-1))   (66 buckets)
--   linear: 0 below min, i = 1..N [min+(i-1)*step, min+i*step), N+1 at or above max,
--           N = (max - min) / step
--
-- The text is bpftrace's (0.17, as Debian ships it): a label padded to 16 columns, the
-- count right-aligned in 8, " |", a bar of '@' scaled to the largest bucket (52 wide,
-- computed in single precision as bpftrace does) padded to 52, "|". Only the buckets
-- from the first to the last non-empty one are printed.
--
-- Input: a Lua table { [bucket] = count }, a table of those per key, or a map: keys
-- are bucket numbers, or structs with a bucket member (typed ayac_hist_slot_t /
-- ayac_lhist_slot_t, or named slot or bucket) and other members that make the key of
-- one histogram each; values are counts (per-CPU: summed), or arrays of counts indexed
-- by bucket (libbpf-tools' `u32 slots[N]` style, also per key).
local ffi = require "ffi"

local type, pairs, ipairs, tostring, tonumber, error = type, pairs, ipairs, tostring, tonumber, error
local floor, concat, sort = math.floor, table.concat, table.sort
local srep = string.rep

local M = {}

M.SLOTS = 66
local BAR = 52

local f32box = ffi.new("float[1]")
local function f32(x)
	f32box[0] = x
	return f32box[0]
end

local function is_int(v)
	return type(v) == "cdata" or (type(v) == "number" and v % 1 == 0)
end

-- Counts stay exact: numbers while they are, uint64 cdata past 2^53.
local function add(a, b)
	if type(a) == "cdata" or type(b) == "cdata" then
		return ffi.cast("uint64_t", a) + ffi.cast("uint64_t", b)
	end
	local s = a + b
	if s >= 2 ^ 53 then
		return ffi.cast("uint64_t", a) + ffi.cast("uint64_t", b)
	end
	return s
end

local function count_text(c)
	if type(c) == "cdata" then
		return (tostring(c):gsub("U?LL$", ""))
	end
	return ("%.0f"):format(c)
end

local function log2_floor(v)
	local n = 0
	while v >= 2 do
		v = v / 2
		n = n + 1
	end
	return n
end

-- The log2 bucket of a value (numbers or 64-bit cdata), as ayac_hist_slot() in BPF.
function M.slot(v)
	if type(v) == "cdata" then
		if ffi.istype("int64_t", v) and v < 0 then return 0 end
		v = ffi.cast("uint64_t", v)
		if v == 0 then return 1 end
		local n = 0
		while v > 1 do
			v = v / 2
			n = n + 1
		end
		return n + 2
	end
	if v < 0 then return 0 end
	if v < 1 then return 1 end
	return log2_floor(floor(v)) + 2
end

local function check_linear(min, max, step, fname)
	for i, v in ipairs({ min, max, step }) do
		if type(v) ~= "number" or v % 1 ~= 0 then
			error(("bad argument #%d to '%s' (integer expected, got %s)"):format(i + 1, fname,
				tostring(v)), 3)
		end
	end
	if step <= 0 or max <= min then
		error(("bad arguments to '%s' (need max > min and step > 0, got %d, %d, %d)"):format(
			fname, min, max, step), 3)
	end
end

-- The linear bucket of a value, as ayac_lhist_slot() in BPF.
function M.lslot(v, min, max, step)
	check_linear(min, max, step, "lslot")
	v = tonumber(v)
	if v < min then return 0 end
	if v >= max then return floor((max - min) / step) + 1 end
	return floor((v - min) / step) + 1
end

-- Labels -------------------------------------------------------------------------------

local SUFFIX = { [0] = "", "K", "M", "G", "T", "P", "E" }

-- 2^power as bpftrace writes it: "1", "512", "1K", "4M".
local function pow2_label(power)
	local decade = floor(power / 10)
	return ("%d%s"):format(2 ^ (power - 10 * decade), SUFFIX[decade])
end

-- Values in nanoseconds, three significant digits: "512ns", "4.1us", "1.07s".
local function ns_label(v)
	local units = { { 1e9, "s" }, { 1e6, "ms" }, { 1e3, "us" } }
	for _, u in ipairs(units) do
		if v >= u[1] then
			return ("%.3g%s"):format(v / u[1], u[2])
		end
	end
	return ("%d%s"):format(v, "ns")
end

local function log2_label(i, unit)
	if i == 0 then return "(..., 0)" end
	if unit == "ns" then
		if i == 1 then return "[0]" end
		return ("[%s, %s)"):format(ns_label(2 ^ (i - 2)), ns_label(2 ^ (i - 1)))
	end
	if i == 1 then return "[0]" end
	if i == 2 then return "[1]" end
	return ("[%s, %s)"):format(pow2_label(i - 2), pow2_label(i - 1))
end

-- bpftrace 0.17's lhist labels: a multiple of 1M as "nM", of 1K as "nK".
local function lin_number(n)
	if n == 0 then return "0" end
	if n % 1048576 == 0 then return ("%dM"):format(n / 1048576) end
	if n % 1024 == 0 then return ("%dK"):format(n / 1024) end
	return ("%d"):format(n)
end

local function lin_label(i, nb, min, max, step, unit)
	local num = unit == "ns" and ns_label or lin_number
	if i == 0 then return ("(..., %s)"):format(num(min)) end
	if i == nb + 1 then return ("[%s, ...)"):format(num(max)) end
	return ("[%s, %s)"):format(num((i - 1) * step + min), num(i * step + min))
end

-- Rendering ------------------------------------------------------------------------------

-- The lines for buckets first..last of counts (slot -> count); "" when all are empty.
local function render(counts, first, last, label)
	local lo, hi, maxc = nil, nil, 0
	for i = first, last do
		local c = counts[i]
		if c and c ~= 0 then
			lo = lo or i
			hi = i
			if tonumber(c) > maxc then maxc = tonumber(c) end
		end
	end
	if not lo then
		return ""
	end
	local out = {}
	for i = lo, hi do
		local c = counts[i] or 0
		local bar = floor(f32(f32(f32(tonumber(c)) / f32(maxc)) * BAR))
		local lab, ctext = label(i), count_text(c)
		out[#out + 1] = lab .. srep(" ", 16 - #lab) .. srep(" ", 8 - #ctext) .. ctext ..
			" |" .. srep("@", bar) .. srep(" ", BAR - bar) .. "|\n"
	end
	return concat(out)
end

local function log2_text(counts, opts)
	local unit = opts and opts.unit
	local last = M.SLOTS - 1
	for k in pairs(counts) do
		if k > last then last = k end
	end
	return render(counts, 0, last, function(i) return log2_label(i, unit) end)
end

local function linear_text(counts, min, max, step, opts)
	local unit = opts and opts.unit
	local nb = floor((max - min) / step)
	return render(counts, 0, nb + 1, function(i) return lin_label(i, nb, min, max, step, unit) end)
end

-- Gathering counts ---------------------------------------------------------------------

local function add_count(counts, slot, c)
	if not is_int(slot) or tonumber(slot) < 0 then
		error("histogram bucket must be a non-negative integer, got " .. tostring(slot), 4)
	end
	slot = tonumber(slot)
	if type(c) == "table" then -- per-CPU values
		local s = 0
		for _, v in ipairs(c) do s = add(s, v) end
		c = s
	end
	if not is_int(c) then
		error("histogram count must be an integer, got " .. tostring(c), 4)
	end
	counts[slot] = add(counts[slot] or 0, c)
end

-- An array of counts (index 1 = bucket 0), or per-CPU arrays of them, into counts.
local function add_array(counts, arr)
	for i, c in ipairs(arr) do
		if type(c) == "table" then
			add_array(counts, c)
		else
			add_count(counts, i - 1, c)
		end
	end
end

local function is_count_array(v)
	if type(v) ~= "table" or #v == 0 then return false end
	local first = v[1]
	if type(first) == "table" then return is_count_array(first) end
	return is_int(first)
end

-- The array member of a struct value (the slots of a libbpf-tools hist).
local function slots_of(v)
	if is_count_array(v) then return v end
	if type(v) == "table" then
		for _, f in pairs(v) do
			if is_count_array(f) then return f end
		end
	end
end

local function key_text(k)
	if type(k) == "string" then return k end
	if type(k) == "cdata" then return (tostring(k):gsub("U?LL$", "")) end
	if type(k) == "number" then return ("%.14g"):format(k) end
	return tostring(k)
end

-- Groups (label -> counts) of a keyed input.
local function group(groups, order, label)
	local g = groups[label]
	if not g then
		g = {}
		groups[label] = g
		order[#order + 1] = label
	end
	return g
end

local function map_info(m)
	local ok, lay = pcall(m._layout, m)
	if not ok then return {} end
	local info = { members = {} }
	if lay.btf and lay.key_type_id and lay.key_type_id ~= 0 then
		local btf = lay.btf
		local t = btf:type(lay.key_type_id)
		info.key_type = t and t.name
		local st = btf:type(btf:skip_mods(lay.key_type_id))
		if st and st.members then
			for _, mem in ipairs(st.members) do
				local mt = btf:type(mem.type)
				info.members[#info.members + 1] = { name = mem.name, type = mt and mt.name }
			end
		end
	end
	return info
end

local SLOT_TYPES = { ayac_hist_slot_t = "log2", ayac_lhist_slot_t = "linear" }

-- Which key member holds the bucket, and the others in declaration order.
local function slot_member(info)
	local slot, rest = nil, {}
	for _, mem in ipairs(info.members) do
		if not slot and SLOT_TYPES[mem.type] then slot = mem.name end
	end
	if not slot then
		for _, mem in ipairs(info.members) do
			if not slot and (mem.name == "slot" or mem.name == "bucket") then slot = mem.name end
		end
	end
	for _, mem in ipairs(info.members) do
		if mem.name ~= slot then rest[#rest + 1] = mem.name end
	end
	return slot, rest
end

local function struct_label(k, names)
	local parts = {}
	for i, n in ipairs(names) do parts[i] = key_text(k[n]) end
	return concat(parts, ", ")
end

-- Gather a map: { single = counts } or { groups = {label -> counts}, order = {…} }.
local function gather_map(m)
	local info = map_info(m)
	local slot, rest = slot_member(info)
	local single, groups, order = {}, {}, {}
	local keyed, percpu = false, m.type:match("^percpu") or m.type == "lru_percpu_hash"
	for k, v in m:pairs() do
		if type(k) == "table" and slot then
			keyed = #rest > 0
			local counts = keyed and group(groups, order, struct_label(k, rest)) or single
			add_count(counts, k[slot], v)
		elseif type(k) == "table" then
			error(("map '%s': a histogram key needs a bucket member (ayac_hist_slot_t, " ..
				"or named slot or bucket)"):format(m.name), 3)
		elseif type(v) ~= "table" or (percpu and type(v[1]) ~= "table") then
			add_count(single, k, v) -- a count, or per-CPU counts (summed)
		else
			-- arrays of counts by bucket: per key, unless the map holds just one
			local counts = single
			if m.max_entries > 1 then
				keyed = true
				counts = group(groups, order, key_text(k))
			end
			for _, one in ipairs(percpu and v or { v }) do
				local arr = slots_of(one)
				if not arr then
					error(("map '%s': values are neither counts nor arrays of counts"):format(m.name), 3)
				end
				add_array(counts, arr)
			end
		end
	end
	if keyed then
		return { groups = groups, order = order }, info
	end
	return { single = single }, info
end

local function gather_table(t)
	local keyed = false
	for _, v in pairs(t) do
		if type(v) == "table" then keyed = true break end
	end
	if not keyed then
		local counts = {}
		for k, v in pairs(t) do add_count(counts, k, v) end
		return { single = counts }
	end
	local groups, order = {}, {}
	for k, v in pairs(t) do
		local counts = group(groups, order, key_text(k))
		if is_count_array(v) then
			add_array(counts, v)
		else
			for b, c in pairs(v) do add_count(counts, b, c) end
		end
	end
	return { groups = groups, order = order }
end

local function gather(src, fname)
	if type(src) == "table" then
		return gather_table(src)
	elseif type(src) == "userdata" and type(src.pairs) == "function" then
		return gather_map(src)
	end
	error(("bad argument #1 to '%s' (map or table expected, got %s)"):format(fname, type(src)), 3)
end

local function total(counts)
	local s = 0
	for _, c in pairs(counts) do s = s + tonumber(c) end
	return s
end

-- One histogram per key, bpftrace's order (by total count, then key).
local function keyed_text(g, name, text_of)
	local order = {}
	for i, k in ipairs(g.order) do order[i] = k end
	local totals = {}
	for _, k in ipairs(order) do totals[k] = total(g.groups[k]) end
	sort(order, function(a, b)
		if totals[a] ~= totals[b] then return totals[a] < totals[b] end
		return a < b
	end)
	local blocks = {}
	for _, k in ipairs(order) do
		blocks[#blocks + 1] = name .. "[" .. k .. "]: \n" .. text_of(g.groups[k])
	end
	return concat(blocks, "\n")
end

local function check_opts(opts, fname, n)
	if opts ~= nil and type(opts) ~= "table" then
		error(("bad argument #%d to '%s' (table expected, got %s)"):format(n, fname, type(opts)), 3)
	end
	local unit = opts and opts.unit
	if unit ~= nil and unit ~= "ns" and unit ~= "bytes" then
		error(("bad argument #%d to '%s' (unit: \"ns\" or \"bytes\", got %s)"):format(n, fname,
			tostring(unit)), 3)
	end
	return opts
end

local function default_name(src, opts)
	if opts and opts.name then return opts.name end
	if type(src) == "userdata" then return "@" .. src.name end
	return "@"
end

-- ayac.hist(map_or_table [, { unit = "ns"|"bytes", name = "@x" }]) -> text
function M.hist(src, opts)
	check_opts(opts, "hist", 2)
	local g = gather(src, "hist")
	if g.single then
		return log2_text(g.single, opts)
	end
	return keyed_text(g, default_name(src, opts), function(c) return log2_text(c, opts) end)
end

-- ayac.lhist(map_or_table, min, max, step [, opts]) -> text
function M.lhist(src, min, max, step, opts)
	check_linear(min, max, step, "lhist")
	check_opts(opts, "lhist", 5)
	local g = gather(src, "lhist")
	local function text_of(c) return linear_text(c, min, max, step, opts) end
	if g.single then
		return text_of(g.single)
	end
	return keyed_text(g, default_name(src, opts), text_of)
end

-- ayac.hist_of(values [, opts]) -> text: bucket raw numbers (log2, or linear with
-- opts.min, opts.max and opts.step).
function M.hist_of(values, opts)
	if type(values) ~= "table" then
		error("bad argument #1 to 'hist_of' (table expected, got " .. type(values) .. ")", 2)
	end
	check_opts(opts, "hist_of", 2)
	local linear = opts and (opts.min or opts.max or opts.step)
	if linear then check_linear(opts.min, opts.max, opts.step, "hist_of") end
	local counts = {}
	for _, v in ipairs(values) do
		if type(v) ~= "number" and type(v) ~= "cdata" then
			error("bad argument #1 to 'hist_of' (numbers expected, got " .. type(v) .. ")", 2)
		end
		local s = linear and M.lslot(v, opts.min, opts.max, opts.step) or M.slot(v)
		counts[s] = (counts[s] or 0) + 1
	end
	if linear then
		return linear_text(counts, opts.min, opts.max, opts.step, opts)
	end
	return log2_text(counts, opts)
end

-- For the printer (print.lua): is this map a histogram, and how to print it.
function M.map_kind(m)
	local info = map_info(m)
	local kind = SLOT_TYPES[info.key_type]
	if kind then return kind end
	for _, mem in ipairs(info.members) do
		if SLOT_TYPES[mem.type] then return SLOT_TYPES[mem.type] end
	end
end

M.keyed_text = keyed_text

return M
