-- Any ayac map (or a plain Lua table) as Prometheus text exposition format (version
-- 0.0.4, what every scraper reads). Works anywhere ayac does: nginx, ./ayac, luajit.
--
--   local prom = require "ayac.prometheus"
--   prom.counter(obj:map("counts"), { name = "syscalls_total", help = "…", label = "pid" })
--   prom.histogram(obj:map("latency"), { name = "syscall_seconds", unit = 1e-9, sum = ns })
--
-- Each function returns one metric family as text ending in a newline (nil, message,
-- code when reading the map fails). Keys become labels: a number or string key is the
-- label opts.label (default "key"; false for none); a struct key gives one label per field; a function
-- opts.labels(key) returns a table of labels instead. Per-CPU values are summed. A
-- struct value gives one family per numeric field, named name_field.
local ffi = require "ffi"

local M = {}

local format, concat, sort = string.format, table.concat, table.sort

local function check_metric_name(name, fname)
	if type(name) ~= "string" or not name:match("^[%a_:][%w_:]*$") then
		error(("ayac.prometheus.%s: opts.name must be a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), got %s")
			:format(fname, type(name) == "string" and ("'" .. name .. "'") or type(name)), 3)
	end
end

local function check_label_name(name, fname)
	if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") or name:sub(1, 2) == "__" then
		error(("ayac.prometheus.%s: '%s' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not "
			.. "starting with __)"):format(fname, tostring(name)), 4)
	end
end

-- A number as the exposition format writes it: integers without exponent or suffix
-- (64-bit cdata in full), floats round-tripping, and the three special values.
local function num(v)
	if type(v) == "cdata" then
		return (tostring(v):gsub("U?LL$", ""))
	end
	if v ~= v then return "NaN" end
	if v == math.huge then return "+Inf" end
	if v == -math.huge then return "-Inf" end
	if v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then
		return format("%d", v)
	end
	return format("%.15g", v)
end
M.number = num

local function is_number(v)
	return type(v) == "number" or (type(v) == "cdata" and ffi.istype("int64_t", v))
		or (type(v) == "cdata" and ffi.istype("uint64_t", v))
end

