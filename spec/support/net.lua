-- Network namespaces, veth pairs and sockets for the networking specs, through the FFI
-- (no ping or netcat needed). Everything a spec creates here has a unique name and is
-- removed by net.cleanup() (call it from finally/after_each), also when a test fails.
--
--   local net = require "net"
--   local a, b = net.pair()          -- two namespaces, veth "va" (10.77.0.1) in a and
--                                    -- "vb" (10.77.0.2) in b, both up
--   local rx = b:udp(7777)           -- a UDP socket bound in b
--   local tx = a:udp()
--   tx:send_to(b.addr, 7777, "x")    -- a → b through the veth pair
--   rx:recv(1000)                    -- "x", or nil after the timeout (ms)
--   b:enter(function() ... end)      -- run code with this thread in b (then back)
--   net.cleanup()
--
-- Sockets live in the namespace they were created in, so one process can talk between
-- namespaces it is not in. Commands run with `ip -n NAME`, `tc -n NAME` and
-- `nsenter --net=PATH` (never `ip netns exec`, which remounts /sys).
local ffi = require "ffi"
local bit = require "bit"

pcall(ffi.cdef, [[
int setns(int fd, int nstype);
int open(const char *path, int flags, ...);
int close(int fd);
int socket(int domain, int type, int protocol);
int bind(int fd, const void *addr, unsigned len);
int connect(int fd, const void *addr, unsigned len);
int listen(int fd, int backlog);
int accept(int fd, void *addr, void *len);
long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, unsigned alen);
long send(int fd, const void *buf, size_t len, int flags);
long recv(int fd, void *buf, size_t len, int flags);
int setsockopt(int fd, int level, int name, const void *val, unsigned len);
int getsockname(int fd, void *addr, unsigned *len);
int poll(void *fds, unsigned long n, int timeout);
int getpid(void);
char *strerror(int errnum);
int inet_pton(int af, const char *src, void *dst);
]])
pcall(ffi.cdef, [[
struct ayac_spec_sockaddr_in { uint16_t family; uint16_t port; uint32_t addr; uint8_t zero[8]; };
struct ayac_spec_pollfd { int fd; short events; short revents; };
]])

local C = ffi.C
local M = {}

local CLONE_NEWNET = 0x40000000
local O_RDONLY, O_CLOEXEC = 0, 0x80000
local AF_INET, SOCK_STREAM, SOCK_DGRAM, SOCK_CLOEXEC = 2, 1, 2, 0x80000
local SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT, SO_RCVBUF = 1, 2, 15, 8
local MSG_DONTWAIT, POLLIN = 0x40, 1

M.SOL_SOCKET = SOL_SOCKET

local function errno_text()
	return ffi.string(C.strerror(ffi.errno()))
end

local function sh(cmd)
	local p = io.popen(cmd .. " 2>&1; echo \"::rc=$?\"")
	local out = p:read("*a")
	p:close()
	local rc = tonumber(out:match("::rc=(%d+)%s*$"))
	return out:gsub("::rc=%d+%s*$", ""), rc == 0
end
M.sh = sh

local function must(cmd)
	local out, ok = sh(cmd)
	if not ok then error(cmd .. ": " .. out, 2) end
	return out
end
M.must = must

local created = {}   -- namespaces to delete
local sockets = {}   -- sockets to close
local seq = 0

local function unique(prefix)
	seq = seq + 1
	return ("%s%d_%d_%d"):format(prefix, C.getpid(), seq, math.random(100000))
end

local function sockaddr(ip, port)
	local sa = ffi.new("struct ayac_spec_sockaddr_in")
	sa.family = AF_INET
	sa.port = bit.rshift(bit.bswap(port), 16)
	assert(C.inet_pton(AF_INET, ip, ffi.cast("void *", ffi.cast("char *", sa) + 4)) == 1)
	return sa
end
M.sockaddr = sockaddr

-- ---- sockets ---------------------------------------------------------------------

local Sock = {}
Sock.__index = Sock

function Sock:getfd() return self.fd end

function Sock:close()
	if self.fd >= 0 then C.close(self.fd) end
	self.fd = -1
end

function Sock:port()
	local sa = ffi.new("struct ayac_spec_sockaddr_in")
	local len = ffi.new("unsigned[1]", ffi.sizeof(sa))
	assert(C.getsockname(self.fd, sa, len) == 0, errno_text())
	return bit.rshift(bit.bswap(sa.port), 16)
