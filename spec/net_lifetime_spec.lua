-- What stays attached when a process ends, for a child `ayac` that attached XDP and TC
-- (ingress and egress) in a network namespace this spec creates
-- (spec/support/net_attach_child.lua):
--
--   through bpf_links (this kernel's default): nothing, even after SIGKILL;
--   through netlink (AYAC_FEATURES=xdp_link=0,tcx=0): nothing after SIGTERM, SIGINT or
--   os.exit(); after SIGKILL the XDP program, the filters and the clsact qdisc stay
--   (the kernel keeps them; no process is left to remove them).
--
-- Also: the section-less attach message names a target table that works, and
-- prog.attach_type is nil for programs that have none.

local ayac = require "ayac"
local h = require "helpers"
local net = require "net"

local BUILD = os.getenv("AYAC_BUILD") or "build"
local OBJ = BUILD .. "/spec/bpf/net_xdp_tc.bpf.o"
local CHILD = (os.getenv("AYAC_ROOT") or ".") .. "/spec/support/net_attach_child.lua"
local NETLINK = "AYAC_FEATURES=xdp_link=0,tcx=0"

-- Starts the child in ns on vb; returns the pipe, its pid and its "ready" line.
local function start(ns, env, ...)
	local cmd = ("%s nsenter --net=%s %s %s %s vb %s 2>&1"):format(env or "", ns.path, h.bin,
		CHILD, OBJ, table.concat({ ... }, " "))
	local p = assert(io.popen(cmd, "r"))
	local first = p:read("*l") or ""
	local pid = tonumber(first:match("^pid (%d+)$"))
	local ready = p:read("*l") or ""
	if not pid or not ready:match("^ready") then
		local rest = p:read("*a")
		p:close()
		error("child failed: " .. first .. "\n" .. ready .. "\n" .. (rest or ""))
	end
	return p, pid, ready
end

local function finish(p)
	local rest = p:read("*a")
	p:close()
	return rest
end

-- What is attached to vb: XDP program ids, TC programs each way, and whether there is
-- a clsact qdisc.
local function attached(ns)
	local q_in = ns:enter(ayac.tc_query, "vb", "ingress")
	local q_out = ns:enter(ayac.tc_query, "vb", "egress")
	return {
		xdp = ns:xdp_shown("vb"),
		tc = #q_in + #q_out,
		clsact = ns:qdiscs("vb"):find("clsact", 1, true) ~= nil,
		filters = ns:filters("vb", "ingress") .. ns:filters("vb", "egress"),
	}
end

local function nothing_left(ns)
	return net.wait(function()
		local s = attached(ns)
		return s.xdp == "" and s.tc == 0 and not s.clsact and s.filters == ""
	end, 10)
end

describe("attachments when a process ends", function()
	local a, b, pid
	before_each(function()
		a, b = net.pair()
	end)
	after_each(function()
		if pid then os.execute("kill -KILL " .. pid .. " 2>/dev/null") end
		pid = nil
		net.cleanup()
	end)

	it("bpf_links: SIGKILL leaves nothing", function()
		-- TC goes through a bpf_link from Linux 6.6 (TCX); before, through netlink,
		-- which the kernel keeps after a SIGKILL (the namespace goes in after_each).
		local tcx = ayac.features().links.tcx
		local p, ready
		p, pid, ready = start(b)
		assert.equal(tcx and "ready bpf_link bpf_link bpf_link" or "ready bpf_link netlink netlink",
			ready)
		local s = attached(b)
		assert.not_equal("", s.xdp)
		assert.equal(2, s.tc)
		local xdp_section = function() return b:run("bpftool net show"):match("xdp:(.-)tc:") end
		assert.matches("vb%(%d+%) generic id %d+", xdp_section())
		os.execute("kill -KILL " .. pid)
		finish(p)
		if tcx then
			assert.truthy(nothing_left(b))
		else
			assert.truthy(net.wait(function() return attached(b).xdp == "" end, 10))
			assert.equal(2, attached(b).tc)
		end
		assert.not_matches("vb%(", xdp_section())
	end)

	for _, sig in ipairs({ "TERM", "INT" }) do
		it("netlink (AYAC_FEATURES): SIG" .. sig .. " removes XDP, the filters and the qdisc", function()
			local p, ready
			p, pid, ready = start(b, NETLINK)
			assert.equal("ready netlink netlink netlink", ready)
			local s = attached(b)
			assert.not_equal("", s.xdp)
			assert.equal(2, s.tc)
			assert.is_true(s.clsact)
			assert.matches("tc_in_count", s.filters, 1, true)
			os.execute("kill -" .. sig .. " " .. pid)
			assert.matches("interrupted", finish(p))
			assert.truthy(nothing_left(b))
		end)
	end

	it("netlink: os.exit() removes them too (the exit handler)", function()
		local flag = h.tmpname(".go")
		local p, ready
		p, pid, ready = start(b, NETLINK .. " ASAN_OPTIONS=detect_leaks=0", "exit", flag)
		assert.equal("ready netlink netlink netlink", ready)
		assert.not_equal("", attached(b).xdp)
		h.write(flag, "")
		finish(p)
		os.remove(flag)
		assert.truthy(nothing_left(b))
	end)

	it("netlink: SIGKILL leaves them, as the kernel keeps them", function()
		local p
		p, pid = start(b, NETLINK)
		os.execute("kill -KILL " .. pid)
		finish(p)
		local s = attached(b)
		assert.not_equal("", s.xdp)
		assert.equal(2, s.tc)
		assert.is_true(s.clsact)
		-- the namespace goes in after_each, and everything in it
	end)
end)

describe("attach messages", function()
	after_each(net.cleanup)

	it("the target a section-less attach asks for is one that works", function()
		local _, b = net.pair()
		local obj = assert(ayac.load(OBJ, { globals = { target_port = 7000 } }))
		local link, msg, code = obj:program("xdp_count"):attach()
		assert.is_nil(link)
		assert.equal("EOPNOTSUPP", code)
		local hint = msg:match("prog:attach(%b{})")
		assert.equal("{ ifname= | ifindex=, mode= }", hint)
		link = assert(b:enter(function() return obj:program("xdp_count"):attach { ifname = "vb" } end))
		link:detach()
		link, msg = obj:program("tc_a"):attach()
		assert.matches("direction=", msg, 1, true)
		obj:close()
	end)

	it("prog.attach_type is nil when the program has none", function()
		local obj = assert(ayac.open(OBJ))
		assert.is_nil(obj:program("tc_a").attach_type)
		assert.equal("xdp", obj:program("xdp_count").attach_type)
		obj:close()
		local cg = assert(ayac.open(BUILD .. "/spec/bpf/net_cgroup.bpf.o"))
		assert.equal("cgroup_inet_ingress", cg:program("count_ingress").attach_type)
		assert.equal("cgroup_inet_egress", cg:program("count_egress").attach_type)
		cg:close()
		local sock = assert(ayac.open(BUILD .. "/spec/bpf/net_sock.bpf.o"))
		assert.is_nil(sock:program("truncate_or_drop").attach_type)
		assert.equal("netfilter", sock:program("nf_count").attach_type)
		sock:close()
	end)
end)
