-- Events out of the kernel and into it (see docs/api.md, "Events"):
--
--   local rb = ayac.ringbuf(map, handler [, opts])   -- BPF_MAP_TYPE_RINGBUF
--   local pb = ayac.perfbuf(map, handler [, opts])   -- BPF_MAP_TYPE_PERF_EVENT_ARRAY
--   rb:poll(timeout_ms)  rb:consume()  rb:fd()  rb:stats()  rb:close()  rb:add(map, fn, opts)
--   ayac.poll({ rb, pb, ... }, timeout_ms)
--   ayac.sleep(seconds)
--   local urb = ayac.user_ringbuf(map [, opts])      -- BPF_MAP_TYPE_USER_RINGBUF
--   urb:submit(v)  urb:reserve(size)  urb:discard(ptr)
--
-- The C core (src/core/events) maps the rings and waits on them; the records are read
-- here, in Lua, straight from the mapped memory through the FFI, so LuaJIT compiles the
-- record loop with the handler (and the BTF decode of the record) inlined into it: no
-- Lua C API call per record. Each buffer gets a loop of its own, generated once (a
-- fresh function prototype, so its traces are not shared with another buffer's
-- handler), with the decode of its record type built once by ayac.codec.
--
-- Memory ordering: the producer position (and perf's data_head) is read with an
-- acquire load in C, once per pass. Record headers are read in Lua with plain loads on
-- x86-64, whose loads are not reordered with other loads (TSO), and through the C
-- acquire load elsewhere. The consumer position is released with a plain store after
-- the handler returns on x86-64 (stores are not reordered with earlier loads), through
-- the C release store elsewhere.
--
-- A handler that raises: the record is consumed (its end is saved in view.pending
-- before the call and released when the buffer is next read) and the error goes on to
-- the caller of poll/consume; the next poll continues with the next record.
--
-- The record loops loop by a tail call, not with `while`: LuaJIT compiles a self tail
-- call as a loop all the same, but a trace that reaches a compiled function links to it,
-- where a trace that reaches a compiled inner loop aborts ("inner loop in root trace").
-- So the caller's own loop (a script's `while true do rb:poll(100) end`) compiles too,
-- and the steady state has no trace aborts (spec/events_spec.lua checks with jit.v).
local ffi = require "ffi"
local bit = require "bit"
local core = require "ayac.core"
local gen = require "ayac.gen"
local fast = require "ayac.fast"

local lib = fast.lib
local cast, ffi_new, ffi_gc, ffi_string, ffi_copy = ffi.cast, ffi.new, ffi.gc, ffi.string, ffi.copy
local band = bit.band
local type, error, setmetatable, getmetatable, tostring, tonumber, ipairs = type, error,
	setmetatable, getmetatable, tostring, tonumber, ipairs
local floor = math.floor

local function cdef(decl)
	pcall(ffi.cdef, decl) -- another module (or a reload) may have declared it
end

