-- Map elements from Lua: get/set/delete, m[k], pairs, keys, count, clear, dump, codec.
--
-- Keys and values go through the codec of the map's BTF key/value types (lua/ayac/
-- codec.lua), raw byte strings when the map has no BTF, or what m:codec{} says. The
-- element calls use preallocated FFI buffers and the core's plain C ABI (fast.lua), so
-- m:get(k) / m:set(k, v) with number keys compile under the JIT: no Lua C API call on
-- that path.
--
-- m[k] looks up methods and fields first: m.name is the map's name, m.get the method.
-- Use m:get("name") for keys that collide with a method or field name.
--
-- Array maps take 0-based integer indexes, as in BPF. Per-CPU maps return a 1-based
-- array with one value per possible CPU and take either such an array or one value
-- for every CPU.
local ffi = require "ffi"
local bit = require "bit"
local core = require "ayac.core"
local fast = require "ayac.fast"
local map_types = require "ayac.map_types"

local lib = fast.lib
local ffi_new, ffi_fill, ffi_copy, ffi_cast = ffi.new, ffi.fill, ffi.copy, ffi.cast
local type, error, pairs, ipairs, setmetatable = type, error, pairs, ipairs, setmetatable
local math_max = math.max

local methods = core.methods.map
local mt = core.map_metatable
local c_index = mt.__index -- methods, then the C fields
local c_layout = methods._layout
local c_close = methods.close
local c_check = methods._check

local ENOENT = fast.ENOENT

local M = {}

local codec_mod, encode_key, encode_value
local function codec()
	if not codec_mod then
		codec_mod = require "ayac.codec"
		-- A value the codec refuses names the map and the part of the element.
		codec_mod.context(encode_key, function(l, msg)
			return ("map '%s': key: %s"):format(l.st and l.st.name or "?", msg), true
		end)
		codec_mod.context(encode_value, function(l, msg)
			return ("map '%s': value: %s"):format(l.st and l.st.name or "?", msg), true
		end)
	end
	return codec_mod
end

local FLAGS = { any = 0, noexist = 1, exist = 2, lock = 4 }
local FIELDS = { name = true, type = true, key_size = true, value_size = true,
	max_entries = true, flags = true }
-- Maps whose values are fds of other objects: set takes handles (or, for socket maps,
-- socket fds and objects with getfd() such as LuaSocket's), get returns ids (socket
-- maps: socket cookies, when the value is 8 bytes).
local FD_VALUES = { prog_array = true, array_of_maps = true, hash_of_maps = true,
	sockmap = true, sockhash = true, reuseport_sockarray = true, xskmap = true }

local states = setmetatable({}, { __mode = "k" })   -- map handle -> element state
local overrides = setmetatable({}, { __mode = "k" }) -- map handle -> { key=, value= }

local u8arr = ffi.typeof("uint8_t[?]")

-- codec names: "u8".."u64", "s8".."s64", "bytes", a type name in the map's BTF, or a
-- codec table ({ size=, decode=, encode= }).
local function resolve_codec(btf, spec, size, what)
	if type(spec) == "table" and spec.decode and spec.encode then
		return spec
	end
	if type(spec) ~= "string" then
		error(("bad argument #1 to 'codec' (%s: codec name or table expected)"):format(what), 3)
	end
	if spec == "bytes" then
		return codec().raw(size)
	end
	local c = codec().named(spec)
	if not c then
		if not btf then
			error(("codec %s: no BTF to find '%s' in"):format(what, spec), 3)
		end
		local id = btf:find(spec)
		if type(id) == "table" then id = id.id end
		if not id then
			error(("codec %s: no type '%s' in the map's BTF"):format(what, spec), 3)
		end
		c = codec().for_type(btf, id)
	end
	if size and c.size ~= size then
		error(("codec %s: '%s' is %d bytes, the map's %s is %d"):format(
			what, spec, c.size, what, size), 3)
	end
	return c
end

local function btf_codec(lay, id, size)
	if lay.btf and id and id ~= 0 then
		local ok, c = pcall(codec().for_type, lay.btf, id)
		if ok and c and c.size == size then
			return c
		end
	end
	if FD_VALUES[lay.type] and (size == 4 or size == 8) then
		return codec().named(size == 4 and "u32" or "u64")
	end
	return codec().raw(size)
end

-- Keys of types whose keys are indexes, ids or fds: numbers, BTF or not.
local function key_codec(lay)
	if lay.key_size == 4 and map_types.number_keys(lay.type) and
		not (lay.btf and lay.key_type_id and lay.key_type_id ~= 0) then
		return map_types.index_key(codec().named("u32"))
	end
	return btf_codec(lay, lay.key_type_id, lay.key_size)
end

