-- The codec against clang (spec/bpf/codec_layout.bpf.c), interpreted and JIT-compiled:
-- every bitfield width 1..64 at every bit offset 0..7, signed and unsigned; a struct of
-- every other kind of member; and bitfield structs moved through globals, hash keys and
-- values and per-CPU values, checked by clang-compiled BPF code (test_run).
--
-- Each check runs once with the JIT off (jitrun.interpreted) and once in a loop well past
-- the hot-loop threshold (jitrun.compiled), and compares both with clang's bytes: a
-- miscompiled encode or decode (LuaJIT issue #1079 corrupted wide bitfields' neighbours)
-- shows as a difference.
local ayac = require "ayac"
local codec = require "ayac.codec"
local ffi = require "ffi"
local bit = require "bit"
local h = require "helpers"
local jitrun = require "jitrun"

local norm, hex = jitrun.norm, jitrun.hex
local HOT = 300 -- iterations of a compiled loop

-- The values of spec/bpf/codec_layout.bpf.c's g_widths_a/b/c, computed the same way.
local K = 0x9E3779B97F4A7C15ULL
local function ones(w) return w == 64 and bit.bnot(0ULL) or bit.lshift(1ULL, w) - 1 end
local function top(w) return bit.rshift(K, 64 - w) end
local function low(w) return bit.band(K, ones(w)) end
local function half(w) return w == 1 and 0ULL or bit.rshift(K, 65 - w) end
local function s64(v) return ffi.cast("int64_t", v) end
-- As the codec hands them out: numbers where exact, cdata beyond 2^53.
local function lua_u(v) if v <= 2 ^ 53 then return tonumber(v) end return v end
local function lua_s(v)
  v = s64(v)
  if v <= 2 ^ 53 and v >= -2 ^ 53 then return tonumber(v) end
  return v
end

local function head(s) return math.floor(0xA5A5 / 2 ^ (8 - s)) end
local TAIL = 1

-- The v of each set: a, b, c (in the object), then extremes only Lua writes.
local function widths_values(w, signed)
  if signed then
    local vals = { lua_s(-1LL - s64(half(w))), lua_s(0ULL - bit.lshift(1ULL, w - 1)),
      lua_s(half(w)), 0, -1 }
    if w > 1 then vals[#vals + 1] = lua_s(ones(w - 1)) end -- the maximum
    return vals
  end
  return { lua_u(top(w)), lua_u(ones(w)), lua_u(low(w)), 0, 1, lua_u(bit.lshift(1ULL, w - 1)) }
end
jit.off(widths_values, true) -- the expectations never go through the JIT

local function bytes_of(obj, global)
  local p, size = obj:_global(global)
  assert(p, size)
  return ffi.string(p, size)
end

-- Bytes with bits [from, from + n) cleared.
local function clear_bits(s, from, n)
  local b = { s:byte(1, -1) }
  for i = from, from + n - 1 do
    local byte = math.floor(i / 8) + 1
    local m = 2 ^ (i % 8)
    if math.floor(b[byte] / m) % 2 == 1 then b[byte] = b[byte] - m end
  end
  return string.char(unpack(b))
end

local function u8buf(s)
  local b = ffi.new("uint8_t[?]", math.max(#s, 1))
  ffi.copy(b, s, #s)
  return b
end

describe("codec against clang's layout", function()
  local obj, btf

  setup(function()
    obj = assert(ayac.open(h.bpf("codec_layout")))
    btf = assert(obj:btf())
  end)

  teardown(function()
    obj:close()
  end)

  describe("bitfields of every width at every offset", function()
    local fields -- one per (shift, width, signedness)

    setup(function()
      local t = btf:type(btf:find("struct codec_widths"))
      local images = { bytes_of(obj, "g_widths_a"), bytes_of(obj, "g_widths_b"),
        bytes_of(obj, "g_widths_c") }
      fields = {}
      for _, m in ipairs(t.members) do
        local kind, s, w = m.name:match("^([ui])(%d)_(%d+)$")
        s, w = tonumber(s), tonumber(w)
        local c = codec.for_type(btf, m.type)
        local off = m.bit_offset / 8
        local f = { name = m.name, c = c, s = s, w = w, signed = kind == "i", sets = {},
          clang = {} }
        for k, v in ipairs(widths_values(w, f.signed)) do
          f.sets[k] = { head = head(s), v = v, tail = TAIL }
          if images[k] then
            f.clang[k] = images[k]:sub(off + 1, off + c.size)
          end
        end
        fields[#fields + 1] = f
      end
      assert.are.equal(8 * 64 * 2, #fields)
    end)

    -- For field f: per set, the bytes of encode(set) and the decode of clang's bytes (or
    -- of the bytes encoded, for the extra sets).
    local function exercise(f, run, n)
      local c, nsets, sets = f.c, #f.sets, f.sets
      local buf = ffi.new("uint8_t[16]")
      local src = {}
      for k = 1, nsets do
        src[k] = u8buf(f.clang[k] or f.interp[k])
      end
      local enc, dec = {}, {}
      local ok, why = run(function(i)
        local k = i % nsets + 1
        c.encode(sets[k], buf)
        enc[k] = ffi.string(buf, c.size)
        dec[k] = c.decode(src[k])
      end, n)
      return enc, dec, ok, why
    end

    it("encode and decode as clang lays them out, interpreted and compiled", function()
      -- Interpreted first, for every field (one flush each), then compiled.
      for _, f in ipairs(fields) do
        f.interp = {}
        for k, set in ipairs(f.sets) do -- the extra sets' bytes, to decode back
          local buf = ffi.new("uint8_t[16]")
          f.c.encode(set, buf)
          f.interp[k] = ffi.string(buf, f.c.size)
        end
        f.i_enc, f.i_dec = exercise(f, function(body, n)
          jitrun.interpreted(body, n)
          return true
        end, #f.sets)
      end
      local bad, not_compiled, checks = {}, {}, 0
      local function expect(f, what, want, got)
        checks = checks + 1
        if want ~= got then
          bad[#bad + 1] = ("%s %s: want %s, got %s"):format(f.name, what, want, got)
        end
      end
      for _, f in ipairs(fields) do
        local enc, dec, compiled, why = exercise(f, jitrun.compiled, HOT)
        if not compiled then not_compiled[#not_compiled + 1] = f.name .. " (" .. why .. ")" end
        for k, set in ipairs(f.sets) do
          local want = hex(f.clang[k] or f.i_enc[k])
          expect(f, "interpreted encode #" .. k, want, hex(f.i_enc[k]))
          expect(f, "compiled encode #" .. k, want, hex(enc[k]))
          expect(f, "interpreted decode #" .. k, norm(set), norm(f.i_dec[k]))
          expect(f, "compiled decode #" .. k, norm(set), norm(dec[k]))
        end
      end
      assert.are.equal(0, #bad, ("%d of %d checks differ; first: %s"):format(#bad, checks,
        table.concat(bad, "\n", 1, math.min(#bad, 10))))
      assert.are.equal(0, #not_compiled, "loops not compiled: " .. table.concat(not_compiled, " "))
    end)

    it("refuse values beyond their width, naming the field and the range", function()
      for _, f in ipairs(fields) do
        local w, buf = f.w, ffi.new("uint8_t[16]")
        local over = f.signed and bit.lshift(1ULL, w - 1) or (w < 64 and bit.lshift(1ULL, w))
        if over then
          local v = lua_u(over)
          local ok, err = pcall(f.c.encode, { v = v }, buf)
          assert.is_false(ok, f.name)
          assert.matches("field 'v': " .. norm(v):gsub("%p", "%%%0") .. "U?L?L? does not fit in " .. w ..
            "%-bit " .. (f.signed and "signed" or "unsigned") .. " bitfield", err, nil, false, f.name)
        end
        local under = f.signed and (w < 64 and lua_s(-1LL - s64(bit.lshift(1ULL, w - 1))) or
          -2 ^ 64) or -1
        assert.has_error(function() f.c.encode({ v = under }, buf) end, nil, f.name)
        assert.has_error(function() f.c.encode({ v = 0.5 }, buf) end, nil, f.name)
      end
    end)
  end)

  describe("a whole struct of them (a value too big for one trace)", function()
    it("encodes and decodes like clang, interpreted and compiled", function()
      local c = codec.for_name(btf, "struct codec_widths")
      local t = btf:type(btf:find("struct codec_widths"))
      local value = {}
      for _, m in ipairs(t.members) do
        local kind, s, w = m.name:match("^([ui])(%d)_(%d+)$")
        value[m.name] = { head = head(tonumber(s)), tail = TAIL,
          v = widths_values(tonumber(w), kind == "i")[1] }
      end
      local image = bytes_of(obj, "g_widths_a")
      local src = u8buf(image)
      local buf = ffi.new("uint8_t[?]", c.size)
      local results = {}
      local function body(i)
        c.encode(value, buf)
        results.enc = ffi.string(buf, c.size)
        if i % 4 == 0 then results.dec = c.decode(src) end
      end
      jitrun.interpreted(body, 4)
      local interp = { enc = results.enc, dec = norm(results.dec) }
      jitrun.compiled(body, 120) -- past the threshold for its parts; each turn is long
      assert.are.equal(hex(image), hex(interp.enc))
      assert.are.equal(hex(image), hex(results.enc))
      assert.are.equal(norm(value), interp.dec)
      assert.are.equal(norm(value), norm(results.dec))
    end)
  end)

  describe("every other kind of member", function()
    local sign_signed

    setup(function()
      sign_signed = btf:type(btf:find("enum codec_layout_sign")).signed
    end)

    -- encode(input) must give image, decode(image) want, both ways.
    local function both_ways(c, input, want, image, expect_compiled)
      local src = u8buf(image)
      local buf = ffi.new("uint8_t[?]", c.size)
      local r = {}
      local function body()
        c.encode(input, buf)
        r.enc = ffi.string(buf, c.size)
        r.dec = c.decode(src)
      end
      jitrun.interpreted(body, 1)
      local interp = { enc = r.enc, dec = norm(r.dec) }
      local compiled, why = jitrun.compiled(body, HOT)
      if expect_compiled then
        assert.is_true(compiled, "the loop was not compiled: " .. why)
      end
      assert.are.equal(hex(image), hex(interp.enc), "interpreted encode")
      assert.are.equal(hex(image), hex(r.enc), "compiled encode")
      assert.are.equal(norm(want), interp.dec, "interpreted decode")
      assert.are.equal(norm(want), norm(r.dec), "compiled decode")
    end

    it("bitfields of enums, bool and 64-bit types, whole, interpreted and compiled", function()
      local want = { shade = 200, yes = true, sign = sign_signed and -3 or 13,
        big = 0x7edcba9876543210ULL, neg = -0x0fedcba987654321LL, flag = true,
        whole = sign_signed and -3 or 2 ^ 32 - 3 }
      local input = { shade = "LAYOUT_BLUE", yes = true, sign = -3,
        big = 0x7edcba9876543210ULL, neg = -0x0fedcba987654321LL, flag = 1, whole = "LAYOUT_NEG" }
      both_ways(codec.for_name(btf, "struct codec_kinds"), input, want, bytes_of(obj, "g_kinds"),
        true)
    end)

    it("integers, 64-bit values, enums, arrays, nested structs, unions: each member and " ..
      "the whole struct, interpreted and compiled", function()
      local want = {
        u8v = 250, s8v = -100, u16v = 60000, s16v = -30000, u32v = 4000000000,
        s32v = -2000000000, u64v = 0xfedcba9876543210ULL, s64v = -0x123456789abcdefLL,
        big = 0x7edcba9876543210ULL, neg = -0x7123456789abcdefLL,
        color = 200, sign = sign_signed and -3 or 2 ^ 32 - 3, shade = 200, ok = true,
        yes = true, name = "layout", arr = { 1, 0xffffffff, 7 },
        grid = { { -1, 2, -3 }, { 4, -5, 32767 } },
        inner = { a = 65535, b = -16, c = 7, d = -1 },
        list = { { a = 1, b = 15, c = 0, d = 2 }, { a = 3, b = -1, c = 5, d = -2 ^ 31 } },
        word = 0x01020304, bytes = "\4\3\2\1", tail = 0x8000000000000000ULL,
      }
      local input = {}
      for k, v in pairs(want) do input[k] = v end
      input.bytes = nil -- the union's other member
      input.sign = "LAYOUT_NEG"
      local image = bytes_of(obj, "g_mixed")
      -- each member that is not a bitfield through its own type's codec, compiled alone
      local t = btf:type(btf:find("struct codec_mixed"))
      local n = 0
      for _, m in ipairs(t.members) do
        if m.bitfield_size == 0 then
          local c = codec.for_type(btf, m.type)
          local off = m.bit_offset / 8
          local v, i = want[m.name], input[m.name]
          if m.name == "" then -- the anonymous union
            v, i = { word = want.word, bytes = want.bytes }, { word = want.word }
          end
          both_ways(c, i, v, image:sub(off + 1, off + c.size), true)
          n = n + 1
        end
      end
      assert.are.equal(18, n)
      -- the whole: more than one trace holds, so parts of it compile apart
      both_ways(codec.for_name(btf, "struct codec_mixed"), input, want, image, false)
      -- -3 and its unsigned reading are the same bytes
      local c, buf = codec.for_name(btf, "struct codec_mixed"), ffi.new("uint8_t[256]")
      input.sign = -3
      c.encode(input, buf)
      assert.are.equal(hex(image), hex(ffi.string(buf, c.size)))
    end)
  end)
end)

describe("bitfields through globals, maps and per-CPU values", function()
  local obj, hash, percpu, out

  setup(function()
    obj = assert(ayac.load(h.bpf("codec_layout")))
    hash, percpu, out = obj:map("flags_hash"), obj:map("flags_percpu"), obj:map("plain_out")
  end)

  teardown(function()
    obj:close()
  end)

  local SETS = {
    { id = 0, delta = 0, kind = 0, level = 0, on = false, shade = 0, wide = 0 },
    { id = 2 ^ 40 - 1, delta = -2 ^ 59, kind = 7, level = -64, on = true, shade = 255,
      wide = 0x1ffffffffffffffLL },
    { id = 0x123456789a, delta = 0x7ffffffffffffffLL, kind = 5, level = 63, on = true,
      shade = 200, wide = -2 ^ 57 },
    { id = 1, delta = -1, kind = 1, level = -1, on = false, shade = 1, wide = -0x123456789abcd },
  }

  local function run(name)
    assert(obj:program(name):test_run({ data = string.rep("\0", 64) }))
  end

  local function plain_of(v)
    local p = {}
    for k, x in pairs(v) do p[k] = x end
    p.on = v.on and 1 or 0
    return p
  end

  -- clang's bytes for each set: g_plain -> plain_to_flags -> g_flags.
  local function clang_bytes()
    local t = {}
    for k, v in ipairs(SETS) do
      assert(obj:set_global("g_plain", plain_of(v)))
      run("plain_to_flags")
      t[k] = bytes_of(obj, "g_flags")
    end
    return t
  end

  it("encode as clang does: set_global, hash key and value, per-CPU value", function()
    local want = clang_bytes()
    local gp = obj:_global("g_flags")
    local got = {}
    local function body(i)
      local k = i % #SETS + 1
      local v = SETS[k]
      obj:set_global("g_flags", v)
      got[k] = ffi.string(gp, #want[k])
      hash[v] = v
      percpu[0] = v
    end
    for pass, runner in ipairs({ jitrun.interpreted, jitrun.compiled }) do
      hash:clear()
      runner(body, pass == 1 and #SETS or HOT)
      for k, v in ipairs(SETS) do
        assert.are.equal(hex(want[k]), hex(got[k]), "set_global #" .. k)
        -- clang looks the hash up with g_flags as the key and reads the value
        assert(obj:set_global("g_flags", v))
        run("flags_to_plain")
        assert.are.equal(norm(plain_of(v)), norm(out[0]), "g_flags #" .. k)
        assert.are.equal(norm(plain_of(v)), norm(out[1]), "flags_hash #" .. k)
      end
      local last = SETS[HOT % #SETS + 1]
      if pass == 1 then last = SETS[#SETS % #SETS + 1] end
      assert.are.equal(norm(plain_of(last)), norm(out[2]), "flags_percpu")
    end
  end)

  it("decode what clang wrote: global, hash key and value, per-CPU value", function()
    local got = {}
    local function body(i)
      local k = i % #SETS + 1
      local g = obj:global("g_flags")
      got[k] = { g = g, value = hash[g], keys = hash:keys(), cpus = percpu[0] }
    end
    local want = {}
    for pass, runner in ipairs({ jitrun.interpreted, jitrun.compiled }) do
      for k, v in ipairs(SETS) do
        -- clang writes g_flags; Lua copies its bytes into the maps unchanged
        assert(obj:set_global("g_plain", plain_of(v)))
        run("plain_to_flags")
        want[k] = bytes_of(obj, "g_flags")
      end
      hash:clear()
      hash:codec({ key = "bytes", value = "bytes" })
      for k = 1, #SETS do hash[want[k]] = want[k] end
      hash:codec({ key = "struct codec_flags", value = "struct codec_flags" })
      percpu:codec({ value = "bytes" })
      percpu[0] = want[#SETS]
      percpu:codec({ value = "struct codec_flags" })
      -- g_flags holds the last set; each loop turn decodes it and looks it up
      runner(body, pass == 1 and #SETS or HOT)
      local v = SETS[#SETS]
      for k = 1, #SETS do
        assert.are.equal(norm(v), norm(got[k].g), "g_flags")
        assert.are.equal(norm(v), norm(got[k].value), "flags_hash value")
        local keys = {}
        for j, key in ipairs(got[k].keys) do keys[j] = norm(key) end
        table.sort(keys)
        local all = {}
        for j, s in ipairs(SETS) do all[j] = norm(s) end
        table.sort(all)
        assert.are.same(all, keys, "flags_hash keys")
        for _, cpu in ipairs(got[k].cpus) do
          assert.are.equal(norm(v), norm(cpu), "flags_percpu")
        end
      end
    end
  end)

  it("refuse values that do not fit, naming the global or the map", function()
    local v = { id = 2 ^ 40 }
    local ok, err = pcall(obj.set_global, obj, "g_flags", v)
    assert.is_false(ok)
    assert.matches("global 'g_flags'", err, nil, true)
    assert.matches("field 'id': 1099511627776 does not fit in 40-bit unsigned bitfield " ..
      "(0..1099511627775)", err, nil, true)
    ok, err = pcall(function() hash[SETS[1]] = { level = 64 } end)
    assert.is_false(ok)
    assert.matches("map 'flags_hash': value: struct codec_flags: field 'level': 64 does not " ..
      "fit in 7-bit signed bitfield (-64..63)", err, nil, true)
    ok, err = pcall(function() return hash[{ kind = 8 }] end)
    assert.is_false(ok)
    assert.matches("map 'flags_hash': key: struct codec_flags: field 'kind': 8", err, nil, true)
    ok, err = pcall(function() percpu[0] = { delta = 2 ^ 59 } end)
    assert.is_false(ok)
    assert.matches("map 'flags_percpu': value: ", err, nil, true)
  end)
end)
