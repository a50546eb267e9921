-- ayac.btf: BTF from Lua. The userdata and its methods are in C (src/lua/lbtf.c):
--
--   btf:find(name [, kind])   id, or nil, msg, "ENOENT"; name may be "struct foo"
--   btf:type(id)              a plain table: id, kind, name, size, type, members, ...
--   btf:kind(id)              the kind name alone
--   btf:count()               the last type id (ids run 1..count())
--   btf:resolve_size(id)      size in bytes through typedefs, modifiers and arrays
--   btf:skip_mods(id)         the id under typedefs and const/volatile/restrict
--   btf:dump_c([{guard=}])    a C header of every type (vmlinux.h when btf is vmlinux)
--   btf:sanitize([features])  a copy without what a kernel lacking features refuses
--                             ({"btf_func", "btf_enum64", ...}; default: this kernel)
--   btf:fd()                  loaded into the kernel (once, kept): its fd
--   btf:kernel()              the BTF the kernel holds for this one (after load)
--
-- This module adds the entry points (ayac.btf.vmlinux(), .load(path), .parse(bytes))
-- and caches type tables: btf:type(id) returns the same table while it is in use, so
-- a codec built over a large type does not rebuild every member table. The tables are
-- shared; treat them as read-only.
local core = require "ayac.core"

local setmetatable = setmetatable

local M = {}

local methods = core.methods.btf
local c_type = methods.type

-- btf handle -> (id -> type table), both weak: nothing here keeps a BTF or a table alive.
local caches = setmetatable({}, { __mode = "k" })

function methods.type(btf, id)
	local cache = caches[btf]
	if not cache then
		cache = setmetatable({}, { __mode = "v" })
		caches[btf] = cache
	end
	local t = cache[id]
	if t then
		return t
	end
	local err, code
	t, err, code = c_type(btf, id)
	if not t then
		return nil, err, code
	end
	cache[id] = t
	return t
end

-- The type under typedefs and modifiers, as a table.
function methods.resolved(btf, id)
	return btf:type(btf:skip_mods(id))
end

local vmlinux

-- vmlinux BTF: parsed once per process (in C), shared. nil, msg, code when the kernel
-- has none.
function M.vmlinux()
	if vmlinux then
		return vmlinux
	end
	local btf, err, code = core.btf_vmlinux()
	if not btf then
		return nil, err, code
	end
	vmlinux = btf
	return btf
end

-- A raw BTF file (/sys/kernel/btf/<module>) or an ELF with a .BTF section. base: the
-- BTF a split BTF builds on (vmlinux for a kernel module).
function M.load(path, base)
	return core.btf_load(path, base)
end

-- BTF from bytes in a Lua string (validated; refused with a message when malformed).
function M.parse(bytes, base)
	return core.btf_parse(bytes, base)
end

M.methods = methods

return M
