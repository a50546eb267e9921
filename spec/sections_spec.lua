-- The SEC() table against libbpf's: spec/bpf/sections.bpf.c has one program per name
-- of libbpf's section_defs (bare and with a target), '?' forms, old libbpf 0.x
-- spellings and names nobody knows. bench/libbpf_sections.c (built here against
-- libbpf-dev) says what the system's libbpf makes of each: type, expected attach type,
-- autoload. Where it knows a name, ayac must say the same. Names newer than that
-- libbpf (1.1 on Debian 12) are checked against current libbpf's section_defs,
-- written out below; the old "name/anything" spellings ayac still takes are listed
-- too; any other name libbpf does not know, ayac must not know either.
local ayac = require "ayac"
local helpers = require "helpers"

local OBJ = helpers.bpf("sections")
local SLEEPABLE, XDP_FRAGS = 16, 32

-- Names of the kernel's enums from vmlinux BTF: value -> lower-case name.
local function enum(name, pfx)
	local btf = ayac.btf.vmlinux()
	local t = {}
	for _, v in ipairs(btf:type(btf:find(name)).values) do
		t[v.value] = v.name:sub(#pfx + 1):lower()
	end
	return t
end

-- libbpf after 1.1 (section_defs of libbpf 1.6): type, expected attach type (its
-- number: kernels older than the type's have no name for it).
local NEWER = {
	["kprobe.session"] = { "kprobe", 56 },
	["uprobe.multi"] = { "kprobe", 48 }, ["uretprobe.multi"] = { "kprobe", 48 },
	["uprobe.multi.s"] = { "kprobe", 48 }, ["uretprobe.multi.s"] = { "kprobe", 48 },
	["uprobe.session"] = { "kprobe", 57 }, ["uprobe.session.s"] = { "kprobe", 57 },
	["usdt.s"] = { "kprobe", 0 },
	["tc/ingress"] = { "sched_cls", 46 }, ["tcx/ingress"] = { "sched_cls", 46 },
	["tc/egress"] = { "sched_cls", 47 }, ["tcx/egress"] = { "sched_cls", 47 },
	["netkit/primary"] = { "sched_cls", 54 }, ["netkit/peer"] = { "sched_cls", 55 },
	["tracepoint.s"] = { "tracepoint", 0 }, ["tp.s"] = { "tracepoint", 0 },
	["raw_tracepoint.s"] = { "raw_tracepoint", 0 }, ["raw_tp.s"] = { "raw_tracepoint", 0 },
	["tp_btf.s"] = { "tracing", 23 }, -- BPF_TRACE_RAW_TP
	["sk_skb/verdict"] = { "sk_skb", 38 },
	["cgroup/connect_unix"] = { "cgroup_sock_addr", 49 },
	["cgroup/sendmsg_unix"] = { "cgroup_sock_addr", 50 },
	["cgroup/recvmsg_unix"] = { "cgroup_sock_addr", 51 },
	["cgroup/getpeername_unix"] = { "cgroup_sock_addr", 52 },
	["cgroup/getsockname_unix"] = { "cgroup_sock_addr", 53 },
	["struct_ops.s"] = { "struct_ops", 0 },
	["netfilter"] = { "netfilter", 45 },
}

-- libbpf 0.x's "name/anything" for single-word names, which ayac still takes.
local LEGACY = {
	["socket/x"] = { "socket_filter", 0 }, ["tc/other"] = { "sched_cls", 0 },
	["classifier/x"] = { "sched_cls", 0 }, ["xdp/foo"] = { "xdp", 37 }, -- BPF_XDP
	["perf_event/x"] = { "perf_event", 0 }, ["sk_skb/x"] = { "sk_skb", 0 },
}

local function libbpf_says()
	local bin = helpers.tmpname("-libbpf_sections")
	local out, ok = helpers.capture(("cc -O2 -o %s %s/bench/libbpf_sections.c -lbpf 2>&1")
		:format(bin, helpers.root))
	assert(ok, "building bench/libbpf_sections.c: " .. out)
	out, ok = helpers.capture(bin .. " " .. OBJ)
	os.remove(bin)
	assert(ok, out)
	local rows = {}
	for line in out:gmatch("[^\n]+") do
		local name, sec, t, a, al = line:match("^(%S+) (%S+) (%d+) (%d+) %d (%d)$")
		rows[#rows + 1] = { name = name, sec = sec, type = tonumber(t), attach = tonumber(a),
			autoload = al == "1" }
	end
	return rows
end

describe("the SEC() table", function()
	it("says what libbpf says about every name of its table", function()
		local PT, AT = enum("bpf_prog_type", "BPF_PROG_TYPE_"), enum("bpf_attach_type", "BPF_")
		local ATN = {} -- attach type name -> number: the kernel's, and ayac's own names of
		-- types newer than the running kernel (uprobe_multi on 6.1)
		for v, name in pairs(AT) do ATN[name] = v end
		for v, name in pairs(require("ayac.core").attach_type_names()) do ATN[name] = ATN[name] or v end
		local obj = assert(ayac.open(OBJ))
		local rows = libbpf_says()
		assert.is_true(#rows > 150)
		local known, newer, legacy = 0, 0, 0
		for _, r in ipairs(rows) do
			local prog = assert(obj:program(r.name))
			-- nil: no expected attach type (0, which only cgroup_skb names)
			local at = prog.attach_type or 0
			at = type(at) == "number" and at or ATN[at]
			local mine = { prog.type, prog.type == "unspec" and "-" or at, prog.autoload }
			local base = r.sec:gsub("^%?", ""):match("^[^/]*")
			local want
			if r.type ~= 0 then
				known = known + 1
				want = { PT[r.type], r.attach, r.autoload }
			elseif NEWER[base] or NEWER[r.sec] or LEGACY[r.sec] then
				local e = NEWER[r.sec] or NEWER[base] or LEGACY[r.sec]
				if LEGACY[r.sec] then legacy = legacy + 1 else newer = newer + 1 end
				want = { e[1], e[2], r.autoload }
			else
				want = { "unspec", "-", r.autoload }
			end
			assert.same(want, mine, r.sec)
			-- sleepable: the ".s" forms and syscall; frags: xdp.frags
			local sleepable = base:match("%.s$") ~= nil or base == "syscall"
			assert.equal(sleepable, bit.band(prog.flags, SLEEPABLE) ~= 0, r.sec .. " sleepable")
			assert.equal(base:match("^xdp%.frags") ~= nil, bit.band(prog.flags, XDP_FRAGS) ~= 0,
				r.sec .. " frags")
		end
		assert.is_true(known > 100 and newer > 20 and legacy == 6,
			("%d known, %d newer, %d legacy"):format(known, newer, legacy))
		obj:close()
	end)

	it("'?' sections are not loaded unless asked for", function()
		local obj = assert(ayac.open(OBJ))
		for _, p in ipairs { "?kprobe/f", "?tracepoint/a/b", "?xdp", "?socket" } do
			local found
			for _, prog in obj:programs() do
				if prog.section == p then found = prog end
			end
			assert.is_not_nil(found, p)
			assert.is_false(found.autoload)
			assert.is_not.equal("unspec", found.type)
		end
		obj:close()
	end)
end)
