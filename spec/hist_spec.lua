-- Histograms and printing: ayac.hist/lhist/hist_of against fixed texts in bpftrace's
-- layout (the first two checked against Debian's bpftrace 0.17 itself), the buckets of
-- include/ayac/hist.bpf.h filled by a program from this process's lseek() calls, and
-- ayac.pretty / ayac.print_maps.
local ffi = require "ffi"
local h = require "helpers"
local ayac = require "ayac"
local hist = require "ayac.hist"

require("helpers").cdef([[
int getpid(void);
long lseek(int fd, long offset, int whence);
]])

local function lines(s)
	local t = {}
	for l in (s .. "\n"):gmatch("(.-)\n") do t[#t + 1] = l end
	return t
end

local function same_text(expected, got)
	assert.are.same(lines(expected), lines(got))
end

-- bpftrace -e 'BEGIN { @h = hist(-3); @h = hist(0); @h = hist(1); @h = hist(5);
--   @h = hist(5); @h = hist(1000); @h = hist(3000000000); exit(); }'
local BPFTRACE_HIST = [[
(..., 0)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
[0]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
[2, 4)                 0 |                                                    |
[4, 8)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[8, 16)                0 |                                                    |
[16, 32)               0 |                                                    |
[32, 64)               0 |                                                    |
[64, 128)              0 |                                                    |
[128, 256)             0 |                                                    |
[256, 512)             0 |                                                    |
[512, 1K)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
[1K, 2K)               0 |                                                    |
[2K, 4K)               0 |                                                    |
[4K, 8K)               0 |                                                    |
[8K, 16K)              0 |                                                    |
[16K, 32K)             0 |                                                    |
[32K, 64K)             0 |                                                    |
[64K, 128K)            0 |                                                    |
[128K, 256K)           0 |                                                    |
[256K, 512K)           0 |                                                    |
[512K, 1M)             0 |                                                    |
[1M, 2M)               0 |                                                    |
[2M, 4M)               0 |                                                    |
[4M, 8M)               0 |                                                    |
[8M, 16M)              0 |                                                    |
[16M, 32M)             0 |                                                    |
[32M, 64M)             0 |                                                    |
[64M, 128M)            0 |                                                    |
[128M, 256M)           0 |                                                    |
[256M, 512M)           0 |                                                    |
[512M, 1G)             0 |                                                    |
[1G, 2G)               0 |                                                    |
[2G, 4G)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
]]

-- bpftrace -e 'BEGIN { @l = lhist(5, 0, 100, 10); @l = lhist(55, 0, 100, 10);
--   @l = lhist(-1, 0, 100, 10); @l = lhist(1000, 0, 100, 10); exit(); }'
local BPFTRACE_LHIST = [[
(..., 0)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[0, 10)                1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[10, 20)               0 |                                                    |
[20, 30)               0 |                                                    |
[30, 40)               0 |                                                    |
[40, 50)               0 |                                                    |
[50, 60)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[60, 70)               0 |                                                    |
[70, 80)               0 |                                                    |
[80, 90)               0 |                                                    |
[90, 100)              0 |                                                    |
[100, ...)             1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
]]

