-- examples/xdp_count.lua and examples/tc_drop.lua, run as a user would (the ayac
-- binary, inside a network namespace of a veth pair this spec creates), with traffic
-- from the other end: the table counts exactly the datagrams sent, the dropper keeps
-- exactly the ones to its port from arriving, and neither leaves anything attached.
local h = require "helpers"
local net = require "net"

local ROOT = os.getenv("AYAC_ROOT") or "."
local N = 20

-- Runs an example inside ns; returns the pipe and its first line.
local function run(ns, script, args)
	local p = assert(io.popen(("nsenter --net=%s %s %s/examples/%s %s 2>&1"):format(ns.path,
		h.bin, ROOT, script, args)))
	return p, p:read("*l") or ""
end

local function rest(p)
	local out = p:read("*a")
	p:close()
	return out
end

describe("examples", function()
	local a, b
	before_each(function() a, b = net.pair() end)
	after_each(net.cleanup)

	it("xdp_count.lua counts the datagrams per protocol, refreshing its table", function()
		local p, first = run(b, "xdp_count.lua", "vb -m skb -i 0.2 -n 8")
		assert.matches("^attached to vb %(xdp skb mode, via bpf_link%)", first)
		assert.not_equal("", b:xdp_shown("vb"))
		local rx, tx = b:udp(9100), a:udp()
		for i = 1, N do tx:send_to(b.addr, 9100, ("x"):rep(i)) end
		local out = rest(p)
		local tables = 0
		for _ in out:gmatch("protocol%s+packets%s+bytes") do tables = tables + 1 end
		assert.equal(8, tables)
		local last = out:match(".*vb  %d%d:%d%d:%d%d\n(.*)$")
		local packets, bytes = last:match("ipv4/udp%s+(%d+)%s+(%d+)")
		assert.equal(N, tonumber(packets))
		-- each frame: 14 Ethernet + 20 IPv4 + 8 UDP + i payload bytes
		assert.equal(N * 42 + N * (N + 1) / 2, tonumber(bytes))
		assert.equal(N, #rx:drain())
		assert.equal("", b:xdp_shown("vb"))
	end)

	it("tc_drop.lua drops exactly the packets to its port, and detaches at the end", function()
		local p, first = run(a, "tc_drop.lua", "va 9201 -d 1.5 -i 0.25")
		assert.matches("^dropping TCP and UDP to port 9201 leaving va %(tc egress via bpf_link%)", first)
		local dropped_rx, kept_rx, tx = b:udp(9201), b:udp(9202), a:udp()
		for i = 1, N do
			tx:send_to(b.addr, 9201, "drop " .. i)
			tx:send_to(b.addr, 9202, "keep " .. i)
		end
		local kept = 0
		assert.truthy(net.wait(function() kept = kept + #kept_rx:drain(); return kept >= N end))
		assert.equal(N, kept)
		local out = rest(p)
		assert.equal(N, tonumber(out:match(".*dropped (%d+)")))
		assert.same({}, dropped_rx:drain())
		assert.same({}, a:enter(require("ayac").tc_query, "va", "egress"))
		tx:send_to(b.addr, 9201, "after")
		assert.equal("after", dropped_rx:recv(5000))
	end)

	it("tc_drop.lua goes through netlink when TCX is off, and SIGTERM removes the filter", function()
		local p = assert(io.popen(("AYAC_FEATURES=tcx=0 nsenter --net=%s sh -c 'echo $$; exec %s %s/examples/tc_drop.lua va 9203' 2>&1"):format(a.path, h.bin, ROOT)))
		local pid = tonumber(p:read("*l"))
		local first = p:read("*l") or ""
		assert.matches("via netlink", first, 1, true)
		assert.matches("tc_drop", a:filters("va", "egress"), 1, true)
		os.execute("kill -TERM " .. pid)
		rest(p)
		assert.equal("", a:filters("va", "egress"))
		assert.not_matches("clsact", a:qdiscs("va"))
	end)
end)
