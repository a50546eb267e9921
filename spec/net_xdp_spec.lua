-- XDP on a veth pair between two network namespaces this spec creates: programs count
-- exactly the UDP datagrams sent to their port (spec/bpf/net_xdp_tc.bpf.c), XDP_DROP
-- keeps them from the socket, skb and drv mode, bpf_link and netlink, an occupied slot
-- is refused naming its program, replace swaps atomically, detach removes exactly what
-- was attached (`ip link show`), and ayac.xdp_query sees it all.

local ayac = require "ayac"
local net = require "net"

local BUILD = os.getenv("AYAC_BUILD") or "build"
local OBJ = BUILD .. "/spec/bpf/net_xdp_tc.bpf.o"
local PORT = 7001
local N = 25
local SLOT = { xdp = 0, xdp_b = 1, dropped = 7 }

local function load()
	return assert(ayac.load(OBJ, { globals = { target_port = PORT } }))
end

local function count(obj, slot)
	return tonumber(obj:map("counts"):get(slot) or 0)
end

-- Sends n datagrams from a to b's port; returns b's receiving socket.
local function traffic(a, b, n, rx)
	rx = rx or b:udp(PORT)
	local tx = a:udp()
	for i = 1, n do assert(tx:send_to(b.addr, PORT, "datagram " .. i)) end
	return rx
end

local function until_count(obj, slot, n)
	return net.wait(function() return count(obj, slot) >= n end, 10) and count(obj, slot)
end

