-- What a map's type changes about its elements (docs/maps.md): LPM trie keys as
-- "10.0.0.0/8" strings or { prefixlen =, data = }, stack trace values as arrays of exact
-- uint64_t addresses (build-id stacks as tables), and the map types whose elements are
-- not read with get/set at all (event buffers, struct_ops), refused with the API to use.
local ffi = require "ffi"
local bit = require "bit"

local cast, ffi_string, ffi_copy, ffi_fill = ffi.cast, ffi.string, ffi.copy, ffi.fill
local type, error, tonumber = type, error, tonumber
local floor = math.floor

pcall(ffi.cdef, [[
int inet_pton(int af, const char *src, void *dst);
const char *inet_ntop(int af, const void *src, char *dst, uint32_t size);
]])

local AF_INET, AF_INET6 = 2, 10
local TWO53 = 2 ^ 53
local u8p, u32p, u64p = ffi.typeof("uint8_t *"), ffi.typeof("uint32_t *"), ffi.typeof("uint64_t *")

local M = {}

-- Element access on these types goes through another API.
local REFUSED = {
	ringbuf = "ring buffer maps are read with ayac.ringbuf(map, handler)",
	user_ringbuf = "user ring buffer maps are written with ayac.user_ringbuf(map):submit(v)",
	perf_event_array = "perf event arrays are read with ayac.perfbuf(map, handler)",
	struct_ops = "struct_ops maps are registered with map:attach()",
}

-- The message for element access on a map of a type that has none, or nil.
function M.refusal(maptype)
	return REFUSED[maptype]
end

---------------------------------------------------------------------------------------
-- LPM trie keys: struct bpf_lpm_trie_key { __u32 prefixlen; __u8 data[]; }

local addr_buf = ffi.new("uint8_t[16]")
local text_buf = ffi.new("char[64]")

-- "10.1.0.0/16", "2001:db8::/32" or an address alone (full length): family, bytes,
-- prefix length; nil and why when s is not one.
local function parse_cidr(s)
	local addr, len = s:match("^([^/]+)/(%d+)$")
	addr = addr or s
	local af = addr:find(":", 1, true) and AF_INET6 or AF_INET
	if ffi.C.inet_pton(af, addr, addr_buf) ~= 1 then
		return nil, "not an address or address/prefix-length"
	end
	local nbytes = af == AF_INET and 4 or 16
	local max = nbytes * 8
	len = len and tonumber(len) or max
	if len > max then
		return nil, ("prefix length %d is past %d"):format(len, max)
	end
	return af, ffi_string(addr_buf, nbytes), len
end

