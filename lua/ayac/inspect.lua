-- `ayac inspect obj.o [--json]`: what a BPF object holds, read without loading it
-- (so it works for objects this kernel cannot load): programs (section, type, attach
-- type and target, instructions, CO-RE relocations, autoload), maps (type, key and
-- value sizes and BTF types, max_entries, pinning), globals (section, type, initial
-- value), license, kernel version, BTF summary and externs.
--
-- M.report(path) returns the same facts as a table (what --json prints).
local ayac = require "ayac"
local core = require "ayac.core"
local features = require "ayac.features"

local type, tostring, pairs, ipairs = type, tostring, pairs, ipairs
local concat, sort = table.concat, table.sort

local M = {}

local array_mt = features.array_mt
local function array(t) return setmetatable(t or {}, array_mt) end

-- A BTF type as C writes it: "__u32", "struct event *", "char[16]".
local function type_name(btf, id, depth)
	depth = depth or 0
	if not id or id == 0 then return "void" end
	local t = btf:type(id)
	if not t or depth > 16 then return "?" end
	local k = t.kind
	if k == "ptr" then return type_name(btf, t.type, depth + 1) .. " *" end
	if k == "array" then
		return type_name(btf, t.elem_type, depth + 1) .. "[" .. tostring(t.nelems or "?") .. "]"
	end
	if k == "const" or k == "volatile" or k == "restrict" then
		return k .. " " .. type_name(btf, t.type, depth + 1)
	end
	if k == "type_tag" then return type_name(btf, t.type, depth + 1) end
	if k == "func_proto" then return "function" end
	local name = t.name ~= "" and t.name or "(anon)"
	if k == "struct" or k == "union" or k == "enum" or k == "enum64" or k == "fwd" then
		return (k == "enum64" and "enum" or k) .. " " .. name
	end
	return name
end

local function plain(v)
	if type(v) == "cdata" then
		local n = tonumber(v)
		if n and n < 2 ^ 53 and n > -2 ^ 53 then return n end
		return (tostring(v):gsub("U?LL$", ""))
	elseif type(v) == "table" then
		local t = {}
		for k, x in pairs(v) do t[k] = plain(x) end
		return t
	end
	return v
end

local function attach_type(p)
	-- 0 is also "no attach type" for most program types: show it only where it is real.
	if p.attach_type == "cgroup_inet_ingress" and p.type ~= "cgroup_skb" then return nil end
	return p.attach_type
end

local function programs(obj, extra)
	local list = array()
	for name, p in obj:programs() do
		local x = extra.programs[name] or {}
		list[#list + 1] = { name = name, section = p.section, type = p.type,
			attach_type = attach_type(p), target = x.target ~= "" and x.target or nil,
			insns = x.insns, core_relos = x.core_relos, autoload = x.autoload }
	end
	sort(list, function(a, b) return a.section < b.section or a.section == b.section and a.name < b.name end)
	return list
end

local function maps(obj, btf, extra)
	local list = array()
	for name, m in obj:maps() do
		local lay = m:_layout()
		list[#list + 1] = { name = name, type = m.type, key_size = m.key_size,
			value_size = m.value_size, max_entries = m.max_entries, flags = m.flags,
			key_type = btf and lay.key_type_id ~= 0 and type_name(btf, lay.key_type_id) or nil,
			value_type = btf and lay.value_type_id ~= 0 and type_name(btf, lay.value_type_id) or nil,
			pinning = (extra.maps[name] or {}).pinning }
	end
	sort(list, function(a, b) return a.name < b.name end)
	return list
end

local DATA = { [".data"] = true, [".rodata"] = true, [".bss"] = true, [".kconfig"] = true }

local function globals(obj, btf)
	local list = array()
	if not btf then return list end
	for id = 1, btf:count() do
		local t = btf:type(id)
		local sec = t.kind == "datasec" and t.name
		if sec and (DATA[sec] or sec:match("^%.data%.") or sec:match("^%.rodata%.") or
			sec:match("^%.bss%.")) then
			for _, v in ipairs(t.vars or {}) do
				local var = btf:type(v.type)
				local ok, value = pcall(obj.global, obj, var.name)
				list[#list + 1] = { name = var.name, section = sec, type = type_name(btf, var.type),
					size = v.size, value = ok and plain(value) or nil }
			end
		end
	end
	sort(list, function(a, b) return a.section < b.section or a.section == b.section and a.name < b.name end)
	return list
end

local function btf_summary(btf, extra)
	local s = { func_infos = extra.func_infos, line_infos = extra.line_infos,
		core_relos = extra.core_relos }
	if not btf then return s end
	local kinds = {}
	for id = 1, btf:count() do
		local k = btf:kind(id)
		kinds[k] = (kinds[k] or 0) + 1
	end
	s.types = btf:count()
	s.kinds = kinds
	return s
end

