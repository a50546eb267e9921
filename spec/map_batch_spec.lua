-- Whole-map operations against the kernel: dump/pairs/keys/count by BPF_MAP_LOOKUP_BATCH
-- compared entry by entry with a next-key walk of the spec's own, the next-key fallback
-- (forced by AYAC_FEATURES, or learnt from a map type without batch commands), drain,
-- clear and the batch element calls, and the JIT staying on every dump.
local ayac = require "ayac"
local ffi = require "ffi"
local fast = require "ayac.fast"
local h = require "helpers"
local jitrun = require "jitrun"

local N = 100000
local BIG = 0x8000000000000001ULL -- 2^63 + 1: a double cannot hold it

local function out64(v)
  return v <= 2 ^ 53 and tonumber(v) or v
end

-- The map read by BPF_MAP_GET_NEXT_KEY + LOOKUP_ELEM from here, u32 keys, u64 values
-- (per-CPU: one per CPU): the reference the batch reads are compared with.
local function reference(m, ncpus)
  local fd = m:fd()
  local cur, nxt = ffi.new("uint32_t[1]"), ffi.new("uint32_t[1]")
  local val = ffi.new("uint64_t[?]", ncpus or 1)
  local t, started = {}, false
  while fast.lib.ayac_fast_next_key(fd, started and cur or nil, nxt) == 0 do
    started = true
    cur[0] = nxt[0]
    if fast.lib.ayac_fast_lookup(fd, cur, val) == 0 then
      local v
      if ncpus then
        v = {}
        for c = 0, ncpus - 1 do v[c + 1] = out64(val[c]) end
      else
        v = out64(val[0])
      end
      t[tonumber(cur[0])] = v
    end
  end
  return t
end

