-- Programs on a cgroup v2 directory this spec creates (spec/bpf/net_cgroup.bpf.c). The
-- traffic comes from child processes moved into that cgroup, so this process and
-- everyone else on the machine stay outside: cgroup/connect4 refuses their connections
-- to one port and lets them through after detach, cgroup_skb counts their datagrams
-- each way, sock_ops sees both ends of their TCP handshake. Also: the modes (bpf_link,
-- BPF_PROG_ATTACH with "multi", "override", "single"), ayac.cgroup_query, and the
-- errors for paths that are no cgroup v2 directory.

local ayac = require "ayac"
local h = require "helpers"
local net = require "net"
local ffi = require "ffi"

local BUILD = os.getenv("AYAC_BUILD") or "build"
local OBJ = BUILD .. "/spec/bpf/net_cgroup.bpf.o"
local SLOT = { connect = 0, egress = 1, ingress = 2, active = 3, passive = 4,
	connect_cb = 5, sock_create = 6 }
local N = 20

local cgroup2_root = net.cgroup2_root

local ROOT = cgroup2_root()

local function sh_quote(s)
	return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- A port nobody uses right now (bound, then released for the child to take).
local function free_port(udp)
	local s = udp and net.udp("127.0.0.1", 0) or net.tcp_listen("127.0.0.1", 0)
	local p = s:port()
	s:close()
	return p
end

-- Runs Lua code in a child ayac moved into cgroup cg first; returns its output.
local function in_cgroup(cg, code, env)
	local out, ok = h.capture(("%s sh -c %s 2>&1"):format(env or "",
		sh_quote(("echo $$ > %s/cgroup.procs && exec %s -e %s"):format(cg, h.bin,
			sh_quote("local net = require 'net'\n" .. code)))))
	assert(ok, out)
	return out
end

local function count(obj, slot)
	return tonumber(obj:map("counts"):get(slot) or 0)
end