-- Every datagram that arrived, waiting until n did (or the deadline).
local function received(rx, n)
	local got = {}
	net.wait(function()
		for _, d in ipairs(rx:drain()) do got[#got + 1] = d end
		return #got >= n
	end, 10)
	return #got
end

describe("xdp", function()
	local a, b, obj
	before_each(function()
		a, b = net.pair()
		obj = load()
	end)
	after_each(function()
		if obj then obj:close() end
		net.cleanup()
	end)

	local function attach(name, target)
		target.ifname = target.ifname or "vb"
		return b:enter(function() return obj:program(name):attach(target) end)
	end

	for _, mode in ipairs({ "skb", "drv" }) do
		it("counts exactly the datagrams sent, in " .. mode .. " mode, and stops on detach", function()
			local link = assert(attach("xdp_count", { mode = mode }))
			local info = link:info()
			assert.equal("bpf_link", info.via)
			assert.equal(mode, info.mode)
			assert.equal("xdp", info.attach_type)
			assert.equal("prog/xdp id " .. obj:program("xdp_count"):id(),
				b:xdp_shown("vb"):gsub("^(%S+) (%d+)", "%1 id %2"))
			local rx = traffic(a, b, N)
			assert.equal(N, until_count(obj, SLOT.xdp, N))
			assert.equal(N, received(rx, N))
			assert.is_true(link:detach())
			assert.equal("", b:xdp_shown("vb"))
			traffic(a, b, N, rx)
			assert.equal(N, received(rx, N))
			assert.equal(N, count(obj, SLOT.xdp))
		end)
	end

	it("drops with XDP_DROP: nothing reaches the socket until detach", function()
		local link = assert(attach("xdp_drop", {}))
		local rx = traffic(a, b, N)
		assert.equal(N, until_count(obj, SLOT.dropped, N))
		assert.same({}, rx:drain())
		link:detach()
		traffic(a, b, N, rx)
		assert.equal(N, received(rx, N))
	end)

	it("through netlink when asked: detach removes it, and only it", function()
		local link = assert(attach("xdp_count", { netlink = true, mode = "skb" }))
		local info = link:info()
		assert.equal("netlink", info.via)
		assert.equal("skb", info.mode)
		assert.is_nil(info.id) -- no bpf_link behind it
		local rx = traffic(a, b, N)
		assert.equal(N, until_count(obj, SLOT.xdp, N))
		assert.equal(N, received(rx, N))
		local nil_, msg, code = link:pin("/sys/fs/bpf/ayac_never_" .. math.random(1e9))
		assert.is_nil(nil_)
		assert.equal("EOPNOTSUPP", code)
		assert.matches("netlink", msg)
		assert.is_true(link:detach())
		assert.is_false(link.attached)
		assert.equal("", b:xdp_shown("vb"))
	end)

	it("refuses an occupied slot with EBUSY, naming the program there", function()
		for _, netlink in ipairs({ false, true }) do
			local first = assert(attach("xdp_count", { netlink = netlink }))
			local link, msg, code = attach("xdp_count_b", { netlink = netlink })
			assert.is_nil(link)
			assert.equal("EBUSY", code)
			assert.matches("already runs XDP program 'xdp_count' (id " ..
				obj:program("xdp_count"):id() .. ")", msg, 1, true)
			assert.matches("xdp_count_b", msg, 1, true)
			first:detach()
		end
	end)

	it("replaces the attached program atomically (netlink), and detach removes the new one", function()
		local old = assert(attach("xdp_count", { netlink = true, mode = "drv" }))
		local new = assert(attach("xdp_count_b", { replace = obj:program("xdp_count"), mode = "drv" }))
		assert.equal("netlink", new:info().via)
		assert.is_false(old.attached) -- its program is not there any more
		assert.matches(tostring(obj:program("xdp_count_b"):id()), b:xdp_shown("vb"))
		local rx = traffic(a, b, N)
		assert.equal(N, until_count(obj, SLOT.xdp_b, N))
		assert.equal(0, count(obj, SLOT.xdp))
		assert.equal(N, received(rx, N))
		assert.is_true(old:detach()) -- nothing of its own to remove: the new one stays
		assert.matches(tostring(obj:program("xdp_count_b"):id()), b:xdp_shown("vb"))
		assert.is_true(new:detach())
		assert.equal("", b:xdp_shown("vb"))
	end)

	it("replace fails when the expected program is not the one attached", function()
		local first = assert(attach("xdp_count", { netlink = true }))
		local link, msg, code = attach("xdp_drop", { replace = obj:program("xdp_count_b") })
		assert.is_nil(link)
		assert.equal("EEXIST", code)
		assert.matches("xdp_drop", msg, 1, true)
		assert.is_true(first.attached)
		first:detach()
	end)

	it("lists what is attached in each mode: ayac.xdp_query", function()
		local link = assert(attach("xdp_count", { mode = "skb" }))
		local q = b:enter(ayac.xdp_query, "vb")
		assert.equal("vb", q.ifname)
		assert.same({ id = obj:program("xdp_count"):id(), name = "xdp_count" }, q.skb)
		assert.is_nil(q.drv)
		assert.is_nil(q.hw)
		local all = b:enter(ayac.xdp_query)
		assert.equal(1, #all)
		assert.equal("vb", all[1].ifname)
		link:detach()
		assert.is_nil(b:enter(ayac.xdp_query, "vb").skb)
		assert.same({}, b:enter(ayac.xdp_query))
	end)

	it("attaches xdp.frags programs", function()
		local link = assert(attach("xdp_frags_count", { mode = "drv" }))
		local rx = traffic(a, b, N)
		assert.equal(N, until_count(obj, SLOT.xdp, N))
		assert.equal(N, received(rx, N))
		link:detach()
	end)

	it("takes xdp/devmap programs as devmap values, not interfaces", function()
		local prog = obj:program("xdp_devmap_pass")
		assert.equal("xdp_devmap", prog.attach_type)
		local ifindex = b:enter(ayac.xdp_query, "vb").ifindex
		-- A devmap entry names an interface of the calling thread's namespace.
		assert.is_true(b:enter(function()
			return obj:map("tx_ports"):set(0, { ifindex = ifindex, bpf_prog = { fd = prog:fd() } })
		end))
		local v = obj:map("tx_ports"):get(0)
		assert.equal(ifindex, v.ifindex)
		assert.equal(prog:id(), v.bpf_prog.id)
		local link, msg, code = attach("xdp_devmap_pass", {})
		assert.is_nil(link)
		assert.equal("EINVAL", code)
		assert.matches("devmap", msg)
	end)

	it("reports a missing interface, a bad mode and an unsupported one", function()
		local link, msg, code = attach("xdp_count", { ifname = "nosuchif0" })
		assert.is_nil(link)
		assert.equal("ENODEV", code)
		assert.matches("nosuchif0", msg, 1, true)
		assert.matches("xdp_count", msg, 1, true)
		link, msg, code = attach("xdp_count", { mode = "turbo" })
		assert.is_nil(link)
		assert.equal("EINVAL", code)
		assert.matches("bad mode 'turbo'", msg, 1, true)
		assert.matches("program 'xdp_count'", msg, 1, true)
		for _, netlink in ipairs({ false, true }) do
			link, msg, code = attach("xdp_count", { mode = "hw", netlink = netlink })
			assert.is_nil(link)
			assert.is_string(code)
			assert.matches("hw mode", msg, 1, true)
		end
		assert.equal("", b:xdp_shown("vb"))
		assert.has_error(function() obj:program("xdp_count"):attach { mode = "skb" } end)
		assert.has_error(function() obj:program("xdp_count"):attach { ifname = 7 } end)
	end)

	it("is removed by obj:close() and by the collector, whichever the path", function()
		local id = obj:program("xdp_count"):id()
		local link = attach("xdp_count", { netlink = true })
		obj:close()
		obj = nil
		assert.is_false(link.attached)
		assert.equal("", b:xdp_shown("vb"))
		-- the link handle lives on, but keeps nothing: the program leaves the kernel
		assert.truthy(net.wait(function()
			return not select(2, net.sh("bpftool prog show id " .. id))
		end))
		obj = load()
		attach("xdp_count", { netlink = true }) -- the link handle is dropped at once
		collectgarbage()
		collectgarbage()
		assert.equal("", b:xdp_shown("vb"))
	end)
end)
