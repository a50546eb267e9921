-- The codec's hot paths, in ns per call (median of rounds), run by the ayac host:
--
--   ./ayac bench/codec.lua [build dir] [rounds] [case]
--
-- Encodes and decodes of a few shapes (a u32, a u64, a struct of bitfields with 40-
-- and 60-bit members, a struct of every kind of field) and map get/set with number
-- keys. Each loop runs well past the JIT's hot threshold, so this measures compiled
-- code (decode loops store into the buffer, so its loads are not hoisted out of them).
-- Each case runs in a process of its own (the traces of one case change the next
-- one's), or only the case named. CPU time, so a busy machine disturbs it less. Not
-- part of `make test` or `make bench`.
local ayac = require "ayac"
local codec = require "ayac.codec"
local ffi = require "ffi"
local lib = dofile((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/lib.lua")

-- CPU time of this process (the machine may be busy): microseconds.
pcall(ffi.cdef, "struct bench_timespec { long tv_sec; long tv_nsec; };")
pcall(ffi.cdef, "int clock_gettime(int clk, struct bench_timespec *ts);")
local ts = ffi.new("struct bench_timespec")
local function cpu_us()
	ffi.C.clock_gettime(2, ts) -- CLOCK_PROCESS_CPUTIME_ID
	return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local build = arg[1] or "build"
local rounds = tonumber(arg[2]) or 7
local only = arg[3]
local N = 1000000

local btf = assert(ayac.btf.load(build .. "/spec/bpf/codec_types.bpf.o"))
local bits = codec.for_name(btf, "struct codec_bits")
local all = codec.for_name(btf, "struct codec_all")
local u32, u64 = codec.named("u32"), codec.named("u64")

local bits_v = { lo = 5, mid = 1000, neg = -9, hi = 16000, flag = 1, wide = 0x12345678ab,
	swide = -2, yes = true, shade = 200 }
local all_v = { u8v = 255, s8v = -3, u16v = 65000, s16v = -300, u32v = 4000000000,
	s32v = -70000, u64v = 0xfedcba9876543210ULL, s64v = -2, name = "hello",
	arr = { 1, 2, 3, 4 }, inner = { a = 7, b = -7 }, color = 200, ok = true, bits = bits_v }

-- Each case is its own function (its own trace), given a buffer and the iteration count.
local cases = {
	{ "u32 encode", function(b, n) for i = 1, n do u32.encode(i, b) end end },
	{ "u64 encode", function(b, n) for i = 1, n do u64.encode(i, b) end end },
	{ "u64 decode", function(b, n) local s = 0 for i = 1, n do b[200 + i % 8] = 0 s = s + u64.decode(b) end return s end },
	{ "bits encode", function(b, n) for _ = 1, n do bits.encode(bits_v, b) end end },
	{ "bits decode", function(b, n) local s = 0 for i = 1, n do b[200 + i % 8] = 0 local d = bits.decode(b) s = s + d.lo + d.wide + d.swide + d.shade end return s end },
	{ "all encode", function(b, n) for _ = 1, n do all.encode(all_v, b) end end },
	{ "all decode", function(b, n) local s = 0 for i = 1, n do b[200 + i % 8] = 0 s = s + all.decode(b).u8v end return s end },
}

local obj = assert(ayac.load(build .. "/spec/bpf/maps.bpf.o"))
local m = obj:map("hash_u64")
cases[#cases + 1] = { "map set+get", function(_, n)
	local s = 0
	for i = 1, n do
		m:set(i % 8, i)
		s = s + m:get(i % 8)
	end
	return s
end, N / 10 }

local buf = ffi.new("uint8_t[256]")
all.encode(all_v, buf)
if not only then
	print(("%-14s %14s"):format("case", "ns/call (CPU)"))
	for _, c in ipairs(cases) do
		local p = assert(io.popen(("%s %s %s %d '%s'"):format(arg[-1] or "./ayac", arg[0], build,
			rounds, c[1])))
		io.write(p:read("*a"))
		p:close()
	end
	obj:close()
	return
end
for _, c in ipairs(cases) do
	local name, f, n = c[1], c[2], c[3] or N
	if name == only then
		f(buf, 1000) -- warm up: compile
		local t = {}
		for r = 1, rounds do
			local t0 = cpu_us()
			f(buf, n)
			t[r] = (cpu_us() - t0) * 1000 / n
		end
		print(("%-14s %14.1f"):format(name, lib.median(t)))
	end
end
obj:close()
