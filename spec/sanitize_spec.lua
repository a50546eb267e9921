-- BTF for older kernels: with AYAC_FEATURES forcing each BTF feature off (in a child
-- process: features are probed once per process), spec/bpf/sanitize.bpf.o still loads
-- and runs the same, the kernel holds BTF with none of the kinds it "lacks" (read back
-- with btf:kernel()), and the object's own BTF stays whole for Lua. Kinds no compiler
-- here emits (enum64, empty datasecs) are checked on a patched object and on BTF built
-- by hand, loaded into the kernel with btf:fd().
local ayac = require "ayac"
local h = require "helpers"
local writer = require "btf_writer"

local FEATURES = { "btf_func", "btf_global_func", "btf_datasec", "btf_float", "btf_decl_tag",
  "btf_type_tag", "btf_enum64" }
-- what a kernel without the feature must not see
local GONE = {
  btf_func = { "func", "func_proto" }, btf_global_func = {}, btf_datasec = { "var", "datasec" },
  btf_float = { "float" }, btf_decl_tag = { "decl_tag" }, btf_type_tag = { "type_tag" },
  btf_enum64 = { "enum64" }, btf_zero_datasec = {},
}

local function sh_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- ---- san_enum64_slot -> ENUM64 ------------------------------------------------------------

local function u16(s, o) return s:byte(o + 1) + s:byte(o + 2) * 256 end
local function u32(s, o) return u16(s, o) + u16(s, o + 2) * 65536 end

