-- Short versions of `make soak` (docs/reliability.md): the soak loop with explicit
-- cleanup and relying only on __gc, and SIGKILLs at random points of it. Each run is a
-- host process of its own (spec/support/soak.lua, scripts/killsafe), so its fds and
-- memory are its own; they check themselves and end with "soak: PASS" / "killsafe: PASS".
local h = require "helpers"

local CYCLES, KILLS = 30, 6

-- The command's output and whether it exited 0 (this LuaJIT's popen close does not say).
local function run(cmd)
	local p = assert(io.popen("(" .. cmd .. ") 2>&1; echo \"exit=$?\""))
	local out = p:read("*a")
	p:close()
	local status = tonumber(out:match("exit=(%d+)\n$"))
	return status == 0, (out:gsub("exit=%d+\n$", ""))
end

-- The sanitizer build keeps freed memory in quarantine: VmRSS says nothing there.
local function env()
	local asan = h.bin:match("asan") ~= nil
	return "AYAC_SOAK_RSS_KIB=" .. (asan and 1048576 or 1024)
end

describe("reliability (short runs of make soak)", function()
	local obj = h.bpf("ayac_soak")
	local soak = h.root .. "/spec/support/soak.lua"

	for _, mode in ipairs({ "explicit", "gc" }) do
		it(mode .. ": " .. CYCLES .. " cycles leave fds, memory and the kernel as they were", function()
			local ok, out = run(string.format("%s %s %s %s %d %s", env(), h.bin, soak, obj, CYCLES,
				mode))
			assert(ok and out:match("\nsoak: PASS\n$"), out)
			assert.truthy(out:match("bpftool at the end:    programs 0, maps 0, links 0, " ..
				"perf attachments 0"), out)
		end)
	end

	it("SIGKILL at random points of the loop leaves nothing loaded or attached", function()
		local host = h.bin:match("[^/]+$")
		local ok, out = run(string.format("cd %s && HOST=%s BUILD=%s scripts/killsafe %d", h.root,
			host, h.build, KILLS))
		assert(ok and out:match("killsafe: PASS"), out)
	end)
end)
