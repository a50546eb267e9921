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

-- Functions of the toolkit, from the module that holds them, loaded on first use so
-- that a script that never prints a histogram never loads the printer.
local lazy_fn = {}
local function from(mod, names)
	for name in names:gmatch("%S+") do lazy_fn[name] = mod end
end
from("ayac.syms", "ksym kaddr ksym_refresh usym usym_forget stack format_stack folded syscall_name syscall_nr syscalls")
from("ayac.hist", "hist lhist hist_of")
from("ayac.print", "print pretty print_map print_maps")
from("ayac.cc", "cc load_c")

return setmetatable(M, {
	-- What the REPL offers after "ayac." besides what is loaded already.
	__complete = function()
		local names = {}
		for k in pairs(lazy) do names[#names + 1] = k end
		for k in pairs(lazy_fn) do names[#names + 1] = k end
		return names
	end,
	__index = function(t, k)
		local name = lazy[k]
		if name then
			local mod = require(name)
			rawset(t, k, mod)
			return mod
		end
		name = lazy_fn[k]
		if name then
			local f = require(name)[k]
			rawset(t, k, f)
			return f
		end
	end,
})
