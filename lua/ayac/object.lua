-- Objects from Lua: globals (obj:global, obj:set_global, opts.globals) and the
-- open/load entry points that apply opts.globals between open and load.
--
-- A global lives in a data map (.data, .rodata, .bss, ...). Before load it is read and
-- written in the initial image; after load through the mmap-ed live data (no syscall),
-- or with a map lookup/update where the kernel could not map it. .rodata is frozen
-- after load: set_global refuses with nil, msg, "EPERM".
local ffi = require "ffi"
local core = require "ayac.core"
local fast = require "ayac.fast"

local methods = core.methods.obj
local u8arr = ffi.typeof("uint8_t[?]")
local u8p = ffi.typeof("uint8_t *")

local M = {}

local codec_mod
local function codec()
	if not codec_mod then
		codec_mod = require "ayac.codec"
		-- A value the codec refuses names the object and the global.
		codec_mod.context(methods.set_global, function(l, msg)
			local obj = l.obj
			local oname = obj and select(2, pcall(function() return obj.name end)) or "?"
			return ("object '%s': global '%s': %s"):format(tostring(oname), tostring(l.name), msg),
				true
		end)
	end
	return codec_mod
end

-- Codecs per object and global, kept in the object's environment table (which the
-- object reaches anyway), so nothing outlives the object.
local function cache_of(obj)
	local env = debug.getfenv(obj)
	if type(env) ~= "table" then
		return {}
	end
	local c = rawget(env, "globals")
	if not c then
		c = {}
		rawset(env, "globals", c)
	end
	return c
end

local function global_codec(obj, name, size, tid)
	local cache = cache_of(obj)
	local c = cache[name]
	if c then
		return c
	end
	if tid and tid ~= 0 then
		local btf = obj:btf()
		if btf then
			local ok, r = pcall(codec().for_type, btf, tid)
			if ok and r and r.size == size then
				c = r
			end
		end
	end
	c = c or codec().raw(size)
	cache[name] = c
	return c
end

-- The whole value of a data map (key 0) read with a syscall: for live data that is
-- not mmap-ed.
local function read_value(map)
	local buf = ffi.new(u8arr, math.max(map.value_size, 1))
	local key = ffi.new("uint32_t[1]")
	local rc = fast.lib.ayac_fast_lookup(map:fd(), key, buf)
	if rc ~= 0 then
		return nil, ("map '%s': lookup: %s"):format(map.name, fast.strerror(rc)), fast.errname(rc)
	end
	return buf, key
end

function methods.global(obj, name)
	local p, size, tid, _, map, off = obj:_global(name)
	if p == nil then
		return nil, size, tid
	end
	local c = global_codec(obj, name, size, tid)
	if p then
		return (c.decode(ffi.cast(u8p, p)))
	end
	local buf, err, code = read_value(map)
	if not buf then
		return nil, err, code
	end
	return (c.decode(buf + off))
end

function methods.set_global(obj, name, v)
	local p, size, tid, writable, map, off = obj:_global(name)
	if p == nil then
		return nil, size, tid
	end
	if not writable then
		return nil, ("object '%s': global '%s' is in %s, read-only after load"):format(
			obj.name, name, map.name), "EPERM"
	end
	local c = global_codec(obj, name, size, tid)
	-- Encode aside first: a value the codec refuses leaves the global as it was.
	local tmp = ffi.new(u8arr, math.max(size, 1))
	c.encode(v, tmp)
	if p then
		ffi.copy(ffi.cast(u8p, p), tmp, size)
		return true
	end
	local buf, key = read_value(map)
	if not buf then
		return nil, key
	end
	ffi.copy(buf + off, tmp, size)
	local rc = fast.lib.ayac_fast_update(map:fd(), key, buf, 0)
	if rc ~= 0 then
		return nil, ("object '%s': set global '%s': %s"):format(obj.name, name,
			fast.strerror(rc)), fast.errname(rc)
	end
	return true
end

local function apply_globals(obj, globals)
	for name, v in pairs(globals) do
		local ok, err, code = obj:set_global(name, v)
		if not ok then
			return nil, err, code
		end
	end
	return true
end

-- An error raised below a pcall, to raise again at the caller: without its position,
-- and named after the public function.
local function rethrown(msg, fname)
	msg = tostring(msg):gsub("^[^\n]-:%d+: ", "")
	return (msg:gsub("^bad argument (#%d+) to '[^']*'", "bad argument %1 to '" .. fname .. "'"))
end

-- ayac.open(path_or_bytes [, opts])
function M.open(src, opts)
	if opts ~= nil and type(opts) ~= "table" then
		error("bad argument #2 to 'open' (table expected, got " .. type(opts) .. ")", 2)
	end
	local globals = opts and opts.globals
	if globals ~= nil and type(globals) ~= "table" then
		error("bad argument #2 to 'open' (globals: table expected)", 2)
	end
	-- Argument errors raised by the C half should point at the caller, not at this file.
	local ok, obj, err, code = pcall(core.open, src, opts)
	if not ok then
		error(rethrown(obj, "open"), 2)
	end
	if not obj then
		return nil, err, code
	end
	if globals then
		local fine, applied, e, c = pcall(apply_globals, obj, globals)
		if not (fine and applied) then
			obj:close()
			if not fine then
				error(rethrown(applied, "open"), 2)
			end
			return nil, e, c
		end
	end
	return obj
end

-- ayac.load(path_or_bytes [, opts]): open + load.
function M.load(src, opts)
	local ok, obj, err, code = pcall(M.open, src, opts)
	if not ok then
		error(rethrown(obj, "load"), 2)
	end
	if not obj then
		return nil, err, code
	end
	local loaded, e, c = obj:load()
	if not loaded then
		obj:close()
		return nil, e, c
	end
	return obj
end

return M
