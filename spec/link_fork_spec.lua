-- Links across fork: a child that detaches its copy of a link (an nginx worker after
-- ayac.nginx.init_worker) only closes its own fds; the parent's attachment stays. The
-- core keeps what else a detach does — PERF_EVENT_IOC_DISABLE on an ioctl-attached perf
-- event, BPF_LINK_DETACH on a pinned link, removing a netlink attachment — to the
-- process that attached.
local h = require "helpers"

local child = h.root .. "/spec/support/fork_child.lua"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function run(prefix, ...)
	local args = {}
	for i, a in ipairs({ ... }) do args[i] = q(a) end
	return h.capture(("%s %s %s %s 2>&1"):format(prefix, q(h.lua), q(child), table.concat(args, " ")))
end

describe("a link in a forked child", function()
	local getpid_count = h.root .. "/examples/getpid_count.bpf.o"

	it("detached by the child keeps the parent's bpf_link attached", function()
		local out, ok = run("", "count", getpid_count)
		assert.is_true(ok, out)
		assert.matches("via=bpf_link\n", out, 1, true)
		assert.matches("child_status=0\n", out, 1, true)
		assert.matches("counted=5\n", out, 1, true)
	end)

	-- A tracepoint's program runs even on a disabled perf event, so this shows the
	-- ioctl path works across fork; the child's PERF_EVENT_IOC_DISABLE (which the core
	-- leaves to the parent) would matter for sampling perf_event programs.
	it("detached by the child keeps the parent's ioctl-attached perf event running", function()
		local out, ok = run("AYAC_FEATURES=perf_link=0", "count", getpid_count)
		assert.is_true(ok, out)
		assert.matches("via=perf_event\n", out, 1, true)
		assert.matches("counted=5\n", out, 1, true)
	end)

	it("detached by the child does not BPF_LINK_DETACH the parent's pinned link", function()
		-- sk_lookup on a network namespace of the run's own (unshare -n): a link type
		-- the kernel can detach while it stays pinned.
		local pin = ("/sys/fs/bpf/ayac_fork_spec_%d_%s"):format(os.time(),
			tostring({}):match("0x(%x+)"))
		local out, ok = run("unshare -n", "netns", h.bpf("net_sock"), pin)
		os.remove(pin) -- in case the script failed before unpinning
		assert.is_true(ok, out)
		assert.matches("via=bpf_link\n", out, 1, true)
		local ino = tonumber(out:match('"netns_ino":(%d+)'))
		assert.is_truthy(ino, out)
		assert.are_not.equal(0, ino, "the child's detach cut the parent's link:\n" .. out)
	end)
end)