local function count_of(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

-- Every entry of want in got and nothing else (values compared as exact text).
local function same_entries(want, got, what)
  assert.are.equal(count_of(want), count_of(got), what .. ": entries")
  for k, v in pairs(want) do
    local g = got[k]
    if jitrun.norm(v) ~= jitrun.norm(g) then
      error(("%s: key %s: want %s, got %s"):format(what, tostring(k), jitrun.norm(v),
        jitrun.norm(g)), 2)
    end
  end
end

local function filled(kind, ncpus)
  local m = assert(ayac.create_map { type = kind, key = "u32", value = "u64",
    max_entries = kind == "lru_hash" and 2 * N or N, name = "batch_" .. kind:sub(1, 6) })
  local t = {}
  for i = 0, N - 1 do
    t[i] = ncpus and (i % 3 == 0 and i or { i, i + 1 }) or i * 7 + 1
  end
  t[0] = BIG
  assert.are.equal(N, assert(m:update_batch(t)))
  return m
end

describe("map batch operations", function()
  local ncpus

  setup(function()
    ncpus = assert(ayac.num_possible_cpus())
    assert.is_true(ayac.features().misc.map_batch, "this kernel (5.6+) has batch commands")
  end)

  for _, kind in ipairs { "hash", "lru_hash", "percpu_hash", "array" } do
    it(("dump, pairs, keys and count of a %d-entry %s match a next-key walk"):format(N, kind),
      function()
        local percpu = kind:match("^percpu") and ncpus or nil
        local m = filled(kind, percpu)
        assert.are.equal("batch", m:_iteration())
        local ref = reference(m, percpu)
        assert.is_true(count_of(ref) >= (kind == "lru_hash" and 0.9 * N or N))
        if percpu then
          -- one value for every CPU, or one per CPU as given (2 CPUs and more)
          assert.are.equal(3, ref[3][1])
          if ncpus == 2 then assert.are.same({ 4, 5 }, ref[4]) end
        else
          assert.is_true(ref[0] == BIG)
        end
        same_entries(ref, m:dump(), kind .. " dump")
        same_entries(ref, m:dump(), kind .. " second dump")
        local seen = {}
        for k, v in m:pairs() do seen[k] = v end
        same_entries(ref, seen, kind .. " pairs")
        local ks = m:keys()
        assert.are.equal(count_of(ref), #ks)
        for _, k in ipairs(ks) do assert.is_not_nil(ref[k], kind .. " key " .. k) end
        assert.are.equal(count_of(ref), m:count())
        assert.is_true(m:clear())
        if kind == "array" then
          assert.are.equal(N, m:count()) -- an array's elements always exist: zeroed
          assert.are.equal(0, m[N - 1])
          assert.is_true(m[0] == 0)
        else
          assert.are.equal(0, m:count())
          assert.are.same({}, reference(m, percpu))
        end
        m:close()
      end)
  end

  it("AYAC_FEATURES=map_batch=0 forces the next-key walk, with the same results", function()
    local script = h.tmpname(".lua")
    h.write(script, [=[
      local ayac = require "ayac"
      local m = assert(ayac.create_map { type = "hash", key = "u32", value = "u64",
        max_entries = 5000, name = "forced" })
      local t = {}
      for i = 0, 4999 do t[i] = i * 2 end
      print("updated " .. assert(m:update_batch(t)))
      print("iteration " .. m:_iteration())
      local d, bad = m:dump(), 0
      for i = 0, 4999 do if d[i] ~= i * 2 then bad = bad + 1 end end
      local n = 0
      for k, v in m:pairs() do if v == k * 2 then n = n + 1 end end
      print(("dump bad %d pairs %d keys %d count %d"):format(bad, n, #m:keys(), m:count()))
      print("deleted " .. m:delete_batch { 1, 2, 3, 99999 })
      local drained = m:drain()
      local dn = 0
      for k, v in pairs(drained) do if v == k * 2 then dn = dn + 1 end end
      print(("drained %d left %d"):format(dn, m:count()))
      m:close()
    ]=])
    local out, ok = h.capture(("AYAC_FEATURES=map_batch=0 '%s' '%s' 2>&1"):format(h.lua, script))
    os.remove(script)
    assert.is_true(ok, out)
    assert.matches("updated 5000\n", out, nil, true)
    assert.matches("iteration next_key\n", out, nil, true)
    assert.matches("dump bad 0 pairs 5000 keys 5000 count 5000\n", out, nil, true)
    assert.matches("deleted 3\n", out, nil, true)
    assert.matches("drained 4997 left 0\n", out, nil, true)
  end)

  it("learns that a map type has no batch commands and walks it by next key", function()
    -- devmap_hash has none (ENOTSUPP); its values are ifindexes (1: lo)
    local m = assert(ayac.create_map { type = "devmap_hash", key = "u32", value = "u32",
      max_entries = 16, name = "no_batch" })
    assert.is_true(m:set(3, 1))
    assert.is_true(m:set(9, 1))
    assert.are.equal("batch", m:_iteration()) -- not asked yet
    local d = m:dump()
    assert.are.equal("next_key", m:_iteration()) -- refused once, remembered
    assert.are.same({ [3] = 1, [9] = 1 }, d)
    assert.are.equal(2, m:count())
    assert.are.equal(1, m:delete_batch { 3, 4 })
    assert.are.equal(2, m:update_batch { [5] = 1, [6] = 1 })
    local m2 = assert(ayac.create_map { type = "devmap_hash", key = "u32", value = "u32",
      max_entries = 4, name = "no_batch2" })
    assert.are.equal("next_key", m2:_iteration()) -- for every map of the type
    assert.are.same({ [5] = 1, [6] = 1, [9] = 1 }, m:drain())
    assert.are.equal(0, m:count())
    assert.is_true(m:set(7, 1))
    assert.is_true(m:clear())
    assert.are.equal(0, m:count())
    m:close()
    m2:close()
  end)

  describe("on maps a BPF program writes", function()
    local obj

    before_each(function() obj = assert(ayac.load(h.bpf("maps"))) end)
    after_each(function() obj:close() end)

    it("drain reads the counters and takes them out; per-CPU arrays are zeroed", function()
      local prog = obj:program("bump")
      assert(prog:test_run { data = h.packet, ["repeat"] = 5 })
      local hm = obj:map("hash_u64")
      assert.are.same({ [1] = 5 }, hm:drain())
      assert.are.equal(0, hm:count())
      assert.are.same({}, hm:drain())
      local pa = obj:map("percpu_array_u32")
      local before = pa:drain()
      local total = 0
      for _, v in ipairs(before[0]) do total = total + v end
      assert.are.equal(5, total)
      assert.are.equal(ncpus, #before[0])
      for i = 0, 3 do
        for _, v in ipairs(pa[i]) do assert.are.equal(0, v) end
      end
      local ph = obj:map("percpu_hash_u64")
      local d = ph:drain()
      total = 0
      for _, v in ipairs(d[7]) do total = total + v end
      assert.are.equal(25, total)
      assert.are.equal(0, ph:count())
      -- and the program goes on counting from zero
      assert(prog:test_run { data = h.packet })
      assert.are.same({ [1] = 1 }, hm:dump())
    end)

    it("struct keys and values go through the batch calls by BTF", function()
      local m = obj:map("hash_struct")
      local n = assert(m:update_batch {
        [{ id = 1, port = 80 }] = { count = 1, total = 10, tag = "a" },
        [{ id = 2, port = 443 }] = { count = 2, total = 20, tag = "b" },
      })
      assert.are.equal(2, n)
      local got = {}
      for k, v in pairs(m:dump()) do got[k.id .. ":" .. k.port] = v end
      assert.are.same({ ["1:80"] = { count = 1, total = 10, tag = "a" },
        ["2:443"] = { count = 2, total = 20, tag = "b" } }, got)
      local want = { id = 2, port = 443 }
      local lk = assert(m:lookup_batch { want, { id = 9, port = 9 } })
      assert.are.same({ count = 2, total = 20, tag = "b" }, lk[want])
      assert.are.equal(1, count_of(lk))
      assert.are.equal(1, m:delete_batch { { id = 1, port = 80 }, { id = 7, port = 7 } })
      assert.are.equal(1, m:count())
    end)
  end)

  describe("batch element calls", function()
    local m

    before_each(function()
      m = assert(ayac.create_map { type = "hash", key = "u32", value = "u64", max_entries = 64,
        name = "elems" })
    end)
    after_each(function() m:close() end)

    it("update_batch, lookup_batch, delete_batch", function()
      assert.are.equal(3, m:update_batch { [1] = 10, [2] = 20, [3] = BIG })
      local got = m:lookup_batch { 1, 3, 5 }
      assert.are.equal(10, got[1])
      assert.is_true(got[3] == BIG)
      assert.is_nil(got[5])
      -- missing keys are skipped, not an error; the rest is deleted
      assert.are.equal(2, m:delete_batch { 1, 4, 5, 2 })
      assert.are.same({ [3] = BIG }, m:dump())
      assert.are.equal(0, m:delete_batch {})
    end)

    it("noexist goes element by element and says how many went in", function()
      m[2] = 1
      local ok, msg, code, done = m:update_batch({ [1] = 1, [2] = 2 }, "noexist")
      if ok then
        assert.are.equal(1, ok) -- [1] first: the walk stopped at 2, nothing was lost
      else
        assert.are.equal("EEXIST", code)
        assert.matches("map 'elems': update_batch: ", msg, 1, true)
        assert.is_true(done <= 1)
      end
      assert.are.equal(1, m[2])
    end)

    it("refuses bad input with the map and the part named", function()
      assert.has_error(function() m:update_batch(5) end,
        "bad argument #1 to 'update_batch' (table of key = value expected)")
      assert.has_error(function() m:update_batch({}, "sometimes") end)
      assert.has_error(function() m:delete_batch("x") end)
      assert.has_error(function() m:update_batch { [1] = "x" } end)
      local ok, err = pcall(m.update_batch, m, { [2 ^ 40] = 1 })
      assert.is_false(ok)
      assert.matches("map 'elems': key: ", err, 1, true)
      -- a full map: the kernel's error, and how many went in before it
      local t = {}
      for i = 1, 100 do t[i] = i end
      local n, msg, code, done = m:update_batch(t)
      assert.is_nil(n)
      assert.are.equal("E2BIG", code, msg)
      assert.matches("map 'elems': update_batch:", msg, 1, true)
      assert.is_true(done <= 64)
    end)
  end)

  it("pairs(m) walks a map in the ayac host, __pairs or not; tables as before", function()
    local out, ok = h.capture(("'%s' -e '%s' 2>&1"):format(h.bin, [[
      local ayac = require "ayac"
      local m = assert(ayac.create_map { type = "hash", key = "u32", value = "u64",
        max_entries = 8, name = "pairs" })
      m[1] = 10 m[2] = 20
      local s = 0
      for k, v in pairs(m) do s = s + k * v end
      for k, v in pairs({ 5, x = 6 }) do s = s + v end
      print("sum " .. s)
      m:close()
    ]]))
    assert.is_true(ok, out)
    assert.are.equal("sum 61\n", out)
  end)

  it("stays compiled on every dump and pairs, in a process of its own", function()
    local script = h.tmpname("ayac_spec_jit.lua")
    h.write(script, [=[
      local ayac = require "ayac"
      local vmdef = require "jit.vmdef"
      local maps = {}
      for j, kind in ipairs { "hash", "hash", "percpu_hash", "array" } do
        local m = assert(ayac.create_map { type = kind, key = "u32", value = "u64",
          max_entries = 20000, name = "jit" .. j })
        local t = {}
        for i = 0, 19999 do t[i] = i end
        assert(m:update_batch(t))
        maps[j] = m
      end
      local s = 0
      local function round()
        for _, m in ipairs(maps) do
          local d = m:dump()
          for _, v in m:pairs() do s = s + (type(v) == "table" and v[1] or v) end
          s = s + #m:keys() + m:count()
        end
      end
      -- Aborts are told apart by where their trace started and why. A root trace that
      -- reaches an already compiled loop aborts by LuaJIT's design ("inner loop in
      -- root trace": the loop keeps its trace, side traces cover what is around it),
      -- whether it started in this script's loops or at the entry of an ayac function
      -- wrapping the loop. Any other abort of a trace started in ayac's code (NYI,
      -- leaving a loop, ...) means that code runs interpreted.
      local aborts, compiled, starts = {}, {}, {}
      local LINNER
      for i, fmt in pairs(vmdef.traceerr) do
        if fmt == "inner loop in root trace" then LINNER = i end
      end
      assert(LINNER)
      local function where(func)
        local info = debug.getinfo(func, "S")
        return info and (info.short_src .. ":" .. info.linedefined) or "?"
      end
      local function watch(what, tr, func, pc, code, reason)
        if what == "start" then
          starts[tr] = where(func)
        elseif what == "abort" then
          local fmt = vmdef.traceerr[code]
          local start = starts[tr] or "?"
          if not start:match("ayac_spec_jit") and code ~= LINNER then
            aborts[#aborts + 1] = start .. " (at " .. where(func) .. "): " ..
              (type(fmt) == "string" and fmt:format(reason) or tostring(code))
          end
        elseif what == "stop" and where(func):match("^ayac%.map%.") then
          compiled[where(func):match("^[^:]*")] = true
        end
      end
      -- the first rounds compile (their aborts: loop exits tried and given up on); from
      -- then on every dump runs what is compiled, no trace aborts any more
      jit.attach(watch, "trace")
      for _ = 1, 3 do round() end
      local warm = #aborts
      for _ = 1, 5 do round() end
      jit.attach(function() end, "trace")
      print("sum " .. s)
      for src in pairs(compiled) do print("compiled " .. src) end
      for i = warm + 1, #aborts do print("abort " .. aborts[i]) end
    ]=])
    local out, ok = h.capture(("'%s' '%s' 2>&1"):format(h.lua, script))
    os.remove(script)
    assert.is_true(ok, out)
    assert.matches("^sum %d+\n", out)
    for _, name in ipairs { "jit1", "jit2", "jit3", "jit4" } do
      assert.matches("compiled ayac.map." .. name .. "\n", out, nil, true)
    end
    assert.is_nil(out:match("abort "), out)
  end)
end)