local function build(m)
	local lay = c_layout(m)
	local refused = map_types.refusal(lay.type)
	if refused then
		error(("map '%s': no element access: %s"):format(lay.name, refused), 3)
	end
	local ov = overrides[m] or {}
	local kc = ov.key or key_codec(lay)
	local vc = ov.value or btf_codec(lay, lay.value_type_id, lay.value_size)
	local kbtf = lay.btf and lay.key_type_id and lay.key_type_id ~= 0
	if lay.type == "lpm_trie" and not ov.key then
		kc = map_types.lpm_key(lay.key_size, kc, lay.name)
	elseif not ov.key and not kbtf then
		kc = map_types.cgroup_storage_key(lay.type, lay.key_size, codec().named("u64"),
			lay.name) or kc
	end
	local vbtf = lay.btf and lay.value_type_id and lay.value_type_id ~= 0
	if not ov.value and not vbtf then
		vc = lay.type == "stack_trace" and map_types.stack_value(lay.value_size, lay.flags) or
			map_types.pair_value(lay.type, lay.value_size, lay.name, codec().named("u32")) or vc
	end
	local st = {
		kc = kc,
		ptr = ffi_cast("struct ayac_map *", lay.ptr),
		name = lay.name,
		type = lay.type,
		max_entries = lay.max_entries,
		ksize = lay.key_size,
		vsize = lay.value_size,
		percpu = lay.percpu,
		ncpus = lay.ncpus,
		stride = lay.percpu and math_max(8, math.ceil(lay.value_size / 8) * 8) or lay.value_size,
		vbufsize = math_max(lay.value_buf_size, 1),
		kenc = kc.encode, kdec = kc.decode,
		venc = vc.encode, vdec = vc.decode,
		fdvalues = FD_VALUES[lay.type] or false,
	}
	st.kbuf = ffi_new(u8arr, math_max(st.ksize, 1))
	st.vbuf = ffi_new(u8arr, st.vbufsize)
	-- Values that decode to a list (C arrays) make per-CPU input ambiguous; see encode.
	local ok, z = pcall(st.vdec, st.vbuf)
	st.vlist = ok and type(z) == "table" and z[1] ~= nil
	states[m] = st
	return st
end

local function fail(st, op, rc)
	return nil, ("map '%s': %s: %s"):format(st.name, op, fast.strerror(rc)), fast.errname(rc)
end

-- fd -1: raises for a closed object (c_check), else the map is not loaded yet.
local function not_loaded(st, op, m)
	c_check(m)
	return nil, ("map '%s': %s: not loaded"):format(st.name, op),
		"EBADF"
end

local function decode_value(st, buf)
	if not st.percpu then
		return (st.vdec(buf))
	end
	local t, dec, stride = {}, st.vdec, st.stride
	for i = 0, st.ncpus - 1 do
		t[i + 1] = dec(buf + i * stride)
	end
	return t
end

-- The fd behind a value of an fd map: a handle's fd(), or a socket object's getfd().
local function fd_of(v)
	local ok, getfd = pcall(function() return v.getfd end)
	if ok and type(getfd) == "function" then
		return v:getfd()
	end
	return v:fd()
end

function encode_value(st, v, buf)
	local tv = type(v)
	if st.fdvalues and (tv == "userdata" or tv == "table") then
		v = fd_of(v)
	end
	ffi_fill(buf, st.vbufsize)
	if not st.percpu then
		return (st.venc(v, buf))
	end
	local n, stride, enc = st.ncpus, st.stride, st.venc
	if type(v) == "table" and #v == n and (not st.vlist or type(v[1]) == "table") then
		for i = 1, n do
			enc(v[i], buf + (i - 1) * stride)
		end
	else
		enc(v, buf)
		for i = 1, n - 1 do
			ffi_copy(buf + i * stride, buf, st.vsize)
		end
	end
end

function encode_key(st, k, buf)
	ffi_fill(buf, st.ksize)
	st.kenc(k, buf)
end

local function get(m, k)
	local st = states[m] or build(m)
	local fd = lib.ayac_map_fd(st.ptr)
	if fd < 0 then
		return not_loaded(st, "lookup", m)
	end
	local kbuf, vbuf = st.kbuf, st.vbuf
	encode_key(st, k, kbuf)
	local rc = lib.ayac_fast_lookup(fd, kbuf, vbuf)
	if rc ~= 0 then
		if rc == -ENOENT then
			return nil
		end
		return fail(st, "lookup", rc)
	end
	return (decode_value(st, vbuf))
end

local function flags_value(flags, what)
	if flags == nil then
		return 0
	end
	local f = FLAGS[flags]
	if f then
		return f
	end
	if type(flags) == "number" then
		return flags
	end
	error(("bad argument #%d to '%s' (\"any\", \"noexist\", \"exist\" or \"lock\" expected)"):format(
		what and 2 or 3, what or "set"), 3)
end