-- Label values: UTF-8 text with \, " and newline escaped; bytes that are not printable
-- ASCII (a raw key of a map without BTF) as \xNN, so the output stays valid text.
local function label_value(v)
	if is_number(v) then
		return num(v)
	end
	v = tostring(v)
	return (v:gsub('[\\"\n]', { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n" })
		:gsub("[^\32-\126]", function(c) return format("\\\\x%02x", c:byte()) end))
end
M.label_value = label_value

local function help_text(s)
	return (tostring(s):gsub("[\\\n]", { ["\\"] = "\\\\", ["\n"] = "\\n" }))
end

-- {name=value} -> '{a="1",b="x"}' with names sorted, so output is stable.
local function label_string(labels)
	local names = {}
	for k in pairs(labels) do names[#names + 1] = k end
	if #names == 0 then return "" end
	sort(names)
	local parts = {}
	for i, k in ipairs(names) do
		parts[i] = format('%s="%s"', k, label_value(labels[k]))
	end
	return "{" .. concat(parts, ",") .. "}"
end

local function sanitize(name)
	name = tostring(name):gsub("[^%w_]", "_")
	if name:match("^%d") or name:sub(1, 2) == "__" then name = "_" .. name end
	return name
end

local function key_labels(k, opts, fname)
	local labels = {}
	if opts.const_labels then
		for n, v in pairs(opts.const_labels) do
			check_label_name(n, fname)
			labels[n] = v
		end
	end
	if opts.labels then
		for n, v in pairs(opts.labels(k)) do
			check_label_name(n, fname)
			labels[n] = v
		end
	elseif type(k) == "table" then
		for n, v in pairs(k) do
			if type(v) ~= "table" then labels[sanitize(n)] = v end
		end
	elseif opts.label ~= false then -- false: a one-entry map, no label at all
		labels[opts.label or "key"] = k
	end
	return labels
end

-- Per-CPU arrays are summed; anything that is not a number is left out (nil).
local function scalar(v)
	if is_number(v) then return v end
	if type(v) == "boolean" then return v and 1 or 0 end
	if type(v) == "table" and #v > 0 and is_number(v[1]) then
		local s = v[1]
		for i = 2, #v do
			if is_number(v[i]) then s = s + v[i] end
		end
		return s
	end
	return nil
end

local function sort_key(k)
	if type(k) == "table" then
		local parts = {}
		for n, v in pairs(k) do parts[#parts + 1] = tostring(n) .. "=" .. tostring(v) end
		sort(parts)
		return concat(parts, ",")
	end
	return k
end

local ARRAYS = { array = true, percpu_array = true }

-- Entries of a map or table as a list of { k, v } sorted by key; nil, message, code
-- when the map cannot be read (closed, or the kernel refuses).
local function entries(src)
	local list = {}
	local ok, err = pcall(function()
		if type(src) == "table" and not src.pairs then
			for k, v in pairs(src) do list[#list + 1] = { k, v } end
		elseif ARRAYS[src.type] then
			-- Every index exists: one lookup each, no next-key call in between
			-- (half the syscalls of pairs(), which a scrape pays per slot).
			for i = 0, src.max_entries - 1 do list[#list + 1] = { i, src:get(i) } end
		else
			for k, v in src:pairs() do list[#list + 1] = { k, v } end
		end
	end)
	if not ok then
		return nil, "ayac.prometheus: read map: " .. tostring(err), "EIO"
	end
	sort(list, function(a, b)
		local x, y = sort_key(a[1]), sort_key(b[1])
		if is_number(x) and is_number(y) then return x < y end
		if type(x) == "string" and type(y) == "string" then return x < y end
		return tostring(x) < tostring(y)
	end)
	return list
end

local function check_source(src, fname)
	local ok = type(src) == "table"
		or (type(src) == "userdata" and pcall(function() return src.pairs end))
	if not ok then
		error(("ayac.prometheus.%s: bad argument #1 (a map or table expected, got %s)")
			:format(fname, type(src)), 3)
	end
end

local function header(out, name, help, kind)
	if help then out[#out + 1] = format("# HELP %s %s", name, help_text(help)) end
	out[#out + 1] = format("# TYPE %s %s", name, kind)
end

-- One family per map for scalar values; for struct values one per field (name_field).
local function family(kind, fname)
	return function(src, opts)
		check_source(src, fname)
		opts = opts or {}
		check_metric_name(opts.name, fname)
		if opts.label then check_label_name(opts.label, fname) end
		local list, err, code = entries(src)
		if not list then return nil, err, code end
		local fams, order = {}, {}
		local function add(mname, labels, v)
			local f = fams[mname]
			if not f then
				f = {}
				fams[mname] = f
				order[#order + 1] = mname
			end
			f[#f + 1] = mname .. label_string(labels) .. " " .. num(v)
		end
		for _, e in ipairs(list) do
			local labels = key_labels(e[1], opts, fname)
			local v = scalar(e[2])
			if v ~= nil then
				add(opts.name, labels, v)
			elseif type(e[2]) == "table" then
				local fields = {}
				for n in pairs(e[2]) do fields[#fields + 1] = n end
				sort(fields, function(a, b) return tostring(a) < tostring(b) end)
				for _, n in ipairs(fields) do
					local fv = scalar(e[2][n])
					if fv ~= nil then add(opts.name .. "_" .. sanitize(n), labels, fv) end
				end
			end
		end
		if #order == 0 then order[1], fams[opts.name] = opts.name, {} end
		local out = {}
		for _, mname in ipairs(order) do
			header(out, mname, opts.help, kind)
			for _, line in ipairs(fams[mname]) do out[#out + 1] = line end
		end
		return concat(out, "\n") .. "\n"
	end
end

M.counter = family("counter", "counter")
M.gauge = family("gauge", "gauge")
M.untyped = family("untyped", "untyped")

-- format(map, opts): opts.type is "counter", "gauge", "histogram" or "untyped" (default).
function M.format(src, opts)
	local kind = opts and opts.type or "untyped"
	local f = ({ counter = M.counter, gauge = M.gauge, untyped = M.untyped,
		histogram = M.histogram })[kind]
	if not f then
		error(("ayac.prometheus.format: opts.type '%s' is not counter, gauge, histogram or untyped")
			:format(tostring(kind)), 2)
	end
	return f(src, opts)
end

-- histogram(map, opts): a log2 histogram as include/ayac/hist.bpf.h fills it (slot k
-- counts values of bit length k, so its inclusive upper bound is 2^k - 1) as cumulative
-- `le` buckets. opts.unit scales bounds and sum (1e-9: nanoseconds to seconds);
-- opts.sum (number, or function returning one) is the sum of the observed values in
-- the BPF program's unit, written as name_sum when given (log2 slots cannot give it);
-- opts.slots: how many buckets to write (default: every slot the map has, up to 65),
-- so that scrapes see the same bucket set each time.
function M.histogram(src, opts)
	check_source(src, "histogram")
	opts = opts or {}
	check_metric_name(opts.name, "histogram")
	local unit = opts.unit or 1
	if type(unit) ~= "number" or unit <= 0 or unit ~= unit then
		error("ayac.prometheus.histogram: opts.unit must be a positive number", 2)
	end
	local list, err, code = entries(src)
	if not list then return nil, err, code end
	local counts, top = {}, -1
	for _, e in ipairs(list) do
		local slot, c = tonumber(e[1]), scalar(e[2])
		if not slot or slot ~= math.floor(slot) or slot < 0 or slot > 64 then
			return nil, ("ayac.prometheus.histogram: key %s is not a log2 slot (0..64)")
				:format(tostring(e[1])), "EINVAL"
		end
		if c == nil then
			return nil, ("ayac.prometheus.histogram: slot %d holds no count"):format(slot), "EINVAL"
		end
		counts[slot] = c
		if slot > top then top = slot end
	end
	local slots = opts.slots
	if not slots then
		local n = type(src) ~= "table" and tonumber(src.max_entries) or (top + 1)
		slots = math.min(math.max(n, top + 1), 65)
	end
	local base = {}
	for n, v in pairs(opts.const_labels or {}) do
		check_label_name(n, "histogram")
		base[n] = v
	end
	local out, cum = {}, 0ULL
	header(out, opts.name, opts.help, "histogram")
	for k = 0, slots - 1 do
		local c = counts[k]
		if c then cum = cum + c end
		local labels = {}
		for n, v in pairs(base) do labels[n] = v end
		labels.le = num((2 ^ k - 1) * unit)
		out[#out + 1] = opts.name .. "_bucket" .. label_string(labels) .. " " .. num(cum)
	end
	for k = slots, 64 do -- slots past the written ones still count in +Inf
		if counts[k] then cum = cum + counts[k] end
	end
	local inf = {}
	for n, v in pairs(base) do inf[n] = v end
	inf.le = "+Inf"
	out[#out + 1] = opts.name .. "_bucket" .. label_string(inf) .. " " .. num(cum)
	local sum = opts.sum
	if type(sum) == "function" then sum = sum() end
	if sum ~= nil then
		sum = tonumber(sum)
		if not sum then
			return nil, "ayac.prometheus.histogram: opts.sum is not a number", "EINVAL"
		end
		out[#out + 1] = opts.name .. "_sum" .. label_string(base) .. " " .. num(sum * unit)
	end
	out[#out + 1] = opts.name .. "_count" .. label_string(base) .. " " .. num(cum)
	return concat(out, "\n") .. "\n"
end

return M
