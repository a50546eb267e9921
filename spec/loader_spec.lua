-- The ELF loader against the real kernel: what it accepts, what it refuses and how.
local ayac = require "ayac"
local h = require "helpers"

local function expect_fail(code, pattern, ...)
  local ok, msg, errcode = ...
  assert.is_nil(ok)
  assert.is_string(msg)
  assert.are.equal(code, errcode, msg)
  if pattern then assert.matches(pattern, msg) end
  return msg
end

describe("loader errors", function()
  it("names a missing file", function()
    expect_fail("ENOENT", "/no/such/object.o", ayac.open("/no/such/object.o"))
  end)

  it("refuses a file that is not ELF", function()
    local p = h.tmpname(".o")
    h.write(p, "this is not an ELF object at all")
    expect_fail("EBADELF", "not an ELF", ayac.open(p))
    os.remove(p)
  end)

  it("refuses an ELF for another machine", function()
    -- /bin/true is an x86-64 executable: right magic, wrong machine and type.
    expect_fail("EBADELF", "EM_BPF", ayac.open("/bin/true"))
  end)

  it("refuses a truncated object with the section named", function()
    local bytes = h.read(h.bpf("loader"))
    for _, cut in ipairs({ 20, 64, 200, math.floor(#bytes / 2), #bytes - 8 }) do
      local ok, msg, code = ayac.open(bytes:sub(1, cut))
      assert.is_nil(ok, "cut at " .. cut)
      assert.are.equal("EBADELF", code, msg)
    end
  end)

  it("refuses a section table pointing past the end", function()
    local bytes = h.read(h.bpf("loader"))
    -- e_shoff lives at offset 0x28 of the ELF64 header.
    local bad = h.splice(bytes, 0x28, h.u32le(#bytes + 4096) .. h.u32le(0))
    expect_fail("EBADELF", nil, ayac.open(bad))
  end)

  it("survives random corruption without crashing", function()
    local ffi = require "ffi"
    local bytes = h.read(h.bpf("loader"))
    local buf = ffi.new("uint8_t[?]", #bytes)
    math.randomseed(1234)
    for _ = 1, 300 do
      ffi.copy(buf, bytes, #bytes)
      for _ = 1, math.random(1, 8) do
        buf[math.random(0, #bytes - 1)] = math.random(0, 255)
      end
      local obj = ayac.open(ffi.string(buf, #bytes))
      if obj then obj:close() end -- parsing may succeed; it must never crash
    end
  end)

  it("refuses an unknown section name at load, pointing at set_type", function()
    local obj = assert(ayac.open(h.bpf("unknown_section")))
    local msg = expect_fail("EINVAL", "no_such_kind/whatever", obj:load())
    assert.matches("set_type", msg)
    obj:close()
  end)

  it("returns the verifier log when the verifier refuses", function()
    local obj = assert(ayac.open(h.bpf("verifier_reject")))
    local msg = expect_fail("EVERIFIER", "bad", obj:load())
    assert.matches("invalid mem access", msg)          -- the log itself is in the message
    assert.matches("invalid mem access", obj:program("bad"):verifier_log())
    obj:close()
  end)

  it("loads the rest when the refused program is not autoloaded", function()
    local obj = assert(ayac.load(h.bpf("verifier_reject"), { autoload = { bad = false } }))
    assert.is_true(obj:program("good"):fd() > 0)
    obj:close()
  end)
end)

describe("loader", function()
  local obj
  before_each(function()
    obj = assert(ayac.load(h.bpf("loader"), { globals = { rodata_k = 5 } }))
  end)
  after_each(function() obj:close() end)

  it("finds every program, several per section", function()
    local names = {}
    for name, prog in obj:programs() do
      names[#names + 1] = name
      assert.are.equal("xdp", prog.section)
      assert.are.equal("xdp", prog.type)
    end
    table.sort(names)
    assert.are.same({ "a_program_name_longer_than_fifteen", "big_log", "uses_custom", "xdp_first",
      "xdp_second" }, names)
  end)

  it("runs subprograms calling subprograms, with globals from .data and .rodata", function()
    local r = assert(obj:program("xdp_first"):test_run({ data = h.packet }))
    assert.are.equal(2, r.retval) -- XDP_PASS
    assert.are.equal(2 * 100 + 5, obj:global("bss_result"))
    assert.are.equal(1, obj:global("bss_calls"))
    assert.are.equal(205, obj:map("results"):get(0))
  end)

  it("runs a global function and a bpf_loop callback", function()
    local r = assert(obj:program("xdp_second"):test_run({ data = h.packet }))
    assert.are.equal(1, r.retval) -- XDP_DROP
    assert.are.equal(81, obj:map("results"):get(1))
    assert.are.equal(10, obj:global("loop_sum"))
    assert.are.equal("hello", obj:global("str_out"))
  end)

  it("writes globals live through the mmap-ed .data", function()
    assert.is_true(obj:set_global("data_v", 21))
    obj:program("xdp_first"):test_run({ data = h.packet })
    assert.are.equal(2 * 21 + 5, obj:global("bss_result"))
  end)

  it("keeps .rodata frozen after load", function()
    local ok, _, code = obj:set_global("rodata_k", 1)
    assert.is_nil(ok)
    assert.are.equal("EPERM", code)
    assert.are.equal(5, obj:global("rodata_k"))
  end)

  it("truncates long program names for the kernel as libbpf does", function()
    local info = assert(obj:program("a_program_name_longer_than_fifteen"):info())
    assert.are.equal("a_program_name_", info.name)
  end)

  it("names data maps after the object and section", function()
    assert.is_not_nil(obj:map("loader.rodata"))
    assert.is_not_nil(obj:map("loader.bss"))
    assert.is_not_nil(obj:map("loader.data"))
    assert.is_not_nil(obj:map("loader.data.cus")) -- .data.custom, truncated to 15
  end)

  it("gives a .data.* section its own map and relocates into it", function()
    assert.are.equal(3, obj:global("custom_var"))
    assert.is_true(obj:set_global("custom_var", 4))
    obj:program("uses_custom"):test_run({ data = h.packet })
    assert.are.equal(40, obj:map("results"):get(2))
  end)

  it("hands the kernel the object's BTF with func and line info", function()
    local info = assert(obj:program("xdp_first"):info())
    assert.is_true(info.btf_id > 0)
    assert.is_true(info.nr_func_info >= 3)   -- xdp_first, add_k, twice
    assert.is_true(info.nr_line_info > 0)
  end)
end)

describe("pinning by name", function()
  local dir = "/sys/fs/bpf/ayac_loader_spec"
  local pin = dir .. "/pinned_by_name"
  before_each(function() os.execute("mkdir -p " .. dir) end)
  after_each(function() os.remove(pin); os.execute("rmdir " .. dir) end)

  it("pins under pin_path and reuses the pinned map on the next load", function()
    local a = assert(ayac.load(h.bpf("pinning"), { pin_path = dir }))
    a:program("mark"):test_run({ data = h.packet })
    assert.is_truthy(io.open(pin))
    a:close()
    local b = assert(ayac.load(h.bpf("pinning"), { pin_path = dir }))
    assert.are.equal(1, b:map("pinned_by_name"):get(1)) -- the value written through a
    b:close()
  end)

  it("refuses a pinned map that is not the one the object declares", function()
    local other = assert(ayac.create_map{ type = "array", key = 4, value = 4, max_entries = 1 })
    assert.is_true(other:pin(pin))
    other:close()
    local ok, msg, code = ayac.load(h.bpf("pinning"), { pin_path = dir })
    assert.is_nil(ok)
    assert.are.equal("EINVAL", code)
    assert.matches("pinned_by_name", msg)
  end)
end)

describe("initial values in .maps", function()
  it("fills program arrays and maps of maps from the object's .values", function()
    local obj = assert(ayac.load(h.bpf("map_init")))
    local entry = obj:program("entry")
    local want = { [0] = 1, [1] = 2, [2] = 3 } -- tail_a: DROP, empty slot: PASS, tail_b: TX
    for slot = 0, 2 do
      obj:set_global("slot", slot)
      assert.are.equal(want[slot], entry:test_run({ data = h.packet }).retval, "slot " .. slot)
    end
    obj:set_global("which", 1)
    entry:test_run({ data = h.packet })
    obj:set_global("which", 3)
    entry:test_run({ data = h.packet, ["repeat"] = 2 })
    assert.are.equal(1, obj:map("inner_a"):get(0))
    assert.are.equal(2, obj:map("inner_b"):get(0))
    obj:close()
  end)

  it("leaves the slot of a program that is not loaded empty", function()
    local obj = assert(ayac.load(h.bpf("map_init"), { autoload = { tail_b = false } }))
    obj:set_global("slot", 2)
    assert.are.equal(2, obj:program("entry"):test_run({ data = h.packet }).retval)
    obj:close()
  end)
end)

describe("legacy maps section", function()
  it("creates struct bpf_map_def maps and relocates references to them", function()
    local obj = assert(ayac.load(h.bpf("legacy_maps")))
    local m = obj:map("legacy_counts")
    assert.are.equal("array", m.type)
    assert.are.equal(2, m.max_entries)
    m:codec({ key = "u32", value = "u64" })
    obj:program("bump"):test_run({ data = h.packet, ["repeat"] = 3 })
    assert.are.equal(3, m:get(1))
    obj:close()
  end)
end)

describe("load options", function()
  it("changes max_entries before load", function()
    local obj = assert(ayac.load(h.bpf("loader"), { max_entries = { results = 16 } }))
    assert.are.equal(16, obj:map("results").max_entries)
    obj:close()
  end)

  it("keeps the verifier log when asked", function()
    local obj = assert(ayac.load(h.bpf("loader"), { verifier_log_level = 1 }))
    assert.matches("processed %d+ insns", obj:program("xdp_first"):verifier_log())
    obj:close()
  end)

  it("grows the log buffer for logs larger than its first size", function()
    local obj = assert(ayac.load(h.bpf("loader"), { verifier_log_level = 2 }))
    local log = obj:program("big_log"):verifier_log()
    assert.is_true(#log > 64 * 1024, "log of " .. #log .. " bytes")
    assert.matches("processed %d+ insns", log)  -- complete: the summary is at the end
    obj:close()
  end)
end)
