-- The Lua half of the REPL (src/host/repl.c, edit.c): tab completion, printing
-- results, and what goes into the history.
--
-- Completion looks at the name being typed before the cursor: a global, a key of a
-- table (`ayac.hi` -> `ayac.hist`), or a method or field of a handle (`obj:ma` ->
-- `obj:map(`, `m.max` -> `m.max_entries`). It only reads: tables with rawget and the
-- __index tables of their metatables, handles through their metatables' methods (and
-- the fields each handle type has); no __index function is ever called. A name with
-- one completion is completed (with "(" after a method); several complete up to what
-- they share and are listed; a Tab again on an unchanged line cycles through them.
local M = {}

local type, pairs, ipairs, rawget, getmetatable, tostring = type, pairs, ipairs, rawget,
	getmetatable, tostring
local sort, concat = table.sort, table.concat

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or
	repeat return then true until while]]):gmatch("%a+") do KEYWORDS[w] = true end

-- Fields the C half answers for each handle type (their methods come from the
-- metatables).
local FIELDS = {
	["ayac.obj"] = { "name", "state" },
	["ayac.prog"] = { "name", "section", "type", "attach_type", "autoload" },
	["ayac.map"] = { "name", "type", "key_size", "value_size", "max_entries", "flags" },
	["ayac.link"] = { "kind", "attached" },
	["ayac.btf"] = {},
}

local function methods_of(mt)
	if not mt then return nil end
	local idx = rawget(mt, "__index")
	if type(idx) == "table" then return idx end
	local name = rawget(mt, "__name")
	local ok, core = pcall(require, "ayac.core")
	if ok and type(name) == "string" then
		return core.methods[name:match("^ayac%.(.+)$") or ""]
	end
end

-- name -> value (nil for fields only known by name) of what v offers after "." / ":".
local function members(v, colon)
	local out = {}
	local t = type(v)
	if t == "table" then
		local seen, depth = {}, 0
		while type(v) == "table" and not seen[v] and depth < 8 do
			seen[v] = true
			for k, x in pairs(v) do
				if type(k) == "string" and out[k] == nil then out[k] = x end
			end
			local mt = getmetatable(v)
			local complete = mt and rawget(mt, "__complete")
			if type(complete) == "function" then
				for _, k in ipairs(complete(v)) do
					if out[k] == nil then out[k] = M.LAZY end
				end
			end
			v = mt and rawget(mt, "__index")
			depth = depth + 1
		end
	elseif t == "userdata" or t == "cdata" then
		local mt = getmetatable(v)
		local methods = t == "userdata" and methods_of(mt)
		if methods then
			for k, x in pairs(methods) do
				if type(k) == "string" and k:sub(1, 1) ~= "_" then out[k] = x end
			end
		end
		local name = mt and rawget(mt, "__name")
		if not colon and FIELDS[name] then
			for _, f in ipairs(FIELDS[name]) do out[f] = out[f] or false end
		end
	elseif t == "string" then
		for k, x in pairs(string) do out[k] = x end
	end
	if colon then -- only what can be called
		for k, x in pairs(out) do
			if type(x) ~= "function" and x ~= M.LAZY then out[k] = nil end
		end
	end
	return out
end

M.LAZY = {} -- a member known by name, loaded on first use (a function)

-- The value a dotted path names, read without side effects (nil when unknown).
local function resolve(path, env)
	local v = env
	for part in path:gmatch("[^%.]+") do
		if type(v) ~= "table" then return nil end
		local x = rawget(v, part)
		local mt = getmetatable(v)
		local idx = mt and rawget(mt, "__index")
		local seen = 0
		while x == nil and type(idx) == "table" and seen < 8 do
			x = rawget(idx, part)
			local imt = getmetatable(idx)
			idx = imt and rawget(imt, "__index")
			seen = seen + 1
		end
		v = x
	end
	return v
end

local function is_ident(s)
	return s:match("^[%a_][%w_]*$") and not KEYWORDS[s]
end

-- Candidates for `prefix` after `base` (nil: globals) with separator sep.
local function candidates(base, sep, prefix, env)
	local pool
	if base then
		local v = resolve(base, env)
		if v == nil then return {} end
		pool = members(v, sep == ":")
	else
		pool = members(env, false)
		for k in pairs(KEYWORDS) do pool[k] = pool[k] or false end
	end
	local list = {}
	for k, x in pairs(pool) do
		if k:sub(1, #prefix) == prefix and is_ident(k) or (KEYWORDS[k] and not base and k:sub(1, #prefix) == prefix) then
			list[#list + 1] = { name = k, call = type(x) == "function" or x == M.LAZY }
		end
	end
	sort(list, function(a, b) return a.name < b.name end)
	return list
end

local function common_prefix(list)
	local p = list[1].name
	for i = 2, #list do
		local n = list[i].name
		local j = 0
		while j < #p and j < #n and p:byte(j + 1) == n:byte(j + 1) do j = j + 1 end
		p = p:sub(1, j)
	end
	return p
end

local last -- { line = text before the cursor after our completion, list =, i =, start = }

local function text_of(c, sep)
	return c.name .. ((c.call and sep == ":") and "(" or "")
end

local function names(list, sep)
	local out = {}
	for i, c in ipairs(list) do out[i] = text_of(c, sep) end
	return out
end

-- complete(before_cursor [, env]) -> how many characters before the cursor to delete,
-- what to insert, and the candidates to list (nil when nothing to show).
function M.complete(before, env)
	env = env or _G
	if last and last.line == before and #last.list > 1 then -- Tab again: the next one
		last.i = last.i % #last.list + 1
		local prev = #before - last.start
		local text = text_of(last.list[last.i], last.sep)
		last.line = before:sub(1, last.start) .. text
		return prev, text, names(last.list, last.sep)
	end
	last = nil
	local expr = before:match("[%w_%.:]*$")
	if expr:match("^%d") then return 0, "", nil end
	local base, sep, prefix = expr:match("^(.*)([%.:])([%w_]*)$")
	if not base then
		prefix = expr
	elseif base == "" or base:find(":", 1, true) or base:match("%.$") then
		return 0, "", nil
	end
	local list = candidates(base, sep, prefix, env)
	if #list == 0 then return 0, "", nil end
	local start = #before - #prefix
	if #list == 1 then
		local text = text_of(list[1], sep)
		return #prefix, text, nil
	end
	local common = common_prefix(list)
	local exact
	for i, c in ipairs(list) do
		if c.name == common then exact = i end
	end
	if exact then -- the shared part is itself a name: take it, Tab again for the next
		local text = text_of(list[exact], sep)
		last = { line = before:sub(1, start) .. text, list = list, i = exact, start = start, sep = sep }
		return #prefix, text, names(list, sep)
	end
	return #prefix, common, names(list, sep)
end

-- The text the history keeps for a chunk entered over several lines: one line when
-- joining them changes nothing (no comment or long string that a space would end).
function M.history_text(chunk)
	if not chunk:find("\n", 1, true) then return chunk end
	if chunk:find("--", 1, true) or chunk:find("[[", 1, true) or chunk:find("[=", 1, true) then
		return nil
	end
	return (chunk:gsub("%s*\n%s*", " "))
end

-- Print the results of a line (arguments): each with ayac.print.
function M.print_results(...)
	if select("#", ...) == 0 then return end
	require("ayac.print").print(...)
end

return M