-- Keep in step with include/ayac/events.h.
cdef [[
struct ayac_ring_view {
	uint64_t *consumer;
	const uint64_t *producer;
	const uint8_t *data;
	uint64_t mask;
	uint64_t pending;
	uint64_t handled, discarded;
	int map_fd;
	int index;
};
struct ayac_perf_view {
	const uint8_t *data;
	uint64_t mask;
	const uint64_t *head;
	uint64_t *tail;
	uint64_t pending;
	uint64_t handled, lost;
	int cpu;
	int index;
};
struct ayac_perfbuf_opts {
	size_t page_cnt;
	const int *cpus;
	size_t cpu_cnt;
	uint32_t wakeup_events;
	void *sample;
	void *lost;
	void *ctx;
};
struct ayac_ringbuf;
struct ayac_perfbuf;
struct ayac_user_ringbuf;
struct ayac_ringbuf *ayac_ringbuf_new(void);
int ayac_ringbuf_add(struct ayac_ringbuf *rb, int map_fd, void *fn, void *ctx);
void ayac_ringbuf_free(struct ayac_ringbuf *rb);
int ayac_ringbuf_epoll_fd(const struct ayac_ringbuf *rb);
struct ayac_ring_view *ayac_ringbuf_ring(struct ayac_ringbuf *rb, int index);
int ayac_ringbuf_wait(struct ayac_ringbuf *rb, int *ready, int max, int timeout_ms);
uint64_t ayac_ring_producer(const struct ayac_ring_view *ring);
uint32_t ayac_ring_header(const struct ayac_ring_view *ring, uint64_t pos);
void ayac_ring_release(struct ayac_ring_view *ring, uint64_t pos);
struct ayac_perfbuf *ayac_perfbuf_new(int map_fd, const struct ayac_perfbuf_opts *opts);
void ayac_perfbuf_free(struct ayac_perfbuf *pb);
int ayac_perfbuf_epoll_fd(const struct ayac_perfbuf *pb);
int ayac_perfbuf_ring_cnt(const struct ayac_perfbuf *pb);
struct ayac_perf_view *ayac_perfbuf_ring(struct ayac_perfbuf *pb, int index);
int ayac_perfbuf_wait(struct ayac_perfbuf *pb, int *ready, int max, int timeout_ms);
uint64_t ayac_perf_head(const struct ayac_perf_view *ring);
void ayac_perf_release(struct ayac_perf_view *ring, uint64_t pos);
const void *ayac_perf_record(struct ayac_perf_view *ring, uint64_t pos, uint32_t size);
struct ayac_user_ringbuf *ayac_user_ringbuf_new(int map_fd);
void ayac_user_ringbuf_free(struct ayac_user_ringbuf *rb);
int ayac_user_ringbuf_reserve(struct ayac_user_ringbuf *rb, uint32_t size, void **sample, int timeout_ms);
int ayac_user_ringbuf_submit(struct ayac_user_ringbuf *rb, void *sample);
int ayac_user_ringbuf_discard(struct ayac_user_ringbuf *rb, void *sample);
uint32_t ayac_user_ringbuf_size(const struct ayac_user_ringbuf *rb);
uint64_t ayac_user_ringbuf_avail(const struct ayac_user_ringbuf *rb);
int ayac_events_wait_fds(const int *fds, int n, uint8_t *ready, int timeout_ms);
int ayac_events_sleep(uint64_t ns, uint64_t *left);
int ayac_trace_pipe_open(void);
long ayac_events_read(int fd, void *buf, size_t n, int timeout_ms);
const char *ayac_errmsg(void);
int ayac_errnum(void);
int close(int fd);
]]

local M = {}

local EINTR = 4
local X64 = ffi.arch == "x64"

-- The host's Ctrl-C handler (and luajit's) arms a Lua hook that raises "interrupted"
-- on the interpreter's next step; compiled code never takes that step. A call of a Lua
-- C function leaves the trace, so calling one after every wait lets a Ctrl-C that came
-- during (or just before) the wait end the script at once.
local interrupt_point = core._interrupt_point

-- The core's last error as nil, message, code.
local function core_fail(what)
	local num = lib.ayac_errnum()
	local msg = ffi_string(lib.ayac_errmsg())
	return nil, what and (what .. ": " .. msg) or msg, ffi_string(lib.ayac_errname(num))
end

local function errno_fail(what, rc)
	return nil, what .. ": " .. fast.strerror(rc), fast.errname(rc)
end

local function check_map(map, fname)
	if getmetatable(map) ~= core.map_metatable then
		error(("bad argument #1 to '%s' (map expected, got %s)"):format(fname, type(map)), 3)
	end
end

local function check_handler(fn, fname, what)
	local mt = type(fn) == "table" and getmetatable(fn)
	if type(fn) ~= "function" and not (mt and mt.__call) then
		error(("bad argument %s to '%s' (function expected, got %s)"):format(what, fname,
			type(fn)), 3)
	end
end

-- The options every buffer takes: raw, type, btf (and for ring buffers, lost).
local function check_opts(opts, fname, argn)
	if opts == nil then
		return {}
	end
	if type(opts) ~= "table" then
		error(("bad argument #%d to '%s' (table expected, got %s)"):format(argn, fname,
			type(opts)), 3)
	end
	local t = opts.type
	if t ~= nil and type(t) ~= "string" and not (type(t) == "table" and t.decode and t.size) then
		error(("bad argument #%d to '%s' (opts.type: type name or codec expected, got %s)"):format(
			argn, fname, type(t)), 3)
	end
	if opts.lost ~= nil and type(opts.lost) ~= "function" then
		error(("bad argument #%d to '%s' (opts.lost: function expected)"):format(argn, fname), 3)
	end
	return opts
end

local function timeout_arg(t, fname, argn)
	if t == nil then
		return -1
	end
	if type(t) ~= "number" then
		error(("bad argument #%d to '%s' (number of milliseconds expected, got %s)"):format(
			argn or 1, fname, type(t)), 3)
	end
	if t < 0 then
		return -1
	end
	return t > 2147483647 and 2147483647 or floor(t)
end

-- ---- record decoders ----------------------------------------------------------------

local codec_mod
local function codec()
	codec_mod = codec_mod or require "ayac.codec"
	return codec_mod
end

