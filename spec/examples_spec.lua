-- The example tools (examples/*.lua), each run for a moment by ./ayac the way a user
-- runs it, with activity this spec makes and then finds in their output. Their BPF C
-- is inline (ayac.load_c): the first run compiles into a private cache.
local ffi = require "ffi"
local h = require "helpers"

require("helpers").cdef([[
int getpid(void);
int getppid(void);
struct ayac_spec_sockaddr_in { uint16_t family; uint16_t port; uint32_t addr; uint8_t zero[8]; };
int socket(int domain, int type, int protocol);
int connect(int fd, const void *addr, unsigned int len);
int close(int fd);
]])

local PID = ffi.C.getpid()
local cache

local function start(script, args)
	local cmd = ("XDG_CACHE_HOME=%s %s %s/examples/%s.lua %s 2>&1"):format(cache, h.bin, h.root,
		script, args)
	local p = assert(io.popen(cmd, "r"))
	return p, p:read("*l") or ""
end

local function finish(p)
	local out = p:read("*a")
	p:close()
	return out
end

describe("examples", function()
	setup(function()
		cache = h.tmpname("-examples-cache")
	end)
	teardown(function()
		os.execute("rm -rf " .. cache)
	end)

	it("opensnoop.lua shows the files this process opens", function()
		local p, header = start("opensnoop", "-p " .. PID .. " 2")
		assert.matches("^PID%s+COMM%s+FD%s+ERR%s+PATH$", header)
		local path = h.tmpname("-opensnoop-missing")
		for _ = 1, 3 do assert.is_nil(io.open(path)) end
		local out = finish(p)
		local n = 0
		for line in out:gmatch("[^\n]+") do
			if line:match("^" .. PID .. "%s+%S+%s+%-1%s+2 " .. path:gsub("%p", "%%%0") .. "$") then
				n = n + 1
			end
		end
		assert.are.equal(3, n, out)
	end)

	it("syscount.lua counts this process's calls by name", function()
		local p, header = start("syscount", "-p " .. PID .. " -i 1 2")
		assert.matches("^Tracing syscalls of pid " .. PID, header)
		for _ = 1, 300 do ffi.C.getppid() end
		local out = finish(p)
		local n = 0
		for count in out:gmatch("\ngetppid%s+(%d+)") do n = n + tonumber(count) end
		assert.are.equal(300, n, out)
		assert.matches("\nSYSCALL%s+COUNT\n", out)
	end)

	it("runqlat.lua prints a run queue latency histogram", function()
		local p, header = start("runqlat", "1")
		assert.matches("^Tracing CPU run queue latency", header)
		for _ = 1, 5 do os.execute("sleep 0.05") end -- wakeups, if the machine had none
		local out = finish(p)
		assert.matches("\n@usecs: \n", out)
		local lines = 0
		for line in out:gmatch("[^\n]+") do
			if line:match("^[%[%(][^|]*%s%d+ |@*%s*|$") then lines = lines + 1 end
		end
		assert.is_true(lines > 0, out)
	end)

	it("tcpconnect.lua shows the connections this process makes", function()
		local port = 20000 + (PID * 7 + os.time()) % 40000
		local p, header = start("tcpconnect", "-p " .. PID .. " 2")
		assert.matches("^PID%s+COMM%s+IP%s+SADDR%s+DADDR%s+DPORT$", header)
		for _ = 1, 2 do
			local fd = ffi.C.socket(2, 1, 0) -- AF_INET, SOCK_STREAM
			assert.is_true(fd >= 0)
			local sa = ffi.new("struct ayac_spec_sockaddr_in", { family = 2,
				port = bit.rshift(bit.bswap(port), 16), addr = 0x0100007f })
			ffi.C.connect(fd, sa, ffi.sizeof(sa)) -- refused: nobody listens; the SYN went
			ffi.C.close(fd)
		end
		local out = finish(p)
		local n = 0
		for line in out:gmatch("[^\n]+") do
			if line:match("^" .. PID .. "%s+%S+%s+4%s+127%.0%.0%.1%s+127%.0%.0%.1%s+" .. port .. "$") then
				n = n + 1
			end
		end
		assert.are.equal(2, n, out)
	end)
end)