end

function Sock:send_to(ip, port, data)
	local sa = sockaddr(ip, port)
	local n = C.sendto(self.fd, data, #data, 0, sa, ffi.sizeof(sa))
	if n < 0 then return nil, errno_text() end
	return tonumber(n)
end

function Sock:send(data)
	local n = C.send(self.fd, data, #data, 0)
	if n < 0 then return nil, errno_text(), ffi.errno() end
	return tonumber(n)
end

-- One datagram or stream read; nil, "timeout" after timeout_ms (0: do not wait).
function Sock:recv(timeout_ms, size)
	local pfd = ffi.new("struct ayac_spec_pollfd", { fd = self.fd, events = POLLIN })
	if C.poll(pfd, 1, timeout_ms or 0) <= 0 then return nil, "timeout" end
	local buf = ffi.new("char[?]", size or 65536)
	local n = C.recv(self.fd, buf, size or 65536, MSG_DONTWAIT)
	if n < 0 then return nil, errno_text() end
	return ffi.string(buf, n)
end

-- Every datagram waiting now, without blocking.
function Sock:drain()
	local got = {}
	while true do
		local d = self:recv(0)
		if not d then return got end
		got[#got + 1] = d
	end
end

function Sock:accept(timeout_ms)
	local pfd = ffi.new("struct ayac_spec_pollfd", { fd = self.fd, events = POLLIN })
	if C.poll(pfd, 1, timeout_ms or 5000) <= 0 then return nil, "timeout" end
	local fd = C.accept(self.fd, nil, nil)
	if fd < 0 then return nil, errno_text() end
	return M.wrap(fd)
end

function M.wrap(fd)
	local s = setmetatable({ fd = fd }, Sock)
	sockets[#sockets + 1] = s
	return s
end

local function setopt(fd, level, name, v)
	local val = ffi.new("int[1]", v)
	assert(C.setsockopt(fd, level, name, val, 4) == 0, errno_text())
end
M.setopt = setopt

-- A socket bound to ip:port (port 0: any), in the calling thread's namespace.
-- opts: { reuseport = true }.
function M.udp(ip, port, opts)
	local fd = C.socket(AF_INET, SOCK_DGRAM + SOCK_CLOEXEC, 0)
	assert(fd >= 0, errno_text())
	local s = M.wrap(fd)
	if opts and opts.reuseport then setopt(fd, SOL_SOCKET, SO_REUSEPORT, 1) end
	setopt(fd, SOL_SOCKET, SO_RCVBUF, 1048576)
	local sa = sockaddr(ip or "0.0.0.0", port or 0)
	assert(C.bind(fd, sa, ffi.sizeof(sa)) == 0, "bind: " .. errno_text())
	return s
end

-- A TCP listener on ip:port (port 0: any).
function M.tcp_listen(ip, port)
	local fd = C.socket(AF_INET, SOCK_STREAM + SOCK_CLOEXEC, 0)
	assert(fd >= 0, errno_text())
	local s = M.wrap(fd)
	setopt(fd, SOL_SOCKET, SO_REUSEADDR, 1)
	local sa = sockaddr(ip or "127.0.0.1", port or 0)
	assert(C.bind(fd, sa, ffi.sizeof(sa)) == 0, "bind: " .. errno_text())
	assert(C.listen(fd, 16) == 0, errno_text())
	return s
end

-- A TCP connection to ip:port: the socket, or nil, message, errno.
function M.tcp_connect(ip, port)
	local fd = C.socket(AF_INET, SOCK_STREAM + SOCK_CLOEXEC, 0)
	assert(fd >= 0, errno_text())
	local s = M.wrap(fd)
	local sa = sockaddr(ip, port)
	if C.connect(fd, sa, ffi.sizeof(sa)) ~= 0 then
		local e, msg = ffi.errno(), errno_text()
		s:close()
		return nil, msg, e
	end
	return s
end

-- ---- namespaces ------------------------------------------------------------------

local Ns = {}
Ns.__index = Ns

local function ns_fd(path)
	local fd = C.open(path, O_RDONLY + O_CLOEXEC)
	assert(fd >= 0, path .. ": " .. errno_text())
	return fd
end

-- Runs fn with this thread in the namespace; always comes back, then rethrows.
function Ns:enter(fn, ...)
	local home = ns_fd("/proc/thread-self/ns/net")
	local there = ns_fd(self.path)
	local ok_in = C.setns(there, CLONE_NEWNET) == 0
	C.close(there)
	if not ok_in then
		C.close(home)
		error("setns " .. self.path .. ": " .. errno_text())
	end
	local res = { n = 0 }
	local function keep(...)
		res.n = select("#", ...)
		for i = 1, res.n do res[i] = select(i, ...) end
	end
	keep(pcall(fn, ...))
	assert(C.setns(home, CLONE_NEWNET) == 0, "setns back: " .. errno_text())
	C.close(home)
	if not res[1] then error(res[2], 0) end
	return unpack(res, 2, res.n)
end

function Ns:udp(port, opts)
	return self:enter(M.udp, self.addr or "0.0.0.0", port, opts)
end

function Ns:ip(args) return must("ip -n " .. self.name .. " " .. args) end
function Ns:tc(args) return must("tc -n " .. self.name .. " " .. args) end
function Ns:run(cmd) return must("nsenter --net=" .. self.path .. " " .. cmd) end

-- XDP program ids on an interface as `ip link` shows them ("" when none).
function Ns:xdp_shown(dev)
	local out = self:ip("-d link show dev " .. dev)
	local ids = {}
	for mode, id in out:gmatch("(prog/xdp%w*) id (%d+)") do ids[#ids + 1] = mode .. " " .. id end
	return table.concat(ids, ",")
end

-- The cls_bpf filters of a hook as `tc filter show` prints them.
function Ns:filters(dev, dir)
	local out, ok = sh("tc -n " .. self.name .. " filter show dev " .. dev .. " " .. dir)
	return ok and out or ""
end

function Ns:qdiscs(dev)
	return self:tc("qdisc show dev " .. dev)
end

function M.netns(prefix)
	local name = unique(prefix or "ayac_")
	must("ip netns add " .. name)
	local ns = setmetatable({ name = name, path = "/run/netns/" .. name }, Ns)
	created[#created + 1] = ns
	ns:ip("link set lo up")
	return ns
end

-- Two namespaces joined by a veth pair: va (10.77.0.1/24) in a, vb (10.77.0.2/24) in b.
function M.pair()
	local a, b = M.netns("ayac_a"), M.netns("ayac_b")
	a:ip("link add va type veth peer name vb netns " .. b.name)
	a:ip("addr add 10.77.0.1/24 dev va")
	b:ip("addr add 10.77.0.2/24 dev vb")
	a:ip("link set va up")
	b:ip("link set vb up")
	a.addr, a.dev = "10.77.0.1", "va"
	b.addr, b.dev = "10.77.0.2", "vb"
	return a, b
end

-- Closes the sockets and deletes the namespaces (and so their interfaces, qdiscs,
-- filters and XDP programs) made since the last cleanup.
function M.cleanup()
	for _, s in ipairs(sockets) do s:close() end
	sockets = {}
	for _, ns in ipairs(created) do sh("ip netns del " .. ns.name) end
	created = {}
end

-- Waits until fn() returns a true value (polling), at most `seconds`; returns that
-- value, or nil on timeout.
function M.wait(fn, seconds)
	local deadline = os.time() + (seconds or 10)
	local pfd = ffi.new("struct ayac_spec_pollfd", { fd = -1 })
	repeat
		local v = fn()
		if v then return v end
		C.poll(pfd, 0, 10)
	until os.time() > deadline
	return fn()
end

-- Where cgroup v2 is mounted here (/sys/fs/cgroup or /sys/fs/cgroup/unified).
function M.cgroup2_root()
	for line in io.lines("/proc/self/mounts") do
		local dir, fstype = line:match("^%S+ (%S+) (%S+)")
		if fstype == "cgroup2" then return dir end
	end
	error("no cgroup2 mount")
end

-- Every namespace name still present whose name this process made (for the "leaves
-- nothing behind" checks).
function M.leftovers()
	local out = sh("ip netns list")
	local left = {}
	local mine = ("_%d_"):format(C.getpid())
	for name in out:gmatch("(%S+)") do
		if name:find(mine, 1, true) then left[#left + 1] = name end
	end
	return left
end

return M
