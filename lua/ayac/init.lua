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
	xdp_query = core.xdp_query,
	tc_query = core.tc_query,
	cgroup_query = core.cgroup_query,
	xdp_remove = core.xdp_remove,
	tc_remove = core.tc_remove,
	cgroup_remove = core.cgroup_remove,
	create_map = map.create_map,
	errname = core.errname,
	num_possible_cpus = core.num_possible_cpus,
	capabilities = core.capabilities,
}

-- Submodules loaded on first use (ayac.btf parses vmlinux lazily anyway).
local lazy = { btf = "ayac.btf", codec = "ayac.codec", features = "ayac.features" }
-- Event functions (lua/ayac/events.lua, lua/ayac/log.lua), loaded on first use too.
local lazy_fn = { ringbuf = "ayac.events", perfbuf = "ayac.events", user_ringbuf = "ayac.events",
	poll = "ayac.events", sleep = "ayac.events", trace_pipe = "ayac.events",
	logger = "ayac.log" }

-- One-shot iterator: attach, read the whole output, detach.
function M.iter(prog, opts)
	local link, err, code = prog:attach(opts)
	if not link then return nil, err, code end
	local out
	out, err, code = link:read()
	link:detach()
	return out, err, code
end

-- Functions of the toolkit, from the module that holds them, loaded on first use so
-- that a script that never prints a histogram never loads the printer.
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
