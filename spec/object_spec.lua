-- Objects, programs and links at the API level: iteration and lookup, globals before
-- and after load, options, closed handles. spec/bpf/globals.bpf.c: the XDP program
-- `count` does bss_counter += ro_step + ro_cfg.step; bss_last = data_base + bss_counter.
local ayac = require "ayac"
local ffi = require "ffi"
local h = require "helpers"

local path = h.bpf("globals")

local function expect_fail(code, ...)
  local ok, msg, errcode = ...
  assert.is_nil(ok)
  assert.is_string(msg)
  assert.are.equal(code, errcode, msg)
  return msg
end

local function exists(p)
  local _, ok = h.capture("test -e '" .. p .. "'")
  return ok
end

local function run(obj, times)
  local r = assert(obj:program("count"):test_run { data = h.packet, ["repeat"] = times or 1 })
  assert.are.equal(2, r.retval)
end

describe("object", function()
  it("iterates programs and maps, finds them by name", function()
    local obj = assert(ayac.open(path))
    assert.are.equal("opened", obj.state)
    assert.is_string(obj.name)
    local progs = {}
    for name, p in obj:programs() do
      progs[#progs + 1] = name
      assert.are.equal(name, p.name)
      assert.are.equal(p, obj:program(name)) -- one handle per program
    end
    table.sort(progs)
    assert.are.same({ "count", "on_getpid", "spare" }, progs)
    local maps = {}
    for name, m in obj:maps() do
      maps[name] = true
      assert.are.equal(name, m.name)
      assert.are.equal(m, obj:map(name))
    end
    assert.is_true(maps.seen)
    expect_fail("ENOENT", obj:program("nope"))
    expect_fail("ENOENT", obj:map("nope"))
    assert.has_error(function() obj:program({}) end)
    obj:close()
  end)

  it("describes programs", function()
    local obj = assert(ayac.load(path))
    local p = obj:program("count")
    assert.are.equal("count", p.name)
    assert.are.equal("xdp", p.section)
    assert.are.equal("xdp", p.type)
    local tp = obj:program("on_getpid")
    assert.are.equal("tracepoint", tp.type)
    assert.are.equal("tracepoint/syscalls/sys_enter_getpid", tp.section)
    assert.is_true(p:fd() >= 0)
    local id = assert(p:id())
    local info = assert(p:info())
    assert.are.equal(id, info.id)
    assert.are.equal("xdp", info.type)
    assert.are.equal(16, #info.tag)
    assert.is_true(info.xlated_prog_len > 0)
    assert.is_true(#info.map_ids >= 1)
    assert.matches("ayac.prog 'count'", tostring(p))
    obj:close()
  end)

  it("loads from bytes as from a path", function()
    local obj = assert(ayac.load(h.read(path), { name = "from_bytes" }))
    assert.are.equal("from_bytes", obj.name)
    run(obj)
    obj:close()
  end)

  describe("globals", function()
    it("reads the initial image before load", function()
      local obj = assert(ayac.open(path))
      assert.are.equal(1, obj:global("ro_step"))
      assert.are.equal(100, obj:global("data_base"))
      assert.are.equal("start", obj:global("data_name"))
      assert.are.equal(0, obj:global("bss_counter"))
      local cfg = obj:global("ro_cfg")
      assert.are.equal(3, cfg.step)
      assert.are.equal("ro", cfg.label)
      expect_fail("ENOENT", obj:global("no_such_global"))
      obj:close()
    end)

    it("applies opts.globals before load", function()
      local obj = assert(ayac.load(path, { globals = { ro_step = 5, data_base = 1000,
        ro_cfg = { step = 10 } } }))
      assert.are.equal(5, obj:global("ro_step"))
      run(obj, 2)
      assert.are.equal(30, obj:global("bss_counter"))
      assert.are.equal(1030, obj:global("bss_last"))
      obj:close()
    end)

    it("refuses unknown globals in opts", function()
      expect_fail("ENOENT", ayac.load(path, { globals = { nope = 1 } }))
    end)

    it("set_global before load changes what the program sees", function()
      local obj = assert(ayac.open(path))
      assert.is_true(obj:set_global("ro_step", 2))
      assert.is_true(obj:set_global("ro_cfg", { step = 4, label = "new" }))
      assert.is_true(obj:set_global("data_name", "xyz"))
      assert.are.same({ step = 4, flags = 0, label = "new" }, obj:global("ro_cfg"))
      assert.has_error(function() obj:set_global("ro_step", "not a number") end)
      assert(obj:load())
      run(obj)
      assert.are.equal(6, obj:global("bss_counter"))
      assert.are.equal("xyz", obj:global("data_name"))
      obj:close()
    end)

    it("is live after load: counters move, writes reach the program", function()
      local obj = assert(ayac.load(path))
      assert.are.equal(0, obj:global("bss_counter"))
      run(obj)
      assert.are.equal(4, obj:global("bss_counter")) -- 1 + 3
      run(obj, 3)
      assert.are.equal(16, obj:global("bss_counter"))
      assert.are.equal(116, obj:global("bss_last"))
      assert.is_true(obj:set_global("bss_counter", 1000))
      assert.is_true(obj:set_global("data_base", 0))
      run(obj)
      assert.are.equal(1004, obj:global("bss_counter"))
      assert.are.equal(1004, obj:global("bss_last"))
      obj:close()
    end)

    it("refuses values that do not fit, before and after load, leaving the global as it was",
      function()
      local obj = assert(ayac.open(path))
      local function refuses(name, v, msg)
        local ok, err = pcall(obj.set_global, obj, name, v)
        assert.is_false(ok, name)
        assert.are.equal("object 'globals': global '" .. name .. "': " .. msg, err)
      end
      refuses("ro_step", 2 ^ 32 + 7, "4294967303 does not fit in u32 (0..4294967295)")
      refuses("ro_step", -1, "-1 does not fit in u32 (0..4294967295)")
      refuses("ro_step", 1.5, "1.5 does not fit in u32 (0..4294967295): not an integer")
      refuses("ro_cfg", { flags = 65536 }, "struct spec_config: field 'flags': 65536 does not " ..
        "fit in u16 (0..65535)")
      refuses("data_name", { 65, 300 }, "300 does not fit in char (-128..255)")
      assert.are.equal(1, obj:global("ro_step"))
      assert.are.equal(0, obj:global("ro_cfg").flags)
      assert(obj:load())
      refuses("data_base", -1, "-1 does not fit in u64 (0..18446744073709551615)")
      refuses("data_base", 2 ^ 64, "18446744073709551616 does not fit in u64 " ..
        "(0..18446744073709551615)")
      refuses("bss_counter", -1LL, "-1LL does not fit in u64 (0..18446744073709551615)")
      assert.are.equal(100, obj:global("data_base"))
      assert.is_true(obj:set_global("data_base", 0xffffffffffffffffULL))
      assert.is_true(obj:global("data_base") == 0xffffffffffffffffULL)
      obj:close()
      -- opts.globals: raised at the caller, nothing left open
      local ok, err = pcall(ayac.load, path, { globals = { ro_step = 2 ^ 32 + 7 } })
      assert.is_false(ok)
      assert.matches("global 'ro_step': 4294967303 does not fit in u32 (0..4294967295)", err,
        nil, true)
    end)

    it("refuses .rodata after load with EPERM, still reads it", function()
      local obj = assert(ayac.load(path, { globals = { ro_step = 9 } }))
      local msg = expect_fail("EPERM", obj:set_global("ro_step", 1))
      assert.matches("ro_step", msg)
      expect_fail("EPERM", obj:set_global("ro_cfg", { step = 1 }))
      assert.are.equal(9, obj:global("ro_step"))
      obj:close()
    end)
  end)

  describe("options", function()
    it("autoload = false leaves a program unloaded", function()
      local obj = assert(ayac.load(path, { autoload = { spare = false, on_getpid = false } }))
      assert.are.equal(-1, obj:program("spare"):fd())
      assert.is_false(obj:program("spare").autoload)
      assert.is_true(obj:program("count"):fd() >= 0)
      expect_fail("EBADF", obj:program("spare"):id())
      obj:close()
      local o2 = assert(ayac.open(path))
      o2:program("spare"):set_autoload(false)
      assert(o2:load())
      assert.are.equal(-1, o2:program("spare"):fd())
      o2:close()
    end)

    it("verifier_log_level = 1 keeps every program's log", function()
      local obj = assert(ayac.load(path, { verifier_log_level = 1 }))
      local log = obj:program("count"):verifier_log()
      assert.is_string(log)
      assert.is_true(#log > 0)
      assert.matches("processed %d+ insns", log)
      obj:close()
    end)

    it("max_entries resizes maps; unknown names fail", function()
      local obj = assert(ayac.load(path, { max_entries = { seen = 8 } }))
      assert.are.equal(8, obj:map("seen").max_entries)
      assert.are.equal(8, obj:map("seen"):info().max_entries)
      obj:close()
      expect_fail("ENOENT", ayac.open(path, { max_entries = { nope = 8 } }))
      expect_fail("ENOENT", ayac.open(path, { autoload = { nope = false } }))
    end)

    it("map_pin_paths pins a map at an exact path, and reuses it", function()
      local pin = "/sys/fs/bpf/ayac_object_spec_seen_" .. tostring(os.time())
      local o1 = assert(ayac.load(path, { map_pin_paths = { seen = pin } }))
      assert.is_true(exists(pin))
      o1:map("seen")[0] = 77
      local o2 = assert(ayac.load(path, { map_pin_paths = { seen = pin } }))
      assert.are.equal(77, o2:map("seen")[0])
      o1:close()
      o2:close()
      os.remove(pin)
      expect_fail("ENOENT", ayac.open(path, { map_pin_paths = { nope = pin } }))
    end)

    it("raises on options of the wrong type", function()
      assert.has_error(function() ayac.open(path, "opts") end)
      assert.has_error(function() ayac.open(path, { max_entries = { seen = "big" } }) end)
      assert.has_error(function() ayac.open(path, { verifier_log_level = "high" }) end)
      assert.has_error(function() ayac.open(path, { globals = 5 }) end)
      assert.has_error(function() ayac.open({}) end)
    end)

    it("set_type before load", function()
      local obj = assert(ayac.open(path))
      local p = obj:program("spare")
      assert.are.equal(p, p:set_type("sched_cls"))
      assert.are.equal("sched_cls", p.type)
      assert.has_error(function() p:set_type("no_such_type") end)
      assert(obj:load())
      assert.are.equal("sched_cls", p:info().type)
      obj:close()
    end)
  end)

  it("attaches a tracepoint and detaches the link", function()
    ffi.cdef [[ int getpid(void); ]]
    local obj = assert(ayac.load(path))
    local link = assert(obj:program("on_getpid"):attach())
    assert.is_true(link.attached)
    ffi.C.getpid()
    assert.are.equal(1, obj:global("bss_last"))
    assert.is_true(link:detach())
    assert.is_true(link:detach())
    assert.is_false(link.attached)
    obj:set_global("bss_last", 0)
    ffi.C.getpid()
    assert.are.equal(0, obj:global("bss_last"))
    local l2 = assert(obj:program("on_getpid"):attach("syscalls:sys_enter_getpid"))
    ffi.C.getpid()
    assert.are.equal(1, obj:global("bss_last"))
    obj:close() -- detaches l2
    assert.is_false(l2.attached)
  end)

  it("pins programs and links", function()
    local obj = assert(ayac.load(path))
    local ppin = "/sys/fs/bpf/ayac_object_spec_prog_" .. tostring(os.time())
    local p = obj:program("count")
    assert.is_true(p:pin(ppin))
    assert.is_true(exists(ppin))
    assert.is_true(p:unpin(ppin))
    assert.is_false(exists(ppin))
    local link = assert(obj:program("on_getpid"):attach())
    assert.is_true(link:fd() >= 0)
    local info = link:info()
    assert.is_true(info.attached)
    assert.is_string(info.kind)
    local lpin = "/sys/fs/bpf/ayac_object_spec_link_" .. tostring(os.time())
    assert.is_true(link:pin(lpin))
    assert.is_true(exists(lpin))
    obj:close()
    os.remove(lpin)
  end)

  it("test_run checks its arguments", function()
    local obj = assert(ayac.load(path))
    assert.has_error(function() obj:program("count"):test_run("data") end)
    assert.has_error(function() obj:program("count"):test_run { data = 5 } end)
    expect_fail("EINVAL", obj:program("count"):test_run { data = "short" })
    obj:close()
  end)

  describe("closed", function()
    it("is idempotent and leaves handles that raise instead of crashing", function()
      local obj = assert(ayac.load(path))
      local p, m = obj:program("count"), obj:map("seen")
      obj:close()
      obj:close()
      assert.are.equal("closed", obj.state)
      assert.has_error(function() obj:program("count") end)
      assert.has_error(function() obj:load() end)
      assert.has_error(function() obj:global("bss_counter") end)
      assert.has_error(function() obj:set_global("bss_counter", 1) end)
      assert.are.equal(-1, p:fd())
      assert.has_error(function() p:test_run { data = h.packet } end)
      assert.has_error(function() p:attach() end)
      assert.has_error(function() return m[0] end)
      assert.are.equal("count", p.name)
      assert.matches("closed", tostring(obj))
    end)

    it("lets the collector close objects nobody holds (no fd left behind)", function()
      pcall(ffi.cdef, "int getpid(void);")
      -- The fds an object owns: programs, maps, links, perf events (not BTF: the
      -- kernel modules' BTF fds are opened once per process and kept, on first need).
      local owned = { "anon_inode:bpf%-prog", "anon_inode:bpf%-map", "anon_inode:bpf_link",
        "anon_inode:%[perf_event%]" }
      local function nfds()
        local n, kinds, p = 0, {}, io.popen("ls -l /proc/" .. ffi.C.getpid() .. "/fd")
        for line in p:lines() do
          local target = line:match("%-> (.*)$")
          for _, pat in ipairs(owned) do
            if target and target:match("^" .. pat) then
              n = n + 1
              kinds[#kinds + 1] = target
            end
          end
        end
        p:close()
        return n, table.concat(kinds, ", ")
      end
      for _ = 1, 10 do collectgarbage() end
      local before, what_before = nfds()
      for _ = 1, 10 do
        local obj = assert(ayac.load(path))
        local m = obj:map("seen")
        m[0] = m[0] + obj:global("bss_counter")
        obj:set_global("data_name", "abc")
        local _ = obj:program("on_getpid"):attach()
        local pairs52 = pcall(pairs, m)
        -- Every way of iterating, hot enough for the JIT to compile traces that hold the
        -- iterators: none may keep the object.
        for _ = 1, 100 do
          for _ in m:pairs() do end
          if pairs52 then for _ in pairs(m) do end end -- where the VM honours __pairs
          for _ in m:keys() do end
          for _ in obj:maps() do end
          for _ in obj:programs() do end
          local _ = m:count() + #m:keys()
          local _ = m:dump()
        end
        for _ in m:pairs() do break end -- left early
      end
      -- Each finalizer (link, program, object) resurrects what it holds for one more
      -- cycle, so a chain of them takes a few full collections.
      for _ = 1, 10 do collectgarbage() end
      local after, what_after = nfds()
      assert.is_true(after <= before, ("%d fds before (%s), %d after (%s)"):format(before,
        what_before, after, what_after))
    end)

    it("survives collection in any order", function()
      for _ = 1, 3 do
        local obj = assert(ayac.load(path))
        local p, m = obj:program("count"), obj:map("seen")
        local l = obj:program("on_getpid"):attach()
        obj, p, m, l = nil, nil, nil, nil
        collectgarbage()
        collectgarbage()
      end
    end)
  end)
end)

describe("pinned links", function()
  it("reopen from the pin, survive the object, and go with unpin + detach", function()
    local obj = assert(ayac.load(path))
    local pin = "/sys/fs/bpf/ayac_spec_link_" .. tostring(os.time())
    local link = assert(obj:program("on_getpid"):attach())
    assert.is_true(link:pin(pin))
    local id = link:info().id
    obj:close()
    local again = assert(ayac.link_from_pin(pin))
    assert.are.equal(id, again:info().id)
    assert.is_true(again:unpin(pin))
    assert.is_false(exists(pin))
    again:detach()
    link:detach()
    local ok, _, code = ayac.link_from_pin(pin)
    assert.is_nil(ok)
    assert.are.equal("ENOENT", code)
  end)
end)
