-- struct_ops (spec/bpf/struct_ops.bpf.c): a TCP congestion control written in BPF,
-- registered with map:attach(), chosen with setsockopt(TCP_CONGESTION) on loopback
-- connections, and seen called: init once per connection that picks it, release once
-- when that socket goes, cong_avoid as ACKs come back. Detach unregisters (the name
-- leaves tcp_available_congestion_control). Each run gives its congestion controls
-- names of its own (the kernel's list is global).
local ffi = require "ffi"
require("helpers").cdef([[
int getpid(void);
int socket(int domain, int type, int protocol);
int close(int fd);
struct ayac_spec_sockaddr_in { uint16_t family; uint16_t port; uint32_t addr; uint8_t zero[8]; };
int bind(int fd, const void *addr, unsigned int len);
int listen(int fd, int backlog);
int accept(int fd, void *addr, unsigned int *len);
int connect(int fd, const void *addr, unsigned int len);
int getsockname(int fd, void *addr, unsigned int *len);
int setsockopt(int fd, int level, int name, const void *val, unsigned int len);
int getsockopt(int fd, int level, int name, void *val, unsigned int *len);
long write(int fd, const void *buf, size_t n);
long read(int fd, void *buf, size_t n);
int poll(void *fds, unsigned long nfds, int timeout);
]])

local ayac = require "ayac"
local helpers = require "helpers"
local kernel = require "kernel"

local OBJ = helpers.bpf("struct_ops")
local SUFFIX = tostring(ffi.C.getpid() % 1000000)
local SLOT = { init = 0, release = 1, cong_avoid = 2, ssthresh = 3, undo = 4, state = 5 }
local IPPROTO_TCP, TCP_CONGESTION = 6, 13

local function available()
	local f = assert(io.open("/proc/sys/net/ipv4/tcp_available_congestion_control"))
	local s = f:read("*a")
	f:close()
	local set = {}
	for name in s:gmatch("%S+") do set[name] = true end
	return set
end

-- Before Linux 6.4 there are no .struct_ops.link maps: ayac_cc is then not created.
local HAS_LINK = kernel.has("struct_ops_link")

local function load(names)
	local obj = assert(ayac.open(OBJ))
	if not HAS_LINK then assert(obj:map("ayac_cc"):set_autocreate(false)) end
	for var, name in pairs(names) do
		local v = assert(obj:global(var))
		v.name = name
		assert(obj:set_global(var, v))
	end
	assert(obj:load())
	return obj
end

local function get(obj, slot)
	return tonumber(obj:map("counts"):get(slot) or 0)
end

local function wait_for(cond, what)
	for _ = 1, 1000 do
		if cond() then return end
		ffi.C.poll(nil, 0, 10)
	end
	error("timed out waiting for " .. what)
end

-- A loopback connection whose client uses congestion control `cc`; sends `bytes`
-- from client to server, closes both; returns what getsockopt said the client used.
local function transfer(cc, bytes)
	local sa = ffi.new("struct ayac_spec_sockaddr_in")
	sa.family, sa.addr = 2, 0x0100007f
	local srv = ffi.C.socket(2, 1, 0)
	assert(srv >= 0 and ffi.C.bind(srv, sa, 16) == 0 and ffi.C.listen(srv, 1) == 0)
	local len = ffi.new("unsigned int[1]", 16)
	assert(ffi.C.getsockname(srv, sa, len) == 0)
	local cli = ffi.C.socket(2, 1, 0)
	assert(ffi.C.setsockopt(cli, IPPROTO_TCP, TCP_CONGESTION, cc, #cc) == 0,
		"setsockopt TCP_CONGESTION " .. cc .. ": " .. ffi.errno())
	assert(ffi.C.connect(cli, sa, 16) == 0)
	local conn = ffi.C.accept(srv, nil, nil)
	assert(conn >= 0)
	local name = ffi.new("char[16]")
	len[0] = 16
	assert(ffi.C.getsockopt(cli, IPPROTO_TCP, TCP_CONGESTION, name, len) == 0)
	local chunk, buf = 16384, ffi.new("char[16384]")
	local sent = 0
	while sent < bytes do
		local n = ffi.C.write(cli, buf, chunk)
		assert(n > 0)
		local got = 0
		while got < n do
			local r = ffi.C.read(conn, buf, chunk)
			assert(r > 0)
			got = got + r
		end
		sent = sent + n
	end
	ffi.C.close(cli)
	ffi.C.close(conn)
	ffi.C.close(srv)
	return ffi.string(name)
end

describe("struct_ops", function()
	kernel.it("struct_ops_link", "a congestion control: registered through a link, called, unregistered", function()
		local name = "ayac" .. SUFFIX
		local obj = load { ayac_cc = name, ayac_cc_plain = "ayacp" .. SUFFIX }
		assert.is_nil(available()[name])
		local link = assert(obj:map("ayac_cc"):attach())
		assert.equal("struct_ops", link.kind)
		assert.is_true(available()[name])
		assert.is_number(link:info().id) -- a bpf_link
		local ok, err = pcall(function()
			for _ = 1, 3 do
				assert.equal(name, transfer(name, 256 * 1024))
			end
			assert.equal(3, get(obj, SLOT.init))
			-- each client socket goes after its FIN exchange
			wait_for(function() return get(obj, SLOT.release) == 3 end, "3 releases")
			assert.is_true(get(obj, SLOT.cong_avoid) > 0)
		end)
		link:detach()
		assert.is_nil(available()[name])
		if ok then -- a .link map attaches again after detach
			link = assert(obj:map("ayac_cc"):attach())
			assert.is_true(available()[name])
			assert.equal(name, transfer(name, 16384))
			assert.equal(4, get(obj, SLOT.init))
			link:detach()
		end
		obj:close()
		assert(ok, err)
	end)

	it("a plain .struct_ops map registers by itself and detach unregisters it", function()
		local name = "ayacp" .. SUFFIX
		local obj = load { ayac_cc = "ayac" .. SUFFIX, ayac_cc_plain = name }
		local link = assert(obj:map("ayac_cc_plain"):attach())
		assert.is_true(available()[name])
		local again, err, code = obj:map("ayac_cc_plain"):attach()
		assert.is_nil(again)
		assert.equal("EBUSY", code)
		assert.matches("registered already", err, 1, true)
		local ok, perr = pcall(function()
			assert.equal(name, transfer(name, 64 * 1024))
			assert.equal(1, get(obj, SLOT.init))
			local p, pe, pc = link:pin("/sys/fs/bpf/ayac_so_" .. SUFFIX)
			assert.is_nil(p)
			assert.equal("EOPNOTSUPP", pc)
			assert.matches("struct_ops.link", pe, 1, true)
		end)
		link:detach()
		assert.is_nil(available()[name])
		obj:close()
		assert(ok, perr)
		-- closing the object unregisters too
		obj = load { ayac_cc = "ayac" .. SUFFIX, ayac_cc_plain = name }
		link = assert(obj:map("ayac_cc_plain"):attach())
		assert.is_true(available()[name])
		obj:close()
		assert.is_nil(available()[name])
		assert.is_false(link.attached)
	end)

	it("loads only programs that a created map uses; ?.struct_ops maps are not created", function()
		local obj = load { ayac_cc = "ayac" .. SUFFIX, ayac_cc_plain = "ayacp" .. SUFFIX }
		assert.is_false(obj:program("cc_unused").autoload)
		assert.equal(-1, obj:program("cc_unused"):fd())
		assert.is_true(obj:program("cc_init"):fd() >= 0)
		assert.equal("struct_ops", obj:map("ayac_cc").type)
		local link, err, code = obj:map("ayac_cc_off"):attach()
		assert.is_nil(link)
		assert.equal("EBADF", code)
		assert.matches("not created", err, 1, true)
		-- the member each program sits in, by its index in the kernel's struct
		assert.is_number(obj:program("cc_init").attach_type)
		link, err, code = obj:map("counts"):attach()
		assert.is_nil(link)
		assert.equal("EINVAL", code)
		assert.matches("not a struct_ops map", err, 1, true)
		obj:close()
	end)

	kernel.it("struct_ops_link", "a .struct_ops.link registration pins and outlives its object", function()
		local name = "ayac" .. SUFFIX
		local pin = "/sys/fs/bpf/ayac_so_" .. SUFFIX
		local obj = load { ayac_cc = name, ayac_cc_plain = "ayacp" .. SUFFIX }
		local link = assert(obj:map("ayac_cc"):attach())
		local ok, err = pcall(function()
			assert(link:pin(pin))
			obj:close()
			assert.is_true(available()[name]) -- the pin holds it
			assert.is_true(link.attached)
		end)
		os.remove(pin)
		link:detach()
		obj:close()
		wait_for(function() return not available()[name] end, name .. " to go")
		assert(ok, err)
	end)

	it("refuses a name the kernel already has", function()
		local obj = load { ayac_cc = "ayac" .. SUFFIX, ayac_cc_plain = "reno" }
		local link, err, code = obj:map("ayac_cc_plain"):attach()
		assert.is_nil(link)
		assert.equal("EEXIST", code)
		assert.matches("ayac_cc_plain", err, 1, true)
		obj:close()
	end)

	it("kernels that refuse '?' in section names get the object's BTF with '_' instead", function()
		-- a child process: feature answers are fixed once per process
		local code = [[
			local ayac = require "ayac"
			local obj = assert(ayac.open(arg[1]))
			obj:map("ayac_cc"):set_autocreate(false) -- 6.4+ only; not what this is about
			assert(obj:load()) -- struct_ops maps need the object's BTF in the kernel
			local k = assert(obj:btf():kernel()) -- what the kernel holds
			print(obj:map("ayac_cc_plain"):fd() >= 0, k:find("_.struct_ops") ~= nil,
				k:find("?.struct_ops") == nil, obj:btf():find("?.struct_ops") ~= nil)
		]]
		local path = helpers.tmpname(".lua")
		helpers.write(path, code)
		local out, ok = helpers.capture(("AYAC_FEATURES=btf_qmark_datasec=0 %s %s %s 2>&1")
			:format(helpers.bin, path, OBJ))
		os.remove(path)
		assert.is_true(ok, out)
		assert.equal("true\ttrue\ttrue\ttrue\n", out) -- the object's own BTF stays whole
	end)

	it("set_autocreate(false): the map is not created, its programs not loaded", function()
		local obj = assert(ayac.open(OBJ))
		assert.is_true(obj:map("ayac_cc_plain"):autocreate())
		assert(obj:map("ayac_cc"):set_autocreate(false))
		assert(obj:map("ayac_cc_plain"):set_autocreate(false))
		assert(obj:load())
		assert.equal(-1, obj:map("ayac_cc"):fd())
		assert.equal(-1, obj:program("cc_init"):fd())
		assert.is_false(obj:program("cc_init").autoload)
		local ok, err, code = obj:map("ayac_cc"):set_autocreate(true)
		assert.is_nil(ok)
		assert.equal("EBUSY", code)
		obj:close()
	end)
end)