-- The report of the object at path (or bytes): a table, or nil, msg, code.
function M.report(src)
	local obj, err, code = ayac.open(src)
	if not obj then return nil, err, code end
	local extra = core.inspect(obj)
	local btf = obj:btf()
	local externs = array()
	for i, e in ipairs(extra.externs) do
		externs[i] = { name = e.name, kind = e.kind, weak = e.weak,
			type = btf and e.type_id ~= 0 and type_name(btf, e.type_id) or nil }
	end
	local r = {
		name = obj.name,
		license = extra.license,
		kern_version = extra.kern_version,
		programs = programs(obj, extra),
		maps = maps(obj, btf, extra),
		globals = globals(obj, btf),
		btf = btf_summary(btf, extra),
		externs = externs,
	}
	obj:close()
	return r
end

-- Text ------------------------------------------------------------------------------------

local function columns(rows, heads)
	local w = {}
	for i, h in ipairs(heads) do w[i] = #h end
	for _, r in ipairs(rows) do
		for i = 1, #heads do w[i] = math.max(w[i], #tostring(r[i] or "-")) end
	end
	local out = {}
	local function line(r)
		local cells = {}
		for i = 1, #heads do
			local c = tostring(r[i] or "-")
			cells[i] = i < #heads and c .. string.rep(" ", w[i] - #c) or c
		end
		out[#out + 1] = "  " .. concat(cells, "  "):gsub("%s+$", "")
	end
	line(heads)
	for _, r in ipairs(rows) do line(r) end
	return concat(out, "\n") .. "\n"
end

local function kernel_version(v)
	if not v or v == 0 then return "0 (any)" end
	return ("%d.%d.%d (%d)"):format(math.floor(v / 65536), math.floor(v / 256) % 256, v % 256, v)
end

local function value_text(v)
	if v == nil then return "-" end
	local s = ayac.pretty(v, { line = 60, depth = 2, width = 8 }):gsub("\n%s*", " ")
	if type(v) == "string" then s = ("%q"):format(v) end
	if #s > 60 then s = s:sub(1, 57) .. "..." end
	return s
end

function M.text(r, path)
	local out = {}
	local function add(s) out[#out + 1] = s end
	add(("object %s (%s)\n"):format(r.name, path))
	add(("  license         %s\n"):format(r.license ~= "" and r.license or "(none)"))
	add(("  kernel version  %s\n"):format(kernel_version(r.kern_version)))
	local b = r.btf
	if b.types then
		local kinds = {}
		for k, n in pairs(b.kinds) do kinds[#kinds + 1] = ("%s %d"):format(k, n) end
		sort(kinds)
		add(("  BTF             %d types (%s)\n"):format(b.types, concat(kinds, ", ")))
	else
		add("  BTF             none\n")
	end
	add(("  BTF.ext         %d func_info, %d line_info, %d CO-RE relocations\n"):format(
		b.func_infos, b.line_infos, b.core_relos))
	local ext = {}
	for _, e in ipairs(r.externs) do
		ext[#ext + 1] = e.name .. " (" .. e.kind .. (e.weak and ", weak" or "") .. ")"
	end
	add(("  externs         %d%s\n"):format(#r.externs, #ext > 0 and ": " .. concat(ext, ", ") or ""))
	local rows = {}
	for i, p in ipairs(r.programs) do
		rows[i] = { p.name, p.section, p.type, p.attach_type, p.target, p.insns, p.core_relos,
			p.autoload and "yes" or "no" }
	end
	add(("\nprograms (%d)\n"):format(#rows))
	if #rows > 0 then
		add(columns(rows, { "name", "section", "type", "attach_type", "target", "insns", "co-re", "autoload" }))
	end
	rows = {}
	for i, m in ipairs(r.maps) do
		rows[i] = { m.name, m.type, m.key_size, m.value_size, m.max_entries, m.key_type,
			m.value_type, m.pinning }
	end
	add(("\nmaps (%d)\n"):format(#rows))
	if #rows > 0 then
		add(columns(rows, { "name", "type", "key", "value", "max_entries", "key_type", "value_type", "pinning" }))
	end
	rows = {}
	for i, g in ipairs(r.globals) do
		rows[i] = { g.name, g.section, g.type, g.size, value_text(g.value) }
	end
	add(("\nglobals (%d)\n"):format(#rows))
	if #rows > 0 then
		add(columns(rows, { "name", "section", "type", "size", "initial value" }))
	end
	return concat(out)
end

local USAGE = [[
usage: ayac inspect OBJECT.o [--json]
  Programs, maps, globals, license, BTF and externs of a BPF ELF object, read
  without loading it (works for objects this kernel cannot load).
  --json   the same as JSON
]]

function M.main(...)
	local path, json
	for _, a in ipairs({ ... }) do
		if a == "--json" then json = true
		elseif a == "-h" or a == "--help" then io.stdout:write(USAGE) return 0
		elseif not path and a:sub(1, 1) ~= "-" then path = a
		else
			io.stderr:write("ayac inspect: unexpected argument '", a, "'\n", USAGE)
			return 2
		end
	end
	if not path then
		io.stderr:write(USAGE)
		return 2
	end
	local r, err = M.report(path)
	if not r then
		io.stderr:write("ayac inspect: ", tostring(err), "\n")
		return 1
	end
	io.stdout:write(json and (features.json(r) .. "\n") or M.text(r, path))
	return 0
end

return M