-- What the handler receives: "raw" (ptr, size), "string", or "decode" with a codec.
-- Returns mode, codec or nil, message, code.
local function record_mode(map, opts, what)
	if opts.raw then
		return "raw"
	end
	local t = opts.type
	if t == nil then
		return "string"
	end
	if type(t) == "table" then -- a codec, checked by check_opts
		return "decode", t
	end
	local c = codec().named(t)
	if c then
		return "decode", c
	end
	local btf = opts.btf
	if btf == nil then
		local lay = map:_layout()
		btf = lay.btf
	end
	if not btf then
		return nil, ("%s: map '%s': no BTF to find '%s' in (give opts.btf)"):format(what, map.name, t),
			"ENOENT"
	end
	local ok, res = pcall(codec().for_name, btf, t)
	if not ok then
		return nil, ("%s: map '%s': type '%s': %s"):format(what, map.name, t,
			tostring(res):gsub("^codec: ", "")), "ENOENT"
	end
	return "decode", res
end

-- ---- the generated record loops -------------------------------------------------------

-- Substitutes $NAME in a template.
local function expand(src, subst)
	return (src:gsub("%$(%u+)", function(k)
		local v = subst[k]
		if v == nil then
			error("events: template has no value for $" .. k)
		end
		return v
	end))
end

local CALLS = {
	raw = "handler(p + 8, len)",
	string = "handler(ffi_string(p + 8, len))",
	decode = "handler(decode(p + 8))",
}

-- One ring of a ring buffer (view: struct ayac_ring_view *). The chunk returns the
-- ring's loop and a function that reads its counters. The counters are upvalues (a
-- store per record, the loads forwarded) and the pending position is in the view (a
-- 64-bit value in an upvalue would be boxed per record): both survive a handler's
-- error.
local RING_LOOP = [[
local lib, band, cast, ffi_string, i32p, view, handler, decode, minsize, short = ...
local data, mask, consumer = view.data, view.mask, view.consumer
local size = mask + 1
local handled, discarded = 0, 0
local step
-- One record per call, looping by a tail call (see the note above).
step = function(cons, prod, limit, start)
	if cons >= prod then
		if cons >= limit then return handled - start end
		prod = lib.ayac_ring_producer(view)
		if cons >= prod then return handled - start end
	end
	local p = data + band(cons, mask)
	local hdr = $HDR
	if hdr < 0 then return handled - start end -- BPF_RINGBUF_BUSY_BIT: being written
	local len = band(hdr, 0x3fffffff)
	if len > size - 8 then return -74 end -- EBADMSG: no length a kernel writes
	local nxt = cons + band(len + 15, -8)
	view.pending = nxt
	if band(hdr, 0x40000000) ~= 0 then -- BPF_RINGBUF_DISCARD_BIT
		discarded = discarded + 1
		$RELEASE
	else
		handled = handled + 1
		$CHECK
		local r = $CALL
		$RELEASE
		if r == false then return handled - start, true end
	end
	return step(nxt, prod, limit, start)
end
local function consume()
	local cons = consumer[0]
	if view.pending > cons then -- a handler raised: its record is consumed
		cons = view.pending
		lib.ayac_ring_release(view, cons)
	end
	return step(cons, lib.ayac_ring_producer(view), cons + size, handled)
end
return consume, function() return handled, discarded end
]]

local function ring_loop(view, mode, handler, c, mapname)
	local release = X64 and "consumer[0] = nxt" or "lib.ayac_ring_release(view, nxt)"
	local src = expand(RING_LOOP, {
		HDR = X64 and "cast(i32p, p)[0]" or "lib.ayac_ring_header(view, cons)",
		CALL = CALLS[mode],
		CHECK = mode == "decode" and "if len < minsize then $RELEASE short(len) end" or "",
		RELEASE = "$RELEASE",
	})
	src = expand(src, { RELEASE = release })
	local function short(len)
		error(("ring buffer '%s': a record of %d bytes is shorter than its type (%d bytes)"):format(
			mapname, len, c.size), 0)
	end
	return gen.chunk(src, "=ayac.ringbuf(" .. mapname .. ")")(lib, band, cast, ffi_string,
		ffi.typeof("const int32_t *"), view, handler, c and c.decode, c and c.size or 0, short)
end

