-- examples/xdp_count.lua and examples/tc_drop.lua, run as a user would (the ayac
-- binary, inside a network namespace of a veth pair this spec creates), with traffic
-- from the other end: the table counts exactly the datagrams sent, the dropper keeps
-- exactly the ones to its port from arriving, and neither leaves anything attached
-- once stopped (SIGTERM, as `kill` does). The examples run until stopped, so nothing
-- here depends on how fast this machine is.

local ayac = require "ayac"
local h = require "helpers"
local net = require "net"

local ROOT = os.getenv("AYAC_ROOT") or "."
local N = 20

-- Starts an example inside ns; returns a handle with the pipe, the pid and its first
-- output line.
local function start(ns, script, args, env)
	local p = assert(io.popen(("%s nsenter --net=%s sh -c 'echo $$; exec %s %s/examples/%s %s' 2>&1")
		:format(env or "", ns.path, h.bin, ROOT, script, args)))
	local pid = tonumber(p:read("*l"))
	return { p = p, pid = pid, first = p:read("*l") or "" }
end

-- Reads output lines until one matches pattern (its captures returned), at most
-- max_lines of them; the examples print a few lines per interval.
local function read_until(run, pattern, max_lines)
	local seen = {}
	for _ = 1, max_lines or 400 do
		local line = run.p:read("*l")
		if not line then break end
		seen[#seen + 1] = line
		local c = { line:match(pattern) }
		if c[1] then return unpack(c) end
	end
	error("no line matching " .. pattern .. " in:\n" .. table.concat(seen, "\n"))
end

local function stop(run)
	os.execute("kill -TERM " .. run.pid)
	local out = run.p:read("*a")
	run.p:close()
	run.pid = nil
	return out
end


-- N datagrams from a to b's port (dropped by the running tc_drop.lua) and to port + 1
-- (kept): every kept one arrives, the tool counts N drops, none reach the dropped port.
-- Returns the dropped port's socket and the sender.
local function drops_one_port(a, b, run, port)
	local dropped_rx, kept_rx, tx = b:udp(port), b:udp(port + 1), a:udp()
	for i = 1, N do
		tx:send_to(b.addr, port, "drop " .. i)
		tx:send_to(b.addr, port + 1, "keep " .. i)
	end
	local kept = 0
	assert.truthy(net.wait(function() kept = kept + #kept_rx:drain(); return kept >= N end))
	assert.equal(N, kept)
	repeat until tonumber(read_until(run, "^dropped (%d+)$")) >= N
	assert.same({}, dropped_rx:drain())
	return dropped_rx, tx
end

describe("examples", function()
	local a, b, run
	before_each(function() a, b = net.pair() end)
	after_each(function()
		if run and run.pid then os.execute("kill -KILL " .. run.pid .. " 2>/dev/null") end
		run = nil
		net.cleanup()
	end)

	it("xdp_count.lua counts the datagrams per protocol, refreshing its table", function()
		run = start(b, "xdp_count.lua", "vb -m skb -i 0.1")
		assert.matches("^attached to vb %(xdp skb mode, via bpf_link%)", run.first)
		assert.not_equal("", b:xdp_shown("vb"))
		local rx, tx = b:udp(9100), a:udp()
		for i = 1, N do tx:send_to(b.addr, 9100, ("x"):rep(i)) end
		-- the counts only grow: wait for the table that has them all
		local packets, bytes
		repeat
			packets, bytes = read_until(run, "^  ipv4/udp%s+(%d+)%s+(%d+)$")
		until tonumber(packets) >= N
		assert.equal(N, tonumber(packets))
		-- each frame: 14 Ethernet + 20 IPv4 + 8 UDP + i payload bytes
		assert.equal(N * 42 + N * (N + 1) / 2, tonumber(bytes))
		assert.matches("vb  %d%d:%d%d:%d%d", read_until(run, "^(vb  .*)$"))
		assert.equal(N, #rx:drain())
		assert.matches("interrupted", stop(run))
		assert.equal("", b:xdp_shown("vb"))
	end)

	it("xdp_count.lua -n: prints that many tables, then detaches and exits", function()
		local out = h.capture(("nsenter --net=%s %s %s/examples/xdp_count.lua vb -i 0.05 -n 3 2>&1")
			:format(b.path, h.bin, ROOT))
		local tables = 0
		for _ in out:gmatch("protocol%s+packets%s+bytes") do tables = tables + 1 end
		assert.equal(3, tables)
		assert.equal("", b:xdp_shown("vb"))
	end)

	it("tc_drop.lua drops exactly the packets to its port, until stopped", function()
		run = start(a, "tc_drop.lua", "va 9201 -i 0.1")
		-- TC goes through a bpf_link from Linux 6.6 (TCX), through netlink before
		local via = ayac.features().links.tcx and "bpf_link" or "netlink"
		assert.matches("^dropping TCP and UDP to port 9201 leaving va %(tc egress via " .. via .. "%)",
			run.first)
		local dropped_rx, tx = drops_one_port(a, b, run, 9201)
		stop(run)
		assert.same({}, a:enter(ayac.tc_query, "va", "egress"))
		tx:send_to(b.addr, 9201, "after")
		assert.equal("after", dropped_rx:recv(5000))
	end)

	it("tc_drop.lua goes through netlink when TCX is off, and SIGTERM removes the filter", function()
		run = start(a, "tc_drop.lua", "va 9203 -i 0.1", "AYAC_FEATURES=tcx=0")
		assert.matches("via netlink", run.first, 1, true)
		assert.matches("tc_drop", a:filters("va", "egress"), 1, true)
		assert.matches("clsact", a:qdiscs("va"), 1, true)
		drops_one_port(a, b, run, 9203)
		stop(run)
		assert.equal("", a:filters("va", "egress"))
		assert.not_matches("clsact", a:qdiscs("va"))
	end)

	it("tc_drop.lua -d: stops by itself after that long", function()
		local out = h.capture(("nsenter --net=%s %s %s/examples/tc_drop.lua va 9204 -d 0.3 -i 0.1 2>&1")
			:format(a.path, h.bin, ROOT))
		assert.matches("dropped 0\n$", out)
		assert.same({}, a:enter(ayac.tc_query, "va", "egress"))
	end)
end)
