-- Raw BTF built by hand, for specs that need kinds or shapes no compiler here emits
-- (enum64 from clang 14, empty datasecs, a struct containing itself):
--
--   local w = require("btf_writer").new()
--   local int = w:int("int", 4, true)
--   local s = w:struct("pair", 8, { { "a", int, 0 }, { "b", int, 32 } })
--   local bytes = w:blob()          -- for ayac.btf.parse
local M = {}

local KIND = { int = 1, ptr = 2, array = 3, struct = 4, union = 5, enum = 6, fwd = 7,
  typedef = 8, volatile = 9, const = 10, restrict = 11, func = 12, func_proto = 13,
  var = 14, datasec = 15, float = 16, decl_tag = 17, type_tag = 18, enum64 = 19 }
local LINKAGE = { static = 0, global = 1, extern = 2 }

local function u32(v)
  v = v % 2 ^ 32
  local b = {}
  for i = 1, 4 do
    b[i] = string.char(v % 256)
    v = math.floor(v / 256)
  end
  return table.concat(b)
end

local W = {}
W.__index = W

function M.new()
  return setmetatable({ types = {}, strs = { "\0" }, strlen = 1, offs = {}, next_id = 1 }, W)
end

function W:str(s)
  if s == nil or s == "" then return 0 end
  if not self.offs[s] then
    self.offs[s] = self.strlen
    self.strs[#self.strs + 1] = s .. "\0"
    self.strlen = self.strlen + #s + 1
  end
  return self.offs[s]
end

function W:add(bytes)
  self.types[#self.types + 1] = bytes
  self.next_id = self.next_id + 1
  return self.next_id - 1
end

function W:hdr(name, kind, vlen, size_or_type, kflag)
  return u32(self:str(name)) .. u32(vlen + KIND[kind] * 2 ^ 24 + (kflag and 2 ^ 31 or 0)) ..
    u32(size_or_type)
end

function W:int(name, size, signed, bits)
  return self:add(self:hdr(name, "int", 0, size) .. u32((signed and 2 ^ 24 or 0) + (bits or size * 8)))
end

function W:float(name, size) return self:add(self:hdr(name, "float", 0, size)) end
function W:ptr(t) return self:add(self:hdr("", "ptr", 0, t)) end
function W:const(t) return self:add(self:hdr("", "const", 0, t)) end
function W:volatile(t) return self:add(self:hdr("", "volatile", 0, t)) end
function W:typedef(name, t) return self:add(self:hdr(name, "typedef", 0, t)) end
function W:type_tag(name, t) return self:add(self:hdr(name, "type_tag", 0, t)) end
function W:fwd(name, is_union) return self:add(self:hdr(name, "fwd", 0, 0, is_union)) end

function W:array(elem, index, n)
  return self:add(self:hdr("", "array", 0, 0) .. u32(elem) .. u32(index) .. u32(n))
end

-- members: { name, type, bit_offset [, bitfield_size] } (kind_flag set)
function W:struct(name, size, members, kind)
  local b = { self:hdr(name, kind or "struct", #members, size, true) }
  for _, m in ipairs(members) do
    b[#b + 1] = u32(self:str(m[1])) .. u32(m[2]) .. u32((m[4] or 0) * 2 ^ 24 + m[3])
  end
  return self:add(table.concat(b))
end

function W:union(name, size, members) return self:struct(name, size, members, "union") end

-- values: { name, value } (negative values for signed enums)
function W:enum(name, size, values, signed)
  local b = { self:hdr(name, "enum", #values, size, signed) }
  for _, v in ipairs(values) do b[#b + 1] = u32(self:str(v[1])) .. u32(v[2]) end
  return self:add(table.concat(b))
end

-- values: { name, lo32, hi32 }
function W:enum64(name, size, values, signed)
  local b = { self:hdr(name, "enum64", #values, size, signed) }
  for _, v in ipairs(values) do b[#b + 1] = u32(self:str(v[1])) .. u32(v[2]) .. u32(v[3]) end
  return self:add(table.concat(b))
end

-- params: { name, type } (type 0 last: "...")
function W:func_proto(ret, params)
  local b = { self:hdr("", "func_proto", #params, ret) }
  for _, p in ipairs(params) do b[#b + 1] = u32(self:str(p[1])) .. u32(p[2]) end
  return self:add(table.concat(b))
end

function W:func(name, proto, linkage)
  return self:add(self:hdr(name, "func", LINKAGE[linkage or "static"], proto))
end

function W:var(name, t, linkage)
  return self:add(self:hdr(name, "var", 0, t) .. u32(LINKAGE[linkage or "global"]))
end

-- vars: { type, offset, size }
function W:datasec(name, size, vars)
  local b = { self:hdr(name, "datasec", #vars, size) }
  for _, v in ipairs(vars) do b[#b + 1] = u32(v[1]) .. u32(v[2]) .. u32(v[3]) end
  return self:add(table.concat(b))
end

function W:decl_tag(name, target, component)
  return self:add(self:hdr(name, "decl_tag", 0, target) .. u32(component or -1))
end

function W:blob()
  local types, strs = table.concat(self.types), table.concat(self.strs)
  return string.char(0x9f, 0xeb, 1, 0) .. u32(24) .. u32(0) .. u32(#types) .. u32(#types) ..
    u32(#strs) .. types .. strs
end

return M
