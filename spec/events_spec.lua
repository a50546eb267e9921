-- Events against the kernel: ring buffers, perf buffers and user ring buffers fed and
-- drained by spec/bpf/events.bpf.c's XDP programs (run with test_run), the waits around
-- them (ayac.poll, ayac.sleep, Ctrl-C), trace_pipe, and the JIT's view of the loops.
local ayac = require "ayac"
local bit = require "bit"
local ffi = require "ffi"
local h = require "helpers"

pcall(ffi.cdef, "int getpid(void);")
pcall(ffi.cdef, [[
struct spec_event {
  uint64_t seq; uint32_t pid; int32_t value; char comm[16];
  uint8_t kind : 3, urgent : 1; uint16_t port; uint64_t big;
};
]])

local PKT = h.packet

local function expect_fail(code, ...)
  local ok, msg, errcode = ...
  assert.is_nil(ok)
  assert.is_string(msg)
  assert.are.equal(code, errcode, msg)
  return msg
end

-- Run program `name` so that it emits n records (nr_records = n).
local function emit(obj, name, n)
  assert(obj:set_global("nr_records", n))
  assert(obj:program(name):test_run { data = PKT })
end

-- Poll until cond() holds, for at most `seconds`.
local function poll_until(buf, cond, seconds)
  local deadline = os.time() + (seconds or 10)
  while not cond() and os.time() <= deadline do
    assert(buf:poll(100))
  end
  return cond()
end

pcall(ffi.cdef, "int clock_gettime(int, void *);")
local ts = ffi.new("long[2]")
local function now() -- seconds, CLOCK_MONOTONIC
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts[0]) + tonumber(ts[1]) / 1e9
end

-- Mappings of BPF maps (ring buffers show as anon_inode:bpf-map).
local function count_map_mappings()
  local n = 0
  for line in io.lines("/proc/" .. ffi.C.getpid() .. "/maps") do
    if line:find("bpf-map", 1, true) then n = n + 1 end
  end
  return n
end

-- Runs fn with this thread pinned to the CPU it is on (a perf ring is per CPU).
pcall(ffi.cdef, [[
int sched_getcpu(void);
int sched_getaffinity(int pid, size_t size, void *mask);
int sched_setaffinity(int pid, size_t size, const void *mask);
]])
local function on_one_cpu(fn)
  local old, one = ffi.new("uint8_t[128]"), ffi.new("uint8_t[128]")
  assert(ffi.C.sched_getaffinity(0, 128, old) == 0)
  local cpu = ffi.C.sched_getcpu()
  one[math.floor(cpu / 8)] = bit.lshift(1, cpu % 8)
  assert(ffi.C.sched_setaffinity(0, 128, one) == 0)
  local ok, err = pcall(fn)
  ffi.C.sched_setaffinity(0, 128, old)
  if not ok then error(err, 0) end
end

