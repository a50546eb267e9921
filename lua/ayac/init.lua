-- require "ayac": the public module. The C half (ayac.core: userdata types and their
-- methods) is built in by the ayac binary or found on LUA_CPATH as ayac/core.so; the
-- Lua half adds globals, map element access and the rest. See DESIGN.md.
local core = require "ayac.core"
local object = require "ayac.object"
local map = require "ayac.map"

local M = {
	version = "0.1.0",
	core = core,
	open = object.open,
	load = object.load,
	map_from_pin = core.map_from_pin,
	map_from_id = core.map_from_id,
	link_from_pin = core.link_from_pin,
	create_map = map.create_map,
	errname = core.errname,
	num_possible_cpus = core.num_possible_cpus,
}

-- Submodules loaded on first use (ayac.btf parses vmlinux lazily anyway).
local lazy = { btf = "ayac.btf", codec = "ayac.codec", features = "ayac.features" }

-- One-shot iterator: attach, read the whole output, detach.
function M.iter(prog, opts)
	local link, err, code = prog:attach(opts)
	if not link then return nil, err, code end
	local out
	out, err, code = link:read()
	link:detach()
	return out, err, code
end

return setmetatable(M, {
	__index = function(t, k)
		local name = lazy[k]
		if name then
			local mod = require(name)
			rawset(t, k, mod)
			return mod
		end
	end,
})
