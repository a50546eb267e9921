-- TC classifiers on a veth pair between two network namespaces this spec creates:
-- ingress (on b's vb) and egress (on a's va) count exactly the UDP datagrams sent,
-- through TCX links and through netlink (clsact + cls_bpf, direct action), a dropping
-- classifier keeps them from the socket, detach removes exactly the filter it added
-- (`tc filter show`) and the clsact qdisc only when ayac created it and nothing else
-- uses it, before/after order TCX programs, and ayac.tc_query sees both kinds.

local ayac = require "ayac"
local net = require "net"

local BUILD = os.getenv("AYAC_BUILD") or "build"
local OBJ = BUILD .. "/spec/bpf/net_xdp_tc.bpf.o"
local PORT = 7002
local N = 25
local SLOT = { tc_in = 2, tc_out = 3, a = 4, b = 5, order = 6, dropped = 7 }

local function count(obj, slot)
	return tonumber(obj:map("counts"):get(slot) or 0)
end

local function until_count(obj, slot, n)
	return net.wait(function() return count(obj, slot) >= n end, 10) and count(obj, slot)
end

local function received(rx, n)
	local got = 0
	net.wait(function()
		got = got + #rx:drain()
		return got >= n
	end, 10)
	return got
end

-- TCX is Linux 6.6: older kernels (the 6.1 of the matrix) skip what only TCX does, and a
-- 6.6+ kernel that says it has no TCX fails instead of skipping.
local function no_tcx()
	if ayac.features().links.tcx then return false end
	assert(not (require "kernel").at_least(6, 6), "kernel 6.6+ without TCX")
	pending("needs TCX (Linux 6.6); kernel " .. (require "kernel").release)
	return true
end

