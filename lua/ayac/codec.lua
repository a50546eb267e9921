-- ayac.codec: values in BPF memory <-> Lua values, driven by BTF (see docs/api.md, Map).
--
--   local c = codec.for_type(btf, id)   -- { size =, decode = fn(ptr), encode = fn(v, ptr) }
--   local v = c.decode(ptr)             -- ptr: anything ffi.cast can make a uint8_t* of
--   c.encode(v, ptr)                    -- writes all c.size bytes (missing parts are 0)
--   codec.named("u32"), codec.raw(16), codec.for_name(btf, "struct event")
--
-- Rules: integers -> numbers, except 64-bit values beyond 2^53, which come back as
-- int64_t/uint64_t cdata, never rounded; bool -> boolean; char arrays (char, signed and
-- unsigned char, through typedefs such as __u8) -> strings without trailing NULs;
-- structs/unions -> tables by field name (anonymous members flattened, as C names
-- them); arrays -> 1-based tables; enums -> numbers; bitfields decoded; pointers ->
-- integer addresses; typedefs and qualifiers followed. Inputs take the same shapes, plus
-- int64_t/uint64_t cdata, booleans for integers, and value names for enums.
--
-- Every integer input must fit its type: a value out of range (300 for a u8, -1 for
-- any unsigned type, 2^32 + 7 for a u32, 9 for a 3-bit bitfield) or not an integer
-- (1.5) raises an error naming the type, the range and, inside structs and arrays, the
-- field ("codec: struct ev: field 'hdr.len': 70000 does not fit in u16 (0..65535)").
-- Enums whose BTF does not say signed (clang before 15 never does) take both readings
-- of their size. Nothing is ever silently truncated.
--
-- Each type is compiled once into closures (struct codecs are generated Lua, one call
-- site per field), so decode and encode never look at BTF again. Hot functions return
-- (f(x)), never f(x): LuaJIT counts tail calls in a trace against its loop-unroll
-- limit (15), so a struct of many fields would never compile.
--
-- The generated code never shifts a 64-bit value: LuaJIT before upstream issue #1079
-- was fixed folds rshift(band(x, k64), n) as if the mask were absent, which corrupted
-- the neighbours of wide bitfields once compiled. Bitfields are computed in doubles
-- (exact up to 2^53; fields over 7 to 9 bytes in two halves), bytes with 32-bit
-- operations, and 64-bit cdata split or joined through a union in memory.
local ffi = require "ffi"
local bit = require "bit"
local gen = require "ayac.gen"
require "ayac.btf" -- the type-table cache

local cast, fill, copy, ffi_string, typeof, istype = ffi.cast, ffi.fill, ffi.copy,
	ffi.string, ffi.typeof, ffi.istype
local band, bor, bnot, lshift = bit.band, bit.bor, bit.bnot, bit.lshift
local type, error, tostring, tonumber, ipairs, pairs, setmetatable, pcall = type, error,
	tostring, tonumber, ipairs, pairs, setmetatable, pcall
local floor, ceil = math.floor, math.ceil
local concat, format = table.concat, string.format

local M = {}

local u8p = typeof("uint8_t *")
local u64_t, s64_t = typeof("uint64_t"), typeof("int64_t")
local s64p = typeof("int64_t *")
local TWO53, TWO63 = 2 ^ 53, 2 ^ 63
local MAX_DEPTH = 64

-- Where a value was going, for error messages: functions whose frames know it (a
-- struct's top-level encode, a map's key/value encode, set_global) are registered with
-- a describer, fn(locals, msg) -> msg, owner. On failure the frames above are searched
-- (debug.getinfo/getlocal): nothing on the way of a value that encodes pays for it.
local contexts = setmetatable({}, { __mode = "k" })
local explaining = false

local function frame_locals(level)
	local t = {}
	for i = 1, 255 do
		local name, v = debug.getlocal(level + 1, i)
		if name == nil then
			break
		end
		t[name] = v
	end
	return t
end

local function fail(msg, ...)
	msg = format(msg, ...)
	local owned = false
	if not explaining then
		explaining = true
		for level = 2, 200 do
			local info = debug.getinfo(level, "f")
			if not info then
				break
			end
			local describe = info.func and contexts[info.func]
			if describe then
				local ok, m, owner = pcall(describe, frame_locals(level), msg)
				if ok and m then
					msg, owned = m, owned or owner
				end
			end
		end
		explaining = false
	end
	error(owned and msg or "codec: " .. msg, 0)
end

-- Registers describe(locals, msg) -> msg, owner for frames of func (see fail). owner:
-- msg now names its owner (map, global) and needs no "codec: " prefix.
function M.context(func, describe)
	contexts[func] = describe
end

