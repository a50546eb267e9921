-- ayac inside nginx with the Lua module (OpenResty, or Debian's libnginx-mod-http-lua):
-- load and attach in the master, read maps in the workers, consume ring buffers from
-- one worker without blocking its event loop. See docs/embedding.md.
--
--   init_by_lua_block        { require("ayac.nginx").load("sys", path, opts) }
--   init_worker_by_lua_block { local an = require "ayac.nginx"; an.init_worker()
--                              an.consume("sys", "events", handler, { type = "struct ev" }) }
--   content_by_lua_block     { local m = require("ayac.nginx").map("sys", "counts") … }
--
-- The life of what is loaded follows nginx's configuration cycles:
--   * init_by_lua runs in the master (privileged) at start and again on every reload,
--     each time in a fresh Lua VM. Objects loaded there belong to that VM; when the
--     master retires the previous cycle it closes the old VM, whose objects are then
--     collected: their links detached, their fds closed. No registry outside the VM is
--     needed, so a reload leaves exactly one set of programs and links.
--   * Workers are forked from the master and inherit the fds: map reads and writes on an
--     fd need no capability, so unprivileged workers use them through the FFI fast path
--     (one bpf(2) lookup per element, nothing else).
--   * init_worker() drops the worker's copies of the link fds: the master alone keeps
--     the programs attached, so a worker still draining connections after a reload does
--     not keep the previous generation's programs running beside the new ones.
--   * The master's objects go when it exits (nginx -s stop/quit): nothing stays loaded.
--
-- Ring buffers: nginx-lua cannot watch a foreign fd (cosockets wrap only sockets that
-- nginx opens itself), and a blocking epoll_wait would stall every request of the
-- worker. consume() therefore runs rb:consume() — which never blocks and costs two reads
-- of the mmap-ed ring positions when it is empty — on an ngx.timer.every in exactly one
-- worker: a ring buffer has one consumer position, shared by every mapping of it.
local ffi = require "ffi"
local ayac = require "ayac"

pcall(ffi.cdef, "int getpid(void); int getppid(void);")

local M = {}

-- name -> { obj =, links = { link, … }, pid = (the loading process), kept = { kinds of
-- attachments without a bpf_link } } for the objects this VM loaded.
local loaded = {}
-- name .. "\0" .. map -> consumer, in the worker that consumes.
local consumers = {}

local function ngx_api()
	local ngx = rawget(_G, "ngx")
	if type(ngx) ~= "table" or type(ngx.get_phase) ~= "function" then
		return nil
	end
	return ngx
end

local function phase()
	local ngx = ngx_api()
	return ngx and ngx.get_phase() or "none"
end

local function check_name(name, fname)
	if type(name) ~= "string" or name == "" then
		error(("ayac.nginx.%s: bad argument #1 (a non-empty name expected, got %s)")
			:format(fname, type(name)), 3)
	end
end

local function close_entry(e)
	for _, link in ipairs(e.links) do
		link:detach()
	end
	e.obj:close()
end

-- Attaches the programs opts.attach chooses: true (default) every program, from its
-- section name; false none; a table of names ({ "prog" }, from the section name) and
-- targets ({ prog = { ifname = "eth0" } }, as prog:attach(target)). Returns the
-- links, or nil, message, code (with nothing left attached).
local function attach_all(obj, name, which)
	local links, want = {}, nil
	if which == false then
		return links
	end
	if type(which) == "table" then
		want = {}
		for k, v in pairs(which) do
			if type(k) == "number" then want[v] = true else want[k] = v end
		end
	end
	local function undo()
		for _, l in ipairs(links) do l:detach() end
	end
	for pname, prog in obj:programs() do
		local target = want and want[pname]
		if not want or target then
			local link, err, code
			if target == true or target == nil then link, err, code = prog:attach()
			else link, err, code = prog:attach(target) end
			if not link then
				undo()
				return nil, ("ayac.nginx: object '%s': attach program '%s': %s")
					:format(name, pname, tostring(err)), code
			end
			links[#links + 1] = link
			if want then want[pname] = nil end
		end
	end
	if want and next(want) then
		undo()
		return nil, ("ayac.nginx: object '%s': no program named '%s'"):format(name,
			tostring(next(want))), "ENOENT"
	end
	return links
end

-- load(name, path_or_bytes [, opts]) in init_by_lua*: ayac.load with opts (globals,
-- pin_path, …) then attach (opts.attach: true, false or a list of program names).
-- Returns the object, or nil, message, code; the message says which capability is
-- missing when the kernel refuses for lack of privileges.
function M.load(name, source, opts)
	check_name(name, "load")
	local ph = phase()
	if ph ~= "init" and ph ~= "none" then
		return nil, ("ayac.nginx.load('%s'): call it from init_by_lua* (the master, which "
			.. "has the privileges and forks the workers), not from the %s phase"):format(name, ph),
			"EINVAL"
	end
	if loaded[name] then
		return nil, ("ayac.nginx.load: an object named '%s' is already loaded"):format(name),
			"EEXIST"
	end
	opts = opts or {}
	local attach = opts.attach
	local lopts = {}
	for k, v in pairs(opts) do
		if k ~= "attach" then lopts[k] = v end
	end
	local obj, err, code = ayac.load(source, lopts)
	if not obj then
		return nil, ("ayac.nginx: load object '%s': %s"):format(name, tostring(err)), code
	end
	local links
	links, err, code = attach_all(obj, name, attach)
	if not links then
		obj:close()
		return nil, err, code
	end
	-- What the workers will need, loaded here: forked workers share the master's
	-- compiled modules, and an unprivileged worker may not be able to read the files.
	require "ayac.events"
	require "ayac.codec"
	-- Attachments the kernel keeps without an fd (netlink XDP/TC, BPF_PROG_ATTACH)
	-- belong to this process, which exits if nginx daemonizes (init_worker says so).
	local kept = {}
	for _, link in ipairs(links) do
		local via = link:info().via
		if via ~= "bpf_link" and via ~= "perf_event" then kept[#kept + 1] = link.kind end
	end
	loaded[name] = { obj = obj, links = links, pid = ffi.C.getpid(), kept = kept }
	return obj
end

-- The object loaded under name (in the master or, inherited, in a worker), or nil.
function M.get(name)
	local e = loaded[name]
	return e and e.obj
end

-- The map mapname of the object loaded under name; raises when either is unknown,
-- since that is a configuration mistake, not a runtime condition.
function M.map(name, mapname)
	local e = loaded[name]
	if not e then
		error(("ayac.nginx.map: no object named '%s' (was it loaded in init_by_lua?)")
			:format(tostring(name)), 2)
	end
	local m = e.obj:map(mapname)
	if not m then
		error(("ayac.nginx.map: object '%s' has no map '%s'"):format(name, tostring(mapname)), 2)
	end
	return m
end

-- Number of links this process holds for name (0 in a worker after init_worker).
function M.links(name)
	local e = loaded[name]
	local n = 0
	if e then
		for _, l in ipairs(e.links) do
			if l:fd() >= 0 then n = n + 1 end
		end
	end
	return n
end

-- init_worker(): in init_worker_by_lua* (or, outside nginx, in any forked child that
-- should not hold the attachments). Drops this process's references to the links (the
-- master keeps the attachments; see the top of this file). true, or nil, message, code.
function M.init_worker()
	local ngx, ph = ngx_api(), phase()
	if ph ~= "init_worker" and ph ~= "none" then
		-- In the master this would close the only fds that keep the programs attached.
		return nil, ("ayac.nginx.init_worker: call it from init_worker_by_lua*, not from "
			.. "the %s phase"):format(ph), "EINVAL"
	end
	for name, e in pairs(loaded) do
		if #e.kept > 0 and ffi.C.getppid() ~= e.pid and ngx and ngx.worker.id() == 0 then
			ngx.log(ngx.ERR, "ayac.nginx: object '", name, "': ", table.concat(e.kept, ", "),
				" attached without a bpf_link went away when nginx daemonized (the process ",
				"that ran init_by_lua exited); run nginx with 'daemon off;', or on a kernel ",
				"with XDP links (5.9) / TCX (6.6); see docs/embedding.md")
		end
		for _, link in ipairs(e.links) do
			-- In a forked process this only closes the inherited fds: the core
			-- never takes an attachment away from the process that made it.
			link:detach()
		end
		e.links = {}
	end
	return true
end

-- consume(name, mapname, handler [, opts]) in init_worker_by_lua*: handler(record) for
-- every record of the ring buffer map, from one worker (opts.worker, default 0), every
-- opts.interval seconds (default 0.05). opts.type / opts.raw as for ayac.ringbuf.
-- Returns true in the consuming worker, false in the others; nil, message, code on
-- failure.
function M.consume(name, mapname, handler, opts)
	check_name(name, "consume")
	if type(handler) ~= "function" then
		error("ayac.nginx.consume: bad argument #3 (function expected, got " .. type(handler) .. ")", 2)
	end
	opts = opts or {}
	local ngx = ngx_api()
	if not ngx or ngx.get_phase() ~= "init_worker" then
		return nil, "ayac.nginx.consume: call it from init_worker_by_lua*", "EINVAL"
	end
	local interval = opts.interval or 0.05
	if type(interval) ~= "number" or interval < 0.001 or interval ~= interval then
		return nil, ("ayac.nginx.consume: interval must be a number of seconds >= 0.001, got %s")
			:format(tostring(interval)), "EINVAL"
	end
	local worker = opts.worker or 0
	if type(worker) ~= "number" or worker < 0 or worker >= ngx.worker.count() then
		return nil, ("ayac.nginx.consume: opts.worker %s is not a worker id (0 .. %d)")
			:format(tostring(worker), ngx.worker.count() - 1), "EINVAL"
	end
	if ngx.worker.id() ~= worker then
		return false
	end
	local key = name .. "\0" .. tostring(mapname)
	if consumers[key] then
		return nil, ("ayac.nginx.consume: '%s' of '%s' already has a consumer in this worker")
			:format(tostring(mapname), name), "EEXIST"
	end
	local m = M.map(name, mapname)
	local rb, err, code = ayac.ringbuf(m, handler, { type = opts.type, raw = opts.raw })
	if not rb then
		return nil, ("ayac.nginx.consume: %s"):format(tostring(err)), code
	end
	local c = { rb = rb }
	local function tick(premature)
		if premature then -- the worker is exiting: unmap the ring now
			rb:close()
			return
		end
		local ok, e = pcall(rb.consume, rb)
		if not ok then
			c.errors = (c.errors or 0) + 1
			ngx.log(ngx.ERR, "ayac.nginx: consume '", mapname, "' of '", name, "': ", e)
		end
	end
	local ok, terr = ngx.timer.every(interval, tick)
	if not ok then
		rb:close()
		return nil, "ayac.nginx.consume: ngx.timer.every: " .. tostring(terr), "EAGAIN"
	end
	consumers[key] = c
	return true
end

-- Stats of a consumer in this worker: { handled=, lost=, discarded=, errors= }, or nil
-- in a worker that does not consume it.
function M.consumer_stats(name, mapname)
	local c = consumers[name .. "\0" .. tostring(mapname)]
	if not c then return nil end
	local s = c.rb:stats()
	s.errors = c.errors or 0
	return s
end

-- unload(name): closes an object now (its links detached). For tests and for callers
-- that load in a phase of their own; a reload does this by itself.
function M.unload(name)
	local e = loaded[name]
	if e then
		loaded[name] = nil
		close_entry(e)
	end
end

return M
