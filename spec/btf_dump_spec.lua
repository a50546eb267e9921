-- BTF to C: btf:dump_c() and `ayac btf dump [file]`. The headers are compiled with
-- clang for the BPF target, with _Static_asserts that every struct and union has the
-- size and member offsets BTF records (for vmlinux: every uniquely named one), and
-- spec/bpf is built against ayac's own vmlinux.h (the Makefile).
local ayac = require "ayac"
local h = require "helpers"
local writer = require "btf_writer"

local clang = os.getenv("CLANG") or "clang"

local function sh_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- Compiles `#include "<header>"` plus code for the BPF target (warnings are errors).
-- Returns ok, clang's output.
local function compile(header, code)
  local base = h.tmpname("_dump")
  local hdr, src = base .. ".h", base .. ".c"
  h.write(hdr, header)
  h.write(src, ('#include "%s"\n%s\n'):format(hdr, code or ""))
  local out, ok = h.capture(("%s -target bpf -O2 -g -Wall -Werror -c %s -o %s.o 2>&1")
    :format(clang, sh_quote(src), sh_quote(base)))
  os.remove(hdr)
  os.remove(src)
  os.remove(base .. ".o")
  return ok, out
end

local function compiles(header, code)
  local ok, out = compile(header, code)
  assert(ok, "clang refused the header:\n" .. out:sub(1, 3000))
end

