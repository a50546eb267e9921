-- `ayac cleanup` and ayac.xdp_remove / tc_remove / cgroup_remove: what a SIGKILLed
-- process left attached without a link (netlink XDP and TC, BPF_PROG_ATTACH on a
-- cgroup), found and removed by the next process; attachments held by bpf_links are
-- left alone, and each removal refuses a program that is not the one named.
local ffi = require "ffi"
local h = require "helpers"
local net = require "net"
local ayac = require "ayac"
h.cdef [[
int getpid(void);
]]

local BUILD = os.getenv("AYAC_BUILD") or "build"
local NET_OBJ = BUILD .. "/spec/bpf/net_xdp_tc.bpf.o"
local CG_OBJ = BUILD .. "/spec/bpf/net_cgroup.bpf.o"
local CHILD = h.root .. "/spec/support/kept_child.lua"

local cgroup2_root = net.cgroup2_root

-- Runs the child until it is ready, then SIGKILLs it: what it attached stays.
local function killed_child(prefix, ...)
	local cmd = ("%s %s %s %s 2>&1"):format(prefix, h.bin, CHILD, table.concat({ ... }, " "))
	local p = assert(io.popen(cmd, "r"))
	local first, ready = p:read("*l") or "", p:read("*l") or ""
	local pid = tonumber(first:match("^pid (%d+)$"))
	if pid then os.execute("kill -KILL " .. pid) end
	local rest = p:read("*a")
	p:close()
	assert(pid and ready:match("^ready"), "child failed: " .. first .. "\n" .. ready .. "\n" .. rest)
	return ready
end

-- ayac cleanup ARGS inside namespace ns (nil: here): its output and exit status.
local function cleanup(ns, args)
	local cmd = ("%s %s cleanup %s 2>&1; echo \"exit=$?\""):format(
		ns and ("nsenter --net=" .. ns.path) or "", h.bin, args)
	local out = h.capture(cmd)
	return out:gsub("exit=%d+\n$", ""), tonumber(out:match("exit=(%d+)\n$"))
end

describe("cleanup of kept attachments", function()
	after_each(net.cleanup)

	it("ayac cleanup removes the XDP program and TC filters a SIGKILLed process left", function()
		local _, b = net.pair()
		local ready = killed_child("AYAC_FEATURES=xdp_link=0,tcx=0 nsenter --net=" .. b.path,
			"net", NET_OBJ, "vb")
		assert.equal("ready netlink netlink netlink", ready)
		local xdp = b:enter(ayac.xdp_query, "vb")
		assert.is_table(xdp.skb)
		assert.equal(1, #b:enter(ayac.tc_query, "vb", "ingress"))

		-- a dry run and a name that matches nothing change nothing
		local out, status = cleanup(b, "--dry-run vb")
		assert.equal(0, status, out)
		assert.matches("would remove xdp%s+vb %(skb%)%s+prog " .. xdp.skb.id .. " xdp_count", out)
		assert.matches("would remove tc%s+vb ingress handle %d+ pref %d+%s+prog %d+ tc_in_count", out)
		out = cleanup(b, "--name nothing_like_it vb")
		assert.equal("", out)
		assert.is_table(b:enter(ayac.xdp_query, "vb").skb)

		out, status = cleanup(b, "--name xdp_ vb")
		assert.equal(0, status, out)
		assert.matches("removed%s+xdp%s+vb %(skb%)", out)
		assert.is_nil(b:enter(ayac.xdp_query, "vb").skb)
		assert.equal(1, #b:enter(ayac.tc_query, "vb", "egress")) -- not named: stays

		out, status = cleanup(b, "") -- every interface of the namespace
		assert.equal(0, status, out)
		assert.matches("removed%s+tc%s+vb ingress", out)
		assert.matches("removed%s+tc%s+vb egress", out)
		assert.equal(0, #b:enter(ayac.tc_query, "vb", "ingress"))
		assert.equal(0, #b:enter(ayac.tc_query, "vb", "egress"))
		assert.equal("", b:filters("vb", "ingress") .. b:filters("vb", "egress"))
	end)

	it("leaves what a bpf_link holds, and refuses a program that is not the one named", function()
		local _, b = net.pair()
		local obj = assert(ayac.load(NET_OBJ, { globals = { target_port = 7000 } }))
		local link = assert(b:enter(function()
			return obj:program("xdp_count"):attach { ifname = "vb", mode = "skb" }
		end))
		assert.equal("bpf_link", link:info().via)
		local id = b:enter(ayac.xdp_query, "vb").skb.id
		local ok, msg, code = b:enter(ayac.xdp_remove, "vb", "skb", id + 100000)
		assert.is_nil(ok)
		assert.equal("ENOENT", code)
		assert.matches("program %d+ is not there %(another one is%)", msg)
		ok, msg, code = b:enter(ayac.xdp_remove, "vb", "skb", id)
		assert.is_nil(ok)
		assert.equal("EBUSY", code)
		assert.matches("held by a bpf_link", msg)
		local out, status = cleanup(b, "vb")
		assert.equal(0, status, out)
		assert.matches("left%s+xdp%s+vb %(skb%).*a bpf_link holds it", out)
		assert.equal(id, b:enter(ayac.xdp_query, "vb").skb.id)
		link:detach()
		obj:close()
		-- bad arguments
		assert.has_error(function() ayac.xdp_remove("vb", "bogus", 1) end)
		assert.has_error(function() ayac.tc_remove("vb", "ingress", 1, 70000) end)
		ok, msg, code = ayac.tc_remove("no_such_if0", "ingress", 1, 1)
		assert.is_nil(ok)
		assert.equal("ENODEV", code)
	end)

	it("ayac cleanup --cgroup removes a BPF_PROG_ATTACH program a SIGKILLed process left", function()
		local cg = ("%s/ayac_spec_%d_%d"):format(cgroup2_root(), ffi.C.getpid(), math.random(1e9))
		assert(h.capture("mkdir " .. cg))
		local ok, err = pcall(function()
			assert.equal("ready prog_attach", killed_child("", "cgroup", CG_OBJ, cg))
			local q = ayac.cgroup_query(cg, "cgroup_inet_ingress")
			assert.equal(1, #q.prog_ids)
			local out, status = cleanup(nil, "--cgroup " .. cg)
			assert.equal(0, status, out)
			assert.matches("removed%s+cgroup%s+" .. cg:gsub("%p", "%%%0") ..
				" cgroup_inet_ingress%s+prog " .. q.prog_ids[1], out)
			assert.equal(0, #ayac.cgroup_query(cg, "cgroup_inet_ingress").prog_ids)
			local _, msg, code = ayac.cgroup_remove(cg, "cgroup_inet_ingress", q.prog_ids[1])
			assert.equal("ENOENT", code) -- gone with its last reference
			assert.is_string(msg)
		end)
		os.execute("rmdir " .. cg .. " 2>/dev/null")
		assert(ok, err)
	end)
end)
