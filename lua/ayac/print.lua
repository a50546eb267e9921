-- Printing values for people: ayac.print(...), ayac.pretty(v [, opts]) (the same text
-- as a string), ayac.print_map(m) and ayac.print_maps(obj) (maps as bpftrace prints
-- them on exit). The REPL prints its results with ayac.print.
--
-- Tables print nested with sorted keys, an array part without keys, on one line when
-- short, indented otherwise; opts.depth (default 4) and opts.width (items per table,
-- default 64) bound them. 64-bit cdata integers print as plain numbers; a stack
-- (ayac.stack's frames) prints one frame a line; a map prints its contents.
local ffi = require "ffi"

local type, tostring, pairs, ipairs, next, getmetatable =
	type, tostring, pairs, ipairs, next, getmetatable
local concat, sort, srep = table.concat, table.sort, string.rep

local M = {}

local hist_mod, syms_mod
local function hist() hist_mod = hist_mod or require "ayac.hist" return hist_mod end
local function syms() syms_mod = syms_mod or require "ayac.syms" return syms_mod end

local DEFAULTS = { depth = 4, width = 64, line = 78 }

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or
	repeat return then true until while]]):gmatch("%a+") do KEYWORDS[w] = true end

local function quote(s)
	return (("%q"):format(s):gsub("\\\n", "\\n"):gsub("\r", "\\r"):gsub("%z", "\\0"))
end

local function number_text(n)
	if n % 1 == 0 and n > -2 ^ 63 and n < 2 ^ 63 then
		return ("%.0f"):format(n)
	end
	return ("%.14g"):format(n)
end

local function cdata_text(v)
	if ffi.istype("int64_t", v) or ffi.istype("uint64_t", v) then
		return (tostring(v):gsub("U?LL$", ""))
	end
	return tostring(v)
end

local function is_map(v)
	local ok, r = pcall(function() return v.key_size ~= nil and type(v.pairs) == "function" end)
	return ok and r
end

local function is_stack(t)
	local f = t[1]
	return type(f) == "table" and f.addr ~= nil and f.name ~= nil and #t > 0
end

-- Sort keys: numbers by value, then strings, then the rest by their text.
local function key_order(a, b)
	local ta, tb = type(a), type(b)
	if ta ~= tb then
		if ta == "number" then return true end
		if tb == "number" then return false end
		if ta == "string" then return true end
		if tb == "string" then return false end
		return ta < tb
	end
	if ta == "number" or ta == "string" then return a < b end
	return tostring(a) < tostring(b)
end

local format

local function key_text(k, o, depth, seen)
	if type(k) == "string" and k:match("^[%a_][%w_]*$") and not KEYWORDS[k] then
		return k
	end
	return "[" .. format(k, o, depth, seen, false, "") .. "]"
end