describe("cgroup", function()
	local cg, obj
	before_each(function()
		cg = ("%s/ayac_spec_%d_%d"):format(ROOT, ffi.C.getpid(), math.random(1e9))
		assert(h.capture("mkdir " .. cg))
	end)
	after_each(function()
		if obj then obj:close() end
		obj = nil
		net.cleanup()
		os.execute("rmdir " .. cg .. " 2>/dev/null")
	end)

	local function load(port)
		obj = assert(ayac.load(OBJ, { globals = { target_port = port } }))
		return obj
	end

	local function try_connect(port)
		return in_cgroup(cg, ([[
			local s, msg = net.tcp_connect("127.0.0.1", %d)
			print(s and "connected" or ("refused: " .. msg))
		]]):format(port))
	end

	it("connect4 refuses connections from a process in the cgroup, until detach", function()
		local srv = net.tcp_listen("127.0.0.1", 0)
		load(srv:port())
		local link = assert(obj:program("refuse_connect"):attach { cgroup = cg })
		assert.equal("bpf_link", link:info().via)
		assert.equal("cgroup_inet4_connect", link:info().attach_type)
		assert.matches("refused: Operation not permitted", try_connect(srv:port()))
		assert.equal(1, count(obj, SLOT.connect))
		-- this process is outside the cgroup: untouched
		assert.truthy(net.tcp_connect("127.0.0.1", srv:port()))
		assert.is_true(link:detach())
		assert.matches("connected", try_connect(srv:port()))
		assert.equal(1, count(obj, SLOT.connect))
	end)

	it("cgroup_skb counts the datagrams of the cgroup's sockets each way", function()
		local port = free_port(true)
		load(port)
		local egress = assert(obj:program("count_egress"):attach { cgroup = cg })
		local ingress = assert(obj:program("count_ingress"):attach { cgroup = cg })
		local out = in_cgroup(cg, ([[
			local rx = net.udp("127.0.0.1", %d)
			local tx = net.udp("127.0.0.1", 0)
			for i = 1, %d do tx:send_to("127.0.0.1", %d, "d" .. i) end
			local got = 0
			net.wait(function() got = got + #rx:drain(); return got >= %d end, 10)
			print("received " .. got)
		]]):format(port, N, port, N))
		assert.matches("received " .. N, out)
		assert.equal(N, count(obj, SLOT.egress))
		assert.equal(N, count(obj, SLOT.ingress))
		egress:detach()
		ingress:detach()
	end)

	it("sock_ops sees both ends of a TCP handshake on loopback", function()
		local port = free_port()
		load(port)
		local link = assert(obj:program("watch_tcp"):attach { cgroup = cg })
		assert.equal("cgroup_sock_ops", link:info().attach_type)
		local out = in_cgroup(cg, ([[
			local srv = net.tcp_listen("127.0.0.1", %d)
			local c = assert(net.tcp_connect("127.0.0.1", %d))
			print(srv:accept(5000) and "accepted" or "no connection")
		]]):format(port, port))
		assert.matches("accepted", out)
		assert.equal(1, count(obj, SLOT.connect_cb))
		assert.equal(1, count(obj, SLOT.active))
		assert.equal(1, count(obj, SLOT.passive))
		link:detach()
	end)

	it("modes: links run with multi programs; override and single use BPF_PROG_ATTACH", function()
		load(1)
		local p = obj:program("count_sock_create")
		local single = assert(p:attach { cgroup = cg, mode = "single" })
		assert.equal("prog_attach", single:info().via)
		assert.equal("single", single:info().mode)
		local q = ayac.cgroup_query(cg, "cgroup_inet_sock_create")
		assert.equal("single", q.mode)
		assert.same({ p:id() }, q.prog_ids)
		assert.same({ p:id() }, q.effective)
		local link, msg, code = p:attach { cgroup = cg }
		assert.is_nil(link)
		assert.equal("EPERM", code)
		assert.matches("'single' or 'override'", msg, 1, true)
		assert.is_true(single:detach())
		assert.same({}, ayac.cgroup_query(cg, "cgroup_inet_sock_create").prog_ids)
		local multi = assert(p:attach { cgroup = cg, mode = "multi" })
		local by_link = assert(obj:program("count_sock_create"):attach { cgroup = cg })
		assert.equal("bpf_link", multi:info().via)
		q = ayac.cgroup_query(cg, "cgroup_inet_sock_create")
		assert.equal("multi", q.mode)
		assert.equal(2, #q.prog_ids)
		in_cgroup(cg, "net.udp('127.0.0.1', 0)")
		assert.equal(2, count(obj, SLOT.sock_create)) -- both ran for the one socket
		multi:detach()
		by_link:detach()
		local override = assert(p:attach { cgroup = cg, mode = "override" })
		assert.equal("override", ayac.cgroup_query(cg, "cgroup_inet_sock_create").mode)
		override:detach()
		assert.is_nil(ayac.cgroup_query(cg, "cgroup_inet_sock_create").mode)
	end)

	it("takes an fd, and an attach type for sections without one", function()
		load(1)
		local fd = ffi.C.open(cg, 0x10000) -- O_RDONLY | O_DIRECTORY
		assert.is_true(fd >= 0)
		local link = assert(obj:program("count_egress"):attach { cgroup = fd,
			attach_type = "cgroup_inet_ingress" })
		ffi.C.close(fd)
		assert.equal("cgroup_inet_ingress", link:info().attach_type)
		assert.same({ obj:program("count_egress"):id() },
			ayac.cgroup_query(cg, "cgroup_inet_ingress").prog_ids)
		link:detach()
		assert.same({}, ayac.cgroup_query(cg, "cgroup_inet_ingress").prog_ids)
	end)

	it("removes BPF_PROG_ATTACH programs on obj:close() and at exit", function()
		load(1)
		assert(obj:program("count_sock_create"):attach { cgroup = cg, mode = "override" })
		obj:close()
		obj = nil
		assert.same({}, ayac.cgroup_query(cg, "cgroup_inet_sock_create").prog_ids)
		-- A child with cgroup links turned off (AYAC_FEATURES) ends with os.exit: its
		-- BPF_PROG_ATTACH goes too, through the exit handler.
		-- (os.exit skips lua_close: under the sanitizer build the objects leak, expectedly)
		local out = h.capture(("AYAC_FEATURES=cgroup_link=0 ASAN_OPTIONS=detect_leaks=0 %s -e %s 2>&1"):format(h.bin,
			sh_quote(([[
				local ayac = require "ayac"
				local obj = assert(ayac.load(%q))
				local link = assert(obj:program("count_sock_create"):attach { cgroup = %q })
				print("via " .. link:info().via .. " mode " .. link:info().mode)
				print("attached " .. #ayac.cgroup_query(%q, "cgroup_inet_sock_create").prog_ids)
				io.stdout:flush()
				os.exit(0)
			]]):format(OBJ, cg, cg))))
		assert.matches("via prog_attach mode multi", out, 1, true)
		assert.matches("attached 1", out, 1, true)
		assert.same({}, ayac.cgroup_query(cg, "cgroup_inet_sock_create").prog_ids)
	end)

	it("attaches every cgroup attach type, by link and by BPF_PROG_ATTACH", function()
		obj = assert(ayac.load(BUILD .. "/spec/bpf/net_cgroup_all.bpf.o"))
		local n = 0
		for name, prog in obj:programs() do
			local at = prog.attach_type
			assert.is_string(at, name)
			for _, mode in ipairs({ "multi", "override" }) do
				local link = assert(prog:attach { cgroup = cg, mode = mode })
				assert.equal(at, link:info().attach_type)
				assert.equal(mode == "multi" and "bpf_link" or "prog_attach", link:info().via)
				assert.same({ prog:id() }, ayac.cgroup_query(cg, at).prog_ids, name)
				assert.is_true(link:detach())
				assert.same({}, ayac.cgroup_query(cg, at).prog_ids, name)
			end
			n = n + 1
		end
		assert.equal(23, n)
	end)

	it("reports what is not a cgroup v2 directory, and bad modes", function()
		load(1)
		local p = obj:program("refuse_connect")
		local link, msg, code = p:attach { cgroup = "/tmp" }
		assert.is_nil(link)
		assert.equal("EINVAL", code)
		assert.matches("'/tmp' is not a cgroup v2 directory (cgroup2 is mounted at " .. ROOT,
			msg, 1, true)
		assert.matches("refuse_connect", msg, 1, true)
		link, msg, code = p:attach { cgroup = "/etc/hostname" }
		assert.equal("EINVAL", code)
		assert.matches("not a directory", msg, 1, true)
		link, msg, code = p:attach { cgroup = cg .. "/nope" }
		assert.equal("ENOENT", code)
		link, msg, code = p:attach { cgroup = cg, mode = "sometimes" }
		assert.equal("EINVAL", code)
		assert.matches("bad mode 'sometimes'", msg, 1, true)
		link, msg, code = p:attach { cgroup = cg, attach_type = "no_such_type" }
		assert.equal("EINVAL", code)
		assert.has_error(function() p:attach { cgroup = true } end)
		assert.has_error(function() p:attach {} end)
		local q, qmsg, qcode = ayac.cgroup_query("/tmp", "cgroup_inet4_connect")
		assert.is_nil(q)
		assert.equal("EINVAL", qcode)
		assert.matches("not a cgroup v2 directory", qmsg, 1, true)
	end)
end)