-- Byte offset and size of an ELF64 section.
local function elf_section(elf, want)
  local shoff, shentsize = h.get_u64(elf, 0x28), u16(elf, 0x3a)
  local shnum, shstrndx = u16(elf, 0x3c), u16(elf, 0x3e)
  local strtab = h.get_u64(elf, shoff + shstrndx * shentsize + 0x18)
  for i = 0, shnum - 1 do
    local sh = shoff + i * shentsize
    local name_at = strtab + u32(elf, sh) + 1
    if elf:sub(name_at, name_at + #want) == want .. "\0" then
      return h.get_u64(elf, sh + 0x18), h.get_u64(elf, sh + 0x20)
    end
  end
  error("no section " .. want)
end

-- struct san_enum64_slot { int lo; int hi; } (36 bytes of BTF) becomes, in place,
-- enum san_enum64_slot { lo = 1, hi = 1 << 32 } : 8 bytes, an ENUM64 record of 36.
local function patch_enum64(elf)
  local btf = elf_section(elf, ".BTF")
  local hdr_len = u32(elf, btf + 4)
  local types = btf + hdr_len + u32(elf, btf + 8)
  local strs = btf + hdr_len + u32(elf, btf + 16)
  local str_len = u32(elf, btf + 20)
  local function str_off(s)
    local at = elf:find("\0" .. s .. "\0", strs + 1, true)
    assert(at and at < strs + str_len, "no string " .. s)
    return at - (strs + 1) + 1
  end
  local head = h.u32le(str_off("san_enum64_slot")) .. h.u32le(4 * 2 ^ 24 + 2) .. h.u32le(8)
  local at = elf:find(head, types + 1, true)
  assert(at, "no struct san_enum64_slot record")
  local record = h.u32le(str_off("san_enum64_slot")) .. h.u32le(19 * 2 ^ 24 + 2) .. h.u32le(8) ..
    h.u32le(str_off("lo")) .. h.u32le(1) .. h.u32le(0) ..
    h.u32le(str_off("hi")) .. h.u32le(0) .. h.u32le(1)
  return h.splice(elf, at - 1, record)
end

-- ---- the child: load, run, report -----------------------------------------------------------

local CHILD = [[
local ayac = require "ayac"
local obj = assert(ayac.load(arg[1]))
local prog = obj:program("run")
local r = assert(prog:test_run{ data = string.rep("\0", 64) })
local out = {}
local function put(k, v) out[#out + 1] = k .. "=" .. tostring(v) end
put("retval", r.retval)
put("result", obj:global("result"))
put("calls", obj:global("calls"))
local sample = assert(obj:map("samples"):get(0))
put("seen", sample.seen)
put("kind", sample.kind)
local info = assert(prog:info())
put("nr_func_info", info.nr_func_info)
put("nr_line_info", info.nr_line_info)
local function kinds(prefix, b)
  local n = {}
  for id = 1, b:count() do
    local t = b:type(id)
    n[t.kind] = (n[t.kind] or 0) + 1
    if t.kind == "func" and t.linkage ~= "static" then put(prefix .. "nonstatic_func", id) end
  end
  for k, c in pairs(n) do put(prefix .. k, c) end
end
kinds("orig.", obj:btf())
local kb, err = obj:btf():kernel()
put("kernel_btf", kb and "yes" or err)
if kb then kinds("kern.", kb) end
io.write(table.concat(out, "\n"), "\n")
obj:close()
]]

local child_path

-- Runs CHILD on object path (default: sanitize.bpf.o) under AYAC_FEATURES=features;
-- returns { key = value } and the output.
local function run_child(features, path)
  local cmd = ("AYAC_FEATURES=%s %s %s %s 2>&1"):format(sh_quote(features), sh_quote(h.bin),
    sh_quote(child_path), sh_quote(path or h.bpf("sanitize")))
  local out, ok = h.capture(cmd)
  assert(ok, "child failed (" .. features .. "):\n" .. out)
  local r = {}
  for k, v in out:gmatch("([%w_%.]+)=([^\n]*)") do r[k] = v end
  return r, out
end

local function assert_ran(r, out)
  assert.are.equal("2", r.retval, out)     -- XDP_PASS
  assert.are.equal("84", r.result, out)    -- twice(40) + (3 + 1)
  assert.are.equal("1", r.calls, out)
  assert.are.equal("1", r.seen, out)
end

describe("BTF sanitization", function()
  setup(function()
    child_path = h.tmpname("_sanitize.lua")
    h.write(child_path, CHILD)
  end)

  teardown(function()
    os.remove(child_path)
  end)

  it("leaves BTF alone when the kernel has every kind", function()
    local r, out = run_child("")
    assert_ran(r, out)
    assert.are.equal("yes", r.kernel_btf, out)
    for _, k in ipairs({ "func", "func_proto", "var", "datasec", "float", "decl_tag", "type_tag" }) do
      assert.is_truthy(r["kern." .. k], k .. " missing from the kernel's BTF:\n" .. out)
      assert.are.equal(r["orig." .. k], r["kern." .. k], out)
    end
    assert.are.equal("3", r.nr_func_info, out)
  end)

  for _, feature in ipairs(FEATURES) do
    it("rewrites what a kernel without " .. feature .. " refuses, and the programs run", function()
      local r, out = run_child(feature .. "=0")
      assert_ran(r, out)
      assert.are.equal("yes", r.kernel_btf, out)
      for _, k in ipairs(GONE[feature]) do
        assert.is_nil(r["kern." .. k], k .. " left in the kernel's BTF:\n" .. out)
      end
      if feature == "btf_global_func" then
        assert.is_nil(r["kern.nonstatic_func"], out)
        assert.is_truthy(r["orig.nonstatic_func"], out)
      end
      -- the object's own BTF is untouched: Lua reads maps and globals by it
      for _, k in ipairs({ "func", "func_proto", "var", "datasec", "float", "decl_tag", "type_tag" }) do
        assert.is_truthy(r["orig." .. k], out)
      end
      -- without BTF FUNC the kernel takes no func_info or line_info either
      if feature == "btf_func" then
        assert.are.equal("0", r.nr_func_info, out)
        assert.are.equal("0", r.nr_line_info, out)
      else
        assert.are.equal("3", r.nr_func_info, out)
      end
    end)
  end

  it("rewrites for a kernel that lacks every BTF kind at once", function()
    local all = {}
    for i, f in ipairs(FEATURES) do all[i] = f .. "=0" end
    local r, out = run_child(table.concat(all, ","))
    assert_ran(r, out)
    assert.are.equal("yes", r.kernel_btf, out)
    for _, f in ipairs(FEATURES) do
      for _, k in ipairs(GONE[f]) do
        assert.is_nil(r["kern." .. k], k .. " left in the kernel's BTF:\n" .. out)
      end
    end
  end)

  it("turns enum64 into a union for kernels before 6.0, and keeps it otherwise", function()
    local path = h.tmpname("_enum64.bpf.o")
    h.write(path, patch_enum64(h.read(h.bpf("sanitize"))))
    local r, out = run_child("", path)
    local r2, out2 = run_child("btf_enum64=0", path)
    os.remove(path)
    assert_ran(r, out)
    assert.are.equal("1", r["orig.enum64"], out)
    assert.are.equal("1", r["kern.enum64"], out)
    assert.are.equal("0", r.kind, out) -- a number: decoded as the enum64 it now is
    assert_ran(r2, out2)
    assert.are.equal("yes", r2.kernel_btf, out2)
    assert.is_nil(r2["kern.enum64"], out2)
    assert.are.equal("1", r2["orig.enum64"], out2)
    assert.are.equal("0", r2.kind, out2)
  end)
end)

-- ---- BTF built by hand, sanitized with btf:sanitize{...} and loaded with btf:fd() -----------

-- Every kind older kernels lack, used the ways clang uses them.
local function all_kinds()
  local w = writer.new()
  local int = w:int("int", 4, true)                                         -- 1
  local cb_proto = w:func_proto(int, { { "a", int }, { "", int } })         -- 2
  local proto = w:func_proto(int, { { "x", int } })                         -- 3
  local fn = w:func("fn", proto, "global")                                  -- 4
  local var = w:var("counter", int, "global")                               -- 5
  w:datasec(".data.counters", 4, { { var, 0, 4 } })                         -- 6
  local dbl = w:float("double", 8)                                          -- 7
  w:decl_tag("param_tag", fn, 0)                                            -- 8
  w:decl_tag("var_tag", var, -1)                                            -- 9
  local tagged = w:type_tag("user", int)                                    -- 10
  local uptr = w:ptr(tagged)                                                -- 11
  local e64 = w:enum64("wide", 8, { { "WIDE_A", 0, 1 }, { "WIDE_B", 5, 0 } }) -- 12
  w:enum("signed_e", 4, { { "NEG", -1 } }, true)                            -- 13
  local cb = w:ptr(cb_proto)                                                -- 14
  local s = w:struct("holder", 32, { { "d", dbl, 0 }, { "p", uptr, 64 }, { "e", e64, 128 },
    { "cb", cb, 192 } })                                                    -- 15
  w:decl_tag("holder_tag", s, 1)                                            -- 16
  return assert(ayac.btf.parse(w:blob()))
end

local function kinds_of(b)
  local n = {}
  for id = 1, b:count() do
    local k = b:kind(id)
    n[k] = (n[k] or 0) + 1
  end
  return n
end

describe("btf:sanitize", function()
  local has = ayac.features().btf

  it("leaves what the kernel has, and the kernel takes it", function()
    local raw = all_kinds()
    if has.btf_func and has.btf_datasec and has.btf_float and has.btf_decl_tag and
        has.btf_type_tag and has.btf_enum64 then
      assert(raw:fd())
    end
    local same = assert(raw:sanitize({}))
    assert.are.same(kinds_of(raw), kinds_of(same))
  end)

  for _, feature in ipairs(FEATURES) do
    it("makes BTF the kernel takes without " .. feature .. ", ids and sizes kept", function()
      local raw = all_kinds()
      local s = assert(raw:sanitize({ feature }))
      assert(s:fd())
      local k = kinds_of(s)
      for _, gone in ipairs(GONE[feature]) do
        assert.is_nil(k[gone], gone .. " left")
      end
      assert.is_true(s:count() == raw:count() or s:count() == raw:count() + 1)
      assert.are.equal(32, s:resolve_size(15))
      assert.are.equal("holder", s:type(15).name)
    end)
  end

  it("spells what it rewrites the way the kernel wants it", function()
    local s = assert(all_kinds():sanitize(FEATURES))
    assert(s:fd())
    assert.are.same({ "a", "ayac_param" }, { s:type(2).values[1].name, s:type(2).values[2].name })
    assert.are.equal("typedef", s:kind(4))
    assert.are.equal("_data_counters", s:type(6).name)       -- a struct name is an identifier
    assert.are.equal("counter", s:type(6).members[1].name)
    assert.are.equal(0, s:type(6).members[1].bit_offset)
    assert.are.equal("struct", s:kind(7))
    assert.are.equal(8, s:type(7).size)
    assert.are.equal("const", s:kind(10))
    local u = s:type(12)
    assert.are.equal("union", u.kind)
    assert.are.same({ "WIDE_A", "WIDE_B" }, { u.members[1].name, u.members[2].name })
    assert.are.equal("ayac_placeholder", s:type(u.members[1].type).name)
    assert.is_false(s:type(13).signed)
    for _, id in ipairs({ 8, 9, 16 }) do assert.are.equal("int", s:kind(id)) end
    -- the original is untouched
    assert.are.equal("enum64", all_kinds():kind(12))
  end)

  it("gives an empty datasec to kernels that refuse one as an empty struct", function()
    local w = writer.new()
    w:int("int", 4, true)
    w:datasec(".empty", 0, {})
    local raw = assert(ayac.btf.parse(w:blob()))
    if not has.btf_zero_datasec then
      local fd, msg, code = raw:fd()
      assert.is_nil(fd)
      assert.is_string(msg)
      assert.is_string(code)
    end
    local s = assert(raw:sanitize({ "btf_zero_datasec" }))
    assert(s:fd())
    assert.are.equal("struct", s:kind(2))
    assert.are.equal("", s:type(2).name)
    -- default: what this kernel lacks
    local here = assert(raw:sanitize())
    assert.are.equal(has.btf_zero_datasec and "datasec" or "struct", here:kind(2))
  end)

  it("reads back what the kernel holds, and refuses bad arguments", function()
    local raw = all_kinds()
    local _, _, code = raw:kernel()
    assert.are.equal("ENOENT", code)
    local s = assert(raw:sanitize(FEATURES))
    assert(s:fd())
    local back = assert(s:kernel())
    assert.are.same(kinds_of(s), kinds_of(back))
    assert.has_error(function() raw:sanitize({ "btf_nope" }) end)
    assert.has_error(function() raw:sanitize({ "perf_link" }) end)
    assert.has_error(function() raw:sanitize("btf_func") end)
  end)
end)