-- All CPU rings of a perf buffer share one loop; view is an argument, and the
-- per-CPU counters are Lua arrays indexed by the view's index.
local PERF_LOOP = [[
local lib, band, cast, ffi_string, u32p, u16p, u64p, u8p, handler, decode, minsize, short, on_lost, nrings = ...
local tonumber = tonumber
local handled, lost = {}, {}
for i = 0, nrings - 1 do handled[i], lost[i] = 0, 0 end
local step
-- One record per call, looping by a tail call (see the note above).
step = function(view, tail, head, h, start)
	if tail >= head then return h - start end
	local data, mask, tailp = view.data, view.mask, view.tail
	local off = band(tail, mask)
	local p = data + off
	local rsize = cast(u16p, p + 6)[0]
	if rsize < 8 then return -74 end -- EBADMSG: would never advance
	if off + rsize > mask + 1 then
		p = cast(u8p, lib.ayac_perf_record(view, tail, rsize))
		if p == nil then return -74 end
	end
	local rtype = cast(u32p, p)[0]
	local nxt = tail + rsize
	view.pending = nxt
	if rtype == 9 then -- PERF_RECORD_SAMPLE: u32 size, then the raw bytes
		local len = cast(u32p, p + 8)[0]
		if len > rsize - 12 then
			$RELEASE
			return -74
		end
		h = h + 1
		handled[view.index] = h
		$CHECK
		local r = $CALL
		$RELEASE
		if r == false then return h - start, true end
	elseif rtype == 2 then -- PERF_RECORD_LOST: u64 id, u64 lost
		local nlost = tonumber(cast(u64p, p + 16)[0])
		local idx = view.index
		lost[idx] = lost[idx] + nlost
		$RELEASE
		if on_lost then on_lost(nlost, view.cpu) end
	else
		$RELEASE
	end
	return step(view, nxt, head, h, start)
end
local function consume(view)
	local tail = view.tail[0]
	if view.pending > tail then -- a handler raised: its record is consumed
		tail = view.pending
		lib.ayac_perf_release(view, tail)
	end
	local h = handled[view.index]
	return step(view, tail, lib.ayac_perf_head(view), h, h)
end
return consume, function(idx) return handled[idx], lost[idx] end
]]

local PERF_CALLS = {
	raw = "handler(p + 12, len, view.cpu)",
	string = "handler(ffi_string(p + 12, len), view.cpu)",
	decode = "handler(decode(p + 12), view.cpu)",
}

local function perf_loop(mode, handler, c, mapname, on_lost, nrings)
	local release = X64 and "tailp[0] = nxt" or "lib.ayac_perf_release(view, nxt)"
	local src = expand(PERF_LOOP, {
		CALL = PERF_CALLS[mode],
		CHECK = mode == "decode" and "if len < minsize then $RELEASE short(len) end" or "",
		RELEASE = "$RELEASE",
	})
	src = expand(src, { RELEASE = release })
	local function short(len)
		error(("perf buffer '%s': a sample of %d bytes is shorter than its type (%d bytes)"):format(
			mapname, len, c.size), 0)
	end
	return gen.chunk(src, "=ayac.perfbuf(" .. mapname .. ")")(lib, band, cast, ffi_string,
		ffi.typeof("const uint32_t *"), ffi.typeof("const uint16_t *"), ffi.typeof("const uint64_t *"),
		ffi.typeof("const uint8_t *"), handler, c and c.decode, c and c.size or 0, short, on_lost,
		nrings)
end

-- ---- ring buffer --------------------------------------------------------------------

local Ringbuf = {}
Ringbuf.__index = Ringbuf

local function closed(what)
	error(what .. " is closed", 3)
end

-- One more ring in rb; true, or nil, message, code.
local function add_ring(rb, map, handler, opts)
	if map.type ~= "ringbuf" then
		return nil, ("ring buffer: map '%s' is a %s map, not a ringbuf"):format(map.name,
			tostring(map.type)), "EINVAL"
	end
	local mode, c, code = record_mode(map, opts, "ringbuf")
	if not mode then
		return nil, c, code
	end
	local fd = map:fd()
	if fd < 0 then
		return nil, ("ring buffer: map '%s' is not loaded"):format(map.name), "EBADF"
	end
	local idx = lib.ayac_ringbuf_add(rb.c, fd, nil, nil)
	if idx < 0 then
		return core_fail()
	end
	local view = lib.ayac_ringbuf_ring(rb.c, idx)
	local consume, counts = ring_loop(view, mode, handler, c, map.name)
	rb.rings[idx + 1] = { view = view, consume = consume, counts = counts, lost = opts.lost }
	if idx + 1 > rb.nready then
		rb.nready = idx + 1
		rb.ready = ffi_new("int[?]", idx + 1)
	end
	return true
end

-- rb:add(map, handler [, opts]): one more ring buffer map in this manager, polled and
-- consumed with the others. rb, or nil, message, code.
function Ringbuf:add(map, handler, opts)
	check_map(map, "add")
	check_handler(handler, "add", "#2")
	opts = check_opts(opts, "add", 3)
	if not self.c then closed("ring buffer") end
	local ok, err, code = add_ring(self, map, handler, opts)
	if not ok then
		return nil, err, code
	end
	return self