-- Does type id hold (by value, at any depth) the compiler's own va_list? Its size is
-- the target's (x86: 24 bytes, BPF: 8), so structs with one cannot keep their layout
-- (bpftool's vmlinux.h has the same limit).
local function va_list_checker(btf)
  local memo = {}
  local function holds(id, depth)
    if id == 0 or depth > 64 then return false end
    if memo[id] ~= nil then return memo[id] end
    local t = btf:type(id)
    local r = false
    if t.kind == "typedef" and t.name == "__builtin_va_list" then
      r = true
    elseif t.kind == "typedef" or t.kind == "const" or t.kind == "volatile" then
      r = holds(t.type, depth + 1)
    elseif t.kind == "array" then
      r = holds(t.elem_type, depth + 1)
    elseif t.kind == "struct" or t.kind == "union" then
      for _, m in ipairs(t.members) do
        if holds(m.type, depth + 1) then r = true break end
      end
    end
    memo[id] = r
    return r
  end
  return function(id) return holds(id, 0) end
end

-- _Static_asserts of size and (byte-aligned, named) member offsets for every struct
-- and union whose name is used once (else the header renames it name___2), and for
-- typedefs of anonymous ones.
local function layout_asserts(btf)
  local n, uses, out = btf:count(), {}, {}
  local holds_va_list = va_list_checker(btf)
  for id = 1, n do
    local k = btf:kind(id)
    if k == "struct" or k == "union" or k == "enum" or k == "enum64" or k == "typedef" then
      local name = btf:type(id).name
      local key = (k == "typedef" and "t:" or "s:") .. name
      uses[key] = (uses[key] or 0) + 1
    end
  end
  local function check(cname, t, id)
    if holds_va_list(id) then return end
    out[#out + 1] = ("_Static_assert(sizeof(%s) == %d, \"%s\");"):format(cname, t.size, cname)
    for _, m in ipairs(t.members) do
      if m.name ~= "" and m.bitfield_size == 0 and m.bit_offset % 8 == 0 then
        out[#out + 1] = ("_Static_assert(__builtin_offsetof(%s, %s) == %d, \"%s.%s\");")
          :format(cname, m.name, m.bit_offset / 8, cname, m.name)
      end
    end
  end
  for id = 1, n do
    local k = btf:kind(id)
    if k == "struct" or k == "union" then
      local t = btf:type(id)
      if t.name ~= "" and uses["s:" .. t.name] == 1 then check(k .. " " .. t.name, t, id) end
    elseif k == "typedef" then
      local t = btf:type(id)
      local r = btf:type(t.type)
      if (r.kind == "struct" or r.kind == "union") and r.name == "" and uses["t:" .. t.name] == 1 then
        check(t.name, r, t.type)
      end
    end
  end
  return table.concat(out, "\n"), #out
end

local function block(text, first_line)
  local s = text:find(first_line, 1, true)
  assert(s, "no '" .. first_line .. "' in the header")
  local e1, e2 = text:find("\n};\n", s, true), text:find("\n} __attribute__", s, true)
  local e = math.min(e1 or math.huge, e2 or math.huge)
  return text:sub(s, text:find("\n", e + 2, true) - 1)
end

describe("btf:dump_c", function()
  local vmlinux, vheader

  setup(function()
    vmlinux = assert(ayac.btf.vmlinux())
    vheader = assert(vmlinux:dump_c())
  end)

  it("writes vmlinux as a header that compiles, every layout as BTF has it", function()
    assert.is_truthy(vheader:find("^#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n"))
    assert.is_truthy(vheader:find("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang " ..
      "attribute push (__attribute__((preserve_access_index)), apply_to = record)", 1, true))
    assert.is_truthy(vheader:find("\nstruct task_struct {\n", 1, true))
    local asserts, count = layout_asserts(vmlinux)
    assert.is_true(count > 10000)
    compiles(vheader, asserts)
  end)

  -- (How fast it is belongs to bench/, not to a spec.)
  if os.getenv("AYAC_VMTEST") then
    pending("spec/bpf's vmlinux.h was made on the host's kernel, not this one")
  else
    it("is the vmlinux.h spec/bpf is built with", function()
      assert.are.equal(vheader, h.read(h.build .. "/include/vmlinux.h"))
    end)
  end

  it("writes bitfields, packed records, alignment holes, anonymous unions, function pointers", function()
    local obj = assert(ayac.open(h.bpf("dump_types")))
    local text = assert(obj:btf():dump_c())
    assert.are.equal(table.concat({
      "struct dt_bits {",
      "\tunsigned int lo: 3;",
      "\tunsigned int mid: 9;",
      "\tint neg: 20;",
      "\tint: 32;",
      "\tunsigned long long wide: 40;",
      "\tchar tail;",
      "};" }, "\n"), block(text, "struct dt_bits {"))
    assert.are.equal(table.concat({
      "struct dt_packed {",
      "\tchar c;",
      "\tint i;",
      "\tshort s;",
      "} __attribute__((packed));" }, "\n"), block(text, "struct dt_packed {"))
    assert.are.equal(table.concat({
      "struct dt_aligned {",
      "\tchar c;",
      "\tlong: 56;",
      "\tlong: 64;",
      "\tlong l;",
      "} __attribute__((aligned(16)));" }, "\n"), block(text, "struct dt_aligned {"))
    assert.are.equal(table.concat({
      "struct dt_anon {",
      "\tint kind;",
      "\tunion {",
      "\t\tint i;",
      "\t\tstruct {",
      "\t\t\tshort lo;",
      "\t\t\tshort hi;",
      "\t\t};",
      "\t};",
      "};" }, "\n"), block(text, "struct dt_anon {"))
    assert.are.equal(table.concat({
      "struct dt_ops {",
      "\tint (*open)(const char *, int);",
      "\tvoid (*handlers[2])(void);",
      "\tchar *(*name)(struct dt_ops *);",
      "};" }, "\n"), block(text, "struct dt_ops {"))
    for _, want in ipairs({
        "struct dt_packal {\n\tchar c;\n\tint i;\n} __attribute__((packed)) __attribute__((aligned(4)));",
        "union dt_wide {\n\tint i;\n\tchar b[3];\n} __attribute__((aligned(16)));",
        "\t__int128 big;", "\tconst char *const name;", "\tvolatile int (*rows)[4];",
        "\tint (*(*pick)(int))(long);", "\t} __attribute__((mode(byte))) small;",
        "\tunsigned char flex[0];" }) do
      assert.is_truthy(text:find(want, 1, true), "no '" .. want .. "' in:\n" .. text)
    end
    compiles(text, (layout_asserts(obj:btf())))
    obj:close()
  end)

  it("compiles for the objects of spec/bpf, layouts kept", function()
    for _, name in ipairs({ "sanitize", "codec_types", "globals", "maps", "loader" }) do
      local obj = assert(ayac.open(h.bpf(name)))
      local text = assert(obj:btf():dump_c())
      local ok, out = compile(text, (layout_asserts(obj:btf())))
      assert(ok, name .. ": " .. out:sub(1, 2000))
      obj:close()
    end
  end)

  it("writes decl tags and type tags as clang's attributes", function()
    local obj = assert(ayac.open(h.bpf("sanitize")))
    local text = assert(obj:btf():dump_c())
    assert.is_truthy(text:find('int __attribute__((btf_type_tag("user"))) *uptr;', 1, true))
    assert.is_truthy(text:find('__u32 seen __attribute__((btf_decl_tag("counter")));', 1, true))
    assert.is_truthy(text:find('} __attribute__((btf_decl_tag("sample")));', 1, true))
    assert.is_truthy(text:find("\tdouble ratio;\n\tfloat scale;", 1, true))
    obj:close()
  end)

  it("sizes enums as BTF does: mode attributes, 64-bit and signed values", function()
    local w = writer.new()
    w:enum("e8", 1, { { "E8_A", 1 }, { "E8_B", 200 } })
    w:enum("e16", 2, { { "E16_A", 1 } })
    w:enum("eneg", 4, { { "ENEG_A", -5 }, { "ENEG_B", 7 } }, true)
    w:enum("eword", 8, { { "EWORD_A", 3 } })
    w:enum64("e64", 8, { { "E64_A", 0, 256 }, { "E64_B", 7, 0 } })
    w:enum64("e64s", 8, { { "E64S_MIN", 0, 0x80000000 }, { "E64S_NEG", 0xfffffffe, 0xffffffff } }, true)
    w:enum64("e64small", 8, { { "E64SMALL", 1, 0 } })
    w:enum("", 4, { { "LONE_CONSTANT", 42 } })
    local b = assert(ayac.btf.parse(w:blob()))
    local text = assert(b:dump_c())
    for _, want in ipairs({ "} __attribute__((mode(byte)));", "} __attribute__((mode(HI)));",
        "ENEG_A = -5,", "E64_A = 1099511627776ULL,", "E64S_MIN = (-9223372036854775807LL - 1),",
        "E64S_NEG = -2LL,", "E64SMALL = 1ULL,\n} __attribute__((mode(word)));",
        "EWORD_A = 3,\n} __attribute__((mode(word)));", "enum {\n\tLONE_CONSTANT = 42,\n};" }) do
      assert.is_truthy(text:find(want, 1, true), "no '" .. want .. "' in:\n" .. text)
    end
    compiles(text, table.concat({
      "_Static_assert(sizeof(enum e8) == 1, \"e8\");",
      "_Static_assert(sizeof(enum e16) == 2, \"e16\");",
      "_Static_assert(sizeof(enum eneg) == 4 && ENEG_A < 0, \"eneg\");",
      "_Static_assert(sizeof(enum eword) == 8, \"eword\");",
      "_Static_assert(sizeof(enum e64) == 8 && E64_A == 1ULL << 40, \"e64\");",
      "_Static_assert(sizeof(enum e64s) == 8 && E64S_NEG == -2, \"e64s\");",
      "_Static_assert(sizeof(enum e64small) == 8, \"e64small\");",
      "_Static_assert(LONE_CONSTANT == 42, \"anon\");" }, "\n"))
  end)

  it("renames what C cannot have twice: name___2", function()
    local w = writer.new()
    local int = w:int("int", 4, true)
    local long = w:int("long", 8, true)
    w:struct("dup", 4, { { "a", int, 0 } })
    w:struct("dup", 8, { { "b", long, 0 } })
    w:enum("dup", 4, { { "VAL", 1 } })               -- same tag namespace as structs
    w:typedef("dup_t", int)
    w:typedef("dup_t", long)
    w:enum("other", 4, { { "VAL", 2 }, { "dup_t", 3 } }) -- enumerators share typedefs' namespace
    local text = assert(assert(ayac.btf.parse(w:blob())):dump_c())
    for _, want in ipairs({ "struct dup {", "struct dup___2 {", "enum dup___3 {",
        "typedef int dup_t;", "typedef long dup_t___2;", "VAL___2 = 2,", "dup_t___3 = 3," }) do
      assert.is_truthy(text:find(want, 1, true), "no '" .. want .. "' in:\n" .. text)
    end
    compiles(text, "_Static_assert(sizeof(struct dup) == 4 && sizeof(struct dup___2) == 8, \"dup\");\n" ..
      "_Static_assert(sizeof(dup_t___2) == 8 && VAL___2 == 2, \"t\");")
  end)

  it("orders definitions, with forward declarations for cycles through pointers", function()
    local w = writer.new()
    local int = w:int("int", 4, true)
    -- struct a { struct b *b; }; struct b { struct a a; int n; };
    local a_ptr_slot = w.next_id
    local a = w:struct("a", 8, { { "b", a_ptr_slot + 2, 0 } })
    local b = w:struct("b", 16, { { "a", a, 0 }, { "n", int, 64 } })
    assert.are.equal(a_ptr_slot + 2, w:ptr(b))
    local text = assert(assert(ayac.btf.parse(w:blob())):dump_c())
    local fwd, def_a, def_b = text:find("struct b;\n", 1, true), text:find("struct a {", 1, true),
      text:find("struct b {", 1, true)
    assert.is_truthy(fwd and def_a and def_b and fwd < def_a and def_a < def_b, text)
    compiles(text, "_Static_assert(sizeof(struct b) == 16, \"b\");")
  end)

  it("declares GCC's Arm polynomial ints, which clang does not have", function()
    local w = writer.new()
    w:struct("simd", 2, { { "p", w:int("__Poly8_t", 1, false), 0 }, { "q", w:int("char", 1, true), 8 } })
    local text = assert(assert(ayac.btf.parse(w:blob())):dump_c())
    assert.is_truthy(text:find("typedef unsigned char __Poly8_t;\n\nstruct simd {", 1, true), text)
    compiles(text, "_Static_assert(sizeof(struct simd) == 2, \"simd\");")
  end)

  it("refuses a struct that contains itself", function()
    local w = writer.new()
    w:int("int", 4, true)
    w:struct("loop", 4, { { "self", 2, 0 } }) -- id 2 is itself
    local b = assert(ayac.btf.parse(w:blob()))
    local text, msg, code = b:dump_c()
    assert.is_nil(text)
    assert.are.equal("ELOOP", code)
    assert.is_truthy(msg:find("loop", 1, true), msg)
  end)

  it("refuses a header it would have to pad out to gigabytes", function()
    local w = writer.new()
    w:struct("huge", 0xfffffff0, { { "x", w:int("int", 4, true), 0 } })
    local text, msg, code = assert(ayac.btf.parse(w:blob())):dump_c()
    assert.is_nil(text)
    assert.are.equal("EFBIG", code, msg)
  end)

  it("takes an include guard, and leaves out the pragma when there are no records", function()
    local w = writer.new()
    w:typedef("my_int", w:int("int", 4, true))
    local b = assert(ayac.btf.parse(w:blob()))
    local text = assert(b:dump_c({ guard = "MY_TYPES_H" }))
    assert.is_truthy(text:find("^#ifndef MY_TYPES_H\n#define MY_TYPES_H\n"))
    assert.are.equal("#endif /* MY_TYPES_H */\n", text:sub(-#"#endif /* MY_TYPES_H */\n"))
    assert.is_falsy(text:find("pragma", 1, true))
    compiles(text, "my_int x;")
    local _, _, code = b:dump_c({ guard = "not an identifier" })
    assert.are.equal("EINVAL", code)
    assert.has_error(function() b:dump_c({ guard = {} }) end)
    assert.has_error(function() b:dump_c(5) end)
  end)
end)

describe("ayac btf dump", function()
  local function run(args)
    return h.capture(("%s btf %s 2>&1"):format(sh_quote(h.bin), args))
  end

  it("prints vmlinux by default", function()
    local out, ok = run("dump")
    assert.is_true(ok)
    assert.are.equal(assert(assert(ayac.btf.vmlinux()):dump_c()), out)
  end)

  it("prints an object's BTF, or raw BTF from a file", function()
    local path = h.bpf("dump_types")
    local out, ok = run("dump " .. sh_quote(path))
    assert.is_true(ok, out)
    assert.are.equal(assert(assert(ayac.btf.load(path)):dump_c()), out)
    local w = writer.new()
    w:struct("raw_one", 4, { { "x", w:int("int", 4, true), 0 } })
    local raw = h.tmpname(".btf")
    h.write(raw, w:blob())
    out, ok = run("dump " .. sh_quote(raw))
    os.remove(raw)
    assert.is_true(ok, out)
    assert.is_truthy(out:find("struct raw_one {\n\tint x;\n};", 1, true))
  end)

  it("says what is wrong", function()
    local out, ok, rc = run("")
    assert.is_false(ok)
    assert.are.equal(2, rc)
    assert.is_truthy(out:find("usage: ayac btf dump", 1, true))
    out, ok, rc = run("dump /nonexistent/file.o")
    assert.is_false(ok)
    assert.are.equal(1, rc)
    assert.is_truthy(out:find("/nonexistent/file.o", 1, true))
  end)
end)
