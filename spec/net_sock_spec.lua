-- Programs on sockets, socket maps, network namespaces and netfilter hooks
-- (spec/bpf/net_sock.bpf.c): a socket filter truncates and drops datagrams on a socket
-- of this process, sk_reuseport picks the socket of a reuseport group, sk_lookup steers
-- connections to a chosen socket, sk_msg on a sockmap passes, redirects and drops,
-- sk_skb counts, flow_dissector and netfilter links come and go, and lirc_mode2 says
-- what is wrong. Namespace-wide programs go on namespaces this spec creates.

local ayac = require "ayac"
local net = require "net"

local BUILD = os.getenv("AYAC_BUILD") or "build"
local OBJ = BUILD .. "/spec/bpf/net_sock.bpf.o"
local SLOT = { filter = 0, reuseport = 1, lookup = 2, msg = 3, skb = 4, dissect = 5, nf = 6 }
local MODE = { pass = 0, redirect = 1, drop = 2 }
local N = 10

local function count(obj, slot)
	return tonumber(obj:map("counts"):get(slot) or 0)
end

-- netfilter programs are Linux 6.4: on older kernels (the matrix's 6.1) the object
-- loads without nf_count, and the netfilter case is pending.
local HAS_NF = ayac.features().prog_types.netfilter

local function load(globals)
	return assert(ayac.load(OBJ, { globals = globals,
		autoload = not HAS_NF and { nf_count = false } or nil }))
end

describe("sockets", function()
	local obj
	after_each(function()
		if obj then obj:close() end
		obj = nil
		net.cleanup()
	end)

	describe("socket_filter", function()
		-- The filter keeps `keep` bytes from the UDP header on (8 bytes), 0 drops.
		for _, case in ipairs({ { keep = 12, want = "hell" }, { keep = 0, want = nil } }) do
			it(("keeps %d bytes of each datagram (from the UDP header)"):format(case.keep), function()
				obj = load({ keep = case.keep })
				local rx, tx = net.udp("127.0.0.1", 0), net.udp("127.0.0.1", 0)
				local link = assert(obj:program("truncate_or_drop"):attach { socket = rx })
				assert.equal("setsockopt", link:info().via)
				assert.equal("socket_filter", link.kind)
				for i = 1, N do tx:send_to("127.0.0.1", rx:port(), "hello world " .. i) end
				assert.truthy(net.wait(function() return count(obj, SLOT.filter) >= N end))
				local got = rx:drain()
				if case.want then
					assert.equal(N, #got)
					for _, d in ipairs(got) do assert.equal(case.want, d) end
				else
					assert.same({}, got)
				end
				assert.is_true(link:detach())
				tx:send_to("127.0.0.1", rx:port(), "hello world")
				assert.equal("hello world", rx:recv(5000))
				assert.equal(N, count(obj, SLOT.filter))
			end)
		end

		it("takes a socket fd or an object with getfd(), and refuses what is no socket", function()
			obj = load({ keep = 12 })
			local rx, tx = net.udp("127.0.0.1", 0), net.udp("127.0.0.1", 0)
			local link = assert(obj:program("truncate_or_drop"):attach { socket = rx:getfd() })
			tx:send_to("127.0.0.1", rx:port(), "hello world")
			assert.equal("hell", rx:recv(5000))
			link:detach()
			local f = assert(io.open("/dev/null"))
			local nil_, msg, code = obj:program("truncate_or_drop"):attach { socket = 0 }
			f:close()
			assert.is_nil(nil_)
			assert.equal("ENOTSOCK", code)
			assert.matches("truncate_or_drop", msg, 1, true)
			assert.has_error(function() obj:program("truncate_or_drop"):attach { socket = "x" } end)
			assert.has_error(function() obj:program("truncate_or_drop"):attach {} end)
		end)
	end)

	it("sk_reuseport picks the socket in slot 1 of the group", function()
		obj = load()
		local s0 = net.udp("127.0.0.1", 0, { reuseport = true })
		local s1 = net.udp("127.0.0.1", s0:port(), { reuseport = true })
		local tx = net.udp("127.0.0.1", 0)
		local socks = obj:map("reuse_socks")
		assert.is_true(socks:set(0, s0))
		assert.is_true(socks:set(1, s1:getfd()))
		local link = assert(obj:program("pick_second"):attach { socket = s0 })
		assert.equal("sk_reuseport", link.kind)
		for i = 1, N do tx:send_to("127.0.0.1", s0:port(), "r" .. i) end
		assert.truthy(net.wait(function() return count(obj, SLOT.reuseport) >= N end))
		local got1 = 0
		assert.truthy(net.wait(function() got1 = got1 + #s1:drain(); return got1 >= N end))
		assert.equal(N, got1)
		assert.same({}, s0:drain())
		link:detach()
	end)

	it("sk_lookup steers connections to a chosen socket, in a namespace of its own", function()
		local ns = net.netns("ayac_l")
		local port = 7399
		obj = load({ target_port = port })
		local chosen = ns:enter(net.tcp_listen, "127.0.0.1", 0)
		assert.is_true(obj:map("lookup_socks"):set(0, chosen))
		local link = assert(obj:program("steer"):attach { netns = ns.path })
		assert.equal("sk_lookup", link:info().attach_type)
		local c = ns:enter(net.tcp_connect, "127.0.0.1", port) -- nothing listens on port
		assert.truthy(c)
		assert.truthy(chosen:accept(5000))
		assert.equal(1, count(obj, SLOT.lookup))
		link:detach()
		local nothing, msg = ns:enter(net.tcp_connect, "127.0.0.1", port)
		assert.is_nil(nothing)
		assert.matches("refused", msg)
	end)

	describe("sk_msg on a sockmap", function()
		local srv, c1, a1, c2, socks
		before_each(function()
			obj = load()
			srv = net.tcp_listen("127.0.0.1", 0)
			c1 = assert(net.tcp_connect("127.0.0.1", srv:port()))
			a1 = assert(srv:accept())
			c2 = assert(net.tcp_connect("127.0.0.1", srv:port()))
			assert(srv:accept())
			socks = obj:map("socks")
		end)

		it("passes, redirects to another socket, and drops", function()
			local link = assert(obj:program("msg_verdict"):attach { map = socks })
			assert.equal("sk_msg_verdict", link:info().attach_type)
			assert.is_true(socks:set(0, c1))
			assert.is_true(socks:set(1, c2))
			assert.is_number(socks:get(0)) -- the socket's cookie
			assert.equal(5, c1:send("plain"))
			assert.equal("plain", a1:recv(5000))
			obj:map("msg_mode"):set(0, MODE.redirect)
			assert.equal(10, c1:send("redirected"))
			assert.equal("redirected", c2:recv(5000)) -- into c2's own receive queue
			assert.is_nil(a1:recv(0))
			obj:map("msg_mode"):set(0, MODE.drop)
			local sent, msg = c1:send("dropped")
			assert.is_nil(sent)
			assert.matches("Permission denied", msg) -- EACCES: the verdict refused it
			assert.is_nil(a1:recv(0))
			assert.equal(3, count(obj, SLOT.msg))
			assert.is_true(link:detach())
		end)

		it("sk_skb stream verdicts see what the sockets receive", function()
			local link = assert(obj:program("skb_verdict"):attach { map = socks })
			assert.equal("sk_skb_stream_verdict", link:info().attach_type)
			assert.is_true(socks:set(0, a1))
			assert.equal(5, c1:send("hello"))
			assert.equal("hello", a1:recv(5000))
			assert.truthy(count(obj, SLOT.skb) >= 1)
			link:detach()
		end)

		it("refuses maps that are no sockmap, and programs of other kinds", function()
			local link, msg, code = obj:program("msg_verdict"):attach { map = obj:map("counts") }
			assert.is_nil(link)
			assert.equal("EINVAL", code)
			assert.matches("sockmap or sockhash", msg, 1, true)
			assert.has_error(function() obj:program("msg_verdict"):attach {} end)
			assert.has_error(function() obj:program("msg_verdict"):attach { map = 3 } end)
		end)
	end)

	it("flow_dissector: a netns link, gone on detach", function()
		local ns = net.netns("ayac_f")
		obj = load()
		local link = assert(obj:program("dissect"):attach { netns = ns.path })
		assert.equal("flow_dissector", link:info().attach_type)
		local id = obj:program("dissect"):id()
		assert.matches("flow_dissector:%s+id " .. id, ns:run("bpftool net show"))
		link:detach()
		assert.not_matches("id " .. id, ns:run("bpftool net show"))
		local bad, msg, code = obj:program("dissect"):attach { netns = "/etc/hostname" }
		assert.is_nil(bad)
		assert.equal("EINVAL", code)
		assert.matches("network namespace", msg, 1, true)
	end)

	it("netfilter: counts the IPv4 packets at local_in of a namespace", function()
		if not HAS_NF then
			assert(not (require "kernel").at_least(6, 4), "kernel 6.4+ without netfilter programs")
			pending("needs netfilter programs (Linux 6.4); kernel " .. (require "kernel").release)
			return
		end
		local ns = net.netns("ayac_n")
		obj = load()
		local link = assert(ns:enter(function()
			return obj:program("nf_count"):attach { pf = "ipv4", hooknum = "local_in", priority = -100 }
		end))
		assert.equal("netfilter", link:info().attach_type)
		local rx, tx = ns:udp(9000), ns:udp(0)
		for i = 1, N do tx:send_to("127.0.0.1", 9000, "n" .. i) end
		assert.truthy(net.wait(function() return count(obj, SLOT.nf) >= N end))
		assert.equal(N, count(obj, SLOT.nf)) -- only ours: the namespace is new
		assert.equal(N, #rx:drain())
		link:detach()
		for i = 1, N do tx:send_to("127.0.0.1", 9000, "n" .. i) end
		local got = 0
		assert.truthy(net.wait(function() got = got + #rx:drain(); return got >= N end))
		assert.equal(N, count(obj, SLOT.nf))
		local bad, msg, code = obj:program("nf_count"):attach { pf = "ipv4", hooknum = "nope" }
		assert.is_nil(bad)
		assert.equal("EINVAL", code)
		assert.matches("bad hooknum 'nope'", msg, 1, true)
		assert.has_error(function() obj:program("nf_count"):attach { hooknum = 1 } end)
	end)

	it("lirc_mode2: a missing device is ENOENT, naming it", function()
		local lirc = assert(ayac.open(BUILD .. "/spec/bpf/net_lirc.bpf.o"))
		local prog = lirc:program("lirc_decode")
		assert.equal("lirc_mode2", prog.attach_type)
		local link, msg, code = prog:attach { device = "/dev/ayac_no_lirc" }
		assert.is_nil(link)
		assert.equal("ENOENT", code)
		assert.matches("'/dev/ayac_no_lirc'", msg, 1, true)
		assert.matches("lirc_decode", msg, 1, true)
		-- a device that is there, and a program that is not loaded (this kernel may
		-- have no lirc_mode2 programs at all): the program is what is missing
		link, msg, code = prog:attach { device = "/dev/null" }
		assert.is_nil(link)
		assert.equal("EBADF", code)
		assert.matches("not loaded", msg, 1, true)
		assert.has_error(function() prog:attach {} end)
		lirc:close()
	end)
end)