end

-- ayac.ringbuf(map, handler [, opts]) -> ring buffer, or nil, message, code
--   opts: type = "struct name" (or a codec) to decode records by BTF, btf = the BTF to
--   find it in (default: the map's object's), raw = true for (ptr, size), lost = a
--   function returning how many records the program could not reserve (for stats).
function M.ringbuf(map, handler, opts)
	check_map(map, "ringbuf")
	check_handler(handler, "ringbuf", "#2")
	opts = check_opts(opts, "ringbuf", 3)
	local c = lib.ayac_ringbuf_new()
	if c == nil then
		return core_fail()
	end
	local rb = setmetatable({ c = ffi_gc(c, lib.ayac_ringbuf_free), rings = {}, nready = 0 },
		Ringbuf)
	local ok, err, code = add_ring(rb, map, handler, opts)
	if not ok then
		rb:close()
		return nil, err, code
	end
	return rb
end

local function ring_result(n, map_name)
	if n < 0 then
		error(("ring buffer '%s': %s"):format(map_name or "?", fast.strerror(n)), 0)
	end
	return n
end

-- Every record available now, in every ring; never blocks.
function Ringbuf:consume()
	if not self.c then closed("ring buffer") end
	local total = 0
	for i = 1, #self.rings do
		local n, stop = self.rings[i].consume()
		total = total + ring_result(n)
		if stop then break end
	end
	return total
end

-- Wait up to timeout_ms (nil or negative: until something comes) for records, handle
-- those of the rings that have some. Returns the number handled (0 at the timeout).
function Ringbuf:poll(timeout_ms)
	local t = timeout_arg(timeout_ms, "poll")
	local c = self.c
	if not c then closed("ring buffer") end
	local cnt = lib.ayac_ringbuf_wait(c, self.ready, self.nready, t)
	interrupt_point()
	if cnt < 0 then
		if cnt == -EINTR then return 0 end
		return errno_fail("ring buffer: wait", cnt)
	end
	local total = 0
	for i = 0, cnt - 1 do
		local n, stop = self.rings[self.ready[i] + 1].consume()
		total = total + ring_result(n)
		if stop then break end
	end
	return total
end

function Ringbuf:fd()
	if not self.c then closed("ring buffer") end
	return lib.ayac_ringbuf_epoll_fd(self.c)
end

function Ringbuf:stats()
	if not self.c then
		return self.final or { handled = 0, lost = 0, discarded = 0 }
	end
	local h, d, l = 0, 0, 0
	for _, r in ipairs(self.rings) do
		local rh, rd = r.counts()
		h, d = h + rh, d + rd
		if r.lost then l = l + (tonumber(r.lost()) or 0) end
	end
	return { handled = h, lost = l, discarded = d }
end

-- Unmaps the rings and closes their fds now (also done when collected). Idempotent.
function Ringbuf:close()
	if self.c then
		self.final = self:stats()
		local c = self.c
		self.c = nil
		self.rings = {}
		ffi_gc(c, nil)
		lib.ayac_ringbuf_free(c)
	end
end

