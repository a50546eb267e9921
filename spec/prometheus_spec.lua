-- lua/ayac/prometheus.lua: maps and tables as Prometheus text, checked by a parser of
-- the exposition format; a real map read through the fast path.
local prom = require "ayac.prometheus"
local check = require "prometheus_check"

describe("ayac.prometheus", function()
	it("writes a counter with a label per key, sorted, with HELP and TYPE", function()
		local text = assert(prom.counter({ [30] = 3, [4] = 1, [100] = 7 },
			{ name = "calls_total", help = "calls\\by pid\n", label = "pid" }))
		assert.are.equal(table.concat({
			"# HELP calls_total calls\\\\by pid\\n",
			"# TYPE calls_total counter",
			'calls_total{pid="4"} 1',
			'calls_total{pid="30"} 3',
			'calls_total{pid="100"} 7', "" }, "\n"), text)
		check.assert_valid(text)
	end)

	it("escapes label values and writes 64-bit values in full", function()
		local text = assert(prom.gauge({ ['a"b\\c\nd'] = 18446744073709551615ULL, ["\1"] = -2.5 },
			{ name = "g", label = "k" }))
		assert.matches('g{k="a\\"b\\\\c\\nd"} 18446744073709551615\n', text, 1, true)
		assert.matches('g{k="\\\\x01"} -2.5\n', text, 1, true)
		check.assert_valid(text)
	end)

	it("turns struct keys into labels, struct values into families, per-CPU into sums", function()
		local text = assert(prom.counter({
			[1] = { pkts = { 1, 2, 3 }, bytes = 100 },
			[2] = { pkts = { 4, 5, 6 }, bytes = 200 },
		}, { name = "net", label = "ifindex" }))
		local fams = check.assert_valid(text)
		assert.is_truthy(fams.net_bytes and fams.net_pkts)
		assert.matches('net_pkts{ifindex="2"} 15\n', text, 1, true)
		text = assert(prom.gauge({ [{ pid = 7, comm = "nginx" }] = 3 }, { name = "p",
			const_labels = { host = "h1" } }))
		assert.matches('p{comm="nginx",host="h1",pid="7"} 3\n', text, 1, true)
		text = assert(prom.counter({ 42 }, { name = "single", label = false }))
		assert.matches("\nsingle 42\n", text, 1, true)
	end)

	it("writes a log2 histogram (hist.bpf.h's buckets) as cumulative le buckets, +Inf, _sum, _count",
		function()
			-- slot 0 negative, 1 zero, 2 one, 3 two..three
			local text = assert(prom.histogram({ [0] = 1, [1] = 2, [3] = 4 },
				{ name = "lat", sum = 40, slots = 4 }))
			assert.are.equal(table.concat({
				"# TYPE lat histogram",
				'lat_bucket{le="-1"} 1',
				'lat_bucket{le="0"} 3',
				'lat_bucket{le="1"} 3',
				'lat_bucket{le="3"} 7',
				'lat_bucket{le="+Inf"} 7',
				"lat_sum 40",
				"lat_count 7", "" }, "\n"), text)
			check.assert_valid(text)
			text = assert(prom.histogram({ [11] = 1, [40] = 1 }, { name = "s", unit = 1e-9, slots = 12 }))
			assert.matches('s_bucket{le="1.023e-06"} 1\n', text, 1, true) -- 2^10 - 1 ns
			assert.matches('s_bucket{le="+Inf"} 2\n', text, 1, true) -- past the written slots
			check.assert_valid(text)
		end)

	it("writes linear histograms and one histogram per key of a keyed one", function()
		-- lhist(v, 0, 30, 10): 0 below, 1 [0,10), 2 [10,20), 3 [20,30), 4 at or above 30
		local text = assert(prom.histogram({ [1] = 2, [3] = 1, [4] = 5 },
			{ name = "sz", linear = { min = 0, max = 30, step = 10 } }))
		assert.matches('sz_bucket{le="-1"} 0\nsz_bucket{le="9"} 2\nsz_bucket{le="19"} 2\n' ..
			'sz_bucket{le="29"} 3\nsz_bucket{le="+Inf"} 8\n', text, 1, true)
		check.assert_valid(text)
		text = assert(prom.histogram({
			[{ comm = "nginx", slot = 2 }] = 1, [{ comm = "nginx", slot = 3 }] = 2,
			[{ comm = "curl", slot = 1 }] = 4 }, { name = "k", slots = 4 }))
		local fams = check.assert_valid(text)
		assert.matches('k_count{comm="curl"} 4\n', text, 1, true)
		assert.matches('k_bucket{comm="nginx",le="1"} 1\n', text, 1, true)
		assert.matches('k_count{comm="nginx"} 3\n', text, 1, true)
		assert.are.equal(2 * 6, #fams.k.samples) -- 4 buckets, +Inf, _count each
		assert.has_error(function() prom.histogram({}, { name = "x", linear = { min = 0, max = 5, step = 2 } }) end)
	end)

	it("refuses bad names and keys with clear errors", function()
		assert.has_error(function() prom.counter({}, { name = "1bad" }) end,
			"ayac.prometheus.counter: opts.name must be a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), got '1bad'")
		assert.has_error(function() prom.counter({}, { name = "ok", label = "__x" }) end)
		assert.has_error(function() prom.format({}, { name = "ok", type = "summary" }) end)
		local text, err, code = prom.histogram({ [70] = 1 }, { name = "h" })
		assert.is_nil(text)
		assert.matches("key 70 has no slot 0..65 of this layout", err, 1, true)
		assert.are.equal("EINVAL", code)
	end)

	it("reads a loaded map (hash and histogram array) through its pairs", function()
		local ayac = require "ayac"
		local m = assert(ayac.create_map{ type = "array", key = "u32", value = "u64", max_entries = 4 })
		m[1], m[2] = 5, 6
		local text = assert(prom.histogram(m, { name = "arr" }))
		check.assert_valid(text)
		assert.matches('arr_bucket{le="1"} 11\n', text, 1, true)
		m:close()
		local _, err = prom.counter(m, { name = "closed" })
		assert.is_truthy(err)
	end)
end)