local function describe(v)
	if type(v) == "string" then
		return format("string %q", #v > 32 and v:sub(1, 32) .. "..." or v)
	elseif type(v) == "number" and v % 1 == 0 and v >= -2 ^ 70 and v <= 2 ^ 70 then
		return format("%.0f", v) -- integers in full, not 1.4e+14
	elseif type(v) == "number" or type(v) == "cdata" then
		return tostring(v)
	end
	return type(v) .. " " .. tostring(v)
end

-- ---- integers in: every value checked against its type's range -----------------------

-- A 64-bit cdata as digits, without the LL/ULL suffix.
local function digits(v)
	return (tostring(v):gsub("U?LL$", ""))
end

-- The checker of an integer of nbits (1..64) bits, kind "u" (0 .. 2^n - 1), "s"
-- (-2^(n-1) .. 2^(n-1) - 1) or "us" (both readings: -2^(n-1) .. 2^n - 1), named what in
-- errors. fn(v) -> the value to store: for nbits <= 53 a number; wider, a number below
-- 2^63 or an int64_t/uint64_t cdata (store it through an int64_t, which keeps the bits).
-- Accepts numbers, booleans (1, 0), int64_t/uint64_t cdata and other integer cdata.
local function int_range(nbits, kind, what)
	-- Number bounds: lo inclusive, hi exclusive, both powers of two (exact doubles).
	local lo = kind == "u" and 0 or -2 ^ (nbits - 1)
	local hi_bits = kind == "s" and nbits - 1 or nbits
	local hi = 2 ^ hi_bits
	-- The same bounds for 64-bit cdata inputs, in their own arithmetic.
	local u_hi = hi_bits == 64 and bnot(0ULL) or lshift(1ULL, hi_bits) - 1
	local s_lo = kind == "u" and 0LL or cast(s64_t, 0ULL - lshift(1ULL, nbits - 1))
	local s_hi = hi_bits >= 63 and 0x7fffffffffffffffLL or cast(s64_t, u_hi)
	local range = format("%s (%s..%s)", what, digits(s_lo), digits(u_hi))

	local function bad(v)
		if type(v) == "number" and v == v and v > -1 / 0 and v < 1 / 0 and floor(v) ~= v then
			fail("%s does not fit in %s: not an integer", describe(v), range)
		end
		fail("%s does not fit in %s", describe(v), range)
	end

	-- Anything but a number: a number to check, or a 64-bit cdata already checked.
	local function other(v)
		local tv = type(v)
		if tv == "boolean" then
			return v and 1 or 0
		elseif tv == "cdata" then
			if istype(u64_t, v) then
				if v > u_hi then bad(v) end
				return v
			elseif istype(s64_t, v) then
				if v < s_lo or v > s_hi then bad(v) end
				return v
			end
			local n = tonumber(v)
			if n then
				return n
			end
		end
		fail("integer expected for %s, got %s", range, describe(v))
	end

	if nbits <= 53 then
		return function(v)
			if type(v) ~= "number" then
				v = other(v)
				if type(v) == "cdata" then
					return (tonumber(v)) -- in range, so exact
				end
			end
			if v >= lo and v < hi and floor(v) == v then
				return v
			end
			return bad(v)
		end, range
	end
	return function(v)
		if type(v) ~= "number" then
			v = other(v)
			if type(v) == "cdata" then
				return v
			end
		end
		if v >= lo and v < hi and floor(v) == v then
			if v >= TWO63 then
				return (cast(u64_t, v))
			end
			return v
		end
		return bad(v)
	end, range
end

-- C's bool (and 1-bit bool bitfields): true, false, 1 or 0.
local function bool_in(v)
	if v == true or v == 1 then
		return 1
	elseif v == false or v == 0 then
		return 0
	elseif type(v) == "cdata" and tonumber(v) and (tonumber(v) == 0 or tonumber(v) == 1) then
		return tonumber(v)
	end
	fail("%s does not fit in bool (true, false, 1 or 0)", describe(v))
end

local u64_in = int_range(64, "u", "pointer")

local function ptr_in(v)
	if v == nil then
		return 0
	end
	if type(v) == "cdata" and not istype(u64_t, v) and not istype(s64_t, v) and
		tonumber(v) == nil then
		return cast(u64_t, v) -- a pointer
	end
	return u64_in(v)
end

local function float_in(v)
	if type(v) ~= "number" then
		fail("number expected, got %s", describe(v))
	end
	return v
end

-- ---- scalars out ----------------------------------------------------------------------

local function u64_out(v)
	if v <= TWO53 then
		return (tonumber(v))
	end
	return v
end

local function s64_out(v)
	if v <= TWO53 and v >= -TWO53 then
		return (tonumber(v))
	end
	return v
end

local function ident(v)
	return v
end

local function is_bool_out(v)
	return v ~= 0
end

-- A codec from its (p, off) functions: p is a uint8_t *, off a byte offset.
local function wrap(size, dec, enc, top_dec, top_enc)
	return {
		size = size,
		dec = dec,
		enc = enc,
		decode = top_dec or function(ptr)
			return (dec(cast(u8p, ptr), 0))
		end,
		encode = top_enc or function(v, ptr)
			local p = cast(u8p, ptr)
			fill(p, size)
			enc(v, p, 0)
		end,
	}
end

-- One C scalar: a single cast read or write, also at the top level.
local function scalar(ctype, size, out, inp)
	local pt = typeof(ctype .. " *")
	out = out or ident
	return wrap(size,
		function(p, off) return (out(cast(pt, p + off)[0])) end,
		function(v, p, off) cast(pt, p + off)[0] = inp(v) end,
		function(ptr) return (out(cast(pt, ptr)[0])) end,
		function(v, ptr) cast(pt, ptr)[0] = inp(v) end)
end

local INTS = {
	[1] = { "uint8_t", "int8_t" }, [2] = { "uint16_t", "int16_t" },
	[4] = { "uint32_t", "int32_t" }, [8] = { "uint64_t", "int64_t" },
}

-- An integer of size bytes; kind "u", "s" or "us" (see int_range). inp, when given,
-- turns other inputs (enum names) into integers first.
local function int_codec(size, kind, inp, what)
	local signed = kind == "s"
	local check = int_range(size * 8, kind, what or format("%s%d", signed and "s" or "u", size * 8))
	if inp then
		local first = inp
		inp = function(v)
			return (check(first(v)))
		end
	else
		inp = check
	end
	if size == 8 then
		-- stored through int64_t: the checker hands numbers >= 2^63 over as uint64_t
		local out = signed and s64_out or u64_out
		local pt = typeof(INTS[8][signed and 2 or 1] .. " *")
		return wrap(8,
			function(p, off) return (out(cast(pt, p + off)[0])) end,
			function(v, p, off) cast(s64p, p + off)[0] = inp(v) end,
			function(ptr) return (out(cast(pt, ptr)[0])) end,
			function(v, ptr) cast(s64p, ptr)[0] = inp(v) end)
	end
	return scalar(INTS[size][signed and 2 or 1], size, nil, inp)
end

-- Bytes as a Lua string, all size of them.
function M.raw(size)
	size = size or 0
	return wrap(size,
		function(p, off) return (ffi_string(p + off, size)) end,
		function(v, p, off)
			if type(v) ~= "string" then
				fail("string of at most %d bytes expected, got %s", size, describe(v))
			end
			if #v > size then
				fail("%d bytes do not fit in %d", #v, size)
			end
			copy(p + off, v, #v)
		end,
		function(ptr) return (ffi_string(cast(u8p, ptr), size)) end)
end

local NAMED = {
	u8 = function() return int_codec(1, "u") end,
	u16 = function() return int_codec(2, "u") end,
	u32 = function() return int_codec(4, "u") end,
	u64 = function() return int_codec(8, "u") end,
	s8 = function() return int_codec(1, "s") end,
	s16 = function() return int_codec(2, "s") end,
	s32 = function() return int_codec(4, "s") end,
	s64 = function() return int_codec(8, "s") end,
	bool = function() return scalar("uint8_t", 1, is_bool_out, bool_in) end,
	float = function() return scalar("float", 4, nil, float_in) end,
	double = function() return scalar("double", 8, nil, float_in) end,
}
NAMED.i8, NAMED.i16, NAMED.i32, NAMED.i64 = NAMED.s8, NAMED.s16, NAMED.s32, NAMED.s64
NAMED.f32, NAMED.f64 = NAMED.float, NAMED.double
local named_cache = {}

-- "u8".."u64", "s8".."s64", "bool", "float", "double", "bytes:N". nil for other names
-- (callers then look the name up in BTF).
function M.named(name)
	local c = named_cache[name]
	if c then
		return c
	end
	local make = NAMED[name]
	if make then
		c = make()
	else
		local n = type(name) == "string" and name:match("^bytes:(%d+)$")
		if not n then
			return nil
		end
		c = M.raw(tonumber(n))
	end
	named_cache[name] = c
	return c
end

-- ---- bitfields ------------------------------------------------------------------------

-- keep[i]: the bits of byte i (0-based from the field's first byte) that belong to
-- the neighbours, kept on encode.
local function byte_masks(shift, nbits, nbytes)
	local keep = {}
	for i = 0, nbytes - 1 do
		local m = 0
		for b = 0, 7 do
			local pos = i * 8 + b
			if pos >= shift and pos < shift + nbits then
				m = m + 2 ^ b
			end
		end
		keep[i] = 255 - m
	end
	return keep
end

-- A bitfield whose bytes fit a double exactly (up to 6), as generated straight-line
-- code: the byte count, shifts and masks are constants, so decode and encode have no
-- loop and stay in the trace of the struct around them. Doubles and 32-bit operations
-- on bytes only.
local function gen_small_bitfield(byte0, shift, nbits, nbytes, keep, signed, is_bool, conv)
	local span = 2 ^ nbits
	local src = { "local floor, bor, band, conv = ...", "local function dec(p, off)" }
	local sum = {}
	for i = 0, nbytes - 1 do
		sum[#sum + 1] = format("p[off + %d] * %d", byte0 + i, 256 ^ i)
	end
	src[#src + 1] = "local v = " .. concat(sum, " + ")
	src[#src + 1] = format("v = floor(v / %d) %% %d", 2 ^ shift, span)
	if signed then
		src[#src + 1] = format("if v >= %d then v = v - %d end", span / 2, span)
	end
	src[#src + 1] = is_bool and "return v ~= 0 end" or "return v end"
	src[#src + 1] = "local function enc(v, p, off)"
	-- conv checked the range: % makes negative values two's complement
	src[#src + 1] = format("v = (conv(v) %% %d) * %d", span, 2 ^ shift)
	src[#src + 1] = "local b"
	for i = 0, nbytes - 1 do
		src[#src + 1] = format("b = v %% 256 v = (v - b) / 256 " ..
			"p[off + %d] = bor(band(p[off + %d], %d), b)", byte0 + i, byte0 + i, keep[i])
	end
	src[#src + 1] = "end return dec, enc"
	return gen.chunk(concat(src, "\n"), "=ayac.codec.bitfield")(floor, bor, band, conv)
end

-- 64-bit cdata <-> two 32-bit halves (as numbers), through memory: a store to one view
-- of the union and a load from the other go through the same cdata, which the JIT's
-- alias analysis keeps in order (type punning through a union forces a reload).
local halves = ffi.new("union { int64_t i; uint64_t u; uint32_t h[2]; }")

-- The value of halves lo (0 .. 2^32 - 1) and hi (signed), beyond +-2^53.
local function wide_out(lo, hi, signed)
	if lo == 0 and (hi == 2097152 or hi == -2097152) then
		return hi * 4294967296 -- +-2^53, still a number
	end
	halves.h[0], halves.h[1] = lo, hi % 4294967296
	if signed then
		return halves.i
	end
	return halves.u
end

-- Wider fields (over 7 to 9 bytes, up to 64 bits): the same in two numbers, the low
-- 32 bits and the rest, so that every step stays exact in a double. Values beyond
-- +-2^53 come and go as int64_t/uint64_t cdata, split or joined through `halves`.
local function gen_wide_bitfield(byte0, shift, nbits, nbytes, keep, signed, conv)
	local hbits = nbits - 32 -- bits in the upper part (10 .. 32)
	local src = { "local floor, bor, band, type, H, conv, wide_out = ..." }
	src[#src + 1] = "local function dec(p, off)"
	local a, b = {}, {}
	for i = 0, 3 do
		a[#a + 1] = format("p[off + %d] * %d", byte0 + i, 256 ^ i)
	end
	for i = 4, nbytes - 1 do
		b[#b + 1] = format("p[off + %d] * %d", byte0 + i, 256 ^ (i - 4))
	end
	src[#src + 1] = "local lo = " .. concat(a, " + ")
	src[#src + 1] = "local hi = " .. concat(b, " + ")
	if shift > 0 then
		-- the low `shift` bits of hi belong to lo's top
		src[#src + 1] = format("local t = hi %% %d", 2 ^ shift)
		src[#src + 1] = format("lo = floor((lo + t * 4294967296) / %d)", 2 ^ shift)
		src[#src + 1] = format("hi = (hi - t) / %d", 2 ^ shift)
	end
	src[#src + 1] = format("hi = hi %% %d", 2 ^ hbits)
	if signed then
		src[#src + 1] = format("if hi >= %d then hi = hi - %d end", 2 ^ (hbits - 1), 2 ^ hbits)
	end
	src[#src + 1] = "if hi < 2097152 and hi >= -2097152 then return hi * 4294967296 + lo end"
	src[#src + 1] = format("return (wide_out(lo, hi, %s)) end", tostring(signed))
	src[#src + 1] = "local function enc(v, p, off)"
	src[#src + 1] = "v = conv(v)"
	src[#src + 1] = "local lo, hi"
	src[#src + 1] = "if type(v) == 'number' then lo = v % 4294967296 hi = (v - lo) / 4294967296"
	src[#src + 1] = "else H.i = v lo = H.h[0] hi = H.h[1] end"
	-- both parts as the field's bits, shifted into place: x holds bytes 0..3, z the rest
	src[#src + 1] = format("local x = lo * %d", 2 ^ shift)
	src[#src + 1] = "local xl = x % 4294967296"
	src[#src + 1] = format("local z = (x - xl) / 4294967296 + (hi %% %d) * %d", 2 ^ hbits, 2 ^ shift)
	src[#src + 1] = "local c"
	for i = 0, nbytes - 1 do
		local r = i < 4 and "xl" or "z"
		src[#src + 1] = format("c = %s %% 256 %s = (%s - c) / 256 " ..
			"p[off + %d] = bor(band(p[off + %d], %d), c)", r, r, r, byte0 + i, byte0 + i, keep[i])
	end
	src[#src + 1] = "end return dec, enc"
	return gen.chunk(concat(src, "\n"), "=ayac.codec.bitfield64")(floor, bor, band,
		type, halves, conv, wide_out)
end

-- nbits at bit_off (from the start of the enclosing value, little-endian), within bytes
-- that nothing else of this field touches; neighbours are kept on encode.
-- enum_in, for a bitfield of an enum type: value names to numbers (see build_enum), and
-- both readings of the bits unless the enum says signed.
local function bitfield(bit_off, nbits, signed, is_bool, enum_in)
	local byte0, shift = floor(bit_off / 8), bit_off % 8
	local nbytes = ceil((shift + nbits) / 8)
	local keep = byte_masks(shift, nbits, nbytes)
	local conv
	if is_bool and nbits == 1 then
		conv = bool_in
	else
		local kind = signed and "s" or enum_in and "us" or "u"
		conv = int_range(nbits, kind, format("%d-bit %s bitfield", nbits,
			kind == "s" and "signed" or kind == "u" and "unsigned" or "enum"))
		if enum_in then
			local check = conv
			conv = function(v)
				return (check(enum_in(v)))
			end
		end
	end
	if nbytes <= 6 then -- the whole span fits a double exactly
		return gen_small_bitfield(byte0, shift, nbits, nbytes, keep, signed, is_bool, conv)
	end
	-- up to 64 bits, over as many as 9 bytes
	return gen_wide_bitfield(byte0, shift, nbits, nbytes, keep, signed, conv)
end

-- ---- structs and arrays: where an encode failed --------------------------------------

-- The path in v to the member whose encode fails (".hdr.len", "[3].a"), or nil when
-- the value itself is refused. Runs the encoders again one member at a time: for error
-- messages only, never on the way of a value that encodes.
local function locate(c, v, p, off)
	if type(v) ~= "table" then
		return nil
	end
	if c.fields then
		for _, f in ipairs(c.fields) do
			local x = v[f.name]
			if x ~= nil and not pcall(f.enc, x, p, off + f.off) then
				local sub = f.sub and locate(f.sub, x, p, off + f.off)
				return "." .. f.name .. (sub or "")
			end
		end
	elseif c.items then
		local n, stride, sub = c.items.n, c.items.stride, c.items.sub
		for i = 1, n do
			local x = v[i]
			local at = off + (i - 1) * stride
			if x ~= nil and not pcall(sub.enc, x, p, at) then
				return format("[%d]", i) .. (locate(sub, x, p, at) or "")
			end
		end
	end
	return nil
end

-- A struct, union, section or array codec: the top-level encode names the member that
-- refused its value ("codec: struct ev: field 'hdr.len': 70000 does not fit in u16
-- (0..65535)"). fields / items describe the members for that.
local function composite(size, dec, enc, name, fields, items)
	local c = wrap(size, dec, enc)
	c.name, c.fields, c.items = name, fields, items
	contexts[c.encode] = function(l, msg)
		local where = l.v ~= nil and l.p ~= nil and locate(c, l.v, l.p, 0)
		if not where then
			return nil
		end
		where = where:gsub("^%.", "")
		return format("%s: %s '%s': %s", name, where:match("^%[") and "element" or "field",
			where, msg)
	end
	return c
end

-- ---- building from BTF ------------------------------------------------------------------

local caches = setmetatable({}, { __mode = "k" }) -- btf -> id -> codec
local build

local CHAR_NAMES = { char = true, ["signed char"] = true, ["unsigned char"] = true }

local function is_char(t)
	return t.kind == "int" and t.size == 1 and (t.char or CHAR_NAMES[t.name])
end

local function size_of(btf, id)
	local n, err = btf:resolve_size(id)
	if not n then
		fail("%s", err)
	end
	return n
end

local function build_int(t)
	if t.size > 8 or (t.size ~= 1 and t.size ~= 2 and t.size ~= 4 and t.size ~= 8) then
		return M.raw(t.size) -- __int128 and odd sizes: bytes
	end
	if t.bits ~= t.size * 8 or t.bit_offset ~= 0 then
		local dec, enc = bitfield(t.bit_offset, t.bits, t.signed, t.bool)
		return wrap(t.size, dec, enc)
	end
	if t.bool then
		return scalar(INTS[t.size][1], t.size, is_bool_out, bool_in)
	end
	return int_codec(t.size, t.signed and "s" or "u")
end

local function enum_name(t)
	return "enum " .. (t.name ~= "" and t.name or "(anon)")
end

-- Enum value names to their numbers; anything else is left to the range check.
local function enum_names(t)
	local names = {}
	for _, e in ipairs(t.values) do
		names[e.name] = e.value
	end
	return function(v)
		if type(v) == "string" then
			local n = names[v]
			if n == nil then
				fail("'%s' is not a value of %s", v, enum_name(t))
			end
			return n
		end
		return v
	end
end

local function build_enum(t)
	-- BTF says "signed" with kflag 1; kflag 0 is unsigned or, from clang before 15
	-- (which never sets it), unknown: both readings are taken.
	return int_codec(t.size, t.signed and "s" or "us", enum_names(t), enum_name(t))
end

local function build_float(t)
	if t.size == 4 then
		return scalar("float", 4, nil, float_in)
	elseif t.size == 8 then
		return scalar("double", 8, nil, float_in)
	end
	return M.raw(t.size)
end

-- Elements of char arrays given as tables: bytes in either reading of char.
local char_in = int_range(8, "us", "char")

pcall(ffi.cdef, "size_t strnlen(const char *s, size_t maxlen);")
pcall(ffi.cdef, "int memcmp(const void *s1, const void *s2, size_t n);")
local C = ffi.C
local charp = typeof("const char *")

-- split: inside a value too big for one trace (see build_uncached), trim with a loop,
-- where the JIT starts a new trace; otherwise with C calls, which stay in the trace.
local function char_array(n, split)
	local zeros = ffi.new("uint8_t[?]", math.max(n, 1))
	local dec
	if split then
		dec = function(p, off)
			local len = n
			while len > 0 and p[off + len - 1] == 0 do
				len = len - 1
			end
			return (ffi_string(p + off, len))
		end
	else
		dec = function(p, off)
			-- up to the first NUL, unless non-NUL bytes follow it (then all but the
			-- trailing NULs)
			local q = p + off
			local len = tonumber(C.strnlen(cast(charp, q), n))
			if len < n and C.memcmp(q + len, zeros, n - len) ~= 0 then
				len = n
				while p[off + len - 1] == 0 do
					len = len - 1
				end
			end
			return (ffi_string(q, len))
		end
	end
	return wrap(n, dec,
		function(v, p, off)
			if type(v) == "table" then
				for i = 1, n do
					local x = v[i]
					if x ~= nil then
						p[off + i - 1] = char_in(x)
					end
				end
				return
			end
			if type(v) ~= "string" then
				fail("string expected for char[%d], got %s", n, describe(v))
			end
			if #v > n then
				fail("string of %d bytes does not fit in char[%d]", #v, n)
			end
			copy(p + off, v, #v)
		end)
end

-- Arrays as generated code, so each array type has a function of its own: with one
-- shared closure, an array of arrays looks like recursion to the JIT, and arrays of
-- different element codecs make one call site polymorphic. Short arrays are unrolled.
local UNROLL_MAX = 16

local function gen_array(n, stride, edec, eenc)
	local src = { "local edec, eenc, type, fail, describe = ...", "local function dec(p, off)" }
	if n <= UNROLL_MAX then
		local items = {}
		for i = 1, n do
			items[i] = format("(edec(p, off + %d))", (i - 1) * stride)
		end
		src[#src + 1] = "return { " .. concat(items, ", ") .. " } end"
	else
		src[#src + 1] = format("local r = {} for i = 1, %d do r[i] = edec(p, off + (i - 1) * %d) end" ..
			" return r end", n, stride)
	end
	src[#src + 1] = "local function enc(v, p, off)"
	src[#src + 1] = format("if type(v) ~= 'table' then fail('table expected for an array of %d, got %%s', describe(v)) end", n)
	src[#src + 1] = format("if #v > %d then fail('%%d elements do not fit in an array of %d', #v) end", n, n)
	if n <= UNROLL_MAX then
		src[#src + 1] = "local x"
		for i = 1, n do
			src[#src + 1] = format("x = v[%d] if x ~= nil then eenc(x, p, off + %d) end", i,
				(i - 1) * stride)
		end
	else
		src[#src + 1] = format("for i = 1, %d do local x = v[i] if x ~= nil then eenc(x, p, off + (i - 1) * %d) end end", n, stride)
	end
	src[#src + 1] = "end return dec, enc"
	return gen.chunk(concat(src, "\n"), "=ayac.codec.array")(edec, eenc, type, fail,
		describe)
end

-- A C-like name of a type, for error messages: "struct ev", "__u32[4][2]".
local function type_name(btf, id)
	local dims = ""
	for _ = 1, MAX_DEPTH do
		local t = btf:type(id)
		if not t then
			break
		end
		local k = t.kind
		if k == "array" then
			dims, id = dims .. format("[%d]", t.nelems), t.elem_type
		elseif k == "const" or k == "volatile" or k == "restrict" or k == "type_tag" then
			id = t.type
		elseif k == "struct" or k == "union" or k == "enum" or k == "enum64" then
			return format("%s %s%s", k == "enum64" and "enum" or k,
				t.name ~= "" and t.name or "(anon)", dims)
		else
			return (t.name ~= "" and t.name or k) .. dims
		end
	end
	return "?" .. dims
end

local function build_array(btf, t, depth, split)
	local n = t.nelems
	local elem = btf:resolved(t.elem_type)
	if elem and is_char(elem) then
		return char_array(n, split)
	end
	local ec = build(btf, t.elem_type, depth + 1, split)
	local dec, enc = gen_array(n, ec.size, ec.dec, ec.enc)
	local c = composite(n * ec.size, dec, enc, type_name(btf, t.id),
		nil, { n = n, stride = ec.size, sub = ec })
	c.weight = n * (ec.weight or 1)
	return c
end

-- The member's bitfield, if it is one: (bit offset, bits, signed, bool) or nil.
local function member_bitfield(btf, m, bit_off)
	local mt = btf:resolved(m.type)
	local bits = m.bitfield_size
	if bits == 0 and mt and mt.kind == "int" and
		(mt.bits ~= mt.size * 8 or mt.bit_offset ~= 0) then
		-- kflag 0: the int's own encoding carries the width
		return bit_off + mt.bit_offset, mt.bits, mt.signed, mt.bool, nil
	end
	if bits == 0 and bit_off % 8 == 0 then
		return nil
	end
	if not mt or (mt.kind ~= "int" and mt.kind ~= "enum" and mt.kind ~= "enum64") then
		fail("member '%s' is a bitfield of %s", m.name, mt and mt.kind or "?")
	end
	if bits == 0 then
		bits = mt.size * 8
	end
	return bit_off, bits, mt.signed, mt.bool, mt.kind ~= "int" and enum_names(mt) or nil
end

-- Fields of a struct/union as C names them: anonymous struct/union members flattened.
local function collect_fields(btf, t, base_bits, out, depth, split)
	if depth > MAX_DEPTH then
		fail("type nesting deeper than %d (a loop?)", MAX_DEPTH)
	end
	for _, m in ipairs(t.members) do
		local bit_off = base_bits + m.bit_offset
		if m.name == "" then
			local mt = btf:resolved(m.type)
			if mt and (mt.kind == "struct" or mt.kind == "union") then
				collect_fields(btf, mt, bit_off, out, depth + 1, split)
			end -- else unnamed padding bits
		else
			local bo, bits, signed, is_bool, enum_in = member_bitfield(btf, m, bit_off)
			local f = { name = m.name }
			if bo then
				f.off = 0
				f.dec, f.enc = bitfield(bo, bits, signed, is_bool, enum_in)
				f.last = ceil((bo + bits) / 8)
			else
				local c = build(btf, m.type, depth + 1, split)
				f.off, f.dec, f.enc, f.sub = bit_off / 8, c.dec, c.enc, c
				f.last = f.off + c.size
			end
			out[#out + 1] = f
		end
	end
	return out
end

-- A misspelt field would otherwise be silently left zero, so encode refuses keys that
-- are not fields. OpenResty's LuaJIT has table.nkeys (compiled): the key count is
-- compared with the fields found, and only a table with more keys is walked. Without
-- it every value is walked with pairs (an inner loop the JIT compiles apart).
local has_nkeys, nkeys = pcall(require, "table.nkeys")
if not has_nkeys then
	nkeys = nil
end

-- Raises for the first key of v that is not a field.
local function check_keys(fields, v)
	for k in pairs(v) do
		if not fields.known[k] then
			fields.unknown(k)
		end
	end
end

-- Generated decode/encode: one call site per field, so each stays monomorphic for the
-- JIT. Beyond what a function's upvalues allow, a loop over the fields.
local GEN_MAX = 50
-- A record inlines its fields' code into the caller's trace; past this weight (about
-- fields, see weight_of) the whole would exceed LuaJIT's constants per trace (500), the
-- trace would abort again and again and the value would stay interpreted.
local HEAVY = 24

local function gen_fields(fields)
	local src = { "local F, nkeys, check_keys = ..." }
	for i = 1, #fields do
		src[#src + 1] = format("local d%d, e%d = F[%d].dec, F[%d].enc", i, i, i, i)
	end
	src[#src + 1] = "local type, fail = F.type, F.fail"
	src[#src + 1] = "local function dec(p, off) return {"
	for i, f in ipairs(fields) do
		src[#src + 1] = format("[%q] = d%d(p, off + %d),", f.name, i, f.off)
	end
	src[#src + 1] = "} end"
	src[#src + 1] = "local function enc(v, p, off)"
	src[#src + 1] = "if type(v) ~= 'table' then fail(v) end"
	src[#src + 1] = "local x, n = nil, 0"
	for i, f in ipairs(fields) do
		src[#src + 1] = format("x = v[%q] if x ~= nil then n = n + 1 e%d(x, p, off + %d) end",
			f.name, i, f.off)
	end
	src[#src + 1] = (nkeys and not fields.split) and "if nkeys(v) ~= n then check_keys(F, v) end" or
		"check_keys(F, v)"
	src[#src + 1] = "end"
	src[#src + 1] = "return dec, enc"
	local chunk = gen.chunk(concat(src, "\n"), "=ayac.codec")
	return chunk(fields, nkeys, check_keys)
end

local function loop_fields(fields, notable)
	local n = #fields
	return function(p, off)
		local r = {}
		for i = 1, n do
			local f = fields[i]
			r[f.name] = f.dec(p, off + f.off)
		end
		return r
	end, function(v, p, off)
		if type(v) ~= "table" then
			notable(v)
		end
		local found = 0
		for i = 1, n do
			local f = fields[i]
			local x = v[f.name]
			if x ~= nil then
				found = found + 1
				f.enc(x, p, off + f.off)
			end
		end
		if not nkeys or fields.split or nkeys(v) ~= found then
			check_keys(fields, v)
		end
	end
end

-- How much code a value's encode or decode inlines into a trace, roughly in fields.
local function weight_of(fields)
	local w = 0
	for _, f in ipairs(fields) do
		w = w + (f.sub and f.sub.weight or 1)
	end
	return w
end

local function build_record(btf, t, fields, what, split)
	for _, f in ipairs(fields) do
		if f.last > t.size then
			fail("%s: field '%s' ends at byte %d, past its %d bytes", what, f.name, f.last, t.size)
		end
	end
	local function notable(v)
		fail("table expected for %s, got %s", what, describe(v))
	end
	local dec, enc
	fields.known = {}
	for _, f in ipairs(fields) do
		fields.known[f.name] = true
	end
	function fields.unknown(k)
		fail("%s has no field '%s'", what, tostring(k))
	end
	fields.split = split
	if #fields <= GEN_MAX then
		fields.type, fields.fail = type, notable
		dec, enc = gen_fields(fields)
	else
		dec, enc = loop_fields(fields, notable)
	end
	local c = composite(t.size, dec, enc, what, fields)
	c.weight = weight_of(fields)
	return c
end

local function build_datasec(btf, t, depth)
	local fields = {}
	for _, v in ipairs(t.vars) do
		local var = btf:type(v.type)
		if var and var.kind == "var" then
			local c = build(btf, var.type, depth + 1)
			fields[#fields + 1] = { name = var.name, off = v.offset, dec = c.dec, enc = c.enc,
				last = v.offset + c.size, sub = c }
		end
	end
	return build_record(btf, t, fields, "section " .. t.name)
end

local function build_uncached(btf, id, depth, split)
	local t, err = btf:type(id)
	if not t then
		fail("%s", err)
	end
	local k = t.kind
	if k == "typedef" or k == "const" or k == "volatile" or k == "restrict" or
		k == "type_tag" or k == "var" then
		return build(btf, t.type, depth + 1, split)
	elseif k == "int" then
		return build_int(t)
	elseif k == "enum" or k == "enum64" then
		return build_enum(t)
	elseif k == "ptr" then
		return int_codec(8, "u", ptr_in, "pointer")
	elseif k == "float" then
		return build_float(t)
	elseif k == "array" then
		return build_array(btf, t, depth, split)
	elseif k == "struct" or k == "union" then
		local what = k .. " " .. (t.name ~= "" and t.name or "(anon)")
		local fields = collect_fields(btf, t, 0, {}, depth, split)
		if not split and weight_of(fields) > HEAVY then
			-- Too much for one trace: this value and everything in it check their keys
			-- with a loop, where the JIT splits the code into traces that fit.
			split = true
			fields = collect_fields(btf, t, 0, {}, depth, true)
		end
		return build_record(btf, t, fields, what, split)
	elseif k == "datasec" then
		return build_datasec(btf, t, depth)
	end
	fail("type [%d] %s '%s' holds no value", id, k, t.name)
end

-- split: build the variant whose records check their keys with a loop (see
-- build_uncached), cached apart.
build = function(btf, id, depth, split)
	if depth > MAX_DEPTH then
		fail("type nesting deeper than %d at type [%d] (a loop?)", MAX_DEPTH, id)
	end
	local cache = caches[btf]
	if not cache then
		cache = {}
		caches[btf] = cache
	end
	local key = split and -id - 1 or id
	local c = cache[key]
	if not c then
		c = build_uncached(btf, id, depth, split)
		-- the BTF's own idea of the size wins over the sum of the parts (padding)
		if c.size ~= nil and id ~= 0 then
			local n = size_of(btf, id)
			if n ~= c.size then
				local weight = c.weight
				if c.name then
					c = composite(n, c.dec, c.enc, c.name, c.fields, c.items)
				else
					c = wrap(n, c.dec, c.enc, c.decode)
				end
				c.weight = weight
			end
		end
		cache[key] = c
	end
	return c
end

-- The codec of BTF type id (cached per BTF and id). Raises an error for types that hold
-- no value (functions, void, forward declarations).
function M.for_type(btf, id)
	return build(btf, id, 0)
end

-- The codec of a named type: "struct event", "u32_t", "enum state"...
function M.for_name(btf, name)
	local id, err = btf:find(name)
	if not id then
		fail("%s", err)
	end
	return build(btf, id, 0)
end

return M
