-- ayac.logger(obj, opts): the Lua side of include/ayac/log.bpf.h. Reads the typed
-- records the object's programs write into its ayac_log_ring ring buffer, formats them
-- (printf conversions plus the %pI4 %pI6 %pI6c %pM %pe hints) and hands them to a sink.
--
--   local log = ayac.logger(obj, { level = "debug", sink = io.stderr })
--   log:poll(timeout_ms)  log:consume()  log:fd()  log:stats()  log:close()
--   ayac.poll({ log, rb }, timeout_ms)
--
-- opts.level ("error", "warn", "info", "debug", "trace", or 1..5; default "info"): on an
-- object not loaded yet it is written into the .rodata filter ayac_log_level, so the
-- verifier drops the calls above it from the programs; after load, records above it are
-- dropped here (the filter the object was loaded with still applies first).
-- opts.sink: a file (anything with :write; default io.stderr), which gets one line
-- "[level] message" per record, or a function, called with a record table { level =,
-- msg =, line =, pid =, tid =, cpu =, ts_ns = }.
-- Records the ring buffer could not take are counted by the program (ayac_log_dropped);
-- each poll that sees the count grow tells the sink so, as a "warn" record.
local ffi = require "ffi"
local bit = require "bit"
local fast = require "ayac.fast"
local events = require "ayac.events"

local cast, ffi_string = ffi.cast, ffi.string
local band, rshift = bit.band, bit.rshift
local type, error, tostring, tonumber, setmetatable = type, error, tostring, tonumber, setmetatable
local format, concat = string.format, table.concat

local M = {}

local LEVELS = { off = 0, error = 1, warn = 2, info = 3, debug = 4, trace = 5 }
local NAMES = { [1] = "error", [2] = "warn", [3] = "info", [4] = "debug", [5] = "trace" }
M.levels = LEVELS

local u8p = ffi.typeof("uint8_t *")
local u16p = ffi.typeof("uint16_t *")
local u32p = ffi.typeof("uint32_t *")
local u64p = ffi.typeof("uint64_t *")
local s64_t = ffi.typeof("int64_t")

local ARG_SIGNED, ARG_UNSIGNED, ARG_POINTER, ARG_STRING, ARG_BYTES = 1, 2, 3, 4, 5

-- ---- format strings --------------------------------------------------------------------