local function set(m, k, v, flags)
	local st = states[m] or build(m)
	local f = flags_value(flags)
	if v == nil then
		error("bad argument #2 to 'set' (value expected; m[k] = nil or m:delete(k) deletes)", 2)
	end
	local fd = lib.ayac_map_fd(st.ptr)
	if fd < 0 then
		return not_loaded(st, "update", m)
	end
	local kbuf, vbuf = st.kbuf, st.vbuf
	encode_key(st, k, kbuf)
	encode_value(st, v, vbuf)
	local rc = lib.ayac_fast_update(fd, kbuf, vbuf, f)
	if rc ~= 0 then
		return fail(st, "update", rc)
	end
	return true
end

local function delete(m, k)
	local st = states[m] or build(m)
	local fd = lib.ayac_map_fd(st.ptr)
	if fd < 0 then
		return not_loaded(st, "delete", m)
	end
	local kbuf = st.kbuf
	encode_key(st, k, kbuf)
	local rc = lib.ayac_fast_delete(fd, kbuf)
	if rc ~= 0 then
		return fail(st, "delete", rc)
	end
	return true
end

methods.get, methods.set, methods.delete = get, set, delete

-- LPM tries: the value of the longest prefix that holds addr ("10.1.2.3", or a
-- { data = } table), nil when none does.
function methods.lookup_longest(m, addr)
	local st = states[m] or build(m)
	if st.type ~= "lpm_trie" then
		error(("map '%s': lookup_longest: an lpm_trie method, this map is a %s"):format(
			st.name, st.type), 2)
	end
	return get(m, map_types.lpm_full(st.kc, addr))
end

local function check_fd(st, op, m)
	local fd = lib.ayac_map_fd(st.ptr)
	if fd < 0 then
		local _, msg = not_loaded(st, op, m)
		error(msg, 3)
	end
	return fd
end

-- Queues, stacks (no key) and bloom filters.
function methods.push(m, v, flags)
	local st = states[m] or build(m)
	local fd = check_fd(st, "push", m)
	encode_value(st, v, st.vbuf)
	local rc = lib.ayac_fast_update(fd, nil, st.vbuf, flags_value(flags))
	if rc ~= 0 then
		return fail(st, "push", rc)
	end
	return true
end

-- The next value of a queue or stack (nil when empty); pop also takes it out.
local function next_value(m, op, call)
	local st = states[m] or build(m)
	local rc = call(check_fd(st, op, m), nil, st.vbuf)
	if rc ~= 0 then
		if rc == -ENOENT then
			return nil
		end
		return fail(st, op, rc)
	end
	return (decode_value(st, st.vbuf))
end

function methods.peek(m)
	return next_value(m, "peek", lib.ayac_fast_lookup)
end

function methods.pop(m)
	return next_value(m, "pop", lib.ayac_fast_lookup_and_delete)
end

function methods.contains(m, v)
	local st = states[m] or build(m)
	local fd = check_fd(st, "contains", m)
	encode_value(st, v, st.vbuf)
	local rc = lib.ayac_fast_lookup(fd, nil, st.vbuf)
	if rc == 0 then
		return true
	elseif rc == -ENOENT then
		return false
	end
	return fail(st, "contains", rc)
end

-- m:mmap(): an arena's or a BPF_F_MMAPABLE array's memory, as a uint8_t * and its size
-- in bytes (valid until the map is closed); nil, message, code for other maps.
local c_mmap = methods._mmap
function methods.mmap(m)
	local p, size, code = c_mmap(m)
	if not p then
		return nil, size, code
	end
	return ffi_cast("uint8_t *", p), size
end

-- m:codec{ key = "u32", value = "struct event" }: decode and encode with these.
function methods.codec(m, spec)
	if type(spec) ~= "table" then
		error("bad argument #1 to 'codec' (table expected)", 2)
	end
	local lay = c_layout(m)
	local ov = overrides[m] or {}
	if spec.key ~= nil then
		ov.key = resolve_codec(lay.btf, spec.key, lay.key_size, "key")
	end
	if spec.value ~= nil then
		ov.value = resolve_codec(lay.btf, spec.value, lay.value_size, "value")
	end
	overrides[m] = ov
	states[m] = nil
	return m
end

function methods.close(m)
	states[m] = nil
	overrides[m] = nil
	return c_close(m)
end

-- Limits and sizes of the element state: after set_max_entries or set_value_size
-- (before load) rebuild it.
local c_set_max_entries = methods.set_max_entries
function methods.set_max_entries(m, n)
	states[m] = nil
	return c_set_max_entries(m, n)
end
local c_set_value_size = methods.set_value_size
function methods.set_value_size(m, n)
	states[m] = nil
	return c_set_value_size(m, n)
end

mt.__index = function(m, k)
	local f = methods[k]
	if f ~= nil then
		return f
	end
	if FIELDS[k] then
		return c_index(m, k)
	end
	local v, err = get(m, k)
	if err ~= nil then
		error(err, 2)
	end
	return v
