-- BTF from Lua: vmlinux, an object's BTF, split BTF, and malformed BTF refused with a
-- message (never a crash). Malformed blobs are built here byte by byte.
local ayac = require "ayac"
local h = require "helpers"

local btf = ayac.btf

-- ---- a small BTF writer ------------------------------------------------------------

local function le(v, n)
  local out = {}
  for i = 1, n do
    out[i] = string.char(v % 256)
    v = math.floor(v / 256)
  end
  return table.concat(out)
end
local function u32(v) return le(v % 2 ^ 32, 4) end
local function s32(v) return u32(v < 0 and v + 2 ^ 32 or v) end

local KIND = { int = 1, ptr = 2, array = 3, struct = 4, union = 5, enum = 6, fwd = 7,
  typedef = 8, volatile = 9, const = 10, restrict = 11, func = 12, func_proto = 13,
  var = 14, datasec = 15, float = 16, decl_tag = 17, type_tag = 18, enum64 = 19 }

-- w:str(s) -> offset; w:add(bytes) -> id; w:blob() -> raw BTF. For split BTF, start_id
-- and start_str continue the base's.
local function writer(start_id, start_str)
  local w = { types = {}, strs = { start_str and "" or "\0" }, strlen = start_str and 0 or 1,
    offs = {}, next_id = start_id or 1, start_str = start_str or 0 }
  function w:str(s)
    if s == "" then return 0 end
    if self.offs[s] then return self.offs[s] end
    local off = self.start_str + self.strlen
    self.offs[s] = off
    self.strs[#self.strs + 1] = s .. "\0"
    self.strlen = self.strlen + #s + 1
    return off
  end
  function w:add(bytes)
    self.types[#self.types + 1] = bytes
    self.next_id = self.next_id + 1
    return self.next_id - 1
  end
  -- one btf_type header
  function w:hdr(name, kind, vlen, size_or_type, kflag)
    local info = vlen + KIND[kind] * 2 ^ 24 + (kflag and 2 ^ 31 or 0)
    return u32(type(name) == "number" and name or self:str(name)) .. u32(info) .. u32(size_or_type)
  end
  function w:int(name, size, bits, signed)
    return self:add(self:hdr(name, "int", 0, size) .. u32((signed and 1 or 0) * 2 ^ 24 + (bits or size * 8)))
  end
  function w:ref(kind, name, target)
    return self:add(self:hdr(name or "", kind, 0, target))
  end
  function w:struct(name, size, members, kind)
    local b = { self:hdr(name, kind or "struct", #members, size, true) }
    for _, m in ipairs(members) do
      local name = type(m[1]) == "number" and m[1] or self:str(m[1])
      b[#b + 1] = u32(name) .. u32(m[2]) .. u32((m[4] or 0) * 2 ^ 24 + m[3])
    end
    return self:add(table.concat(b))
  end
  function w:array(elem, index, n)
    return self:add(self:hdr("", "array", 0, 0) .. u32(elem) .. u32(index) .. u32(n))
  end
  function w:enum64(name, values, signed)
    local b = { self:hdr(name, "enum64", #values, 8, signed) }
    for _, v in ipairs(values) do
      b[#b + 1] = u32(self:str(v[1])) .. u32(v[2]) .. u32(v[3]) -- lo, hi
    end
    return self:add(table.concat(b))
  end
  function w:blob(opts)
    opts = opts or {}
    local types = table.concat(self.types)
    local strs = table.concat(self.strs)
    local hdr = le(0xeb9f, 2) .. string.char(opts.version or 1, 0) .. u32(24) ..
      u32(0) .. u32(opts.type_len or #types) .. u32(#types) .. u32(opts.str_len or #strs)
    return hdr .. types .. strs
  end
  return w
end

local function refused(bytes, pattern)
  local b, msg, code = btf.parse(bytes)
  assert.is_nil(b)
  assert.are.equal("EBTF", code, msg)
  assert.is_truthy(msg:find(pattern), ("'%s' does not say '%s'"):format(msg, pattern))
  return msg
end

-- ---- vmlinux --------------------------------------------------------------------------

describe("vmlinux BTF", function()
  local v

  setup(function()
    v = assert(btf.vmlinux())
  end)

  it("is parsed once and shared", function()
    assert.are.equal(v, btf.vmlinux())
    assert.is_true(v:count() > 10000)
    assert.is_truthy(tostring(v):find("ayac.btf"))
  end)

  it("has task_struct, a struct with a pid member", function()
    local id = assert(v:find("task_struct"))
    assert.are.equal(id, v:find("task_struct", "struct"))
    assert.are.equal(id, v:find("struct task_struct"))
    local t = v:type(id)
    assert.are.equal("struct", t.kind)
    assert.are.equal("task_struct", t.name)
    assert.are.equal(t.size, v:resolve_size(id))
    local pid
    for _, m in ipairs(t.members) do
      if m.name == "pid" then pid = m end
    end
    assert.is_table(pid)
    assert.are.equal(0, pid.bit_offset % 8)
    local pt = v:type(v:skip_mods(pid.type))
    assert.are.equal("int", pt.kind) -- pid_t is a typedef of int
    assert.are.equal(4, pt.size)
    assert.is_true(pt.signed)
    assert.are.equal("typedef", v:kind(pid.type))
  end)

  it("has bpf_attr, a union", function()
    local id = assert(v:find("bpf_attr"))
    assert.are.equal("union", v:type(id).kind)
    assert.are.equal(id, v:find("union bpf_attr"))
    local _, msg, code = v:find("struct bpf_attr")
    assert.are.equal("ENOENT", code)
    assert.is_truthy(msg:find("bpf_attr"))
  end)

  it("describes functions, prototypes and enums", function()
    local f = v:type(assert(v:find("schedule", "func")))
    assert.are.equal("func", f.kind)
    assert.are.equal("func_proto", v:type(f.type).kind)
    local e = v:type(assert(v:find("bpf_map_type", "enum")))
    local names = {}
    for _, x in ipairs(e.values) do names[x.name] = x.value end
    assert.are.equal(1, names.BPF_MAP_TYPE_HASH)
    assert.are.equal(2, names.BPF_MAP_TYPE_ARRAY)
  end)

  it("answers absent names and bad ids without raising", function()
    local id, msg, code = v:find("no_such_type_in_the_kernel_xyz")
    assert.is_nil(id)
    assert.are.equal("ENOENT", code)
    assert.is_string(msg)
    local t
    t, msg, code = v:type(v:count() + 1)
    assert.is_nil(t)
    assert.are.equal("EBTF", code)
    assert.is_truthy(msg:find("out of range"))
    assert.are.equal("void", v:type(0).kind)
    assert.has_error(function() v:find("x", "no-such-kind") end)
    assert.has_error(function() v:type(-1) end)
  end)
end)

-- ---- an object's BTF ------------------------------------------------------------------

describe("object BTF", function()
  local path = h.bpf("codec_types")

  it("loads from an ELF's .BTF section", function()
    local b = assert(btf.load(path))
    local t = b:type(assert(b:find("codec_all", "struct")))
    assert.are.equal(168, t.size)
    assert.are.equal("u8v", t.members[1].name)
    assert.are.equal(0, t.members[1].bit_offset)
    local bits = b:type(b:find("codec_bits"))
    assert.is_true(bits.kflag)
    assert.are.equal("mid", bits.members[2].name)
    assert.are.equal(3, bits.members[2].bit_offset)
    assert.are.equal(10, bits.members[2].bitfield_size)
    local var = b:type(b:find("g_all", "var"))
    assert.are.equal("global", var.linkage)
    local sec = b:type(b:find(".bss", "datasec"))
    assert.are.equal(3, #sec.vars)
    local arr = b:type(t.members[10].type)
    assert.are.equal("array", arr.kind)
    assert.are.equal(4, arr.nelems)
    assert.are.equal(8, b:resolve_size(b:find("codec_union")))
    local td = b:find("codec_inner_t", "typedef")
    assert.are.equal(b:find("codec_inner", "struct"), b:skip_mods(td))
  end)

  it("is what obj:btf() returns", function()
    local obj = assert(ayac.open(path))
    local b = assert(obj:btf())
    assert.is_number(b:find("codec_all"))
    obj:close()
  end)

  it("refuses files that are neither BTF nor ELF with BTF", function()
    local tmp = h.tmpname(".btf")
    h.write(tmp, "not btf at all, just text")
    local b, msg, code = btf.load(tmp)
    os.remove(tmp)
    assert.is_nil(b)
    assert.are.equal("EBTF", code)
    assert.is_truthy(msg:find(tmp, 1, true))
    b, msg, code = btf.load("/nonexistent/file.btf")
    assert.is_nil(b)
    assert.are.equal("ENOENT", code)
  end)
end)

-- ---- every kind, split BTF, malformed BTF ------------------------------------------------

-- One of each kind; returns the writer and the ids.
local function all_kinds()
  local w = writer()
  local id = {}
  id.int = w:int("int", 4, 32, true)
  id.u64 = w:int("u64", 8, 64, false)
  id.ptr = w:ref("ptr", nil, id.int)
  id.arr = w:array(id.int, id.int, 3)
  id.s = w:struct("pair", 16, { { "a", id.int, 0 }, { "b", id.u64, 64 }, { "c", id.int, 32, 3 } })
  id.u = w:struct("either", 8, { { "x", id.int, 0 }, { "y", id.u64, 0 } }, "union")
  id.enum = w:add(w:hdr("color", "enum", 2, 4, true) .. u32(w:str("RED")) .. s32(-1) ..
    u32(w:str("BLUE")) .. s32(5))
  id.fwd = w:add(w:hdr("later", "fwd", 0, 0, true))
  id.td = w:ref("typedef", "int_t", id.int)
  id.vol = w:ref("volatile", nil, id.td)
  id.const = w:ref("const", nil, id.vol)
  id.restrict = w:ref("restrict", nil, id.ptr)
  id.proto = w:add(w:hdr("", "func_proto", 2, id.int) .. u32(w:str("p")) .. u32(id.ptr) ..
    u32(0) .. u32(0))
  id.func = w:add(w:hdr("fn", "func", 1, id.proto))
  id.var = w:add(w:hdr("v", "var", 0, id.s) .. u32(1))
  id.sec = w:add(w:hdr(".data", "datasec", 1, 16) .. u32(id.var) .. u32(0) .. u32(16))
  id.float = w:add(w:hdr("double", "float", 0, 8))
  id.tag = w:add(w:hdr("tagged", "decl_tag", 0, id.s) .. s32(1))
  id.ttag = w:ref("type_tag", "user", id.int)
  id.e64 = w:enum64("huge", { { "BIG", 0x76543210, 0xfedcba98 }, { "ONE", 1, 0 } })
  id.se64 = w:enum64("shuge", { { "NEG", 0xfffffffe, 0xffffffff }, { "MIN", 0, 0x80000000 } },
    true)
  return w, id
end

describe("BTF of every kind", function()
  local b, id

  setup(function()
    local w
    w, id = all_kinds()
    b = assert(btf.parse(w:blob()))
  end)

  it("reads each kind", function()
    assert.are.equal(id.se64, b:count())
    local i = b:type(id.int)
    assert.are.same({ "int", "int", 4, true, 32, 0 },
      { i.kind, i.name, i.size, i.signed, i.bits, i.bit_offset })
    assert.are.equal(id.int, b:type(id.ptr).type)
    local a = b:type(id.arr)
    assert.are.same({ id.int, id.int, 3 }, { a.elem_type, a.index_type, a.nelems })
    assert.are.equal(12, b:resolve_size(id.arr))
    local s = b:type(id.s)
    assert.are.same({ name = "c", type = id.int, bit_offset = 32, bitfield_size = 3 }, s.members[3])
    assert.are.equal("union", b:type(id.u).kind)
    local e = b:type(id.enum)
    assert.are.same({ { name = "RED", value = -1 }, { name = "BLUE", value = 5 } }, e.values)
    assert.are.equal("fwd", b:type(id.fwd).kind)
    assert.are.equal(id.int, b:skip_mods(id.const))
    assert.are.equal("restrict", b:type(id.restrict).kind)
    local p = b:type(id.proto)
    assert.are.equal(id.int, p.type)
    assert.are.equal("p", p.params[1].name)
    assert.is_true(p.variadic)
    assert.are.equal("global", b:type(id.func).linkage)
    assert.are.equal("global", b:type(id.var).linkage)
    assert.are.same({ { type = id.var, offset = 0, size = 16 } }, b:type(id.sec).vars)
    assert.are.equal(8, b:type(id.float).size)
    assert.are.equal(1, b:type(id.tag).component_idx)
    assert.are.equal("type_tag", b:type(id.ttag).kind)
    assert.are.equal(id.fwd, b:find("later"))
    local _, msg = b:resolve_size(id.func)
    assert.is_truthy(msg:find("no size"))
  end)

  it("keeps 64-bit enum values exact", function()
    local e = b:type(id.e64)
    assert.are.equal("enum64", e.kind)
    assert.are.equal("cdata", type(e.values[1].value))
    assert.is_true(e.values[1].value == 0xfedcba9876543210ULL)
    assert.are.equal(1, e.values[2].value)
    local s = b:type(id.se64)
    assert.are.equal(-2, s.values[1].value)
    assert.is_true(s.values[2].value == -0x8000000000000000LL)
  end)

  it("continues ids and strings in split BTF", function()
    local base_w = writer()
    local int = base_w:int("int", 4, 32, true)
    local base_blob = base_w:blob()
    local base = assert(btf.parse(base_blob))
    local base_strlen = #base_blob - 24 - 16
    local w = writer(2, base_strlen)
    local s = w:struct("split_s", 4, { { "field", int, 0 } })
    local p = w:ref("ptr", nil, s)
    local split = assert(btf.parse(w:blob(), base))
    assert.are.equal(2, s)
    assert.are.equal(3, split:count())
    assert.are.equal(int, split:find("int"))
    assert.are.equal(s, split:find("split_s"))
    assert.are.equal("field", split:type(s).members[1].name)
    assert.are.equal(int, split:type(s).members[1].type)
    assert.are.equal(s, split:type(p).type)
    -- the split BTF keeps its base alive
    base = nil
    collectgarbage()
    assert.are.equal("int", split:type(int).name)
  end)
end)

describe("malformed BTF", function()
  it("refuses a truncated header", function()
    refused(("\159\235\1\0"), "shorter than")
    refused("", "shorter than")
  end)

  it("refuses bad magic and version", function()
    local blob = all_kinds():blob()
    refused("\0\0" .. blob:sub(3), "bad magic")
    refused(blob:sub(1, 2) .. "\2" .. blob:sub(4), "version")
  end)

  it("refuses sections past the end", function()
    local w = all_kinds()
    refused(w:blob({ str_len = 100000 }), "string section")
    refused(w:blob({ type_len = 100000 }), "type section")
  end)

  it("refuses type ids out of range", function()
    local w = writer()
    w:int("int", 4)
    w:ref("ptr", nil, 99)
    local msg = refused(w:blob(), "type id 99")
    assert.is_truthy(msg:find("%[2%] ptr"))
  end)

  it("refuses string offsets past the end", function()
    local w = writer()
    w:add(w:hdr(5000, "int", 0, 4) .. u32(32))
    refused(w:blob(), "name offset 5000")
    w = writer()
    w:struct("s", 4, { { 7000, 0, 0 } })
    refused(w:blob(), "member 0 name offset")
  end)

  it("refuses a typedef loop", function()
    local w = writer()
    w:ref("typedef", "a", 2)
    w:ref("typedef", "b", 1)
    refused(w:blob(), "loop")
    w = writer()
    w:ref("const", nil, 1) -- qualifies itself
    refused(w:blob(), "loop")
  end)

  it("refuses a vlen that runs past the type section", function()
    local w = writer()
    local int = w:int("int", 4)
    w:add(w:hdr("s", "struct", 5, 4) .. u32(w:str("a")) .. u32(int) .. u32(0))
    refused(w:blob(), "vlen 5 needs 60 bytes")
  end)

  it("refuses unknown kinds, bad ints, strings without NUL", function()
    local w = writer()
    w:add(u32(0) .. u32(25 * 2 ^ 24) .. u32(0))
    refused(w:blob(), "unknown kind 25")
    w = writer()
    w:add(w:hdr("int", "int", 0, 4) .. u32(40))
    refused(w:blob(), "do not fit")
    w = writer()
    w:int("int", 4)
    local blob = w:blob()
    refused(blob:sub(1, -2) .. "x", "does not end with NUL")
    w = writer()
    local int = w:int("int", 4)
    w:add(w:hdr("f", "func", 0, int))
    refused(w:blob(), "not a func_proto")
  end)

  it("refuses a file of malformed BTF with the file named", function()
    local w = writer()
    w:ref("ptr", nil, 42)
    local tmp = h.tmpname(".btf")
    h.write(tmp, w:blob())
    local b, msg, code = btf.load(tmp)
    os.remove(tmp)
    assert.is_nil(b)
    assert.are.equal("EBTF", code)
    assert.is_truthy(msg:find(tmp, 1, true))
    assert.is_truthy(msg:find("type id 42"))
  end)

  it("survives every truncation and random corruption", function()
    local blob = all_kinds():blob()
    for n = 0, #blob - 1 do
      local b, msg = btf.parse(blob:sub(1, n))
      assert.is_true(b == nil and type(msg) == "string" or b ~= nil)
    end
    math.randomseed(42)
    local accepted = 0
    for _ = 1, 3000 do
      local bytes = { blob:byte(1, -1) }
      for _ = 1, math.random(1, 4) do
        local i = math.random(25, #bytes)
        bytes[i] = math.random(0, 255)
      end
      local b = btf.parse(string.char(unpack(bytes)))
      if b then
        accepted = accepted + 1
        -- whatever got through must be safe to read all the way
        for id = 1, b:count() do
          b:type(id)
          b:resolve_size(id)
          b:skip_mods(id)
        end
      end
    end
    assert.is_true(accepted < 3000)
  end)
end)