-- The key codec of an LPM trie of key_size bytes (base: the codec the map had, for
-- tables that are not { prefixlen =, data = }, such as a BTF struct's fields).
function M.lpm_key(key_size, base, map_name)
	local dsize = key_size - 4
	local af = dsize == 4 and AF_INET or dsize == 16 and AF_INET6 or nil
	local what = af == AF_INET and "IPv4 LPM trie" or af == AF_INET6 and "IPv6 LPM trie" or
		("LPM trie with %d data bytes"):format(dsize)
	local function bad(v, why)
		error(("map '%s': key: %s: %s: %s"):format(map_name, what, tostring(v), why), 0)
	end
	local function put(p, prefixlen, data)
		if type(prefixlen) ~= "number" or prefixlen < 0 or prefixlen > dsize * 8 or
			prefixlen % 1 ~= 0 then
			bad(prefixlen, ("prefixlen must be an integer 0..%d"):format(dsize * 8))
		end
		cast(u32p, p)[0] = prefixlen
		if #data > dsize then
			bad(data, ("data is %d bytes, at most %d fit"):format(#data, dsize))
		end
		ffi_copy(p + 4, data, #data)
	end
	local function encode(v, ptr)
		local p = cast(u8p, ptr)
		ffi_fill(p, key_size)
		if type(v) == "string" then
			local vaf, bytes, len = parse_cidr(v)
			if not vaf then
				bad(v, bytes)
			elseif vaf ~= af then
				bad(v, vaf == AF_INET and "an IPv4 address" or "an IPv6 address")
			end
			return put(p, len, bytes)
		elseif type(v) == "table" and v.prefixlen ~= nil then
			local data = v.data
			if type(data) == "string" and af then
				local vaf, bytes = parse_cidr(data)
				if vaf == af then data = bytes end
			end
			if type(data) ~= "string" then
				bad(data, "data must be a byte string or an address")
			end
			return put(p, v.prefixlen, data)
		elseif base then
			return base.encode(v, ptr)
		end
		bad(v, "\"addr/len\" or { prefixlen =, data = } expected")
	end
	local decode
	if af then
		decode = function(ptr)
			local p = cast(u8p, ptr)
			local s = ffi.C.inet_ntop(af, p + 4, text_buf, 64)
			return ffi_string(s) .. "/" .. tonumber(cast(u32p, p)[0])
		end
	else
		decode = function(ptr)
			local p = cast(u8p, ptr)
			return { prefixlen = tonumber(cast(u32p, p)[0]), data = ffi_string(p + 4, dsize) }
		end
	end
	return { size = key_size, encode = encode, decode = decode, full = dsize * 8 }
end

-- The key for a longest-prefix lookup of addr: its full length.
function M.lpm_full(kc, addr)
	if type(addr) == "string" and not addr:find("/", 1, true) then
		return addr
	end
	if type(addr) == "table" and addr.prefixlen == nil then
		return { prefixlen = kc.full, data = addr.data }
	end
	return addr
end

---------------------------------------------------------------------------------------
-- stack trace values

local BPF_F_STACK_BUILD_ID = 32
local BUILD_ID_SIZE = 20 -- struct bpf_stack_build_id: s32 status, u8[20], u64 offset/ip

local function read_only()
	error("stack trace maps are written by bpf_get_stackid() only", 0)
end

-- A stack of value_size bytes: an array of uint64_t addresses up to the first 0 (kernel
-- addresses do not fit a double), or with BPF_F_STACK_BUILD_ID an array of
-- { status = "valid"|"ip"|"empty", build_id = hex string, offset = } / { ip = }.
function M.stack_value(value_size, flags)
	if bit.band(flags or 0, BPF_F_STACK_BUILD_ID) ~= 0 then
		local n = floor(value_size / 32)
		local STATUS = { [0] = "empty", [1] = "valid", [2] = "ip" }
		return {
			size = value_size,
			decode = function(ptr)
				local p, t = cast(u8p, ptr), {}
				for i = 0, n - 1 do
					local e = p + i * 32
					local status = cast("int32_t *", e)[0]
					if status == 0 then break end
					local off = cast(u64p, e + 24)[0]
					off = off <= TWO53 and tonumber(off) or off
					if status == 1 then
						local id = ffi_string(e + 4, BUILD_ID_SIZE)
						t[#t + 1] = { status = "valid", offset = off,
							build_id = (id:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) }
					else
						t[#t + 1] = { status = STATUS[status] or status, ip = off }
					end
				end
				return t
			end,
			encode = read_only,
		}
	end
	local n = floor(value_size / 8)
	return {
		size = value_size,
		decode = function(ptr)
			local p, t = cast(u64p, ptr), {}
			for i = 0, n - 1 do
				local a = p[i]
				if a == 0 then break end
				t[i + 1] = a -- a uint64_t of its own (indexing copies)
			end
			return t
		end,
		encode = read_only,
	}
end

---------------------------------------------------------------------------------------
-- keys and values of fixed meaning, for maps without BTF for them

-- Types whose 4-byte keys are indexes, ids or fds: numbers.
local NUMBER_KEYS = { array = true, percpu_array = true, prog_array = true,
	array_of_maps = true, hash_of_maps = false, perf_event_array = true, cgroup_array = true,
	stack_trace = true, devmap = true, devmap_hash = true, cpumap = true, xskmap = true,
	sockmap = true, reuseport_sockarray = true, sk_storage = true, inode_storage = true,
	task_storage = true, cgrp_storage = true }

function M.number_keys(maptype)
	return NUMBER_KEYS[maptype] == true
end

-- The 4-byte key of such a type: a number (u32), or its 4 raw bytes as a string (what
-- these maps took before they had number keys without BTF).
function M.index_key(u32)
	local enc = u32.encode
	return {
		size = 4,
		decode = u32.decode,
		encode = function(v, ptr)
			if type(v) == "string" and #v == 4 then
				return ffi_copy(ptr, v, 4)
			end
			return enc(v, ptr)
		end,
	}
end

-- devmap / devmap_hash values of 8 bytes: struct bpf_devmap_val { ifindex, bpf_prog.fd
-- (in) / .id (out) }; cpumap: struct bpf_cpumap_val { qsize, bpf_prog }. Read as the
-- kernel's struct reads by BTF, { ifindex =, bpf_prog = { fd =, id = } } (the union's
-- two names, one value: the program's id), so a map reads the same with BTF or without;
-- written from a number (the first field alone), that shape ({ bpf_prog = { fd = } }),
-- or { ifindex|qsize =, prog = Program handle or fd }.
local PAIR_VALUES = { devmap = "ifindex", devmap_hash = "ifindex", cpumap = "qsize" }

local function prog_fd(v)
	local prog = v.prog
	if prog == nil and type(v.bpf_prog) == "table" then
		prog = v.bpf_prog.fd
	end
	if prog == nil or type(prog) == "number" then
		return prog or 0
	end
	return prog:fd()
end

function M.pair_value(maptype, value_size, map_name, u32)
	local first = PAIR_VALUES[maptype]
	if first and value_size == 4 then
		return u32 -- the ifindex or queue size alone
	end
	if not first or value_size ~= 8 then
		return nil
	end
	return {
		size = 8,
		decode = function(ptr)
			local p = cast(u32p, ptr)
			local id = tonumber(p[1])
			return { [first] = tonumber(p[0]), bpf_prog = { fd = id, id = id } }
		end,
		encode = function(v, ptr)
			local p = cast(u32p, ptr)
			if type(v) == "number" then
				p[0], p[1] = v, 0
			elseif type(v) == "table" and type(v[first]) == "number" then
				p[0] = v[first]
				p[1] = prog_fd(v)
			else
				error(("map '%s': value: a number (%s) or { %s =, prog = } expected, got %s"):format(
					map_name, first, first, tostring(v)), 0)
			end
		end,
	}
end

-- Legacy cgroup storage keys without BTF: struct bpf_cgroup_storage_key (16 bytes:
-- { cgroup_inode_id =, attach_type = }), or the cgroup inode id alone (8 bytes).
local CGROUP_STORAGE = { cgroup_storage = true, percpu_cgroup_storage = true }

function M.cgroup_storage_key(maptype, key_size, u64, map_name)
	if not CGROUP_STORAGE[maptype] then
		return nil
	end
	if key_size == 8 then
		return u64
	elseif key_size ~= 16 then
		return nil
	end
	return {
		size = 16,
		decode = function(ptr)
			local id = cast(u64p, ptr)[0]
			return { cgroup_inode_id = id <= TWO53 and tonumber(id) or id,
				attach_type = tonumber(cast(u32p, ptr)[2]) }
		end,
		encode = function(v, ptr)
			if type(v) ~= "table" or v.cgroup_inode_id == nil or type(v.attach_type) ~= "number" then
				error(("map '%s': key: { cgroup_inode_id =, attach_type = } expected, got %s"):format(
					map_name, tostring(v)), 0)
			end
			ffi_fill(ptr, 16)
			u64.encode(v.cgroup_inode_id, ptr)
			cast(u32p, ptr)[2] = v.attach_type
		end,
	}
end

return M