end

mt.__newindex = function(m, k, v)
	local ok, err, code
	if v == nil then
		ok, err, code = delete(m, k)
		if not ok and code == "ENOENT" then
			ok = true
		end
	else
		ok, err = set(m, k, v)
	end
	if not ok then
		error(err, 2)
	end
end

-- pairs, keys, count, dump, clear, drain and the batch calls (map_iter.lua).
require("ayac.map_iter").install({
	state = function(m) return states[m] or build(m) end,
	fail = fail, check_fd = check_fd, flags_value = flags_value, FLAGS = FLAGS,
	encode_key = encode_key, encode_value = encode_value, get = get,
}, methods)

mt.__pairs = methods.pairs

-- Local storage maps: the kernel creates them only with BTF for key and value.
local STORAGE = { sk_storage = true, inode_storage = true, task_storage = true,
	cgrp_storage = true }
-- Flags a type cannot be created without, added when the spec leaves them out.
local REQUIRED_FLAGS = { lpm_trie = 1, arena = 1024 } -- BPF_F_NO_PREALLOC, BPF_F_MMAPABLE
-- Key and value sizes a type always has, when the spec leaves them out.
local FIXED_SIZES = {
	prog_array = { 4, 4 }, array_of_maps = { 4, 4 }, hash_of_maps = { nil, 4 },
	perf_event_array = { 4, 4 }, cgroup_array = { 4, 4 }, ringbuf = { 0, 0 },
	user_ringbuf = { 0, 0 }, queue = { 0 }, stack = { 0 }, bloom_filter = { 0 },
	arena = { 0, 0 }, sockmap = { 4 }, xskmap = { 4, 4 }, reuseport_sockarray = { 4 },
	devmap = { 4 }, devmap_hash = { 4 }, cpumap = { 4 }, stack_trace = { 4 },
}

-- The inner map of a map of maps: a Map handle, or a spec for a template created here
-- (and closed once the outer map holds its description); its fd, and the handle to close.
local function inner_fd(inner)
	if type(inner) == "table" and inner.type == nil and inner.fd == nil then
		error("bad argument #1 to 'create_map' (inner: a map spec or a Map expected)", 3)
	end
	local ok, fd = pcall(function() return inner:fd() end)
	if ok and type(fd) == "number" then
		return fd, nil
	end
	if type(inner) ~= "table" then
		error("bad argument #1 to 'create_map' (inner: a map spec or a Map expected)", 3)
	end
	local tmpl, err, code = M.create_map(inner)
	if not tmpl then
		return nil, nil, "inner map: " .. err, code
	end
	return tmpl:fd(), tmpl
end

-- ayac.create_map{ type=, key=, value=, max_entries=, flags=, name=, map_extra=,
-- numa_node=, inner= }: key and value are sizes in bytes or codec names ("u32", "u64",
-- ...); inner (maps of maps) a spec of the same shape or a Map.
function M.create_map(spec)
	if type(spec) ~= "table" then
		error("bad argument #1 to 'create_map' (table expected)", 2)
	end
	local def, kc, vc = {}, nil, nil
	for k, v in pairs(spec) do
		def[k] = v
	end
	for _, which in ipairs { "key", "value" } do
		local v = spec[which]
		if type(v) == "number" then
			def[which .. "_size"] = v
		elseif v ~= nil then
			local c = resolve_codec(nil, v, nil, which)
			def[which .. "_size"] = c.size
			if which == "key" then kc = c else vc = c end
		end
		def[which] = nil
	end
	if STORAGE[spec.type] then
		return nil, ("create_map: %s maps need BTF key and value types, which only maps " ..
			"declared in a BPF object have: declare it there and use obj:map(name)"):format(
			spec.type), "ENOTSUP"
	end
	local fixed = FIXED_SIZES[spec.type]
	if fixed then
		def.key_size = def.key_size or fixed[1]
		def.value_size = def.value_size or fixed[2]
	end
	if REQUIRED_FLAGS[spec.type] then
		def.flags = bit.bor(def.flags or 0, REQUIRED_FLAGS[spec.type])
	end
	local tmpl
	def.inner = nil
	if spec.inner ~= nil then
		local fd, t, ierr, icode = inner_fd(spec.inner)
		if not fd then
			return nil, ierr, icode
		end
		def.inner_map_fd, tmpl = fd, t
	end
	local m, err, code = core.create_map(def)
	if tmpl then
		tmpl:close() -- the outer map keeps what it needs of the template
	end
	if not m then
		return nil, err, code
	end
	if kc or vc then
		methods.codec(m, { key = kc, value = vc })
	end
	return m
end

M.get, M.set, M.delete = get, set, delete
M.FLAGS = FLAGS

return M