describe("ayac.hist", function()
	it("prints raw values in bpftrace's layout, zero buckets included", function()
		same_text(BPFTRACE_HIST, ayac.hist_of({ -3, 0, 1, 5, 5, 1000, 3000000000 }))
	end)

	it("prints a table of bucket counts, big counts overflowing the column", function()
		same_text([[
[2, 4)          123456789 |                                                    |
[4, 8)                 0 |                                                    |
[8, 16)           999999 |                                                    |
[16, 32)               0 |                                                    |
[32, 64)        40000000000 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[64, 128)       20000000001 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
]], ayac.hist({ [3] = 123456789, [5] = 999999, [7] = 40000000000, [8] = 20000000001 }))
	end)

	it("keeps 64-bit counts exact", function()
		local big = 0xffffffffffffff00ULL
		local text = ayac.hist({ [65] = big, [64] = 1 })
		assert.matches("%[8E, 16E%)%s+18446744073709551360 |@+|", text)
		assert.matches("^%[4E, 8E%)%s+1 |%s+|", text)
	end)

	it("prints nothing for an empty histogram", function()
		assert.are.equal("", ayac.hist({}))
		assert.are.equal("", ayac.hist({ [4] = 0 }))
	end)

	it("labels nanoseconds with time units", function()
		same_text([[
[512ns, 1.02us)        1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[1.02us, 2.05us)       1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
]], ayac.hist_of({ 1000, 2000 }, { unit = "ns" }))
	end)

	it("prints one histogram per key, smallest total first", function()
		same_text([[
@lat[cat]: 
[2, 4)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|

@lat[bash]: 
[64, 128)              1 |@@@@@@@@@@@@@@@@@                                   |
[128, 256)             3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
]], ayac.hist({ cat = { [3] = 1 }, bash = { [8] = 1, [9] = 3 } }, { name = "@lat" }))
	end)

	it("buckets values as hist.bpf.h does", function()
		local cases = { [-5] = 0, [0] = 1, [1] = 2, [2] = 3, [3] = 3, [4] = 4, [1023] = 11, [1024] = 12 }
		for v, slot in pairs(cases) do assert.are.equal(slot, hist.slot(v)) end
		assert.are.equal(65, hist.slot(0xffffffffffffffffULL))
		assert.are.equal(0, hist.slot(-1LL))
		assert.are.equal(64, hist.slot(2 ^ 62))
		assert.are.equal(0, hist.lslot(-1, 0, 100, 10))
		assert.are.equal(1, hist.lslot(0, 0, 100, 10))
		assert.are.equal(10, hist.lslot(99, 0, 100, 10))
		assert.are.equal(11, hist.lslot(100, 0, 100, 10))
	end)

	it("raises on bad input", function()
		assert.has_error(function() ayac.hist(42) end)
		assert.has_error(function() ayac.hist({ [-1] = 3 }) end)
		assert.has_error(function() ayac.hist({ [1] = "x" }) end)
		assert.has_error(function() ayac.hist({}, { unit = "parsecs" }) end)
		assert.has_error(function() ayac.lhist({}, 0, 100, 0) end)
		assert.has_error(function() ayac.lhist({}, 10, 10, 1) end)
		assert.has_error(function() ayac.hist_of({ "x" }) end)
	end)
end)

describe("ayac.lhist", function()
	it("prints linear buckets in bpftrace's layout", function()
		same_text(BPFTRACE_LHIST, ayac.hist_of({ 5, 55, -1, 1000 }, { min = 0, max = 100, step = 10 }))
	end)

	it("labels multiples of 1K and 1M as bpftrace 0.17 does", function()
		same_text([[
[1K, 1536)             1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[1536, 2K)             0 |                                                    |
[2K, 2560)             1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
]], ayac.lhist({ [3] = 1, [5] = 1 }, 0, 4096, 512))
	end)
end)

-- Values the lseek program sees: every edge of the log2 and linear buckets.
local VALUES = { -7, -1, 0, 1, 2, 3, 4, 7, 8, 9, 99, 100, 1023, 1024, 2 ^ 31, 2 ^ 40, 2 ^ 52 }