local function table_text(t, o, depth, seen, indent)
	if is_stack(t) then
		if indent == "" then -- at the top: as bpftrace prints a stack
			return (syms().format_stack(t):gsub("\n$", ""))
		end
		return "\n" .. syms().format_stack(t, { indent = indent .. "  " }) .. indent
	end
	if seen[t] then return "<cycle>" end
	if depth >= o.depth then return "{…}" end
	seen[t] = true
	local items, n = {}, #t
	local inner = indent .. "  "
	for i = 1, math.min(n, o.width) do
		items[#items + 1] = format(t[i], o, depth + 1, seen, false, inner)
	end
	local keys = {}
	for k in pairs(t) do
		if not (type(k) == "number" and k >= 1 and k <= n and k % 1 == 0) then
			keys[#keys + 1] = k
		end
	end
	sort(keys, key_order)
	local room = o.width - #items
	for i = 1, math.min(#keys, math.max(room, 0)) do
		local k = keys[i]
		items[#items + 1] = key_text(k, o, depth + 1, seen) .. " = " ..
			format(t[k], o, depth + 1, seen, false, inner)
	end
	local more = n + #keys - #items
	if more > 0 then
		items[#items + 1] = ("… %d more"):format(more)
	end
	seen[t] = nil
	if #items == 0 then return "{}" end
	local one = "{ " .. concat(items, ", ") .. " }"
	if #one + #indent <= o.line and not one:find("\n", 1, true) then
		return one
	end
	-- Indented: array items packed into lines, the other items one a line.
	local lines, cur = {}, nil
	local narr = math.min(n, o.width)
	for i, item in ipairs(items) do
		local packable = i <= narr and not item:find("\n", 1, true)
		if packable and cur and #cur + #item + 2 + #inner <= o.line then
			cur = cur .. ", " .. item
		else
			if cur then lines[#lines + 1] = cur end
			cur = item
			if not packable then
				lines[#lines + 1] = cur
				cur = nil
			end
		end
	end
	if cur then lines[#lines + 1] = cur end
	return "{\n" .. inner .. concat(lines, ",\n" .. inner) .. "\n" .. indent .. "}"
end

function format(v, o, depth, seen, top, indent)
	local t = type(v)
	if t == "string" then
		return top and v or quote(v)
	elseif t == "number" then
		return number_text(v)
	elseif t == "cdata" then
		return cdata_text(v)
	elseif t == "table" then
		local mt = getmetatable(v)
		if mt and mt.__tostring then return tostring(v) end
		return table_text(v, o, depth, seen, indent)
	elseif t == "userdata" and top and is_map(v) then
		local ok, text = pcall(M.map_text, v)
		if ok and text ~= "" then return (text:gsub("\n+$", "")) end
		return tostring(v) .. (ok and " (empty)" or "")
	end
	return tostring(v)
end

local function options(opts)
	if opts == nil then return DEFAULTS end
	if type(opts) ~= "table" then
		error("bad argument #2 to 'pretty' (table expected, got " .. type(opts) .. ")", 3)
	end
	return setmetatable(opts, { __index = DEFAULTS })
end

-- ayac.pretty(v [, { depth=, width=, line= }]) -> text
function M.pretty(v, opts)
	return format(v, options(opts), 0, {}, true, "")
end

-- ayac.print(...): each value as ayac.pretty writes it, tab-separated, then a newline.
function M.print(...)
	local n = select("#", ...)
	local parts = {}
	for i = 1, n do
		parts[i] = format((select(i, ...)), DEFAULTS, 0, {}, true, "")
	end
	io.stdout:write(concat(parts, "\t"), "\n")
end

-- Maps as bpftrace prints them --------------------------------------------------------

-- Types whose contents are not data to print.
local SKIP = { ringbuf = true, perf_event_array = true, prog_array = true, stack_trace = true,
	array_of_maps = true, hash_of_maps = true, user_ringbuf = true, cgroup_array = true,
	devmap = true, devmap_hash = true, cpumap = true, xskmap = true, sockmap = true,
	sockhash = true, reuseport_sockarray = true, struct_ops = true, arena = true,
	sk_storage = true, inode_storage = true, task_storage = true, cgrp_storage = true,
	bloom_filter = true, queue = true, stack = true }

local function value_text(v)
	if type(v) == "table" and #v > 0 and (type(v[1]) == "number" or type(v[1]) == "cdata") then
		local s, exact = 0, true -- per-CPU counts: bpftrace prints the sum
		for _, x in ipairs(v) do
			if type(x) ~= "number" then exact = false break end
			s = s + x
		end
		if exact then return number_text(s) end
	end
	if type(v) == "string" then return v end
	return format(v, DEFAULTS, 1, {}, false, "")
end

local function key_label(k)
	if type(k) == "table" then
		local m = getmetatable(k)
		if not m and #k == 0 and next(k) ~= nil then
			local names = {}
			for name in pairs(k) do names[#names + 1] = name end
			sort(names)
			local parts = {}
			for i, name in ipairs(names) do parts[i] = value_text(k[name]) end
			return concat(parts, ", ")
		end
	end
	if type(k) == "string" then return k end
	return value_text(k)
end

local function sortable(v)
	if type(v) == "number" then return v end
	if type(v) == "cdata" then return tonumber(v) end
	if type(v) == "table" and type(v[1]) == "number" then
		local s = 0
		for _, x in ipairs(v) do s = s + (tonumber(x) or 0) end
		return s
	end
end

-- One map as bpftrace prints it: "@name[key]: value" lines sorted by value (a
-- one-element array as "@name: value"), histogram maps (keys typed by hist.bpf.h) as
-- histograms. obj gives linear histograms their min/max/step.
function M.map_text(m, obj)
	local name = "@" .. m.name
	local kind, text = hist().map_kind(m), nil
	if kind == "log2" then
		text = hist().hist(m, { name = name })
	elseif kind == "linear" then
		local p = obj and obj:global("ayac_lhist_" .. m.name)
		if type(p) == "table" and p.step then
			text = hist().lhist(m, tonumber(p.min), tonumber(p.max), tonumber(p.step), { name = name })
		end
	end
	if text then -- a histogram, then a blank line; keyed ones begin with their key
		if text == "" then return "" end
		return (text:sub(1, 1) == "@" and text or name .. ": \n" .. text) .. "\n"
	end
	local rows = {}
	for k, v in m:pairs() do rows[#rows + 1] = { k = k, v = v, s = sortable(v) } end
	if #rows == 0 then return "" end
	if (m.type == "array" or m.type == "percpu_array") and m.max_entries == 1 then
		return name .. ": " .. value_text(rows[1].v) .. "\n"
	end
	sort(rows, function(a, b)
		if a.s and b.s and a.s ~= b.s then return a.s < b.s end
		return key_order(a.k, b.k)
	end)
	local out = {}
	for i, r in ipairs(rows) do
		out[i] = name .. "[" .. key_label(r.k) .. "]: " .. value_text(r.v) .. "\n"
	end
	return concat(out)
end

-- ayac.print_map(m): one map, as print_maps prints it.
function M.print_map(m, obj)
	io.stdout:write(M.map_text(m, obj))
end

-- ayac.print_maps(obj [, out]): every map of an object with data in it (not its
-- .data/.rodata/.bss, ring buffers, program arrays, stack traces), in name order, as
-- bpftrace prints its maps on exit (a blank line after each histogram). out: a file
-- (default io.stdout).
function M.print_maps(obj, out)
	if type(obj) ~= "userdata" then
		error("bad argument #1 to 'print_maps' (object expected, got " .. type(obj) .. ")", 2)
	end
	out = out or io.stdout
	local maps = {}
	for name, m in obj:maps() do
		if not name:find(".", 1, true) and not SKIP[m.type] and m:fd() >= 0 then
			maps[#maps + 1] = m
		end
	end
	sort(maps, function(a, b) return a.name < b.name end)
	for _, m in ipairs(maps) do
		out:write(M.map_text(m, obj))
	end
end

return M
