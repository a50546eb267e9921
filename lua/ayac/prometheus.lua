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

-- Bucket layouts, numbered as include/ayac/hist.bpf.h (and ayac.hist) number them.
-- Each returns the slot count and the inclusive upper bound of slot k for integer
-- values, or nil for the slot only +Inf covers.
--   log2:   0 negative, 1 zero, k >= 2 [2^(k-2), 2^(k-1))  -> -1, 0, 2^(k-1) - 1
--   linear: 0 below min, k = 1..N [min+(k-1)*step, min+k*step), N+1 at or above max
local function log2_layout()
	return 66, function(k)
		if k == 0 then return -1 end
		return 2 ^ (k - 1) - 1
	end
end

local function linear_layout(l)
	local min, max, step = tonumber(l.min), tonumber(l.max), tonumber(l.step)
	if not (min and max and step) or step <= 0 or max <= min or (max - min) % step ~= 0 then
		error("ayac.prometheus.histogram: opts.linear needs numbers min < max and step > 0 "
			.. "dividing max - min (as AYAC_LHIST)", 3)
	end
	local n = (max - min) / step
	return n + 2, function(k)
		if k == 0 then return min - 1 end
		if k <= n then return min + k * step - 1 end
		return nil
	end
end

-- slot and the other fields (labels) of a histogram key: a number, or a struct with a
-- member named slot or bucket (AYAC_HIST_KEYED's keys).
local function split_key(k)
	if type(k) ~= "table" then
		return tonumber(k), {}
	end
	local labels, slot = {}, nil
	for n, v in pairs(k) do
		if (n == "slot" or n == "bucket") and slot == nil then
			slot = tonumber(v)
		elseif type(v) ~= "table" then
			labels[sanitize(n)] = v
		end
	end
	return slot, labels
end

local function copy(t)
	local c = {}
	for k, v in pairs(t) do c[k] = v end
	return c
end

-- histogram(map, opts): a histogram map as include/ayac/hist.bpf.h fills it — an
-- array of counts per slot (AYAC_HIST, AYAC_HIST_PERCPU: CPUs summed; AYAC_LHIST with
-- opts.linear = { min=, max=, step= }), or a hash keyed by a struct with a slot member
-- (AYAC_HIST_KEYED: one histogram per value of the other members, as labels) — as
-- cumulative `le` buckets (each slot's inclusive upper bound for integer values), +Inf
-- and _count. opts.unit scales bounds and sum (1e-9: nanoseconds to seconds); opts.sum
-- (number, or function returning one) is the sum of the observed values in the BPF
-- program's unit, written as name_sum (buckets cannot give it); opts.slots: how many
-- slots get a bucket line (default: all the layout has), the rest count in +Inf only.
function M.histogram(src, opts)
	check_source(src, "histogram")
	opts = opts or {}
	check_metric_name(opts.name, "histogram")
	local unit = opts.unit or 1
	if type(unit) ~= "number" or unit <= 0 or unit ~= unit then
		error("ayac.prometheus.histogram: opts.unit must be a positive number", 2)
	end
	local nslots, bound
	if opts.linear then nslots, bound = linear_layout(opts.linear) else nslots, bound = log2_layout() end
	local list, err, code = entries(src)
	if not list then return nil, err, code end
	local base = {}
	for n, v in pairs(opts.const_labels or {}) do
		check_label_name(n, "histogram")
		base[n] = v
	end
	-- One histogram per label set, in the order of the sorted keys.
	local hists, order = {}, {}
	for _, e in ipairs(list) do
		local slot, labels = split_key(e[1])
		local c = scalar(e[2])
		if not slot or slot ~= math.floor(slot) or slot < 0 or slot >= nslots then
			return nil, ("ayac.prometheus.histogram: key %s has no slot 0..%d of this layout")
				:format(tostring(sort_key(e[1])), nslots - 1), "EINVAL"
		end
		if c == nil then
			return nil, ("ayac.prometheus.histogram: slot %d holds no count"):format(slot), "EINVAL"
		end
		for n, v in pairs(base) do labels[n] = v end
		local id = label_string(labels)
		local hg = hists[id]
		if not hg then
			hg = { labels = labels, counts = {} }
			hists[id] = hg
			order[#order + 1] = id
		end
		hg.counts[slot] = (hg.counts[slot] or 0) + c
	end
	if #order == 0 then
		order[1], hists[""] = "", { labels = base, counts = {} }
	end
	local shown = math.min(opts.slots or nslots, nslots)
	local out = {}
	header(out, opts.name, opts.help, "histogram")
	for _, id in ipairs(order) do
		local hg, cum = hists[id], 0ULL
		for k = 0, nslots - 1 do
			local c = hg.counts[k]
			if c then cum = cum + c end
			local le = bound(k)
			if k < shown and le then
				local labels = copy(hg.labels)
				labels.le = num(le * unit)
				out[#out + 1] = opts.name .. "_bucket" .. label_string(labels) .. " " .. num(cum)
			end
		end
		local labels = copy(hg.labels)
		labels.le = "+Inf"
		out[#out + 1] = opts.name .. "_bucket" .. label_string(labels) .. " " .. num(cum)
		local sum = opts.sum
		if type(sum) == "function" then sum = sum(hg.labels) end
		if sum ~= nil then
			sum = tonumber(sum)
			if not sum then
				return nil, "ayac.prometheus.histogram: opts.sum is not a number", "EINVAL"
			end
			out[#out + 1] = opts.name .. "_sum" .. label_string(hg.labels) .. " " .. num(sum * unit)
		end
		out[#out + 1] = opts.name .. "_count" .. label_string(hg.labels) .. " " .. num(cum)
	end
	return concat(out, "\n") .. "\n"
end

return M
