-- Map element access from Lua against the kernel: spec/bpf/maps.bpf.c declares a map of
-- each type with BTF key/value types; its XDP program `bump` changes them.
local ayac = require "ayac"
local ffi = require "ffi"
local h = require "helpers"

local BIG = 0x8000000000000001ULL -- 2^63 + 1: a double cannot hold it

local function sum(t)
  local s = 0
  for _, v in ipairs(t) do s = s + v end
  return s
end

local function expect_fail(code, ...)
  local ok, msg, errcode = ...
  assert.is_nil(ok)
  assert.is_string(msg)
  assert.are.equal(code, errcode, msg)
  return msg
end

describe("map", function()
  local obj, ncpus

  before_each(function()
    obj = assert(ayac.load(h.bpf("maps")))
    ncpus = assert(ayac.num_possible_cpus())
  end)

  after_each(function()
    obj:close()
  end)

  it("has fields from its definition", function()
    local m = obj:map("hash_u64")
    assert.are.equal("hash_u64", m.name)
    assert.are.equal("hash", m.type)
    assert.are.equal(4, m.key_size)
    assert.are.equal(8, m.value_size)
    assert.are.equal(64, m.max_entries)
    assert.are.equal(0, m.flags)
    assert.are.equal("percpu_array", obj:map("percpu_array_u32").type)
    assert.are.equal("lru_hash", obj:map("lru_u64").type)
    assert.is_true(m:fd() >= 0)
    local info = assert(m:info())
    assert.are.equal("hash", info.type)
    assert.are.equal(64, info.max_entries)
    assert.is_true(info.id > 0)
  end)

  describe("hash with a u64 value", function()
    it("sets, gets, deletes; a missing key is nil", function()
      local m = obj:map("hash_u64")
      assert.is_nil(m:get(5))
      assert.is_nil(m[5])
      assert.is_true(m:set(5, 50))
      assert.are.equal(50, m:get(5))
      m[6] = 60
      assert.are.equal(60, m[6])
      assert.is_true(m:delete(5))
      assert.is_nil(m[5])
      expect_fail("ENOENT", m:delete(5))
      m[6] = nil
      m[6] = nil -- deleting what is absent through m[k] = nil is fine
      assert.is_nil(m[6])
    end)

    it("keeps 64-bit values exact: 2^63+1 comes back as cdata", function()
      local m = obj:map("hash_u64")
      m[1] = BIG
      local v = m[1]
      assert.are.equal("cdata", type(v))
      assert.is_true(v == BIG)
      assert.are.equal("9223372036854775809ULL", tostring(v))
      m[2] = 2 ^ 53 -- still exact in a double: a number
      assert.are.equal("number", type(m[2]))
      assert.are.equal(2 ^ 53, m[2])
    end)

    it("honours noexist and exist", function()
      local m = obj:map("hash_u64")
      assert.is_true(m:set(1, 10, "noexist"))
      local msg = expect_fail("EEXIST", m:set(1, 11, "noexist"))
      assert.matches("hash_u64", msg)
      assert.are.equal(10, m[1])
      assert.is_true(m:set(1, 12, "exist"))
      assert.are.equal(12, m[1])
      expect_fail("ENOENT", m:set(2, 1, "exist"))
      assert.is_true(m:set(2, 1, "any"))
      assert.has_error(function() m:set(3, 1, "sometimes") end)
    end)

    it("iterates, counts, dumps and clears", function()
      local m = obj:map("hash_u64")
      for i = 1, 10 do m[i] = i * i end
      local seen = {}
      for k, v in m:pairs() do seen[k] = v end
      for i = 1, 10 do assert.are.equal(i * i, seen[i]) end
      assert.are.equal(10, m:count())
      local ks = m:keys()
      assert.are.equal(10, #ks)
      local n = 0
      for k in m:keys() do
        n = n + 1
        assert.are.equal(k * k, m[k])
      end
      assert.are.equal(10, n)
      assert.are.same(seen, m:dump())
      assert.is_true(m:clear())
      assert.are.equal(0, m:count())
      assert.is_nil(m[3])
    end)

    it("lets methods and fields win over keys of the same name", function()
      local m = obj:map("hash_u64")
      assert.are.equal("function", type(m.get))
      assert.are.equal("hash_u64", m.name)
    end)

    it("compiles get/set with number keys under the JIT, in a process of its own", function()
      -- What ran before in this process changes what the JIT does (hot counters that
      -- jit.flush keeps, traces of the callees), so the loop runs in a fresh one: it
      -- must compile, never abort, and never stitch around a C function (a Lua C API
      -- call would).
      local script = h.tmpname(".lua")
      h.write(script, [=[
        local ayac = require "ayac"
        local obj = assert(ayac.load(arg[1]))
        local m = obj:map("hash_u64")
        local function loop(n)
          local s = 0
          for i = 1, n do
            m:set(i % 8, i)
            s = s + m:get(i % 8)
          end
          return s
        end
        m:set(0, 0) -- builds the map's codecs (once; not the hot path)
        m:get(0)
        local util, vmdef = require "jit.util", require "jit.vmdef"
        local started, events = {}, {}
        jit.attach(function(what, tr, func, pc, code, reason)
          local info = debug.getinfo(func, "S")
          local where = info and (info.short_src .. ":" .. info.linedefined) or "?"
          if what == "start" then
            started[tr] = func == loop
            events[#events + 1] = ("start %d %s"):format(tr, where)
          elseif what == "stop" then
            events[#events + 1] = ("stop %d %s%s"):format(tr, started[tr] and "loop " or "",
              util.traceinfo(tr).linktype)
          elseif what == "abort" then
            local fmt = vmdef.traceerr[code]
            events[#events + 1] = ("abort %d %s: %s"):format(tr, where,
              type(fmt) == "string" and fmt:format(reason) or tostring(code))
          end
        end, "trace")
        local s = loop(2000)
        jit.attach(function() end, "trace")
        print("sum " .. s)
        for _, e in ipairs(events) do print(e) end
        obj:close()
      ]=])
      local out, ok = h.capture(("'%s' '%s' '%s' 2>&1"):format(h.lua, script, h.bpf("maps")))
      os.remove(script)
      assert.is_true(ok, out)
      assert.matches("sum 2001000\n", out, nil, true)
      assert.matches("\nstop %d+ loop loop\n", out, nil, false) -- the loop compiled, looping
      assert.is_nil(out:match("\nabort "), out)
      assert.is_nil(out:match(" stitch\n"), out)
    end)
  end)

  describe("hash with a struct key and value", function()
    it("converts structs by field name, missing fields zero", function()
      local m = obj:map("hash_struct")
      m[{ id = 1, port = 80 }] = { count = 2, total = 3, tag = "web" }
      m[{ id = 2 }] = { total = BIG }
      assert.are.same({ count = 2, total = 3, tag = "web" }, m[{ id = 1, port = 80 }])
      local v = m[{ id = 2, port = 0 }]
      assert.are.equal(0, v.count)
      assert.is_true(v.total == BIG)
      assert.are.equal("", v.tag)
      assert.is_nil(m[{ id = 1, port = 81 }])
      local keys = {}
      for k in m:pairs() do keys[#keys + 1] = k.id * 1000 + k.port end
      table.sort(keys)
      assert.are.same({ 1080, 2000 }, keys)
    end)
  end)

  describe("array", function()
    it("has every index, 0-based; out of range is nil; delete refuses", function()
      local m = obj:map("array_struct")
      assert.are.equal(4, m:count())
      assert.are.same({ count = 0, total = 0, tag = "" }, m[3])
      assert.is_nil(m[4])
      m[3] = { count = 7, tag = "x" }
      assert.are.equal(7, m[3].count)
      expect_fail("EINVAL", m:delete(3))
      assert.is_true(m:clear())
      assert.are.equal(0, m[3].count)
      expect_fail("E2BIG", m:set(4, { count = 1 }))
    end)
  end)

  describe("per-CPU", function()
    it("percpu_array: one value per possible CPU, slots 8 bytes apart", function()
      local m = obj:map("percpu_array_u32")
      local v = m[0]
      assert.are.equal(ncpus, #v)
      assert.are.equal(0, sum(v))
      m[1] = 9
      assert.are.same((function() local t = {} for i = 1, ncpus do t[i] = 9 end return t end)(), m[1])
      local per = {}
      for i = 1, ncpus do per[i] = i * 100 end
      m[2] = per
      assert.are.same(per, m[2])
      assert.has_error(function() m[2] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 } end)
      assert.is_true(m:clear())
      assert.are.equal(0, sum(m[2]))
    end)

    it("percpu_hash: get/set/delete/pairs", function()
      local m = obj:map("percpu_hash_u64")
      assert.is_nil(m[1])
      m[1] = BIG
      local v = m[1]
      assert.are.equal(ncpus, #v)
      for i = 1, ncpus do assert.is_true(v[i] == BIG) end
      local n = 0
      for k, vals in m:pairs() do
        n = n + 1
        assert.are.equal(1, k)
        assert.are.equal(ncpus, #vals)
      end
      assert.are.equal(1, n)
      assert.is_true(m:delete(1))
      assert.are.equal(0, m:count())
    end)
  end)

  describe("lru_hash", function()
    it("keeps u64 keys exact and evicts beyond max_entries", function()
      local m = obj:map("lru_u64")
      m[BIG] = 1
      assert.are.equal(1, m[BIG])
      local found
      for k in m:pairs() do found = k end
      assert.is_true(found == BIG)
      for i = 1, 200 do m[i] = i end
      assert.is_true(m:count() <= 8 * ncpus + 8)
      assert.are.equal(200, m[200])
    end)
  end)

  describe("without BTF types", function()
    it("moves raw byte strings, or what codec{} says", function()
      local m = obj:map("raw_hash")
      m["abcd"] = "123456"
      assert.are.equal("123456", m["abcd"])
      assert.has_error(function() m[1] = "123456" end)
      m:codec { key = "u32", value = "bytes" }
      assert.are.equal("123456", m[0x64636261]) -- "abcd" little-endian
      m[7] = "\0\1\2\3\4\5"
      assert.are.equal("\0\1\2\3\4\5", m[7])
      assert.has_error(function() m:codec { value = "u32" } end) -- 4 bytes, value is 6
    end)
  end)

  it("codec{} takes type names from the object's BTF", function()
    local m = obj:map("lru_u64")
    m:codec { key = "struct spec_key" }
    m[{ id = 1, port = 2 }] = 5
    m:codec { key = "u64" }
    assert.are.equal(5, m[1 + 2 * 2 ^ 32])
    assert.has_error(function() m:codec { key = "struct no_such_type" } end)
    assert.has_error(function() m:codec { key = "struct spec_value" } end) -- 24 bytes, key is 8
  end)

  it("reads what a BPF program wrote", function()
    local prog = obj:program("bump")
    local runs = 5
    local r = assert(prog:test_run { data = h.packet, ["repeat"] = runs })
    assert.are.equal(2, r.retval) -- XDP_PASS
    assert.are.equal(#h.packet, #r.data)
    assert.are.equal(runs, obj:map("hash_u64")[1])
    assert.are.same({ count = runs, total = 10 * runs, tag = "bumped" }, obj:map("array_struct")[0])
    assert.are.equal(runs, sum(obj:map("percpu_array_u32")[0]))
    assert.are.equal(5 * runs, sum(obj:map("percpu_hash_u64")[7]))
    -- and what Lua wrote, the program sees
    obj:map("hash_u64")[1] = 1000
    assert(prog:test_run { data = h.packet })
    assert.are.equal(1001, obj:map("hash_u64")[1])
  end)

  it("before load reports not loaded; after close raises", function()
    local o = assert(ayac.open(h.bpf("maps")))
    local m = o:map("hash_u64")
    assert.are.equal(-1, m:fd())
    expect_fail("EBADF", m:get(1))
    expect_fail("EBADF", m:set(1, 1))
    o:close()
    assert.has_error(function() return m:get(1) end)
    assert.has_error(function() return m[1] end)
    assert.has_error(function() return m:info() end)
    assert.are.equal("hash_u64", m.name)
  end)

  it("set_max_entries before load", function()
    local o = assert(ayac.open(h.bpf("maps")))
    local m = o:map("hash_u64")
    assert.are.equal(m, m:set_max_entries(3))
    assert(o:load())
    assert.are.equal(3, m.max_entries)
    assert.are.equal(3, m:info().max_entries)
    for i = 1, 3 do m[i] = i end
    expect_fail("E2BIG", m:set(4, 4))
    o:close()
  end)

  it("pins, and map_from_pin / map_from_id see the same map", function()
    local path = "/sys/fs/bpf/ayac_map_spec_" .. tostring(os.time())
    local m = obj:map("hash_u64")
    m[1] = 11
    assert.is_true(m:pin(path))
    local p = assert(ayac.map_from_pin(path))
    assert.are.equal("hash", p.type)
    p:codec { key = "u32", value = "u64" }
    assert.are.equal(11, p[1])
    p[2] = 22
    assert.are.equal(22, m[2])
    local byid = assert(ayac.map_from_id(m:info().id))
    byid:codec { key = "u32", value = "u64" }
    assert.are.equal(22, byid[2])
    p:close()
    byid:close()
    assert.has_error(function() return p[1] end)
    assert.is_true(m:unpin(path))
    expect_fail("ENOENT", ayac.map_from_pin(path))
  end)

  it("freezes: user space can no longer write", function()
    local m = obj:map("hash_u64")
    m[1] = 1
    assert.is_true(m:freeze())
    expect_fail("EPERM", m:set(1, 2))
    assert.are.equal(1, m[1])
  end)

  it("create_map makes a standalone map", function()
    local m = assert(ayac.create_map { type = "hash", key = "u32", value = "u64", max_entries = 4,
      name = "lua_made" })
    assert.are.equal("hash", m.type)
    assert.are.equal(4, m.key_size)
    m[1] = BIG
    assert.is_true(m[1] == BIG)
    assert.are.equal(1, m:count())
    m:close()
    m:close()
  end)
end)

describe("queue and stack maps", function()
  it("push, peek and pop in order, nil when empty", function()
    local q = assert(ayac.create_map{ type = "queue", key = 0, value = "u32", max_entries = 4 })
    assert.is_true(q:push(5))
    assert.is_true(q:push(7))
    assert.are.equal(5, q:peek())
    assert.are.equal(5, q:pop())
    assert.are.equal(7, q:pop())
    assert.is_nil(q:pop())
    q:close()
    local s = assert(ayac.create_map{ type = "stack", key = 0, value = "u64", max_entries = 4 })
    s:push(1); s:push(2)
    assert.are.equal(2, s:pop())
    assert.are.equal(1, s:pop())
    s:close()
  end)
end)

describe("keys and values that do not fit", function()
  local obj

  before_each(function()
    obj = assert(ayac.load(h.bpf("maps")))
  end)

  after_each(function()
    obj:close()
  end)

  local function refuses(f, msg)
    local ok, err = pcall(f)
    assert.is_false(ok)
    assert.are.equal(msg, err)
  end

  it("are refused with the map, the part and the range, never truncated", function()
    local m = obj:map("hash_u64")
    local U32 = "does not fit in u32 (0..4294967295)"
    refuses(function() m[2 ^ 32 + 7] = 1 end, "map 'hash_u64': key: 4294967303 " .. U32)
    refuses(function() return m[2 ^ 32 + 7] end, "map 'hash_u64': key: 4294967303 " .. U32)
    refuses(function() m:delete(-1) end, "map 'hash_u64': key: -1 " .. U32)
    refuses(function() m[1] = -1 end,
      "map 'hash_u64': value: -1 does not fit in u64 (0..18446744073709551615)")
    refuses(function() m[1.5] = 1 end, "map 'hash_u64': key: 1.5 " .. U32 .. ": not an integer")
    assert.are.equal(0, m:count()) -- nothing was written, 7 included
    m[7] = 0xffffffffffffffffULL
    assert.is_true(m[7] == 0xffffffffffffffffULL)
    local hs = obj:map("hash_struct")
    refuses(function() hs[{ id = 1, port = 70000 }] = { count = 1 } end,
      "map 'hash_struct': key: struct spec_key: field 'port': 70000 does not fit in u16 (0..65535)")
    refuses(function() hs[{ id = 1 }] = { count = 2 ^ 32 } end,
      "map 'hash_struct': value: struct spec_value: field 'count': 4294967296 " .. U32)
    local arr = obj:map("array_struct")
    refuses(function() return arr[-1] end, "map 'array_struct': key: -1 " .. U32)
    local pc = obj:map("percpu_array_u32")
    refuses(function() pc[0] = 2 ^ 32 end, "map 'percpu_array_u32': value: 4294967296 " .. U32)
    local ncpus = assert(ayac.num_possible_cpus())
    local per = {}
    for i = 1, ncpus do per[i] = i end
    per[ncpus] = -5
    refuses(function() pc[0] = per end, "map 'percpu_array_u32': value: -5 " .. U32)
    assert.are.equal(0, pc[0][1]) -- refused whole
    local lru = obj:map("lru_u64")
    refuses(function() lru[-1LL] = 1 end,
      "map 'lru_u64': key: -1LL does not fit in u64 (0..18446744073709551615)")
    lru[0xffffffffffffffffULL] = 0x7fffffffffffffffLL
    assert.is_true(lru[0xffffffffffffffffULL] == 0x7fffffffffffffffLL)
    local q = assert(ayac.create_map({ type = "queue", value = "s8", max_entries = 4, name = "q8" }))
    refuses(function() q:push(128) end, "map 'q8': value: 128 does not fit in s8 (-128..127)")
    q:push(-128)
    assert.are.equal(-128, q:pop())
    q:close()
  end)
end)

describe("struct values", function()
  it("refuse a field the struct does not have instead of leaving it zero", function()
    local obj = assert(ayac.load(h.bpf("maps")))
    local m = obj:map("array_struct")
    local ok, err = pcall(m.set, m, 0, { no_such_field = 1 })
    assert.is_false(ok)
    assert.matches("no field 'no_such_field'", err)
    obj:close()
  end)
end)