function Ringbuf:__tostring()
	return self.c and ("ayac.ringbuf: %d ring(s)"):format(#self.rings) or "ayac.ringbuf (closed)"
end

-- ---- perf buffer --------------------------------------------------------------------

local Perfbuf = {}
Perfbuf.__index = Perfbuf

local function perf_opts(opts)
	local o = ffi_new("struct ayac_perfbuf_opts")
	local pages = opts.pages or 64
	if type(pages) ~= "number" or pages < 1 or pages % 1 ~= 0 then
		error("bad argument #3 to 'perfbuf' (opts.pages: a positive integer expected)", 3)
	end
	o.page_cnt = pages
	o.wakeup_events = opts.wakeup_events or 1
	local cpus
	if opts.cpus ~= nil then
		if type(opts.cpus) ~= "table" then
			error("bad argument #3 to 'perfbuf' (opts.cpus: table of CPU numbers expected)", 3)
		end
		cpus = ffi_new("int[?]", math.max(#opts.cpus, 1))
		for i, cpu in ipairs(opts.cpus) do
			cpus[i - 1] = cpu
		end
		o.cpus, o.cpu_cnt = cpus, #opts.cpus
	end
	return o, cpus
end

-- ayac.perfbuf(map, handler [, opts]) -> perf buffer, or nil, message, code
--   opts: pages (per CPU, power of two, default 64), cpus = { ... }, on_lost =
--   fn(count, cpu), wakeup_events, type / btf / raw as for ring buffers.
function M.perfbuf(map, handler, opts)
	check_map(map, "perfbuf")
	check_handler(handler, "perfbuf", "#2")
	opts = check_opts(opts, "perfbuf", 3)
	if opts.on_lost ~= nil then
		check_handler(opts.on_lost, "perfbuf", "#3 (opts.on_lost)")
	end
	if map.type ~= "perf_event_array" then
		return nil, ("perf buffer: map '%s' is a %s map, not a perf_event_array"):format(map.name,
			tostring(map.type)), "EINVAL"
	end
	local mode, c, code = record_mode(map, opts, "perfbuf")
	if not mode then
		return nil, c, code
	end
	local fd = map:fd()
	if fd < 0 then
		return nil, ("perf buffer: map '%s' is not loaded"):format(map.name), "EBADF"
	end
	local o, keep = perf_opts(opts)
	local pc = lib.ayac_perfbuf_new(fd, o)
	local _ = keep
	if pc == nil then
		return core_fail()
	end
	pc = ffi_gc(pc, lib.ayac_perfbuf_free)
	local n = lib.ayac_perfbuf_ring_cnt(pc)
	local views = {}
	for i = 0, n - 1 do
		views[i + 1] = lib.ayac_perfbuf_ring(pc, i)
	end
	local consume, counts = perf_loop(mode, handler, c, map.name, opts.on_lost, n)
	return setmetatable({
		c = pc, views = views, name = map.name, consume_ring = consume, counts = counts,
		ready = ffi_new("int[?]", n), nready = n,
	}, Perfbuf)
end

function Perfbuf:consume()
	if not self.c then closed("perf buffer") end
	local total, loop = 0, self.consume_ring
	for i = 1, #self.views do
		local n, stop = loop(self.views[i])
		total = total + ring_result(n, self.name)
		if stop then break end
	end
	return total
end

function Perfbuf:poll(timeout_ms)
	local t = timeout_arg(timeout_ms, "poll")
	local c = self.c
	if not c then closed("perf buffer") end
	local cnt = lib.ayac_perfbuf_wait(c, self.ready, self.nready, t)
	interrupt_point()
	if cnt < 0 then
		if cnt == -EINTR then return 0 end
		return errno_fail("perf buffer: wait", cnt)
	end
	local total, loop, views = 0, self.consume_ring, self.views
	for i = 0, cnt - 1 do
		local n, stop = loop(views[self.ready[i] + 1])
		total = total + ring_result(n, self.name)
		if stop then break end
	end
	return total
end

function Perfbuf:fd()
	if not self.c then closed("perf buffer") end
	return lib.ayac_perfbuf_epoll_fd(self.c)
end

-- { handled =, lost =, discarded = 0, cpus = { [cpu] = { handled =, lost = } } }
function Perfbuf:stats()
	if not self.c then
		return self.final or { handled = 0, lost = 0, discarded = 0, cpus = {} }
	end
	local h, l, cpus = 0, 0, {}
	for _, v in ipairs(self.views) do
		local vh, vl = self.counts(v.index)
		h, l = h + vh, l + vl
		cpus[v.cpu] = { handled = vh, lost = vl }
	end
	return { handled = h, lost = l, discarded = 0, cpus = cpus }
end

function Perfbuf:close()
	if self.c then
		self.final = self:stats()
		local c = self.c
		self.c = nil
		self.views = {}
		ffi_gc(c, nil)
		lib.ayac_perfbuf_free(c)
	end
end

function Perfbuf:__tostring()
	return self.c and ("ayac.perfbuf '%s': %d CPU(s)"):format(self.name, #self.views) or
		"ayac.perfbuf (closed)"
end

-- ---- one wait over several buffers ----------------------------------------------------

local wait_fds = ffi_new("int[?]", 64)
local wait_ready = ffi_new("uint8_t[?]", 64)
local wait_cap = 64

-- ayac.poll({ buf, ... }, timeout_ms): wait until one of the buffers has records (or
-- the timeout), then handle what every ready buffer has. Returns the records handled.
function M.poll(list, timeout_ms)
	if type(list) ~= "table" then
		error("bad argument #1 to 'poll' (table of buffers expected, got " .. type(list) .. ")", 2)
	end
	local t = timeout_arg(timeout_ms, "poll", 2)
	local n = #list
	if n > wait_cap then
		wait_cap = n
		wait_fds = ffi_new("int[?]", n)
		wait_ready = ffi_new("uint8_t[?]", n)
	end
	for i = 1, n do
		local b = list[i]
		if type(b) ~= "table" or type(b.fd) ~= "function" or type(b.consume) ~= "function" then
			error(("bad argument #1 to 'poll' (item %d is not a buffer)"):format(i), 2)
		end
		local fd, err, code = b:fd()
		if not fd then
			return nil, err, code
		end
		wait_fds[i - 1] = fd
	end
	local rc = lib.ayac_events_wait_fds(wait_fds, n, wait_ready, t)
	interrupt_point()
	if rc < 0 then
		if rc == -EINTR then return 0 end
		return errno_fail("poll", rc)
	end
	-- consume, not poll(0): a perf event's poll hands its readiness out once, and the
	-- poll(2) above took it.
	local total = 0
	for i = 1, n do
		if wait_ready[i - 1] ~= 0 then
			local got, err, code = list[i]:consume()
			if not got then return nil, err, code end
			total = total + got
		end
	end
	return total
end

-- ayac.sleep(seconds): sleeps; a Ctrl-C ends it (and the script, with "interrupted").
-- Other signals do not cut it short.
local left = ffi_new("uint64_t[1]")
function M.sleep(seconds)
	if type(seconds) ~= "number" then
		error("bad argument #1 to 'sleep' (number expected, got " .. type(seconds) .. ")", 2)
	end
	if seconds <= 0 then
		interrupt_point()
		return true
	end
	local ns = seconds * 1e9
	if ns > 2 ^ 62 then ns = 2 ^ 62 end
	local want = ffi_new("uint64_t", ns)
	while true do
		local rc = lib.ayac_events_sleep(want, left)
		interrupt_point()
		if rc == 0 then return true end
		if rc ~= -EINTR then return errno_fail("sleep", rc) end
		want = left[0]
	end
end

-- ---- user ring buffer ----------------------------------------------------------------

local UserRingbuf = {}
UserRingbuf.__index = UserRingbuf

local u8p = ffi.typeof("uint8_t *")

-- ayac.user_ringbuf(map [, opts]) -> user ring buffer, or nil, message, code
--   opts.type (or btf): what submit(v) encodes tables and numbers with.
function M.user_ringbuf(map, opts)
	check_map(map, "user_ringbuf")
	opts = check_opts(opts, "user_ringbuf", 2)
	if map.type ~= "user_ringbuf" then
		return nil, ("user ring buffer: map '%s' is a %s map, not a user_ringbuf"):format(map.name,
			tostring(map.type)), "EINVAL"
	end
	local c
	if opts.type ~= nil then
		local mode, cd, code = record_mode(map, { type = opts.type, btf = opts.btf }, "user_ringbuf")
		if not mode then
			return nil, cd, code
		end
		c = cd
	end
	local fd = map:fd()
	if fd < 0 then
		return nil, ("user ring buffer: map '%s' is not loaded"):format(map.name), "EBADF"
	end
	local uc = lib.ayac_user_ringbuf_new(fd)
	if uc == nil then
		return core_fail()
	end
	return setmetatable({ c = ffi_gc(uc, lib.ayac_user_ringbuf_free), codec = c, name = map.name,
		out = ffi_new("void *[1]") }, UserRingbuf)
end

local function size_arg(size, fname)
	if type(size) ~= "number" or size < 0 or size % 1 ~= 0 then
		error(("bad argument #1 to '%s' (size in bytes expected)"):format(fname), 3)
	end
	return size
end

-- urb:reserve(size [, timeout_ms]) -> uint8_t * to fill, then submit(ptr) or discard(ptr).
-- Without timeout_ms (or 0) it does not wait: nil, msg, "ENOSPC" when full.
function UserRingbuf:reserve(size, timeout_ms)
	size_arg(size, "reserve")
	local c = self.c
	if not c then closed("user ring buffer") end
	local t = timeout_ms == nil and 0 or timeout_arg(timeout_ms, "reserve", 2)
	local rc = lib.ayac_user_ringbuf_reserve(c, size, self.out, t)
	if rc == -EINTR then interrupt_point() end
	if rc ~= 0 then
		return errno_fail(("user ring buffer '%s': reserve %d bytes"):format(self.name, size), rc)
	end
	return cast(u8p, self.out[0])
end

-- urb:submit(v [, timeout_ms]): v is a pointer from reserve (submitted as it is), a
-- string (its bytes), or a value for opts.type's codec. true, or nil, msg, code.
function UserRingbuf:submit(v, timeout_ms)
	local c = self.c
	if not c then closed("user ring buffer") end
	if type(v) == "cdata" then
		local rc = lib.ayac_user_ringbuf_submit(c, v)
		if rc ~= 0 then
			return errno_fail(("user ring buffer '%s': submit"):format(self.name), rc)
		end
		return true
	end
	local size
	if type(v) == "string" then
		size = #v
	elseif self.codec then
		size = self.codec.size
	else
		error("bad argument #1 to 'submit' (reserved pointer or string expected; " ..
			"give opts.type to submit " .. type(v) .. " values)", 2)
	end
	local p, err, code = self:reserve(size, timeout_ms)
	if not p then
		return nil, err, code
	end
	if type(v) == "string" then
		ffi_copy(p, v, size)
	else
		local ok, e = pcall(self.codec.encode, v, p)
		if not ok then
			lib.ayac_user_ringbuf_discard(c, p)
			error(e, 2)
		end
	end
	lib.ayac_user_ringbuf_submit(c, p)
	return true
end

function UserRingbuf:discard(ptr)
	local c = self.c
	if not c then closed("user ring buffer") end
	if type(ptr) ~= "cdata" then
		error("bad argument #1 to 'discard' (pointer from reserve expected)", 2)
	end
	local rc = lib.ayac_user_ringbuf_discard(c, ptr)
	if rc ~= 0 then
		return errno_fail(("user ring buffer '%s': discard"):format(self.name), rc)
	end
	return true
end

-- Bytes free now, and the data size.
function UserRingbuf:avail()
	if not self.c then closed("user ring buffer") end
	return tonumber(lib.ayac_user_ringbuf_avail(self.c)), lib.ayac_user_ringbuf_size(self.c)
end

function UserRingbuf:close()
	if self.c then
		local c = self.c
		self.c = nil
		ffi_gc(c, nil)
		lib.ayac_user_ringbuf_free(c)
	end
end

function UserRingbuf:__tostring()
	return self.c and ("ayac.user_ringbuf '%s'"):format(self.name) or "ayac.user_ringbuf (closed)"
end

-- ---- trace_pipe -----------------------------------------------------------------------

-- One trace_pipe line: "<task>-<pid> [<cpu>] <flags> <ts>: <event>: <message>".
local function parse_trace_line(line)
	local task, pid, cpu, flags, ts, event, msg = line:match(
		"^%s*(.-)%-(%d+)%s+%[(%d+)%]%s+(%S+)%s+([%d.]+):%s+([%w_]+):%s?(.*)$")
	if not task then
		-- older kernels print no flags column
		task, pid, cpu, ts, event, msg = line:match("^%s*(.-)%-(%d+)%s+%[(%d+)%]%s+([%d.]+):%s+([%w_]+):%s?(.*)$")
	end
	if not task then
		return line, { raw = line }
	end
	return msg, { task = task, pid = tonumber(pid), cpu = tonumber(cpu), flags = flags,
		ts = tonumber(ts), event = event, raw = line }
end

-- for msg, info in ayac.trace_pipe([opts]) do ... end: the bpf_printk output (and any
-- other enabled trace event), line by line. opts.timeout (seconds): the iteration ends
-- after that long without a line; without it the iterator waits for ever (Ctrl-C ends
-- it). info: { task=, pid=, cpu=, flags=, ts=, event=, raw= }. nil, msg, code when the
-- pipe cannot be opened.
function M.trace_pipe(opts)
	if opts ~= nil and type(opts) ~= "table" then
		error("bad argument #1 to 'trace_pipe' (table expected, got " .. type(opts) .. ")", 2)
	end
	local timeout = opts and opts.timeout
	if timeout ~= nil and type(timeout) ~= "number" then
		error("bad argument #1 to 'trace_pipe' (opts.timeout: seconds expected)", 2)
	end
	local fd = lib.ayac_trace_pipe_open()
	if fd < 0 then
		return core_fail()
	end
	-- The fd is closed when the iteration ends, or when the iterator is collected.
	local holder = ffi_gc(ffi_new("int[1]", fd), function(h)
		if h[0] >= 0 then ffi.C.close(h[0]) h[0] = -1 end
	end)
	local buf = ffi_new("char[?]", 65536)
	local pending = ""
	local function finish()
		if holder[0] >= 0 then
			ffi.C.close(holder[0])
			holder[0] = -1
		end
	end
	return function()
		while true do
			local nl = pending:find("\n", 1, true)
			if nl then
				local line = pending:sub(1, nl - 1)
				pending = pending:sub(nl + 1)
				return parse_trace_line(line)
			end
			if holder[0] < 0 then
				return nil
			end
			local ms = timeout and math.max(0, floor(timeout * 1000)) or -1
			local got = lib.ayac_events_read(holder[0], buf, 65536, ms)
			interrupt_point()
			if got == -EINTR then
				got = -1 -- spurious signal: read again
			elseif got < 0 then
				finish()
				error("trace_pipe: read: " .. fast.strerror(got), 2)
			elseif got == 0 then
				finish()
				return nil
			end
			if got > 0 then
				pending = pending .. ffi_string(buf, got)
			end
		end
	end
end

return M