-- A format string as a list: literal strings, and conversion tables { spec =, conv =,
-- hint = }. Parsed once per distinct format (they are the program's literals).
local parsed = setmetatable({}, { __mode = "k" })

local function parse_format(fmt)
	local items, i, lit = {}, 1, {}
	local n = #fmt
	while i <= n do
		local c = fmt:sub(i, i)
		if c ~= "%" then
			lit[#lit + 1] = c
			i = i + 1
		else
			local flags, width, prec, len, conv, j = fmt:match(
				"^%%([-+ #0]*)(%d*)(%.?%d*)([hljztL]*)([diouxXcsp%%])()", i)
			if not conv then -- not a conversion: keep the text as it is
				lit[#lit + 1] = c
				i = i + 1
			elseif conv == "%" then
				lit[#lit + 1] = "%"
				i = j
			else
				local hint
				if conv == "p" then
					hint = fmt:match("^I6c", j) or fmt:match("^I[46]", j) or fmt:match("^[Me]", j)
					if hint then j = j + #hint end
				end
				if #lit > 0 then
					items[#items + 1] = concat(lit)
					lit = {}
				end
				items[#items + 1] = { spec = "%" .. flags .. width .. prec, conv = conv, hint = hint,
					prec = prec }
				i = j
			end
		end
	end
	if #lit > 0 then
		items[#items + 1] = concat(lit)
	end
	return items
end

local function format_of(fmt)
	local items = parsed[fmt]
	if not items then
		items = parse_format(fmt)
		parsed[fmt] = items
	end
	return items
end

-- ---- arguments -------------------------------------------------------------------------

-- The value as a signed or unsigned integer of the argument's C size: a number when a
-- double holds it exactly, int64_t/uint64_t cdata otherwise.
local function as_unsigned(a)
	if a.isize >= 8 then
		local v = a.u64
		return v < 2 ^ 53 and tonumber(v) or v
	end
	local bits = 8 * a.isize
	return tonumber(band(a.u64, 2 ^ bits - 1))
end

local function as_signed(a)
	if a.isize >= 8 then
		local v = cast(s64_t, a.u64)
		return (v < 2 ^ 53 and v > -2 ^ 53) and tonumber(v) or v
	end
	local span = 2 ^ (8 * a.isize)
	local v = as_unsigned(a)
	return v >= span / 2 and v - span or v
end

local function text_of(a)
	if a.type == ARG_STRING or a.type == ARG_BYTES then
		local s = a.bytes
		local z = s:find("\0", 1, true)
		return z and s:sub(1, z - 1) or s
	end
	return tostring(as_signed(a))
end

local function hex_bytes(s, upper)
	return (s:gsub(".", function(ch)
		return format(upper and "%02X" or "%02x", ch:byte())
	end))
end

local function ipv6(b, compress)
	local groups = {}
	for i = 1, 16, 2 do
		groups[#groups + 1] = b:byte(i) * 256 + b:byte(i + 1)
	end
	if not compress then
		for i, g in ipairs(groups) do groups[i] = format("%04x", g) end
		return concat(groups, ":")
	end
	-- RFC 5952: the longest run of two or more zero groups becomes "::"
	local best, bestlen, run, runlen = nil, 1, nil, 0
	for i = 1, 8 do
		if groups[i] == 0 then
			run = run or i
			runlen = runlen + 1
			if runlen > bestlen then best, bestlen = run, runlen end
		else
			run, runlen = nil, 0
		end
	end
	local out = {}
	for i = 1, 8 do out[i] = format("%x", groups[i]) end
	if not best then return concat(out, ":") end
	local head = concat(out, ":", 1, best - 1)
	local tail = best + bestlen <= 8 and concat(out, ":", best + bestlen, 8) or ""
	return head .. "::" .. tail
end

-- One conversion applied to one argument.
local function convert(item, a)
	local conv, hint, spec = item.conv, item.hint, item.spec
	local t = a.type
	if hint == "I4" then
		local b = t == ARG_BYTES and a.bytes or nil
		if b and #b >= 4 then
			return format(spec .. "s", format("%d.%d.%d.%d", b:byte(1, 4)))
		end
		local v = as_unsigned(a) -- a __be32: its first byte in memory is the low one here
		return format(spec .. "s", format("%d.%d.%d.%d", v % 256, rshift(v, 8) % 256,
			rshift(v, 16) % 256, rshift(v, 24) % 256))
	elseif hint == "I6" or hint == "I6c" then
		if t == ARG_BYTES and #a.bytes >= 16 then
			return format(spec .. "s", ipv6(a.bytes, hint == "I6c"))
		end
	elseif hint == "M" then
		if t == ARG_BYTES and #a.bytes >= 6 then
			return format(spec .. "s", format("%02x:%02x:%02x:%02x:%02x:%02x", a.bytes:byte(1, 6)))
		end
	elseif hint == "e" then
		if t == ARG_SIGNED or t == ARG_UNSIGNED then
			local v = as_signed(a)
			if type(v) == "number" and v ~= 0 and math.abs(v) < 4096 then
				local name = ffi_string(fast.lib.ayac_errname(math.abs(v)))
				if name:match("^E%u") then
					return format(spec .. "s", (v < 0 and "-" or "") .. name)
				end
			end
			return format(spec .. "d", v)
		end
	end
	if conv == "s" then
		return format(spec .. "s", text_of(a))
	elseif t == ARG_STRING or t == ARG_BYTES then
		if conv == "x" or conv == "X" then
			return format(spec .. "s", hex_bytes(a.bytes, conv == "X"))
		end
		return format(spec .. "s", text_of(a))
	elseif conv == "p" then
		return format(spec .. "s", format("0x%x", as_unsigned(a)))
	elseif conv == "c" then
		return format(spec .. "s", string.char(band(as_unsigned(a), 255)))
	elseif conv == "d" or conv == "i" then
		return format(spec .. "d", as_signed(a))
	end
	return format(spec .. conv, as_unsigned(a)) -- u, x, X, o
end

-- ---- records ---------------------------------------------------------------------------

local HDR = 32

local function malformed(why)
	return nil, "malformed log record: " .. why
end

-- The record at p (size bytes) as { level=, msg=, line=, pid=, tid=, cpu=, ts_ns= }.
local function decode(p, size)
	p = cast(u8p, p)
	if size < HDR then return malformed("shorter than its header") end
	if p[0] ~= 1 then return malformed("version " .. p[0]) end
	local level, nargs = p[1], p[2]
	local fmt_len, rsize = cast(u16p, p + 4)[0], cast(u16p, p + 6)[0]
	if rsize > size or HDR + fmt_len > rsize then return malformed("sizes") end
	local rec = {
		level = NAMES[level] or tostring(level), level_num = level,
		line = cast(u32p, p + 8)[0], cpu = cast(u32p, p + 12)[0],
		pid = cast(u32p, p + 16)[0], tid = cast(u32p, p + 20)[0],
		ts_ns = tonumber(cast(u64p, p + 24)[0]),
	}
	local fmt = ffi_string(p + HDR, fmt_len)
	local off = HDR + band(fmt_len + 7, -8)
	local args = {}
	for i = 1, nargs do
		if off + 8 > rsize then return malformed("argument " .. i .. " past the end") end
		local a = { type = p[off], isize = p[off + 1], len = cast(u16p, p + off + 2)[0],
			slot = cast(u16p, p + off + 4)[0], flags = cast(u16p, p + off + 6)[0] }
		local v = off + 8
		if v + a.slot > rsize or a.len > a.slot then return malformed("argument " .. i .. " size") end
		if a.type == ARG_STRING or a.type == ARG_BYTES then
			a.bytes = ffi_string(p + v, a.len)
		else
			a.u64 = cast(u64p, p + v)[0]
		end
		args[i] = a
		off = v + a.slot
	end
	local out, k = {}, 0
	for _, item in ipairs(format_of(fmt)) do
		if type(item) == "string" then
			out[#out + 1] = item
		else
			k = k + 1
			local a = args[k]
			if not a then
				out[#out + 1] = "%!" .. item.conv .. "(missing)"
			elseif a.type == ARG_STRING and a.flags ~= 0 then
				out[#out + 1] = "(unreadable)"
			else
				out[#out + 1] = convert(item, a)
			end
		end
	end
	rec.msg = concat(out)
	return rec
end
M._decode = decode

-- ---- the logger --------------------------------------------------------------------------

local Logger = {}
Logger.__index = Logger

local function level_arg(v)
	if v == nil then return LEVELS.info end
	if type(v) == "number" and v >= 0 and v <= 5 and v % 1 == 0 then return v end
	local n = type(v) == "string" and LEVELS[v:lower()]
	if not n then
		error("bad argument #2 to 'logger' (opts.level: error, warn, info, debug, trace or off)", 3)
	end
	return n
end

local function file_sink(f)
	return function(rec)
		f:write("[", rec.level, "] ", rec.msg, "\n")
	end
end

-- ayac.logger(obj [, opts]) -> logger, or nil, msg, code
function M.logger(obj, opts)
	if type(obj) ~= "userdata" or type(obj.map) ~= "function" then
		error("bad argument #1 to 'logger' (object expected, got " .. type(obj) .. ")", 2)
	end
	if opts ~= nil and type(opts) ~= "table" then
		error("bad argument #2 to 'logger' (table expected, got " .. type(opts) .. ")", 2)
	end
	opts = opts or {}
	local level = level_arg(opts.level)
	local sink = opts.sink or io.stderr
	if type(sink) ~= "function" then
		if (type(sink) ~= "userdata" and type(sink) ~= "table") or not sink.write then
			error("bad argument #2 to 'logger' (opts.sink: function or file expected)", 2)
		end
		sink = file_sink(sink)
	end
	if not obj:map("ayac_log_ring") then
		return nil, ("object '%s' has no ayac_log_ring map: do its programs include " ..
			"<ayac/log.bpf.h>?"):format(obj.name), "ENOENT"
	end
	if obj.state == "opened" then
		local ok, err, code = obj:set_global("ayac_log_level", level)
		if not ok then
			return nil, err, code
		end
	end
	return setmetatable({ obj = obj, level = level, sink = sink, handled = 0, filtered = 0,
		dropped = 0, bad = 0 }, Logger)
end

function Logger:_ring()
	local rb = self.rb
	if rb then return rb end
	if self.closed then error("logger is closed", 3) end
	local map = self.obj:map("ayac_log_ring")
	if not map or map:fd() < 0 then
		return nil, ("logger: object '%s' is not loaded"):format(self.obj.name), "EBADF"
	end
	local level, sink = self.level, self.sink
	local err
	rb, err = events.ringbuf(map, function(p, size)
		local rec, why = decode(p, size)
		if not rec then
			self.bad = self.bad + 1
			sink({ level = "warn", level_num = 2, msg = "ayac: " .. why, line = 0, pid = 0,
				tid = 0, cpu = 0, ts_ns = 0 })
		elseif rec.level_num > level then
			self.filtered = self.filtered + 1
		else
			self.handled = self.handled + 1
			sink(rec)
		end
	end, { raw = true })
	if not rb then return nil, err end
	self.rb = rb
	return rb
end

-- Tell the sink about records the ring could not take since the last look.
function Logger:_check_dropped()
	local n = tonumber(self.obj:global("ayac_log_dropped")) or 0
	if n > self.dropped then
		local new = n - self.dropped
		self.dropped = n
		self.sink({ level = "warn", level_num = 2, line = 0, pid = 0, tid = 0, cpu = 0, ts_ns = 0,
			msg = ("ayac: %d log record%s dropped: the ring buffer ayac_log_ring was full"):format(
				new, new == 1 and "" or "s") })
	end
end

-- poll and consume return the number of records given to the sink.
function Logger:poll(timeout_ms)
	local rb, err, code = self:_ring()
	if not rb then return nil, err, code end
	local before = self.handled
	local n, e2, c2 = rb:poll(timeout_ms)
	self:_check_dropped()
	if not n then return nil, e2, c2 end
	return self.handled - before
end

function Logger:consume()
	local rb, err, code = self:_ring()
	if not rb then return nil, err, code end
	local before = self.handled
	rb:consume()
	self:_check_dropped()
	return self.handled - before
end

function Logger:fd()
	local rb, err, code = self:_ring()
	if not rb then return nil, err, code end
	return rb:fd()
end

-- { handled = records given to the sink, filtered = above the level, dropped = records
-- the ring could not take, lost = the same, malformed = }
function Logger:stats()
	return { handled = self.handled, filtered = self.filtered, dropped = self.dropped,
		lost = self.dropped, malformed = self.bad }
end

function Logger:close()
	if self.rb then
		self.rb:close()
		self.rb = nil
	end
	self.closed = true
end

function Logger:__tostring()
	return ("ayac.logger '%s' (%s)"):format(self.obj.name, NAMES[self.level] or "off")
end

return M