-- This process's open fds: their count, and what they are (for failure messages).
-- Probed with fcntl: a child listing /proc/<pid>/fd would race with popen's own pipe.
pcall(ffi.cdef, [[
int fcntl(int fd, int cmd, ...);
long readlink(const char *path, char *buf, size_t size);
]])
local function count_fds()
  local n, what, buf = 0, {}, ffi.new("char[256]")
  for fd = 0, 4095 do
    if ffi.C.fcntl(fd, 1 --[[F_GETFD]]) >= 0 then
      n = n + 1
      local len = ffi.C.readlink("/proc/self/fd/" .. fd, buf, 256)
      what[#what + 1] = fd .. " " .. (len > 0 and ffi.string(buf, len) or "?")
    end
  end
  return n, table.concat(what, "\n")
end

describe("events", function()
  local obj

  before_each(function()
    obj = assert(ayac.load(h.bpf("events")))
  end)

  after_each(function()
    obj:close()
  end)

  describe("map sizes", function()
    it("rounds ring buffers up to a page-size power of two, gives perf arrays one slot per CPU", function()
      local page = 4096
      assert.are.equal(page, obj:map("tiny").max_entries)          -- declared 8
      assert.are.equal(page, obj:map("input").max_entries)         -- user ring buffer, 8
      assert.are.equal(4 * 1024 * 1024, obj:map("events").max_entries) -- already one
      assert.are.equal(ayac.num_possible_cpus(), obj:map("perf").max_entries) -- declared 0
      local m = assert(ayac.create_map { type = "ringbuf", max_entries = 5000, name = "spec_rb" })
      assert.are.equal(2 * page, m.max_entries)
      m:close()
    end)
  end)

  describe("ayac.ringbuf", function()
    it("hands every record to the handler in order, every field decoded by BTF", function()
      local seen = {}
      local rb = assert(ayac.ringbuf(obj:map("events"), function(e) seen[#seen + 1] = e end,
        { type = "struct event" }))
      emit(obj, "emit", 1000)
      assert.is_true(poll_until(rb, function() return #seen >= 1000 end))
      assert.are.equal(1000, #seen)
      local base = seen[1].seq
      for i, e in ipairs(seen) do
        local seq = base + i - 1
        assert.are.equal(seq, e.seq)
        assert.are.equal(ffi.C.getpid(), e.pid)
        assert.are.equal(-seq, e.value)
        assert.are.equal("ayac-events", e.comm)
        assert.are.equal(seq % 8, e.kind)
        assert.are.equal(seq % 2, e.urgent)
        assert.are.equal(8080, e.port)
        assert.is_true(e.big == 0xfedcba9876543210ULL)
      end
      local st = rb:stats()
      assert.are.same({ handled = 1000, lost = 0, discarded = 0 }, st)
      assert.are.equal(0, rb:consume())
      rb:close()
    end)

    it("gives bytes without a type, and a zero-copy pointer and size with raw", function()
      local strings, raws = {}, {}
      local rb = assert(ayac.ringbuf(obj:map("events"), function(s) strings[#strings + 1] = s end))
      emit(obj, "emit", 3)
      assert.are.equal(3, rb:consume())
      rb:close()
      assert.are.equal(ffi.sizeof("struct spec_event"), #strings[1])
      rb = assert(ayac.ringbuf(obj:map("events"), function(p, n)
        local e = ffi.cast("const struct spec_event *", p)
        raws[#raws + 1] = { seq = tonumber(e.seq), n = n, comm = ffi.string(e.comm) }
      end, { raw = true }))
      emit(obj, "emit", 3)
      assert.are.equal(3, rb:consume())
      assert.are.equal(ffi.sizeof("struct spec_event"), raws[1].n)
      assert.are.equal("ayac-events", raws[1].comm)
      assert.are.equal(raws[1].seq + 2, raws[3].seq)
      rb:close()
    end)

    it("skips discarded records and counts them", function()
      local n = 0
      local rb = assert(ayac.ringbuf(obj:map("events"), function() n = n + 1 end))
      assert(obj:set_global("discard_every", 3))
      emit(obj, "emit", 30)
      assert.are.equal(20, rb:consume())
      assert.are.same({ handled = 20, lost = 0, discarded = 10 }, rb:stats())
      rb:close()
    end)

    it("counts what a tiny ring buffer could not take, and goes on", function()
      local seqs = {}
      local rb = assert(ayac.ringbuf(obj:map("tiny"), function(e) seqs[#seqs + 1] = e.seq end,
        { type = "struct event", lost = function() return obj:global("drops") end }))
      emit(obj, "emit_tiny", 1000) -- 4096 bytes hold 73 records of 48 + 8
      local got = rb:consume()
      local st = rb:stats()
      assert.is_true(got > 0 and got < 1000, tostring(got))
      assert.are.equal(got, st.handled)
      assert.are.equal(1000, st.handled + st.lost)
      for i = 2, #seqs do assert.are.equal(seqs[i - 1] + 1, seqs[i]) end
      emit(obj, "emit_tiny", 10) -- room again
      assert.are.equal(10, rb:consume())
      rb:close()
    end)

    it("raises a handler's error with its record consumed; the next poll goes on", function()
      local seen = {}
      local bad
      local rb = assert(ayac.ringbuf(obj:map("events"), function(e)
        seen[#seen + 1] = e.seq
        if e.seq == bad then error("boom at " .. e.seq) end
      end, { type = "struct event" }))
      emit(obj, "emit", 1)
      assert.are.equal(1, rb:consume())
      local first = seen[1] + 1
      bad = first + 4
      emit(obj, "emit", 10)
      local ok, err = pcall(rb.consume, rb)
      assert.is_false(ok)
      assert.matches("boom at " .. bad, err, 1, true)
      assert.are.equal(6, #seen) -- up to the one that raised
      assert.are.equal(5, rb:consume()) -- the rest
      assert.are.equal(11, #seen) -- every record once: none lost, none twice
      for i = 2, #seen do assert.are.equal(seen[i - 1] + 1, seen[i]) end
      assert.are.equal(11, rb:stats().handled)
      rb:close()
    end)

    it("stops a consume when the handler returns false", function()
      local n = 0
      local rb = assert(ayac.ringbuf(obj:map("events"), function()
        n = n + 1
        if n == 3 then return false end
      end))
      emit(obj, "emit", 10)
      assert.are.equal(3, rb:consume())
      assert.are.equal(7, rb:consume())
      assert.are.equal(10, n)
      rb:close()
    end)

    it("returns from poll within its timeout when nothing comes", function()
      local rb = assert(ayac.ringbuf(obj:map("events"), function() end))
      local cpu0, t0 = os.clock(), now()
      assert.are.equal(0, rb:poll(200))
      local dt = now() - t0
      assert.is_true(dt >= 0.15 and dt < 5, tostring(dt))
      assert.is_true(os.clock() - cpu0 < 0.1) -- it slept, it did not spin
      assert.are.equal(0, rb:poll(0))
      rb:close()
    end)

    it("reads several ring buffers in one manager, and with ayac.poll", function()
      local a, b = 0, 0
      local rb = assert(ayac.ringbuf(obj:map("events"), function() a = a + 1 end))
      assert.are.equal(rb, rb:add(obj:map("tiny"), function() b = b + 1 end))
      emit(obj, "emit", 5)
      emit(obj, "emit_tiny", 7)
      assert.is_true(poll_until(rb, function() return a == 5 and b == 7 end))
      assert.are.equal(12, rb:stats().handled)
      local c = 0
      local pb = assert(ayac.perfbuf(obj:map("perf"), function() c = c + 1 end))
      emit(obj, "emit", 4)
      emit(obj, "emit_perf", 6)
      local deadline = os.time() + 10
      while (a < 9 or c < 6) and os.time() <= deadline do
        assert(ayac.poll({ rb, pb }, 100))
      end
      assert.are.equal(9, a)
      assert.are.equal(6, c)
      assert.are.equal(0, ayac.poll({ rb, pb }, 0))
      rb:close()
      pb:close()
    end)

    it("gives an epoll fd that polls readable when records wait", function()
      local rb = assert(ayac.ringbuf(obj:map("events"), function() end))
      local fd = rb:fd()
      assert.is_true(fd > 2)
      pcall(ffi.cdef, "struct spec_pollfd { int fd; short events, revents; };")
      pcall(ffi.cdef, "int poll(void *fds, unsigned long n, int timeout);") -- as support/net.lua
      local p = ffi.new("struct spec_pollfd", { fd = fd, events = 1 })
      assert.are.equal(0, ffi.C.poll(p, 1, 0))
      emit(obj, "emit", 1)
      assert.are.equal(1, ffi.C.poll(p, 1, 1000))
      assert.are.equal(1, rb:consume())
      rb:close()
    end)

    it("refuses what it cannot read, and raises for wrong arguments", function()
      local fn = function() end
      expect_fail("EINVAL", ayac.ringbuf(obj:map("perf"), fn))
      expect_fail("ENOENT", ayac.ringbuf(obj:map("events"), fn, { type = "struct nope" }))
      local opened = assert(ayac.open(h.bpf("events")))
      expect_fail("EBADF", ayac.ringbuf(opened:map("events"), fn))
      opened:close()
      assert.has_error(function() ayac.ringbuf("events", fn) end)
      assert.has_error(function() ayac.ringbuf(obj:map("events"), 42) end)
      assert.has_error(function() ayac.ringbuf(obj:map("events"), fn, 42) end)
      assert.has_error(function() ayac.ringbuf(obj:map("events"), fn, { type = 42 }) end)
      local rb = assert(ayac.ringbuf(obj:map("events"), fn))
      assert.has_error(function() rb:poll("soon") end)
      emit(obj, "emit", 2)
      assert.are.equal(2, rb:consume())
      rb:close()
      rb:close() -- idempotent
      assert.are.same({ handled = 2, lost = 0, discarded = 0 }, rb:stats())
      assert.has_error(function() rb:consume() end, "ring buffer is closed")
      assert.has_error(function() rb:poll(0) end, "ring buffer is closed")
    end)

    it("keeps reading after its object is closed (the ring holds its own map fd)", function()
      local other = assert(ayac.load(h.bpf("events")))
      local n = 0
      local rb = assert(ayac.ringbuf(other:map("events"), function() n = n + 1 end))
      emit(other, "emit", 4)
      other:close()
      assert.are.equal(4, rb:consume())
      rb:close()
    end)

    it("leaves no fd or mapping behind after 1000 create/poll/close cycles", function()
      local map = obj:map("tiny")
      local fn = function() end
      -- once first: lazily loaded modules come in now
      local rb = assert(ayac.ringbuf(map, fn))
      rb:poll(0)
      rb:close()
      collectgarbage()
      local fds, fd_list = count_fds()
      local maps = count_map_mappings()
      for _ = 1, 1000 do
        rb = assert(ayac.ringbuf(map, fn))
        assert.are.equal(maps + 2, count_map_mappings()) -- consumer page, producer + data
        rb:poll(0)
        rb:close()
      end
      local after, after_list = count_fds()
      assert.are.equal(fds, after, fd_list .. "\n--- now:\n" .. after_list)
      assert.are.equal(maps, count_map_mappings())
      -- and without close: the collector frees them
      for _ = 1, 200 do
        rb = assert(ayac.ringbuf(map, fn))
        rb:poll(0)
      end
      rb = nil -- luacheck: ignore
      collectgarbage()
      collectgarbage()
      after, after_list = count_fds()
      assert.are.equal(fds, after, fd_list .. "\n--- now:\n" .. after_list)
      assert.are.equal(maps, count_map_mappings())
    end)
  end)

  describe("ayac.perfbuf", function()
    it("hands every sample to the handler with its CPU, decoded by BTF", function()
      local seen = {}
      local pb = assert(ayac.perfbuf(obj:map("perf"), function(e, cpu)
        seen[#seen + 1] = { e = e, cpu = cpu }
      end, { type = "struct event", pages = 8 }))
      emit(obj, "emit_perf", 200)
      assert.is_true(poll_until(pb, function() return #seen >= 200 end))
      assert.are.equal(200, #seen)
      local base, cpu = seen[1].e.seq, seen[1].cpu
      for i, s in ipairs(seen) do
        assert.are.equal(base + i - 1, s.e.seq) -- one test_run runs on one CPU
        assert.are.equal(cpu, s.cpu)
        assert.are.equal("ayac-events", s.e.comm)
        assert.are.equal(8080, s.e.port)
      end
      local st = pb:stats()
      assert.are.equal(200, st.handled)
      assert.are.equal(0, st.lost)
      assert.are.equal(200, st.cpus[cpu].handled)
      pb:close()
    end)

    it("reports samples the kernel lost to the on_lost handler", function()
      local got, lost_calls, lost = 0, 0, 0
      local pb = assert(ayac.perfbuf(obj:map("perf"), function() got = got + 1 end,
        { pages = 1, on_lost = function(n, cpu)
          assert.is_number(cpu)
          lost_calls, lost = lost_calls + 1, lost + n
        end }))
      on_one_cpu(function()
        emit(obj, "emit_perf", 1000) -- one page holds 64 samples of 64 bytes
        pb:consume()
        emit(obj, "emit_perf", 1)    -- the kernel writes its LOST record before this one
        pb:consume()
      end)
      local drops = obj:global("drops")
      assert.is_true(drops > 0)
      assert.are.equal(drops, lost)
      assert.is_true(lost_calls >= 1)
      assert.are.equal(1001, got + lost)
      assert.are.equal(lost, pb:stats().lost)
      pb:close()
    end)

    it("opens the CPUs asked for, and refuses others", function()
      local pb = assert(ayac.perfbuf(obj:map("perf"), function() end, { cpus = { 0 } }))
      assert.are.same({ 0 }, (function()
        local t = {}
        for c in pairs(pb:stats().cpus) do t[#t + 1] = c end
        return t
      end)())
      pb:close()
      expect_fail("EINVAL", ayac.perfbuf(obj:map("perf"), function() end, { cpus = { 4096 } }))
      expect_fail("EINVAL", ayac.perfbuf(obj:map("perf"), function() end, { pages = 3 }))
      expect_fail("EINVAL", ayac.perfbuf(obj:map("events"), function() end))
      assert.has_error(function() ayac.perfbuf(obj:map("perf"), function() end, { on_lost = 1 }) end)
    end)

    it("gives raw samples, raises handler errors with the sample consumed, stops on false", function()
      local sizes, n = {}, 0
      local pb = assert(ayac.perfbuf(obj:map("perf"), function(p, size, cpu)
        n = n + 1
        sizes[#sizes + 1] = size
        assert.is_number(cpu)
        if n == 2 then error("perf boom") end
        if n == 4 then return false end
      end, { raw = true }))
      emit(obj, "emit_perf", 6)
      local ok, err = pcall(pb.consume, pb)
      assert.is_false(ok)
      assert.matches("perf boom", err, 1, true)
      assert.are.equal(2, pb:consume()) -- samples 3 and 4, then false
      assert.are.equal(2, pb:consume())
      assert.are.equal(6, n)
      -- raw size: the sample padded so that size + 4 is a multiple of 8
      assert.are.equal(52, sizes[1])
      pb:close()
    end)
  end)

  describe("the C API (libayac), with C callbacks", function()
    pcall(ffi.cdef, [[
      long ayac_ringbuf_consume(struct ayac_ringbuf *rb);
      long ayac_ringbuf_poll(struct ayac_ringbuf *rb, int timeout_ms);
      long ayac_perfbuf_consume(struct ayac_perfbuf *pb);
      long ayac_perfbuf_poll(struct ayac_perfbuf *pb, int timeout_ms);
    ]])
    local lib

    before_each(function()
      require "ayac.events" -- its cdefs
      lib = require("ayac.fast").lib
    end)

    -- FFI callbacks must not be entered from compiled code: these tests run interpreted.
    local function interpreted(f)
      jit.off(f, true)
      return f
    end

    it("consumes a ring buffer, stops when asked and reports a callback's error", interpreted(function()
      local seqs, stop_at, fail_at = {}, nil, nil
      local cb = ffi.cast("int (*)(void *, void *, size_t)", function(_, data, size)
        assert(size == ffi.sizeof("struct spec_event"))
        local seq = tonumber(ffi.cast("const struct spec_event *", data).seq)
        seqs[#seqs + 1] = seq
        if seq == stop_at then return 1 end
        if seq == fail_at then return -22 end
        return 0
      end)
      local rb = ffi.gc(lib.ayac_ringbuf_new(), lib.ayac_ringbuf_free)
      assert.is_true(lib.ayac_ringbuf_add(rb, obj:map("events"):fd(), cb, nil) >= 0)
      emit(obj, "emit", 1)
      assert.are.equal(1, tonumber(lib.ayac_ringbuf_poll(rb, 1000)))
      local base = seqs[1]
      stop_at, fail_at = base + 3, base + 5
      emit(obj, "emit", 6)
      assert.are.equal(3, tonumber(lib.ayac_ringbuf_consume(rb)))     -- base+1 .. base+3
      assert.are.equal(-22, tonumber(lib.ayac_ringbuf_consume(rb)))   -- base+4, base+5 fails
      assert.are.equal(1, tonumber(lib.ayac_ringbuf_consume(rb)))     -- base+6: consumed once
      assert.are.equal(7, #seqs)
      for i = 2, #seqs do assert.are.equal(seqs[i - 1] + 1, seqs[i]) end
      assert.are.equal(-22, lib.ayac_ringbuf_add(rb, obj:map("perf"):fd(), cb, nil))
      assert.matches("not a ringbuf", ffi.string(lib.ayac_errmsg()), 1, true)
      lib.ayac_ringbuf_free(ffi.gc(rb, nil))
      cb:free()
    end))

    it("consumes a perf buffer, with lost samples reported", interpreted(function()
      local got, lost = 0, 0
      local sample = ffi.cast("int (*)(void *, int, void *, uint32_t)", function() got = got + 1 return 0 end)
      local on_lost = ffi.cast("void (*)(void *, int, uint64_t)", function(_, _, n) lost = lost + tonumber(n) end)
      local o = ffi.new("struct ayac_perfbuf_opts", { page_cnt = 1 })
      o.sample, o.lost = sample, on_lost
      local pb = ffi.gc(lib.ayac_perfbuf_new(obj:map("perf"):fd(), o), lib.ayac_perfbuf_free)
      assert.is_not_nil(pb)
      on_one_cpu(function()
        emit(obj, "emit_perf", 300)
        assert.is_true(lib.ayac_perfbuf_consume(pb) > 0)
        emit(obj, "emit_perf", 1)
        assert.is_true(lib.ayac_perfbuf_poll(pb, 1000) >= 1)
      end)
      assert.are.equal(obj:global("drops"), lost)
      assert.are.equal(301, got + lost)
      lib.ayac_perfbuf_free(ffi.gc(pb, nil))
      sample:free()
      on_lost:free()
      o.page_cnt = 3
      assert.is_true(lib.ayac_perfbuf_new(obj:map("perf"):fd(), o) == nil)
      assert.matches("power of two", ffi.string(lib.ayac_errmsg()), 1, true)
    end))
  end)

  describe("ayac.user_ringbuf", function()
    it("feeds a program that drains and sums what it gets", function()
      local urb = assert(ayac.user_ringbuf(obj:map("input"), { type = "u64" }))
      for i = 1, 10 do assert(urb:submit(i)) end
      assert(urb:submit("\7\0\0\0\0\0\0\0")) -- bytes as they are
      assert(obj:program("drain"):test_run { data = PKT })
      assert.are.equal(62, obj:global("drained_sum"))
      assert.are.equal(11, obj:global("drained_cnt"))
      assert.are.equal(0, obj:global("drain_bad"))
      local free, size = urb:avail()
      assert.are.equal(4096, size)
      assert.are.equal(4096, free)
      urb:close()
    end)

    it("submits and discards reservations", function()
      local urb = assert(ayac.user_ringbuf(obj:map("input")))
      local p = assert(urb:reserve(8))
      ffi.cast("uint64_t *", p)[0] = 100
      local q = assert(urb:reserve(8))
      ffi.cast("uint64_t *", q)[0] = 1000
      assert(urb:discard(q))
      assert(urb:submit(p))
      expect_fail("EINVAL", urb:submit(p)) -- not a reservation any more
      expect_fail("EINVAL", urb:submit(ffi.new("uint8_t[16]")))
      assert(obj:program("drain"):test_run { data = PKT })
      assert.are.equal(100, obj:global("drained_sum"))
      assert.are.equal(1, obj:global("drained_cnt"))
      urb:close()
      assert.has_error(function() urb:reserve(8) end, "user ring buffer is closed")
    end)

    it("says ENOSPC when full and E2BIG for what never fits, and waits for room", function()
      local urb = assert(ayac.user_ringbuf(obj:map("input"), { type = "u64" }))
      local n = 0
      while urb:submit(n) do n = n + 1 end
      assert.are.equal(4096 / 16, n)
      expect_fail("ENOSPC", urb:submit(1))
      expect_fail("ENOSPC", urb:reserve(8, 50)) -- waited 50 ms, nobody drained
      expect_fail("E2BIG", urb:reserve(5000))
      assert(obj:program("drain"):test_run { data = PKT })
      assert.are.equal(n, obj:global("drained_cnt"))
      assert(urb:submit(1))
      expect_fail("EINVAL", ayac.user_ringbuf(obj:map("events")))
      assert.has_error(function() urb:submit({}) end)
      urb:close()
    end)
  end)

  describe("waiting", function()
    it("sleeps with ayac.sleep", function()
      local t0 = now()
      assert.is_true(ayac.sleep(0.05))
      assert.is_true(now() - t0 >= 0.045)
      assert.is_true(ayac.sleep(0))
      assert.has_error(function() ayac.sleep("1") end)
      assert.has_error(function() ayac.poll(1) end)
      assert.has_error(function() ayac.poll({ 1 }) end)
    end)

    for _, case in ipairs {
      { "ayac.sleep", "ayac.sleep(60)" },
      { "rb:poll", "rb:poll(60000)" },
      { "a polling loop", "while true do rb:poll(10) end" },
    } do
      it("ends the host with 'interrupted' and status 130 on Ctrl-C during " .. case[1], function()
        local p = h.tmpname(".lua")
        h.write(p, ([[
          local ayac = require "ayac"
          local obj = assert(ayac.load(%q))
          local rb = assert(ayac.ringbuf(obj:map("events"), function() end))
          io.stdout:write("ready\n") io.stdout:flush()
          %s
          print("not reached")
        ]]):format(h.bpf("events"), case[2]))
        local log = h.tmpname(".log")
        local out, _, rc = h.capture("(env -u LUA_PATH -u LUA_CPATH " .. h.bin .. " " .. p ..
          " > " .. log .. " 2>&1 & pid=$!; i=0; until grep -q ready " .. log ..
          " || [ $i -ge 400 ]; do sleep 0.05; i=$((i+1)); done; sleep 0.2; kill -INT $pid; wait $pid)")
        out = out .. h.read(log)
        os.remove(p)
        os.remove(log)
        assert.are.equal(130, rc, out)
        assert.matches("interrupted", out, 1, true)
        assert.is_nil(out:find("not reached", 1, true))
      end)
    end
  end)

  describe("ayac.trace_pipe", function()
    it("iterates over bpf_printk lines", function()
      local marker = math.random(1, 2 ^ 31)
      assert(obj:set_global("printk_marker", marker))
      local it = assert(ayac.trace_pipe { timeout = 5 })
      local want = "ayac-trace-pipe " .. marker
      for _ = 1, 3 do assert(obj:program("printk"):test_run { data = PKT }) end
      local found, info = 0, nil
      for msg, i in it do
        if msg == want then
          found, info = found + 1, i
          if found == 3 then break end
        end
      end
      assert.are.equal(3, found)
      assert.are.equal("bpf_trace_printk", info.event)
      assert.is_number(info.pid)
      assert.is_number(info.cpu)
      assert.is_number(info.ts)
      assert.has_error(function() ayac.trace_pipe(5) end)
    end)
  end)

  describe("under the JIT", function()
    it("keeps the record loops compiled, with no trace abort in the steady state", function()
      -- Records decoded by BTF (struct event_head: integers; a char array would bring
      -- ayac.codec's trailing-NUL loop into the record loop, which takes longer to settle).
      local sum = 0
      local rb = assert(ayac.ringbuf(obj:map("events"),
        function(e) sum = sum + e.seq + e.pid end, { type = "struct event_head" }))
      local pb = assert(ayac.perfbuf(obj:map("perf"),
        function(e) sum = sum + e.value end, { type = "struct event_head" }))
      assert(obj:set_global("nr_records", 20))
      local emit_rb, emit_pb = obj:program("emit"), obj:program("emit_perf")
      -- consume(), not poll(): the records are in the rings once test_run returns, and a
      -- wait's timing (a loaded machine wakes late) would change which paths get hot
      -- after the warm-up.
      local loops = {
        ringbuf = function() assert(emit_rb:test_run { data = PKT }) rb:consume() end,
        perfbuf = function() assert(emit_pb:test_run { data = PKT }) pb:consume() end,
        both = function()
          assert(emit_rb:test_run { data = PKT })
          assert(emit_pb:test_run { data = PKT })
          rb:consume()
          pb:consume()
        end,
      }
      local v = require "jit.v"
      for _, name in ipairs { "ringbuf", "perfbuf", "both" } do
        local f = loops[name]
        for _ = 1, 1500 do f() end -- warm-up: traces form, failed starts are given up
        local log = h.tmpname(".jv")
        v.start(log)
        for _ = 1, 500 do f() end
        v.off()
        local text = h.read(log)
        os.remove(log)
        assert.is_nil(text:find("TRACE %-%-%-"), name .. ":\n" .. text)
      end
      rb:consume()
      pb:consume()
      assert.are.equal(4000 * 20, rb:stats().handled) -- every record, in its phases
      assert.are.equal(4000 * 20, pb:stats().handled)
      rb:close()
      pb:close()
    end)
  end)
end)
