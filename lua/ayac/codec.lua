-- ayac.codec: values in BPF memory <-> Lua values, driven by BTF (see DESIGN.md, Map).
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
-- cdata integers, booleans for integers, and value names for enums.
--
-- Each type is compiled once into closures (struct codecs are generated Lua, one call
-- site per field), so decode and encode never look at BTF again.
local ffi = require "ffi"
local bit = require "bit"
require "ayac.btf" -- the type-table cache

local cast, fill, copy, ffi_string, typeof = ffi.cast, ffi.fill, ffi.copy, ffi.string, ffi.typeof
local band, bor, bnot, lshift, rshift = bit.band, bit.bor, bit.bnot, bit.lshift, bit.rshift
local type, error, tostring, tonumber, ipairs, setmetatable = type, error, tostring, tonumber,
	ipairs, setmetatable
local floor, ceil = math.floor, math.ceil
local concat, format = table.concat, string.format

local M = {}

local u8p = typeof("uint8_t *")
local u64_t, s64_t = typeof("uint64_t"), typeof("int64_t")
local TWO53 = 2 ^ 53
local MAX_DEPTH = 64

local function fail(msg, ...)
	error("codec: " .. format(msg, ...), 0)
end

local function describe(v)
	if type(v) == "string" then
		return format("string %q", #v > 32 and v:sub(1, 32) .. "..." or v)
	end
	return type(v) .. " " .. tostring(v)
end

-- ---- scalars ------------------------------------------------------------------------

local function u64_out(v)
	if v <= TWO53 then
		return tonumber(v)
	end
	return v
end

local function s64_out(v)
	if v <= TWO53 and v >= -TWO53 then
		return tonumber(v)
	end
	return v
end

local function int_in(v)
	local tv = type(v)
	if tv == "number" then
		if v % 1 ~= 0 then
			fail("integer expected, got %s", describe(v))
		end
		return v
	elseif tv == "cdata" then
		return v
	elseif tv == "boolean" then
		return v and 1 or 0
	end
	fail("integer expected, got %s", describe(v))
end

-- 64-bit slots: LuaJIT converts a negative double to uint64_t as garbage, so numbers go
-- through int64_t below 0 (two's complement, as C converts) and uint64_t above 2^63.
local function int64_in(v)
	v = int_in(v)
	if type(v) == "number" then
		if v < 0 then
			if v < -2 ^ 63 then
				fail("%s does not fit in 64 bits", describe(v))
			end
			return cast(s64_t, v)
		elseif v >= 2 ^ 63 then
			if v >= 2 ^ 64 then
				fail("%s does not fit in 64 bits", describe(v))
			end
			return cast(u64_t, v)
		end
	end
	return v
end

local function bool_in(v)
	if type(v) == "boolean" then
		return v and 1 or 0
	end
	return int_in(v)
end

local function ptr_in(v)
	if v == nil then
		return 0
	end
	if type(v) == "cdata" then
		return cast(u64_t, v)
	end
	return int_in(v)
end

local function float_in(v)
	if type(v) ~= "number" then
		fail("number expected, got %s", describe(v))
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
			return dec(cast(u8p, ptr), 0)
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
		function(p, off) return out(cast(pt, p + off)[0]) end,
		function(v, p, off) cast(pt, p + off)[0] = inp(v) end,
		function(ptr) return out(cast(pt, ptr)[0]) end,
		function(v, ptr) cast(pt, ptr)[0] = inp(v) end)
end

local INTS = {
	[1] = { "uint8_t", "int8_t" }, [2] = { "uint16_t", "int16_t" },
	[4] = { "uint32_t", "int32_t" }, [8] = { "uint64_t", "int64_t" },
}

local function int_codec(size, signed, inp)
	local ct = INTS[size][signed and 2 or 1]
	local out = size == 8 and (signed and s64_out or u64_out) or nil
	if size == 8 then
		local first = inp or int_in
		inp = first == int_in and int64_in or function(v)
			return int64_in(first(v))
		end
	end
	return scalar(ct, size, out, inp or int_in)
end

-- Bytes as a Lua string, all size of them.
function M.raw(size)
	size = size or 0
	return wrap(size,
		function(p, off) return ffi_string(p + off, size) end,
		function(v, p, off)
			if type(v) ~= "string" then
				fail("string of at most %d bytes expected, got %s", size, describe(v))
			end
			if #v > size then
				fail("%d bytes do not fit in %d", #v, size)
			end
			copy(p + off, v, #v)
		end,
		function(ptr) return ffi_string(cast(u8p, ptr), size) end)
end

local NAMED = {
	u8 = function() return int_codec(1, false) end,
	u16 = function() return int_codec(2, false) end,
	u32 = function() return int_codec(4, false) end,
	u64 = function() return int_codec(8, false) end,
	s8 = function() return int_codec(1, true) end,
	s16 = function() return int_codec(2, true) end,
	s32 = function() return int_codec(4, true) end,
	s64 = function() return int_codec(8, true) end,
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

-- A bitfield whose bytes fit a double exactly, as generated straight-line code: the
-- byte count, shifts and masks are constants, so decode and encode have no loop and
-- stay in the trace of the struct around them.
local function gen_small_bitfield(byte0, shift, nbits, nbytes, keep, signed, is_bool)
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
	src[#src + 1] = format("v = (conv(v) %% %d) * %d", span, 2 ^ shift)
	src[#src + 1] = "local b"
	for i = 0, nbytes - 1 do
		src[#src + 1] = format("b = v %% 256 v = (v - b) / 256 " ..
			"p[off + %d] = bor(band(p[off + %d], %d), b)", byte0 + i, byte0 + i, keep[i])
	end
	src[#src + 1] = "end return dec, enc"
	return assert(loadstring(concat(src, "\n"), "=ayac.codec.bitfield"))(floor, bor, band,
		function(v)
			v = bool_in(v)
			if type(v) == "cdata" then
				v = tonumber(v)
			end
			return v
		end)
end

-- The same for wider fields (up to 64 bits over up to 9 bytes), in uint64 arithmetic.
local function gen_wide_bitfield(byte0, shift, nbits, nbytes, keep, signed)
	local mask = nbits >= 64 and bnot(0ULL) or lshift(1ULL, nbits) - 1
	local src = { "local cast, u64, s64, bor, band, lshift, rshift, tonumber, mask, notmask, sign," ..
		" out, conv = ...", "local function dec(p, off)" }
	local parts = {}
	for i = 0, math.min(nbytes, 8) - 1 do
		parts[#parts + 1] = format("lshift(cast(u64, p[off + %d]), %d)", byte0 + i, 8 * i)
	end
	src[#src + 1] = "local v = bor(0ULL, " .. concat(parts, ", ") .. ")"
	src[#src + 1] = format("v = rshift(v, %d)", shift)
	if nbytes > 8 then
		src[#src + 1] = format("v = bor(v, lshift(cast(u64, p[off + %d]), %d))", byte0 + 8,
			64 - shift)
	end
	src[#src + 1] = "v = band(v, mask)"
	if signed then
		if nbits < 64 then
			src[#src + 1] = "if band(v, sign) ~= 0ULL then v = bor(v, notmask) end"
		end
		src[#src + 1] = "return out(cast(s64, v)) end"
	else
		src[#src + 1] = "return out(v) end"
	end
	src[#src + 1] = "local function enc(v, p, off)"
	src[#src + 1] = "local u = band(cast(u64, conv(v)), mask)"
	for i = 0, nbytes - 1 do
		local sh = i * 8 - shift
		local b = sh < 0 and format("lshift(u, %d)", -sh) or
			sh < 64 and format("rshift(u, %d)", sh) or "0ULL"
		src[#src + 1] = format("p[off + %d] = bor(band(p[off + %d], %d), tonumber(band(%s, 0xff)))",
			byte0 + i, byte0 + i, keep[i], b)
	end
	src[#src + 1] = "end return dec, enc"
	return assert(loadstring(concat(src, "\n"), "=ayac.codec.bitfield64"))(cast, u64_t, s64_t,
		bor, band, lshift, rshift, tonumber, mask, bnot(mask),
		nbits > 0 and lshift(1ULL, nbits - 1) or 0ULL, signed and s64_out or u64_out,
		function(v) return int64_in(bool_in(v)) end)
end

-- nbits at bit_off (from the start of the enclosing value, little-endian), within bytes
-- that nothing else of this field touches; neighbours are kept on encode.
local function bitfield(bit_off, nbits, signed, is_bool)
	local byte0, shift = floor(bit_off / 8), bit_off % 8
	local nbytes = ceil((shift + nbits) / 8)
	local keep = {}
	for i = 0, nbytes - 1 do
		local m = 0
		for b = 0, 7 do
			local pos = i * 8 + b
			if pos >= shift and pos < shift + nbits then
				m = m + 2 ^ b
			end
		end
		keep[i] = band(bnot(m), 0xff)
	end
	local dec, enc
	if nbytes <= 6 then -- the whole span fits a double exactly
		dec, enc = gen_small_bitfield(byte0, shift, nbits, nbytes, keep, signed, is_bool)
	else -- up to 64 bits, over as many as 9 bytes: uint64 arithmetic
		dec, enc = gen_wide_bitfield(byte0, shift, nbits, nbytes, keep, signed)
	end
	return dec, enc
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
	return int_codec(t.size, t.signed)
end

local function build_enum(t)
	local names = {}
	for _, e in ipairs(t.values) do
		names[e.name] = e.value
	end
	local function enum_in(v)
		if type(v) == "string" then
			local n = names[v]
			if n == nil then
				fail("'%s' is not a value of enum %s", v, t.name ~= "" and t.name or "(anon)")
			end
			return n
		end
		return int_in(v)
	end
	return int_codec(t.size, t.signed, enum_in)
end

local function build_float(t)
	if t.size == 4 then
		return scalar("float", 4, nil, float_in)
	elseif t.size == 8 then
		return scalar("double", 8, nil, float_in)
	end
	return M.raw(t.size)
end

local function char_array(n)
	return wrap(n,
		function(p, off)
			local len = n
			while len > 0 and p[off + len - 1] == 0 do
				len = len - 1
			end
			return ffi_string(p + off, len)
		end,
		function(v, p, off)
			if type(v) == "table" then
				for i = 1, n do
					local x = v[i]
					if x ~= nil then
						p[off + i - 1] = int_in(x)
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
	src[#src + 1] = format("for i = 1, %d do local x = v[i] if x ~= nil then eenc(x, p, off + (i - 1) * %d) end end", n, stride)
	src[#src + 1] = "end return dec, enc"
	return assert(loadstring(concat(src, "\n"), "=ayac.codec.array"))(edec, eenc, type, fail,
		describe)
end

local function build_array(btf, t, depth)
	local n = t.nelems
	local elem = btf:resolved(t.elem_type)
	if elem and is_char(elem) then
		return char_array(n)
	end
	local ec = build(btf, t.elem_type, depth + 1)
	local dec, enc = gen_array(n, ec.size, ec.dec, ec.enc)
	return wrap(n * ec.size, dec, enc)
end

-- The member's bitfield, if it is one: (bit offset, bits, signed, bool) or nil.
local function member_bitfield(btf, m, bit_off)
	local mt = btf:resolved(m.type)
	local bits = m.bitfield_size
	if bits == 0 and mt and mt.kind == "int" and
		(mt.bits ~= mt.size * 8 or mt.bit_offset ~= 0) then
		-- kflag 0: the int's own encoding carries the width
		return bit_off + mt.bit_offset, mt.bits, mt.signed, mt.bool
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
	return bit_off, bits, mt.signed, mt.bool
end

-- Fields of a struct/union as C names them: anonymous struct/union members flattened.
local function collect_fields(btf, t, base_bits, out, depth)
	if depth > MAX_DEPTH then
		fail("type nesting deeper than %d (a loop?)", MAX_DEPTH)
	end
	for _, m in ipairs(t.members) do
		local bit_off = base_bits + m.bit_offset
		if m.name == "" then
			local mt = btf:resolved(m.type)
			if mt and (mt.kind == "struct" or mt.kind == "union") then
				collect_fields(btf, mt, bit_off, out, depth + 1)
			end -- else unnamed padding bits
		else
			local bo, bits, signed, is_bool = member_bitfield(btf, m, bit_off)
			local f = { name = m.name }
			if bo then
				f.off = 0
				f.dec, f.enc = bitfield(bo, bits, signed, is_bool)
				f.last = ceil((bo + bits) / 8)
			else
				local c = build(btf, m.type, depth + 1)
				f.off, f.dec, f.enc = bit_off / 8, c.dec, c.enc
				f.last = f.off + c.size
			end
			out[#out + 1] = f
		end
	end
	return out
end

-- Generated decode/encode: one call site per field, so each stays monomorphic for the
-- JIT. Beyond what a function's upvalues allow, a loop over the fields.
local GEN_MAX = 50

local function gen_fields(fields)
	local src = { "local F = ..." }
	for i = 1, #fields do
		src[#src + 1] = format("local d%d, e%d = F[%d].dec, F[%d].enc", i, i, i, i)
	end
	src[#src + 1] = "local type, fail, known, unknown, pairs = F.type, F.fail, F.known, F.unknown, pairs"
	src[#src + 1] = "local function dec(p, off) return {"
	for i, f in ipairs(fields) do
		src[#src + 1] = format("[%q] = d%d(p, off + %d),", f.name, i, f.off)
	end
	src[#src + 1] = "} end"
	src[#src + 1] = "local function enc(v, p, off)"
	src[#src + 1] = "if type(v) ~= 'table' then fail(v) end"
	src[#src + 1] = "local x"
	for i, f in ipairs(fields) do
		src[#src + 1] = format("x = v[%q] if x ~= nil then e%d(x, p, off + %d) end",
			f.name, i, f.off)
	end
	-- A misspelt field would otherwise be silently left zero.
	src[#src + 1] = "for k in pairs(v) do if not known[k] then unknown(k) end end"
	src[#src + 1] = "end"
	src[#src + 1] = "return dec, enc"
	local chunk = assert(loadstring(concat(src, "\n"), "=ayac.codec"))
	return chunk(fields)
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
		for i = 1, n do
			local f = fields[i]
			local x = v[f.name]
			if x ~= nil then
				f.enc(x, p, off + f.off)
			end
		end
		for k in pairs(v) do
			if not fields.known[k] then
				fields.unknown(k)
			end
		end
	end
end

local function build_record(btf, t, fields, what)
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
	if #fields <= GEN_MAX then
		fields.type, fields.fail = type, notable
		dec, enc = gen_fields(fields)
	else
		dec, enc = loop_fields(fields, notable)
	end
	return wrap(t.size, dec, enc)
end

local function build_datasec(btf, t, depth)
	local fields = {}
	for _, v in ipairs(t.vars) do
		local var = btf:type(v.type)
		if var and var.kind == "var" then
			local c = build(btf, var.type, depth + 1)
			fields[#fields + 1] = { name = var.name, off = v.offset, dec = c.dec, enc = c.enc,
				last = v.offset + c.size }
		end
	end
	return build_record(btf, t, fields, "section " .. t.name)
end

local function build_uncached(btf, id, depth)
	local t, err = btf:type(id)
	if not t then
		fail("%s", err)
	end
	local k = t.kind
	if k == "typedef" or k == "const" or k == "volatile" or k == "restrict" or
		k == "type_tag" or k == "var" then
		return build(btf, t.type, depth + 1)
	elseif k == "int" then
		return build_int(t)
	elseif k == "enum" or k == "enum64" then
		return build_enum(t)
	elseif k == "ptr" then
		return int_codec(8, false, ptr_in)
	elseif k == "float" then
		return build_float(t)
	elseif k == "array" then
		return build_array(btf, t, depth)
	elseif k == "struct" or k == "union" then
		local what = k .. " " .. (t.name ~= "" and t.name or "(anon)")
		return build_record(btf, t, collect_fields(btf, t, 0, {}, depth), what)
	elseif k == "datasec" then
		return build_datasec(btf, t, depth)
	end
	fail("type [%d] %s '%s' holds no value", id, k, t.name)
end

build = function(btf, id, depth)
	if depth > MAX_DEPTH then
		fail("type nesting deeper than %d at type [%d] (a loop?)", MAX_DEPTH, id)
	end
	local cache = caches[btf]
	if not cache then
		cache = {}
		caches[btf] = cache
	end
	local c = cache[id]
	if not c then
		c = build_uncached(btf, id, depth)
		-- the BTF's own idea of the size wins over the sum of the parts (padding)
		if c.size ~= nil and id ~= 0 then
			local n = size_of(btf, id)
			if n ~= c.size then
				c = wrap(n, c.dec, c.enc, c.decode)
			end
		end
		cache[id] = c
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