describe("hist.bpf.h and print_maps", function()
	local obj, link
	setup(function()
		obj = assert(ayac.load(h.bpf("toolkit"), { globals = { target_tgid = ffi.C.getpid() } }))
		link = assert(obj:program("on_lseek"):attach())
		for _, v in ipairs(VALUES) do ffi.C.lseek(-1, v, 0) end
		for _ = 1, 3 do ffi.C.lseek(-1, 5, 1) end -- whence 1: a second key
	end)
	teardown(function()
		link:detach()
		obj:close()
	end)

	it("buckets in BPF exactly as the printer numbers them", function()
		local expect = {}
		for _, v in ipairs(VALUES) do
			local s = hist.slot(v)
			expect[s] = (expect[s] or 0) + 1
		end
		expect[hist.slot(5)] = (expect[hist.slot(5)] or 0) + 3
		local got = {}
		for slot, n in obj:map("h_log2"):pairs() do
			if n ~= 0 then got[slot] = n end
		end
		assert.are.same(expect, got)
		local sum = {}
		for slot, per_cpu in obj:map("h_pcpu"):pairs() do
			local n = 0
			for _, c in ipairs(per_cpu) do n = n + c end
			if n ~= 0 then sum[slot] = n end
		end
		assert.are.same(expect, sum)
		assert.are.equal(ayac.hist(expect), ayac.hist(obj:map("h_log2")))
		assert.are.equal(ayac.hist(expect), ayac.hist(obj:map("h_pcpu")))
	end)

	it("prints a linear map and a keyed map", function()
		local all = {}
		for _, v in ipairs(VALUES) do all[#all + 1] = v end
		for _ = 1, 3 do all[#all + 1] = 5 end
		assert.are.equal(ayac.hist_of(all, { min = 0, max = 100, step = 10 }),
			ayac.lhist(obj:map("h_lin"), 0, 100, 10))
		local keyed = ayac.hist(obj:map("h_keyed"))
		assert.matches("^@h_keyed%[1%]: \n%[4, 8%)%s+3 |@+|\n\n@h_keyed%[0%]: \n", keyed)
		assert.are.equal(ayac.hist_of(VALUES), keyed:match("@h_keyed%[0%]: \n(.*)$"))
	end)

	it("prints every map as bpftrace prints them on exit", function()
		local f = assert(io.tmpfile())
		ayac.print_maps(obj, f)
		f:seek("set")
		local text = f:read("*a")
		f:close()
		local expect = "@calls[1]: 3\n@calls[0]: 17\n" ..
			ayac.hist(obj:map("h_keyed")) .. "\n" ..
			"@h_lin: \n" .. ayac.lhist(obj:map("h_lin"), 0, 100, 10) .. "\n" ..
			"@h_log2: \n" .. ayac.hist(obj:map("h_log2")) .. "\n" ..
			"@h_pcpu: \n" .. ayac.hist(obj:map("h_pcpu")) .. "\n" ..
			"@stack_ids[0]: 0\n@stack_ids[1]: 0\n@stack_ids[2]: 0\n"
		same_text(expect, text)
	end)
end)

describe("ayac.pretty", function()
	it("prints nested tables with sorted keys, on one line when short", function()
		assert.are.equal('{ 1, 2, [10] = 5, a = "x", b = { c = true } }',
			ayac.pretty({ 1, 2, b = { c = true }, a = "x", [10] = 5 }))
	end)

	it("prints 64-bit integers plainly, strings raw at the top and quoted inside", function()
		assert.are.equal("18446744073709551615", ayac.pretty(0xffffffffffffffffULL))
		assert.are.equal("-5", ayac.pretty(-5LL))
		assert.are.equal("a\nb", ayac.pretty("a\nb"))
		assert.are.equal('{ "a\\nb" }', ayac.pretty({ "a\nb" }))
		assert.are.equal('{ ["end"] = 2, ["not an id"] = 1 }', ayac.pretty({ ["not an id"] = 1, ["end"] = 2 }))
		assert.are.equal("1048576", ayac.pretty(2 ^ 20))
		assert.are.equal("0.5", ayac.pretty(0.5))
	end)

	it("bounds depth and width, and marks cycles", function()
		assert.are.equal("{ 1, { 2, {…} } }", ayac.pretty({ 1, { 2, { 3 } } }, { depth = 2 }))
		local t = {}
		for i = 1, 10 do t[i] = i end
		assert.are.equal("{ 1, 2, 3, … 7 more }", ayac.pretty(t, { width = 3 }))
		local c = {}
		c.self = c
		assert.are.equal("{ self = <cycle> }", ayac.pretty(c))
	end)

	it("indents what does not fit a line", function()
		local t = { name = string.rep("x", 40), list = {} }
		for i = 1, 30 do t.list[i] = i * 1000 end
		assert.are.equal([[
{
  list = {
    1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 11000, 12000,
    13000, 14000, 15000, 16000, 17000, 18000, 19000, 20000, 21000, 22000,
    23000, 24000, 25000, 26000, 27000, 28000, 29000, 30000
  },
  name = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
}]], ayac.pretty(t))
	end)

	it("prints stacks one frame a line", function()
		local frames = { { addr = 1ULL, name = "inner", offset = 4 }, { addr = 2ULL, name = "outer", offset = 0 } }
		assert.are.equal("    inner+4\n    outer+0", ayac.pretty(frames))
	end)
end)
