-- BPF-side logging: include/ayac/log.bpf.h in spec/bpf/log.bpf.c, read and formatted
-- by ayac.logger.
local ayac = require "ayac"
local ffi = require "ffi"
local h = require "helpers"

pcall(ffi.cdef, "int getpid(void);")

local PKT = h.packet

local EXPECTED = {
  { "error", "error -5" },
  { "warn", "warn 42 ff ABC 10" },
  { "info", "info ayac-log and literal, ok" },
  { "debug", "debug 192.168.0.1 2001:0db8:0000:0000:0000:0000:0000:0001 2001:db8::1 " ..
    "00:1b:21:ab:cd:ef port 8080" },
  { "trace", "trace 0xffff888012345678 -ENOENT -1 18446744073709551615 -9000000000000000000 ff" },
  { "info", "widths [   42] [42   ] [0beef] [aya] [+7] % done" },
  { "info", "no args" },
  { "info", "hex bytes 001b21abcdef" },
}

local function collect()
  local recs = {}
  return recs, function(r) recs[#recs + 1] = r end
end

local function drain(log, recs, want)
  local deadline = os.time() + 10
  while #recs < want and os.time() <= deadline do
    assert(log:poll(100))
  end
end

describe("ayac.logger", function()
  local obj

  after_each(function()
    if obj then obj:close() end
    obj = nil
  end)

  it("formats every level, argument kind and display hint", function()
    obj = assert(ayac.open(h.bpf("log")))
    local recs, sink = collect()
    local log = assert(ayac.logger(obj, { level = "trace", sink = sink }))
    assert(obj:load())
    assert.are.equal(5, obj:global("ayac_log_level"))
    assert(obj:program("log_all"):test_run { data = PKT })
    drain(log, recs, #EXPECTED)
    assert.are.equal(#EXPECTED, #recs)
    for i, want in ipairs(EXPECTED) do
      assert.are.equal(want[1], recs[i].level)
      assert.are.equal(want[2], recs[i].msg)
      assert.are.equal(ffi.C.getpid(), recs[i].pid)
      assert.is_true(recs[i].line > 10)
      assert.is_number(recs[i].cpu)
      assert.is_true(recs[i].ts_ns > 0)
    end
    assert.are.same({ handled = #EXPECTED, filtered = 0, dropped = 0, lost = 0, malformed = 0 },
      log:stats())
    log:close()
  end)

  it("sets the level filter before load, so the verifier drops the calls above it", function()
    obj = assert(ayac.open(h.bpf("log")))
    local recs, sink = collect()
    local log = assert(ayac.logger(obj, { level = "warn", sink = sink }))
    assert(obj:load())
    assert.are.equal(2, obj:global("ayac_log_level"))
    assert(obj:program("log_all"):test_run { data = PKT })
    drain(log, recs, 2)
    assert.are.equal(0, log:consume())
    assert.are.equal(2, #recs)
    assert.are.equal("error -5", recs[1].msg)
    assert.are.equal("warn", recs[2].level)
    assert.are.equal(0, log:stats().filtered) -- none even reached the ring
  end)

  it("filters in Lua too once the object is loaded", function()
    obj = assert(ayac.load(h.bpf("log"))) -- the header's default: info
    local recs, sink = collect()
    local log = assert(ayac.logger(obj, { level = "error", sink = sink }))
    assert(obj:program("log_all"):test_run { data = PKT })
    assert.are.equal(1, log:consume())
    assert.are.equal(1, #recs)
    assert.are.equal("error -5", recs[1].msg)
    assert.are.equal(5, log:stats().filtered) -- warn and 4 info; debug, trace never sent
  end)

  it("counts the records the ring could not take, and tells the sink", function()
    obj = assert(ayac.load(h.bpf("log")))
    local recs, sink = collect()
    local log = assert(ayac.logger(obj, { sink = sink }))
    assert(obj:set_global("nr_logs", 20000)) -- 256 KiB hold about 4000 of them
    assert(obj:program("log_many"):test_run { data = PKT })
    assert(log:consume())
    local st = log:stats()
    assert.is_true(st.dropped > 0)
    assert.are.equal(20000, st.handled + st.dropped)
    local last = recs[#recs]
    assert.are.equal("warn", last.level)
    assert.are.equal(("ayac: %d log records dropped: the ring buffer ayac_log_ring was full"):format(
      st.dropped), last.msg)
    for i = 2, st.handled do
      assert.are.equal("record " .. (i - 1), recs[i].msg)
    end
    assert(log:consume())
    assert.are.equal(st.handled + 1, #recs) -- the drop is told once
  end)

  it("writes '[level] message' lines to a file sink, and works with ayac.poll", function()
    obj = assert(ayac.load(h.bpf("log")))
    local path = h.tmpname(".log")
    local f = assert(io.open(path, "w"))
    local log = assert(ayac.logger(obj, { level = "warn", sink = f }))
    assert(obj:program("log_all"):test_run { data = PKT })
    local n, deadline = 0, os.time() + 10
    while n < 2 and os.time() <= deadline do
      n = n + assert(ayac.poll({ log }, 100))
    end
    f:close()
    assert.are.equal("[error] error -5\n[warn] warn 42 ff ABC 10\n", h.read(path))
    os.remove(path)
  end)

  it("refuses objects without the log ring, and raises for wrong arguments", function()
    local other = assert(ayac.load(h.bpf("events")))
    local ok, msg, code = ayac.logger(other)
    other:close()
    assert.is_nil(ok)
    assert.matches("ayac/log.bpf.h", msg, 1, true)
    assert.are.equal("ENOENT", code)
    obj = assert(ayac.open(h.bpf("log")))
    assert.has_error(function() ayac.logger("log") end)
    assert.has_error(function() ayac.logger(obj, { level = "loud" }) end)
    assert.has_error(function() ayac.logger(obj, { sink = 42 }) end)
    local log = assert(ayac.logger(obj, { sink = function() end }))
    ok, msg, code = log:poll(0)
    assert.is_nil(ok)
    assert.are.equal("EBADF", code, msg)
  end)
end)
