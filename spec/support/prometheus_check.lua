-- Checks text against the Prometheus text exposition format (0.0.4) as a scraper reads
-- it: every line a HELP, a TYPE or a sample; TYPE before the family's samples; sample
-- names of the family's type; histogram buckets cumulative with +Inf equal to _count.
local M = {}

local NAME = "[%a_:][%w_:]*"

local function parse_labels(s, where)
	local labels = {}
	if s == "" then return labels end
	local body = s:match("^{(.*)}$")
	assert(body, where .. ": bad label set " .. s)
	local pos = 1
	while pos <= #body do
		local name, rest = body:match("^([%a_][%w_]*)=\"()", pos)
		assert(name, where .. ": bad label at " .. body:sub(pos))
		local i, value = rest, {}
		while true do
			local c = body:sub(i, i)
			assert(c ~= "", where .. ": unterminated label value")
			if c == "\\" then
				local n = body:sub(i + 1, i + 1)
				assert(n == "\\" or n == '"' or n == "n", where .. ": bad escape \\" .. n)
				value[#value + 1] = n == "n" and "\n" or n
				i = i + 2
			elseif c == '"' then
				break
			else
				value[#value + 1] = c
				i = i + 1
			end
		end
		labels[name] = table.concat(value)
		pos = i + 1
		if body:sub(pos, pos) == "," then pos = pos + 1 end
	end
	return labels
end

local function parse_value(v, where)
	if v == "+Inf" or v == "-Inf" or v == "NaN" then return v end
	local n = tonumber(v)
	assert(n, where .. ": bad value '" .. v .. "'")
	return n
end

-- Raises with the offending line on any violation; returns the families it saw
-- ({ name = { type=, samples = { {name=, labels=, value=} } } }).
function M.assert_valid(text)
	assert(text:sub(-1) == "\n", "the text does not end with a newline")
	local fams, current = {}, nil
	local n = 0
	for line in text:gmatch("([^\n]*)\n") do
		n = n + 1
		local where = "line " .. n .. " '" .. line .. "'"
		if line:match("^# HELP ") then
			assert(line:match("^# HELP " .. NAME .. " "), where)
		elseif line:match("^# TYPE ") then
			local name, kind = line:match("^# TYPE (" .. NAME .. ") (%a+)$")
			assert(name, where)
			assert(({ counter = 1, gauge = 1, histogram = 1, summary = 1, untyped = 1 })[kind], where)
			assert(not fams[name], where .. ": a second TYPE for " .. name)
			current = { type = kind, samples = {} }
			fams[name] = current
			current.name = name
		elseif line:match("^#") or line == "" then
			assert(line == "" or line:match("^# "), where)
		else
			local name, labels, value = line:match("^(" .. NAME .. ")(%b{}) (%S+)$")
			if not name then
				name, value = line:match("^(" .. NAME .. ") (%S+)$")
				labels = ""
			end
			assert(name, where .. ": not a sample")
			assert(current, where .. ": a sample before any TYPE")
			local base = current.name
			if current.type == "histogram" then
				assert(name == base .. "_bucket" or name == base .. "_sum" or name == base .. "_count",
					where .. ": not a sample of histogram " .. base)
			else
				assert(name == base, where .. ": not a sample of " .. base)
			end
			table.insert(current.samples, { name = name, labels = parse_labels(labels, where),
				value = parse_value(value, where) })
		end
	end
	-- Per histogram (a family holds one per label set other than le): cumulative
	-- buckets, a +Inf bucket, and _count equal to it.
	local function series(labels)
		local names = {}
		for k in pairs(labels) do if k ~= "le" then names[#names + 1] = k end end
		table.sort(names)
		for i, k in ipairs(names) do names[i] = k .. "=" .. labels[k] end
		return table.concat(names, ",")
	end
	for name, f in pairs(fams) do
		if f.type == "histogram" then
			local last, inf, count = {}, {}, {}
			for _, s in ipairs(f.samples) do
				local id = series(s.labels)
				if s.name == name .. "_bucket" then
					assert(s.labels.le, name .. ": a bucket without le")
					local v = s.value
					assert(type(v) == "number" and v >= (last[id] or -1),
						name .. "{" .. id .. "}: buckets are not cumulative")
					last[id] = v
					if s.labels.le == "+Inf" then inf[id] = v end
				elseif s.name == name .. "_count" then
					count[id] = s.value
				end
			end
			for id in pairs(last) do
				assert(inf[id], name .. "{" .. id .. "}: no +Inf bucket")
				assert(count[id] == inf[id], name .. "{" .. id .. "}: _count differs from +Inf")
			end
		end
	end
	return fams
end

return M