describe("tc", function()
	local a, b, obj, rx, tx
	before_each(function()
		a, b = net.pair()
		obj = assert(ayac.load(OBJ, { globals = { target_port = PORT } }))
		rx, tx = b:udp(PORT), a:udp()
	end)
	after_each(function()
		if obj then obj:close() end
		net.cleanup()
	end)

	local function send(n)
		for i = 1, n do assert(tx:send_to(b.addr, PORT, "datagram " .. i)) end
	end

	local function attach(ns, name, target)
		target.ifname = target.ifname or ns.dev
		return ns:enter(function() return obj:program(name):attach(target) end)
	end

	for _, netlink in ipairs({ false, true }) do
		local via = netlink and "netlink" or "tcx"
		it("counts exactly the datagrams at ingress and egress through " .. via, function()
			if not netlink and no_tcx() then return end
			local ingress = assert(attach(b, "tc_in_count", { netlink = netlink }))
			local egress = assert(attach(a, "tc_out_count", { netlink = netlink }))
			assert.equal("ingress", ingress:info().direction)
			assert.equal("egress", egress:info().direction)
			assert.equal(netlink and "netlink" or "bpf_link", ingress:info().via)
			send(N)
			assert.equal(N, until_count(obj, SLOT.tc_in, N))
			assert.equal(N, until_count(obj, SLOT.tc_out, N))
			assert.equal(N, received(rx, N))
			local q = b:enter(ayac.tc_query, "vb", "ingress")
			assert.equal(1, #q)
			assert.equal(via, q[1].via)
			assert.equal(obj:program("tc_in_count"):id(), q[1].prog_id)
			if netlink then
				assert.is_true(q[1].direct_action)
				assert.matches("handle 0x" .. ("%x"):format(ingress:info().handle) ..
					" tc_in_count", b:filters("vb", "ingress"), 1, true)
				assert.matches("tc_out_count", a:filters("va", "egress"), 1, true)
				assert.matches("clsact", b:qdiscs("vb"), 1, true)
			else
				assert.equal(ingress:info().id, q[1].link_id)
			end
			ingress:detach()
			egress:detach()
			-- Exactly what was added is gone, the qdisc ayac made with it.
			assert.equal("", b:filters("vb", "ingress"))
			assert.equal("", a:filters("va", "egress"))
			assert.not_matches("clsact", b:qdiscs("vb"))
			assert.not_matches("clsact", a:qdiscs("va"))
			assert.same({}, b:enter(ayac.tc_query, "vb", "ingress"))
			send(N)
			assert.equal(N, received(rx, N))
			assert.equal(N, count(obj, SLOT.tc_in))
		end)
	end

	it("drops with TC_ACT_SHOT at egress", function()
		local link = assert(attach(a, "tc_drop", { direction = "egress" }))
		send(N)
		assert.equal(N, until_count(obj, SLOT.dropped, N))
		assert.same({}, rx:drain())
		link:detach()
		send(N)
		assert.equal(N, received(rx, N))
	end)

	it("keeps a clsact qdisc and filters it did not make", function()
		b:tc("qdisc add dev vb clsact")
		b:tc("filter add dev vb ingress prio 60000 u32 match u32 0 0 classid 1:1")
		local link = assert(attach(b, "tc_in_count", { netlink = true }))
		send(N)
		assert.equal(N, until_count(obj, SLOT.tc_in, N))
		link:detach()
		assert.matches("clsact", b:qdiscs("vb"), 1, true)
		local filters = b:filters("vb", "ingress")
		assert.matches("pref 60000 u32", filters, 1, true)
		assert.not_matches("tc_in_count", filters)
	end)

	it("removes the qdisc it made only when its last filter goes", function()
		local one = assert(attach(b, "tc_a", { direction = "ingress", netlink = true }))
		local two = assert(attach(b, "tc_b", { direction = "egress", netlink = true }))
		one:detach()
		assert.matches("clsact", b:qdiscs("vb"), 1, true) -- two still uses it
		assert.matches("tc_b", b:filters("vb", "egress"), 1, true)
		two:detach()
		assert.not_matches("clsact", b:qdiscs("vb"))
	end)

	it("takes a handle and priority (netlink), and refuses a taken one", function()
		local link = assert(attach(b, "tc_a", { direction = "ingress", handle = 5, priority = 3 }))
		local info = link:info()
		assert.equal("netlink", info.via)
		assert.equal(5, info.handle)
		assert.equal(3, info.priority)
		assert.matches("pref 3 bpf chain 0 handle 0x5 tc_a", b:filters("vb", "ingress"), 1, true)
		local again, msg, code = attach(b, "tc_b", { direction = "ingress", handle = 5, priority = 3 })
		assert.is_nil(again)
		assert.equal("EEXIST", code)
		assert.matches("handle 0x5 and priority 3", msg, 1, true)
		assert.matches("tc_a", b:filters("vb", "ingress"), 1, true)
		link:detach()
		assert.equal("", b:filters("vb", "ingress"))
	end)

	it("orders TCX programs with before and after", function()
		if no_tcx() then return end
		local first = assert(attach(b, "tc_a", { direction = "ingress" }))
		local second = assert(attach(b, "tc_b", { direction = "ingress", before = first }))
		send(1)
		assert.truthy(until_count(obj, SLOT.order, 1))
		assert.equal(21, count(obj, SLOT.order))
		local q = b:enter(ayac.tc_query, "vb", "ingress")
		assert.same({ "tc_b", "tc_a" }, { q[1].name, q[2].name })
		second:detach()
		local third = assert(attach(b, "tc_b", { direction = "ingress",
			after = obj:program("tc_a") }))
		obj:map("counts"):set(SLOT.order, 0)
		send(1)
		assert.truthy(until_count(obj, SLOT.order, 1))
		assert.equal(12, count(obj, SLOT.order))
		third:detach()
		first:detach()
		local link, msg, code = attach(b, "tc_b", { direction = "ingress", before = obj:program("tc_a") })
		assert.is_nil(link)
		assert.equal("ENOENT", code)
		assert.matches("before", msg, 1, true)
		link, msg, code = attach(b, "tc_b", { direction = "ingress", before = true, netlink = true })
		assert.is_nil(link)
		assert.equal("EINVAL", code)
	end)

	it("reports a bad or missing direction, a missing interface, an action program", function()
		local link, msg, code = attach(b, "tc_a", {})
		assert.is_nil(link)
		assert.equal("EINVAL", code)
		assert.matches("needs a direction", msg, 1, true)
		link, msg, code = attach(b, "tc_a", { direction = "sideways" })
		assert.is_nil(link)
		assert.equal("EINVAL", code)
		assert.matches("bad direction 'sideways'", msg, 1, true)
		assert.matches("tc_a", msg, 1, true)
		link, msg, code = attach(b, "tc_a", { direction = "ingress", ifname = "nosuchif0" })
		assert.is_nil(link)
		assert.equal("ENODEV", code)
		link, msg, code = attach(b, "tc_action", { direction = "ingress" })
		assert.is_nil(link)
		assert.equal("EOPNOTSUPP", code)
		local q, qmsg, qcode = b:enter(ayac.tc_query, "vb", "up")
		assert.is_nil(q)
		assert.equal("EINVAL", qcode)
		assert.matches("bad direction", qmsg)
	end)

	it("takes the direction from the section (tc/ingress, tc/egress)", function()
		assert.equal("tcx_ingress", obj:program("tc_in_count").attach_type)
		assert.equal("tcx_egress", obj:program("tc_out_count").attach_type)
		assert.is_nil(obj:program("tc_a").attach_type)
		local link = assert(attach(a, "tc_out_count", {}))
		assert.equal("egress", link:info().direction)
		link:detach()
	end)

	it("says when the kernel has no netkit", function()
		if ayac.features().links.netkit then
			pending("this kernel has netkit; making a netkit device needs iproute2 6.7")
			return
		end
		local link, msg, code = attach(b, "tc_a", { netkit = "primary" })
		assert.is_nil(link)
		assert.equal("EOPNOTSUPP", code)
		assert.matches("no netkit", msg, 1, true)
	end)
end)
