-- The BTF-driven value codec (lua/ayac/codec.lua) over the types of
-- spec/bpf/codec_types.bpf.c: round trips, exact 64-bit values, and the bytes of
-- structs and bitfields checked against layouts worked out by hand.
local ayac = require "ayac"
local ffi = require "ffi"
local h = require "helpers"
local codec = require "ayac.codec"

local function buf(n, fill_byte)
  local b = ffi.new("uint8_t[?]", n)
  ffi.fill(b, n, fill_byte or 0)
  return b
end

local function hex(b, from, n) -- bytes [from, from+n) as hex
  local out = {}
  for i = from, from + n - 1 do out[#out + 1] = string.format("%02x", b[i]) end
  return table.concat(out)
end

local function le(v, n) -- expected little-endian bytes of a non-negative integer, as hex
  local out = {}
  for i = 1, n do
    out[i] = string.format("%02x", v % 256)
    v = math.floor(v / 256)
  end
  return table.concat(out)
end

describe("codec", function()
  local btf

  setup(function()
    btf = assert(ayac.btf.load(h.bpf("codec_types")))
  end)

  local function for_name(name)
    return codec.for_name(btf, name)
  end

  describe("named", function()
    it("encodes and decodes fixed-width integers", function()
      for _, case in ipairs({ { "u8", 255 }, { "s8", -128 }, { "u16", 65535 }, { "s16", -2 },
        { "u32", 4294967295 }, { "s32", -2147483648 }, { "u64", 2 ^ 53 }, { "s64", -2 ^ 53 } }) do
        local c = codec.named(case[1])
        local b = buf(8)
        c.encode(case[2], b)
        assert.are.equal(case[2], c.decode(b), case[1])
      end
      assert.are.equal(4, codec.named("u32").size)
      assert.is_nil(codec.named("struct whatever"))
    end)

    it("keeps 64-bit values beyond 2^53 exact, as cdata", function()
      local u, s = codec.named("u64"), codec.named("s64")
      local b = buf(8)
      u.encode(0xfedcba9876543211ULL, b)
      assert.are.equal("1132547698badcfe", hex(b, 0, 8))
      local v = u.decode(b)
      assert.are.equal("cdata", type(v))
      assert.is_true(v == 0xfedcba9876543211ULL)
      u.encode(2 ^ 53 + 2, b) -- a double that is an exact integer
      assert.is_true(u.decode(b) == 9007199254740994ULL)
      u.encode(0xffffffffffffffffULL, b)
      assert.are.equal("ffffffffffffffff", hex(b, 0, 8))
      u.encode(2 ^ 64 - 2048, b) -- the largest double below 2^64
      assert.are.equal("00f8ffffffffffff", hex(b, 0, 8))
      s.encode(-9007199254740993LL, b)
      assert.is_true(s.decode(b) == -9007199254740993LL)
      s.encode(-5, b)
      assert.are.equal(-5, s.decode(b))
    end)

    it("refuses what is not an integer", function()
      local b = buf(8)
      assert.has_error(function() codec.named("u32").encode("12", b) end)
      assert.has_error(function() codec.named("u32").encode(1.5, b) end)
      assert.has_error(function() codec.named("u64").encode(2 ^ 64, b) end)
      codec.named("u8").encode(true, b)
      assert.are.equal(1, b[0])
    end)

    it("refuses integers that do not fit, naming the type and the range", function()
      local b = buf(8)
      local function refuses(name, v, msg)
        local ok, err = pcall(codec.named(name).encode, v, b)
        assert.is_false(ok, name .. " took " .. tostring(v))
        assert.are.equal("codec: " .. msg, err)
      end
      local function takes(name, v)
        local c = codec.named(name)
        c.encode(v, b)
        local back = c.decode(b)
        assert.is_true(back == v, ("%s: %s came back as %s"):format(name, tostring(v), tostring(back)))
      end
      refuses("u8", 300, "300 does not fit in u8 (0..255)")
      refuses("u8", -1, "-1 does not fit in u8 (0..255)")
      refuses("u32", 2 ^ 32 + 7, "4294967303 does not fit in u32 (0..4294967295)")
      refuses("u32", 1.5, "1.5 does not fit in u32 (0..4294967295): not an integer")
      refuses("u16", 0 / 0, "nan does not fit in u16 (0..65535)")
      refuses("s8", 128, "128 does not fit in s8 (-128..127)")
      refuses("s8", -129, "-129 does not fit in s8 (-128..127)")
      refuses("s16", 32768, "32768 does not fit in s16 (-32768..32767)")
      refuses("s32", -2 ^ 31 - 1, "-2147483649 does not fit in s32 (-2147483648..2147483647)")
      refuses("u64", -1, "-1 does not fit in u64 (0..18446744073709551615)")
      refuses("u64", 2 ^ 64, "18446744073709551616 does not fit in u64 (0..18446744073709551615)")
      refuses("u64", -1LL, "-1LL does not fit in u64 (0..18446744073709551615)")
      refuses("s64", 0x8000000000000000ULL,
        "9223372036854775808ULL does not fit in s64 (-9223372036854775808..9223372036854775807)")
      refuses("s64", 2 ^ 63, "9223372036854775808 does not fit in s64 " ..
        "(-9223372036854775808..9223372036854775807)")
      refuses("u32", "7", 'integer expected for u32 (0..4294967295), got string "7"')
      refuses("bool", 2, "2 does not fit in bool (true, false, 1 or 0)")
      for _, case in ipairs({ { "u8", 0 }, { "u8", 255 }, { "s8", -128 }, { "s8", 127 },
        { "u16", 65535 }, { "s16", -32768 }, { "u32", 4294967295 }, { "s32", 2147483647 },
        { "s32", -2147483648 }, { "u64", 0xffffffffffffffffULL }, { "u64", 2 ^ 64 - 2048 },
        { "s64", -0x8000000000000000LL }, { "s64", 0x7fffffffffffffffLL },
        { "s64", -2 ^ 63 }, { "u32", 7ULL }, { "s16", -7LL } }) do
        takes(case[1], case[2])
      end
      codec.named("u8").encode(true, b) -- booleans are 1 and 0
      assert.are.equal(1, b[0])
    end)

    it("moves raw bytes", function()
      local r = codec.raw(4)
      local b = buf(4, 0xff)
      r.encode("ab", b)
      assert.are.equal("ab\0\0", r.decode(b))
      assert.are.equal(r.size, codec.named("bytes:4").size)
      assert.has_error(function() r.encode("abcde", b) end)
    end)
  end)

  describe("structs", function()
    local all

    setup(function()
      all = for_name("struct codec_all")
    end)

    local value = {
      u8v = 255, s8v = -3, u16v = 65000, s16v = -300, u32v = 4000000000, s32v = -70000,
      u64v = 0xfedcba9876543210ULL, s64v = -2,
      name = "hello",
      arr = { 1, 2, 3, 4 },
      inner = { a = 7, b = -7 },
      pair = { { a = 1, b = 2 }, { a = 3, b = -4 } },
      color = 200,
      as_u32 = 0x01020304,
      point = { x = 3, y = 4 },
      ok = true,
      ptr = 0x1234,
      raw = "ab",
      grid = { { 1, 2, 3 }, { 4, 5, 6 } },
      bits = { lo = 5, mid = 1000, neg = -9, hi = 16000, flag = 1, wide = 0x12345678ab,
        swide = -2, yes = true, shade = 200 },
    }

    it("round-trips every field", function()
      assert.are.equal(168, all.size)
      local b = buf(all.size)
      all.encode(value, b)
      local d = all.decode(b)
      for k, v in pairs(value) do
        if k ~= "u64v" then
          assert.are.same(v, d[k], k)
        end
      end
      assert.is_true(d.u64v == value.u64v)
      assert.are.equal("\4\3\2\1", d.as_bytes) -- the other member of the anonymous union
    end)

    it("lays fields out where C does", function()
      local b = buf(all.size)
      all.encode(value, b)
      assert.are.equal("ff", hex(b, 0, 1))
      assert.are.equal("fd", hex(b, 1, 1))
      assert.are.equal(le(65000, 2), hex(b, 2, 2))
      assert.are.equal(le(65536 - 300, 2), hex(b, 4, 2))
      assert.are.equal(le(4000000000, 4), hex(b, 8, 4))
      assert.are.equal("1032547698badcfe", hex(b, 16, 8))
      assert.are.equal("feffffffffffffff", hex(b, 24, 8))
      assert.are.equal("68656c6c6f" .. ("00"):rep(11), hex(b, 32, 16)) -- name
      assert.are.equal("01000000020000000300000004000000", hex(b, 48, 16)) -- arr
      assert.are.equal("0700f9ff", hex(b, 64, 4)) -- inner
      assert.are.equal("01000200" .. "0300fcff", hex(b, 68, 8)) -- pair
      assert.are.equal(le(200, 4), hex(b, 76, 4)) -- color
      assert.are.equal("04030201", hex(b, 80, 4)) -- as_u32
      assert.are.equal("03000400", hex(b, 84, 4)) -- point
      assert.are.equal("01", hex(b, 88, 1)) -- ok
      assert.are.equal("3412000000000000", hex(b, 96, 8)) -- ptr
      assert.are.equal("616200", hex(b, 104, 3)) -- raw
      assert.are.equal("010000000200000003000000040000000500000006000000", hex(b, 108, 24))
    end)

    it("zero-fills what the value leaves out", function()
      local b = buf(all.size, 0xaa)
      all.encode({ inner = { b = 1 }, bits = { hi = 1 } }, b)
      for i = 0, all.size - 1 do
        if i ~= 66 and i ~= 138 then
          assert.are.equal(0, b[i], "byte " .. i)
        end
      end
      assert.are.equal(1, b[66])
      assert.are.equal(4, b[138]) -- hi starts at bit 18 of the bitfield word
      local d = all.decode(b)
      assert.are.same({ a = 0, b = 1 }, d.inner)
      assert.are.equal("", d.name)
      assert.are.same({ 0, 0, 0, 0 }, d.arr)
      assert.is_false(d.ok)
    end)

    it("refuses values of the wrong shape", function()
      local b = buf(all.size)
      assert.has_error(function() all.encode(5, b) end)
      assert.has_error(function() all.encode({ name = ("x"):rep(17) }, b) end)
      assert.has_error(function() all.encode({ arr = { 1, 2, 3, 4, 5 } }, b) end)
      assert.has_error(function() all.encode({ inner = "nope" }, b) end)
      assert.has_error(function() all.encode({ color = "NO_SUCH_COLOR" }, b) end)
      assert.has_no_error(function() all.encode({ name = ("x"):rep(16) }, b) end)
    end)

    it("refuses fields, elements and enums that do not fit, naming the path", function()
      local b = buf(all.size)
      local function refuses(v, msg)
        local ok, err = pcall(all.encode, v, b)
        assert.is_false(ok)
        assert.are.equal("codec: struct codec_all: " .. msg, err)
      end
      refuses({ u32v = 2 ^ 32 + 7 }, "field 'u32v': 4294967303 does not fit in u32 (0..4294967295)")
      refuses({ u8v = -1 }, "field 'u8v': -1 does not fit in u8 (0..255)")
      refuses({ s16v = 1.5 }, "field 's16v': 1.5 does not fit in s16 (-32768..32767): not an integer")
      refuses({ arr = { 1, 2, 2 ^ 32 } }, "field 'arr[3]': 4294967296 does not fit in u32 (0..4294967295)")
      refuses({ grid = { { 1 }, { 1, 2, -1 } } }, "field 'grid[2][3]': -1 does not fit in u32 (0..4294967295)")
      refuses({ pair = { {}, { b = 40000 } } }, "field 'pair[2].b': 40000 does not fit in s16 (-32768..32767)")
      refuses({ color = 2 ^ 32 }, "field 'color': 4294967296 does not fit in enum codec_color " ..
        "(-2147483648..4294967295)")
      refuses({ bits = { hi = 16384 } }, "field 'bits.hi': 16384 does not fit in 14-bit unsigned " ..
        "bitfield (0..16383)")
      refuses({ bits = { neg = -17 } }, "field 'bits.neg': -17 does not fit in 5-bit signed " ..
        "bitfield (-16..15)")
      refuses({ bits = { shade = 256 } }, "field 'bits.shade': 256 does not fit in 8-bit enum " ..
        "bitfield (-128..255)")
      refuses({ bits = { yes = 2 } }, "field 'bits.yes': 2 does not fit in bool (true, false, 1 or 0)")
      refuses({ bits = { wide = -1 } }, "field 'bits.wide': -1 does not fit in 40-bit unsigned " ..
        "bitfield (0..1099511627775)")
      refuses({ bits = { swide = 0x800000000000000LL } }, "field 'bits.swide': 576460752303423488LL " ..
        "does not fit in 60-bit signed bitfield (-576460752303423488..576460752303423487)")
      refuses({ ok = 2 }, "field 'ok': 2 does not fit in bool (true, false, 1 or 0)")
      refuses({ ptr = -1 }, "field 'ptr': -1 does not fit in pointer (0..18446744073709551615)")
      refuses({ name = { 65, 256 } }, "field 'name': 256 does not fit in char (-128..255)")
      -- the ends of each range are taken
      all.encode({ u32v = 2 ^ 32 - 1, s8v = -128, color = -1, bits = { hi = 16383, neg = -16,
        shade = "CODEC_BLUE", wide = 2 ^ 40 - 1, swide = -0x800000000000000LL } }, b)
      local d = all.decode(b)
      assert.are.same({ 2 ^ 32 - 1, -128, 2 ^ 32 - 1, 16383, -16, 200, 2 ^ 40 - 1 },
        { d.u32v, d.s8v, d.color, d.bits.hi, d.bits.neg, d.bits.shade, d.bits.wide })
      assert.is_true(d.bits.swide == -0x800000000000000LL)
    end)

    it("takes enum values by name", function()
      local b = buf(all.size)
      all.encode({ color = "CODEC_GREEN" }, b)
      assert.are.equal(2, all.decode(b).color)
    end)

    it("follows typedefs and qualifiers", function()
      local c = for_name("codec_inner_t")
      local b = buf(4)
      c.encode({ a = 0xbeef, b = -1 }, b)
      assert.are.equal("efbeffff", hex(b, 0, 4))
      assert.are.same({ a = 0xbeef, b = -1 }, c.decode(b))
      assert.are.equal(c, codec.for_type(btf, btf:find("codec_inner_t"))) -- cached
    end)
  end)

  describe("bitfields", function()
    local bits

    setup(function()
      bits = for_name("struct codec_bits")
    end)

    it("pack where the C compiler put them", function()
      local b = buf(bits.size, 0xaa)
      bits.encode({ lo = 5, mid = 1000, neg = -9, hi = 16000, flag = 1, wide = 0x12345678ab,
        swide = -2, yes = true, shade = 200 }, b)
      -- word 0: lo (3 bits) | mid (10) << 3 | neg (5, two's complement) << 13 | hi (14) << 18
      local w0 = 5 + 1000 * 2 ^ 3 + (32 - 9) * 2 ^ 13 + 16000 * 2 ^ 18
      assert.are.equal(le(w0, 4), hex(b, 0, 4))
      assert.are.equal("45ff02fa", hex(b, 0, 4))
      assert.are.equal("01000000", hex(b, 4, 4)) -- flag, then padding
      assert.are.equal("ab78563412000000", hex(b, 8, 8)) -- wide: 40 bits at bit 64
      -- swide: 60 bits of -2 at bit 128, then yes at bit 188 (bit 4 of byte 23)
      assert.are.equal("feffffffffffff1f", hex(b, 16, 8))
      assert.are.equal("c8", hex(b, 24, 1)) -- shade: 8 bits at bit 192
    end)

    it("decode with sign and neighbours intact", function()
      local v = { lo = 7, mid = 1023, neg = -16, hi = 16383, flag = 1,
        wide = 0xffffffffff, swide = -2 ^ 53, yes = false, shade = 1 }
      local b = buf(bits.size)
      bits.encode(v, b)
      assert.are.same(v, bits.decode(b))
      v.neg, v.swide, v.lo = 15, 2 ^ 50, 0
      bits.encode(v, b)
      assert.are.same(v, bits.decode(b))
      -- the ends of a 60-bit signed field are beyond doubles: cdata both ways
      bits.encode({ swide = -0x800000000000000LL }, b)
      assert.is_true(bits.decode(b).swide == -0x800000000000000LL)
      bits.encode({ swide = 0x7ffffffffffffffLL }, b)
      assert.is_true(bits.decode(b).swide == 0x7ffffffffffffffLL)
      -- out-of-range values are refused, naming the field and the range
      assert.has_error(function() bits.encode({ lo = 9 }, b) end,
        "codec: struct codec_bits: field 'lo': 9 does not fit in 3-bit unsigned bitfield (0..7)")
    end)
  end)

  describe("unions and arrays", function()
    it("decode every member of a union", function()
      local u = for_name("union codec_union")
      local b = buf(8)
      u.encode({ whole = 0x0000006968676665 }, b)
      local d = u.decode(b)
      assert.are.equal(0x0000006968676665, d.whole)
      assert.are.same({ lo = 0x68676665, hi = 0x69 }, d.parts)
      assert.are.equal("efghi", d.text)
      u.encode({ parts = { lo = 1, hi = 2 } }, b)
      assert.are.equal(0x200000001, u.decode(b).whole)
    end)

    it("keep bytes inside char arrays, trim only trailing NULs", function()
      local all = for_name("struct codec_all")
      local b = buf(all.size)
      all.encode({ name = "a\0b" }, b)
      assert.are.equal("a\0b", all.decode(b).name)
      all.encode({ name = { 65, 66 } }, b)
      assert.are.equal("AB", all.decode(b).name)
    end)
  end)

  describe("scalars of the object", function()
    it("read globals' types: u64, float, double, pointers", function()
      local u64 = codec.for_type(btf, btf:type(btf:find("g_u64", "var")).type)
      local b = buf(8)
      u64.encode(0x8000000000000001ULL, b)
      assert.is_true(u64.decode(b) == 0x8000000000000001ULL)
      local f = for_name("float")
      f.encode(1.5, b)
      assert.are.equal(1.5, f.decode(b))
      local d = for_name("double")
      d.encode(-2.25, b)
      assert.are.equal(-2.25, d.decode(b))
      assert.has_error(function() d.encode("x", b) end)
    end)

    it("refuses types that hold no value", function()
      assert.has_error(function() codec.for_type(btf, btf:find("codec_touch", "func")) end)
      assert.has_error(function() codec.for_type(btf, 0) end)
    end)
  end)

  describe("enum64", function()
    it("decodes values beyond 2^53 exactly", function()
      -- clang 14 emits no enum64, so one is written here: enum huge : 8 bytes { BIG, ONE }
      local function u32(v)
        return string.char(v % 256, math.floor(v / 256) % 256, math.floor(v / 65536) % 256,
          math.floor(v / 16777216) % 256)
      end
      local strs = "\0huge\0BIG\0ONE\0"
      local types = u32(1) .. u32(19 * 2 ^ 24 + 2) .. u32(8) ..
        u32(6) .. u32(0x76543210) .. u32(0xfedcba98) .. u32(10) .. u32(1) .. u32(0)
      local blob = "\159\235\1\0" .. u32(24) .. u32(0) .. u32(#types) .. u32(#types) ..
        u32(#strs) .. types .. strs
      local b64 = assert(ayac.btf.parse(blob))
      local c = codec.for_type(b64, 1)
      local b = buf(8)
      c.encode("BIG", b)
      assert.is_true(c.decode(b) == 0xfedcba9876543210ULL)
      c.encode("ONE", b)
      assert.are.equal(1, c.decode(b))
    end)
  end)
end)
