-- Whole-map operations: m:pairs(), keys, count, dump, clear, drain, and the batch
-- element calls update_batch, lookup_batch, delete_batch (docs/maps.md).
--
-- Every walk reads the map in chunks into a pair of key/value buffers: with
-- BPF_MAP_LOOKUP_BATCH (or LOOKUP_AND_DELETE_BATCH for drain) where the kernel and the
-- map type have it, or with next-key + lookup otherwise, so the decode loops are the
-- same either way. Which map types lack which batch command is learnt from the
-- kernel's first ENOTSUPP and remembered for the process;
-- AYAC_FEATURES="map_batch=0" forces the next-key walk everywhere.
--
-- The decode loops (a chunk into a table, the pairs step) are generated once per map
-- from its key and value codecs: each map gets bytecode of its own, so the traces
-- LuaJIT compiles for one map never see another map's decoders, fail their guards and
-- give way to the interpreter — the fifth dump runs the same machine code as the first.
local ffi = require "ffi"
local core = require "ayac.core"
local fast = require "ayac.fast"
local gen = require "ayac.gen"

local lib = fast.lib
local ffi_new, ffi_copy, ffi_fill = ffi.new, ffi.copy, ffi.fill
local type, error, pairs, next, setmetatable, tostring =
	type, error, pairs, next, setmetatable, tostring
local math_max, math_min, floor = math.max, math.min, math.floor
local concat = table.concat

local ok_tnew, tnew = pcall(require, "table.new")
if not ok_tnew then
	tnew = function() return {} end
end

local ENOENT, ENOSPC, ENOTSUPP = fast.ENOENT, 28, 524
-- A chunk: at most this many bytes of keys and values, and entries.
local CHUNK_BYTES, CHUNK_MAX, CHUNK_MIN = 1024 * 1024, 16384, 16

local u8arr = ffi.typeof("uint8_t[?]")
local u32arr = ffi.typeof("uint32_t[?]")

local M = {}
local P -- ayac.map's element state and helpers (M.install)

-- Batch commands the kernel refused, per command, per map type: false once refused.
local batch_ok = { lookup = {}, lookup_and_delete = {}, update = {}, delete = {} }
local batch_feature -- the kernel has the commands at all (AYAC_FEATURES: map_batch)

local BATCH_CALL = {
	lookup = lib.ayac_fast_lookup_batch,
	lookup_and_delete = lib.ayac_fast_lookup_and_delete_batch,
}

local function batch_usable(st, cmd)
	if batch_feature == nil then
		batch_feature = core.feature("map_batch") == true
	end
	return batch_feature and batch_ok[cmd][st.type] ~= false
end

local function raise(st, op, rc, level)
	local _, msg = P.fail(st, op, rc)
	error(msg, level + 1)
end

---------------------------------------------------------------------------------------
-- the walk: chunks of keys and values

-- Entries per chunk for this map: bounded by memory and by the map's size.
local function chunk_cap(st)
	local cap = st.chunk_cap
	if not cap then
		local per = math_max(st.ksize, 1) + st.vbufsize
		cap = math_min(CHUNK_MAX, floor(CHUNK_BYTES / per), math_max(st.max_entries, 1))
		cap = math_max(cap, math_min(CHUNK_MIN, math_max(st.max_entries, 1)))
		st.chunk_cap = cap
	end
	return cap
end

local function alloc(w, cap)
	w.cap = cap
	w.keys = ffi_new(u8arr, cap * w.ks)
	w.vals = ffi_new(u8arr, cap * w.vs)
end

-- A walk over map m for operation op ("pairs", "dump", ...) with batch command cmd
-- ("lookup" or "lookup_and_delete"), or the next-key walk.
-- Maps with no keys to walk: the kernel has no next key (nor batch) for them.
local NO_WALK = { sk_storage = "a socket's fd", inode_storage = "a file's fd",
	task_storage = "a pidfd", cgrp_storage = "a cgroup directory's fd" }

local KEYLESS = { queue = "use pop() and peek()", stack = "use pop() and peek()",
	bloom_filter = "use contains(v)" }

local function walk(m, op, cmd)
	local st = P.state(m)
	if NO_WALK[st.type] then
		error(("map '%s': %s: %s maps have no keys to walk; read an element by its key, %s"):format(
			st.name, op, st.type, NO_WALK[st.type]), 3)
	elseif KEYLESS[st.type] then
		error(("map '%s': %s: %s maps have no keys; %s"):format(st.name, op, st.type,
			KEYLESS[st.type]), 3)
	end
	local w = { m = m, st = st, op = op, ks = math_max(st.ksize, 1), vs = st.vbufsize,
		started = false, done = false, i = 0, n = 0, count = ffi_new(u32arr, 1) }
	alloc(w, chunk_cap(st))
	if cmd and batch_usable(st, cmd) then
		local tsz = math_max(w.ks, 8) -- the position: a bucket index, or a key
		w.cmd, w.call = cmd, BATCH_CALL[cmd]
		w.tok_in, w.tok_out = ffi_new(u8arr, tsz), ffi_new(u8arr, tsz)
	else
		w.prev = ffi_new(u8arr, w.ks)
	end
	return w
end

local fetch

-- The next-key walk: up to cap entries into the chunk. An element deleted between
-- next-key and lookup is skipped; the walk goes on from its key.
local function fetch_next_key(w, fd)
	local n, cap, ks, vs, keys, vals = 0, w.cap, w.ks, w.vs, w.keys, w.vals
	local prev = w.started and w.prev or nil
	local ksize = w.st.ksize
	while n < cap do
		local kp = keys + n * ks
		local rc = lib.ayac_fast_next_key(fd, prev, kp)
		if rc == -ENOENT then
			w.done = true
			break
		elseif rc ~= 0 then
			raise(w.st, w.op, rc, 3)
		end
		prev = kp
		rc = lib.ayac_fast_lookup(fd, kp, vals + n * vs)
		if rc == 0 then
			n = n + 1
		elseif rc ~= -ENOENT then
			raise(w.st, w.op, rc, 3)
		end
	end
	if prev ~= nil then
		ffi_copy(w.prev, prev, ksize)
		w.started = true
	end
	return n
end

-- The kernel has no such batch command for this map type: remember, walk by next key.
local function batch_refused(w, fd)
	batch_ok[w.cmd][w.st.type] = false
	w.cmd, w.call, w.prev = nil, nil, ffi_new(u8arr, w.ks)
	if w.on_refused then
		return w.on_refused(w, fd)
	end
	return fetch_next_key(w, fd)
end

-- The next chunk: its number of entries, 0 at the end.
function fetch(w)
	if w.done then
		return 0
	end
	local fd = P.check_fd(w.st, w.op, w.m)
	local call = w.call
	if not call then
		return fetch_next_key(w, fd)
	end
	local count = w.count
	count[0] = w.cap
	local rc = call(fd, w.started and w.tok_in or nil, w.tok_out, w.keys, w.vals, count, 0)
	local n = count[0]
	if rc == 0 then
		w.tok_in, w.tok_out = w.tok_out, w.tok_in
		w.started = true
		if n == 0 then
			return fetch(w)
		end
		return n
	elseif rc == -ENOENT then
		w.done = true
		return n
	elseif rc == -ENOSPC and n == 0 then
		-- one hash bucket holds more entries than a chunk: a bigger chunk
		alloc(w, w.cap * 2)
		return fetch(w)
	elseif rc == -ENOTSUPP and not w.started then
		return batch_refused(w, fd)
	end
	raise(w.st, w.op, rc, 2)
end

---------------------------------------------------------------------------------------
-- the per-map decode loops

-- value(p): one element's value at p; per-CPU maps: a 1-based array, one per CPU,
-- built by one table constructor (no inner loop for the trace to leave).
local function value_source(st)
	if not st.percpu then
		return "local function value(p) return (vdec(p)) end"
	end
	local items = {}
	for c = 0, st.ncpus - 1 do
		items[#items + 1] = ("vdec(p + %d)"):format(c * st.stride)
	end
	return "local function value(p) return { " .. concat(items, ", ") .. " } end"
end

local TEMPLATE = [[
local kdec, vdec, fetch = ...
%s
local KS, VS = %d, %d
-- dump: the entries of a chunk into t
local function fill(t, keys, vals, n)
	for i = 0, n - 1 do
		t[kdec(keys + i * KS)] = value(vals + i * VS)
	end
end
-- dump with a size hint: chunk after chunk into t. One flat loop (the next chunk is a
-- branch in it, not an outer loop): LuaJIT aborts a root trace of an outer loop that
-- reaches a compiled inner one, again and again until it blacklists it.
local function walk_into(w, t, nextf)
	local i, n, total, keys, vals = 0, 0, 0, nil, nil
	while true do
		if i < n then
			t[kdec(keys + i * KS)] = value(vals + i * VS)
			i = i + 1
		elseif w.done then
			return total
		else
			n, i = nextf(w), 0
			keys, vals, total = w.keys, w.vals, total + n
		end
	end
end
-- keys: the keys of every chunk into the array t, the same way
local function walk_keys(w, t, nextf)
	local i, n, total, keys = 0, 0, 0, nil
	while true do
		if i < n then
			t[total + i + 1] = kdec(keys + i * KS)
			i = i + 1
		elseif w.done then
			return total + n
		else
			total = total + n
			n, i = nextf(w), 0
			keys = w.keys
		end
	end
end
-- the generic for's step over a walk
local function step(w)
	local i = w.i
	if i >= w.n then
		if w.done then
			w.m = nil -- the end: the state holds the handle no longer
			return nil
		end
		local n = fetch(w)
		if n == 0 then
			w.m = nil
			return nil
		end
		w.n, i = n, 0
	end
	w.i = i + 1
	return kdec(w.keys + i * KS), value(w.vals + i * VS)
end
return { fill = fill, walk_into = walk_into, walk_keys = walk_keys, step = step }
]]

-- The loops of this map's state, generated on first use (the state is rebuilt, and so
-- are they, when the codecs change).
local function loops(st)
	local l = st.loops
	if not l then
		local src = TEMPLATE:format(value_source(st), math_max(st.ksize, 1), st.vbufsize)
		local chunk = gen.chunk(src, "=ayac.map." .. tostring(st.name))
		l = chunk(st.kdec, st.vdec, fetch)
		st.loops = l
	end
	return l
end

---------------------------------------------------------------------------------------
-- methods

local methods = {}

-- m:_iteration(): what the walks of this map use, "batch" or "next_key" (for the specs;
-- "batch" until the kernel refused it for this map type).
function methods._iteration(m)
	return batch_usable(P.state(m), "lookup") and "batch" or "next_key"
end

-- for k, v in m:pairs() do ... end. The loop body may change the map; a chunk already
-- read is what it is (the next-key walk goes on from the last key it saw).
-- The position lives in the walk table the generic for hands along, and the step
-- function's upvalues are the map's decoders only, never its handle: a compiled trace
-- keeps the functions it calls alive, and a handle held there would keep the whole
-- object open (programs, maps, links) until the JIT flushed the trace. The walk drops
-- its handle at the end.
function methods.pairs(m)
	local w = walk(m, "pairs", "lookup")
	return loops(w.st).step, w, nil
end

-- A table for as many entries as this map's last dump had. Number keys: the array
-- part (dense integer keys land there; a hash part sized up front would keep them out
-- of it, and growing it step by step rehashes the whole table each time).
local function result_table(st)
	local n = st.last_count
	if n == 0 then
		return {}
	end
	return st.number_keys and tnew(n, 0) or tnew(0, n)
end

-- Reads the walk into a table. Without a size hint (the first dump of a map) the
-- chunks are all read first, each into buffers of its own, and the table made for
-- their total.
local function dump_walk(w, nextf)
	local st = w.st
	local fill = loops(st).fill
	local total, t = 0, nil
	local chunks
	if not st.last_count then
		chunks = {}
		repeat
			local n = nextf(w)
			if n > 0 then
				chunks[#chunks + 1] = { w.keys, w.vals, n }
				total = total + n
				alloc(w, w.cap)
			end
		until w.done
	end
	if chunks then
		st.number_keys = total > 0 and type(st.kdec(chunks[1][1])) == "number"
		st.last_count = total
		t = result_table(st)
		for i = 1, #chunks do
			local c = chunks[i]
			fill(t, c[1], c[2], c[3])
		end
		return t
	end
	t = result_table(st)
	st.last_count = loops(st).walk_into(w, t, nextf)
	return t
end

function methods.dump(m)
	return dump_walk(walk(m, "dump", "lookup"), fetch)
end

-- m:keys() is an array of keys that is also callable as an iterator:
-- for k in m:keys() do ... end (the position lives beside it, weakly keyed).
local positions = setmetatable({}, { __mode = "k" })
local keys_mt = {
	__call = function(t, _, prev)
		local i = prev == nil and 1 or (positions[t] or 0) + 1
		positions[t] = i
		return t[i]
	end,
}

function methods.keys(m)
	local w = walk(m, "keys", "lookup")
	local t = tnew(w.st.last_count or 0, 0)
	loops(w.st).walk_keys(w, t, fetch)
	setmetatable(t, keys_mt)
	return t
end

function methods.count(m)
	local w = walk(m, "count", "lookup")
	local total = 0
	repeat
		total = total + fetch(w)
	until w.done
	return total
end

-- Maps whose elements always exist: clear() zeroes them, drain() reads and zeroes.
local ZEROED = { array = true, percpu_array = true }

-- Zeroes indexes 0..max_entries-1 (an update batch where there is one).
local function zero_all(m, st, op)
	local fd = P.check_fd(st, op, m)
	local cap = chunk_cap(st)
	local keys = ffi_new(u32arr, cap)
	local vals = ffi_new(u8arr, cap * st.vbufsize)
	local count = ffi_new(u32arr, 1)
	local use_batch = batch_usable(st, "update")
	local i = 0
	while i < st.max_entries do
		local n = math_min(cap, st.max_entries - i)
		for j = 0, n - 1 do
			keys[j] = i + j
		end
		local rc
		if use_batch then
			count[0] = n
			rc = lib.ayac_fast_update_batch(fd, keys, vals, count, 0)
			if rc == -ENOTSUPP then
				batch_ok.update[st.type] = false
				use_batch = false
			end
		end
		if not use_batch then
			for j = 0, n - 1 do
				rc = lib.ayac_fast_update(fd, keys + j, vals, 0)
				if rc ~= 0 then
					break
				end
			end
		end
		if rc ~= 0 then
			return P.fail(st, op, rc)
		end
		i = i + n
	end
	return true
end

-- Deletes the n keys of a chunk one by one (ENOENT: gone already).
local function delete_each(st, op, fd, keys, n)
	for i = 0, n - 1 do
		local rc = lib.ayac_fast_delete(fd, keys + i * math_max(st.ksize, 1))
		if rc ~= 0 and rc ~= -ENOENT then
			return P.fail(st, op, rc)
		end
	end
	return true
end

-- The next-key fallback of drain/clear: a chunk read by next key, then its keys
-- deleted. Not atomic: an update between the read and the delete is lost (the kernel
-- has no lookup-and-delete batch for this map type, or AYAC_FEATURES said so).
local function drain_fallback(w, fd)
	w.started = false -- the keys read are deleted: every chunk starts at the beginning
	local n = fetch_next_key(w, fd) -- done once it read to the end
	w.started = false
	local ok, err = delete_each(w.st, w.op, fd, w.keys, n)
	if not ok then
		error(err, 4)
	end
	-- Programs refilling the map as fast as it drains would keep this going forever:
	-- stop after twice its size, as a batch drain stops after its last bucket.
	w.drained = (w.drained or 0) + n
	if w.drained >= 2 * math_max(w.st.max_entries, 1) then
		w.done = true
	end
	return n
end

local function drain_walk(m, op)
	local w = walk(m, op, "lookup_and_delete")
	w.on_refused = drain_fallback
	return w
end

local function drain_fetch(w)
	if w.call or w.done then
		return fetch(w)
	end
	return drain_fallback(w, P.check_fd(w.st, w.op, w.m))
end

function methods.clear(m)
	local st = P.state(m)
	if ZEROED[st.type] then
		return zero_all(m, st, "clear")
	end
	local w = drain_walk(m, "clear")
	repeat
		drain_fetch(w)
	until w.done
	return true
end

-- Reads every element and takes it out (counters read and reset each interval):
-- a table as dump() gives. Array maps are read, then zeroed.
function methods.drain(m)
	local st = P.state(m)
	if ZEROED[st.type] then
		local t = methods.dump(m)
		local ok, err, code = zero_all(m, st, "drain")
		if not ok then
			return nil, err, code
		end
		return t
	end
	return dump_walk(drain_walk(m, "drain"), drain_fetch)
end

---------------------------------------------------------------------------------------
-- batch element calls

-- A list of keys (a 1-based array; a table of keys is itself a valid key, so sets are
-- not guessed at).
local function key_list(keys, what)
	if type(keys) ~= "table" then
		error(("bad argument #1 to '%s' (array of keys expected)"):format(what), 3)
	end
	return keys
end

-- m:update_batch{ [k] = v, ... } [, "any"|"lock"]: the number of elements written, or
-- nil, message, code, written so far. BPF_MAP_UPDATE_BATCH takes no noexist/exist:
-- with those flags the elements are written one by one.
-- Writes the u.n elements buffered in u: 0 or a negative errno (u.done counts).
local function flush_update(u)
	local rc, n, st = 0, u.n, u.st
	if u.use_batch then
		local count = u.count
		count[0] = n
		rc = lib.ayac_fast_update_batch(u.fd, u.keys, u.vals, count, u.flags)
		if rc == -ENOTSUPP then -- count is left as it was: nothing went in
			batch_ok.update[st.type] = false
			u.use_batch = false
		else
			u.done = u.done + (rc == 0 and n or count[0])
			u.n = 0
			return rc
		end
	end
	local ks, vs = u.ks, u.vs
	for i = 0, n - 1 do
		rc = lib.ayac_fast_update(u.fd, u.keys + i * ks, u.vals + i * vs, u.flags)
		if rc ~= 0 then
			return rc
		end
		u.done = u.done + 1
	end
	u.n = 0
	return 0
end

function methods.update_batch(m, tbl, flags)
	local st = P.state(m)
	if type(tbl) ~= "table" then
		error("bad argument #1 to 'update_batch' (table of key = value expected)", 2)
	end
	local f = P.flags_value(flags, "update_batch")
	local cap, ks, vs = chunk_cap(st), math_max(st.ksize, 1), st.vbufsize
	local u = { st = st, fd = P.check_fd(st, "update_batch", m), flags = f, n = 0, done = 0,
		use_batch = (f == 0 or f == P.FLAGS.lock) and batch_usable(st, "update"),
		ks = ks, vs = vs, keys = ffi_new(u8arr, cap * ks), vals = ffi_new(u8arr, cap * vs),
		count = ffi_new(u32arr, 1) }
	local k, v = next(tbl)
	while k ~= nil do
		local n = u.n
		P.encode_key(st, k, u.keys + n * ks)
		P.encode_value(st, v, u.vals + n * vs)
		u.n = n + 1
		k, v = next(tbl, k)
		if u.n == cap or k == nil then
			local rc = flush_update(u)
			if rc ~= 0 then
				local _, msg, code = P.fail(st, "update_batch", rc)
				return nil, msg, code, u.done
			end
		end
	end
	return u.done
end

-- m:lookup_batch(keys): { [k] = value } for the keys present. The kernel's batch lookup
-- walks the map from a position and takes no keys, so this is one lookup per key
-- (dump() is the batch walk).
function methods.lookup_batch(m, keys)
	local list = key_list(keys, "lookup_batch")
	local t = {}
	for i = 1, #list do
		local k = list[i]
		local v, err, code = P.get(m, k)
		if err then
			return nil, err, code
		end
		if v ~= nil then
			t[k] = v
		end
	end
	return t
end

-- m:delete_batch(keys): the number of keys deleted (a key not in the map is skipped).
function methods.delete_batch(m, keys)
	local list = key_list(keys, "delete_batch")
	local st = P.state(m)
	local fd = P.check_fd(st, "delete_batch", m)
	local cap, ks = chunk_cap(st), math_max(st.ksize, 1)
	local kbuf = ffi_new(u8arr, cap * ks)
	local count = ffi_new(u32arr, 1)
	local use_batch = batch_usable(st, "delete")
	local deleted, pos, total = 0, 1, #list
	while pos <= total do
		local n = math_min(cap, total - pos + 1)
		ffi_fill(kbuf, n * ks)
		for i = 0, n - 1 do
			P.encode_key(st, list[pos + i], kbuf + i * ks)
		end
		local from = 0
		while use_batch and from < n do
			count[0] = n - from
			local rc = lib.ayac_fast_delete_batch(fd, kbuf + from * ks, count, 0)
			if rc == -ENOTSUPP then -- count is left as it was: nothing deleted
				batch_ok.delete[st.type] = false
				use_batch = false
				break
			end
			deleted = deleted + count[0]
			if rc == 0 then
				from = n
			elseif rc == -ENOENT then
				from = from + count[0] + 1 -- skip the missing key
			else
				local _, msg, code = P.fail(st, "delete_batch", rc)
				return nil, msg, code, deleted
			end
		end
		for i = from, n - 1 do
			local rc = lib.ayac_fast_delete(fd, kbuf + i * ks)
			if rc == 0 then
				deleted = deleted + 1
			elseif rc ~= -ENOENT then
				local _, msg, code = P.fail(st, "delete_batch", rc)
				return nil, msg, code, deleted
			end
		end
		pos = pos + n
	end
	return deleted
end

-- Called by ayac.map with its private helpers; puts the methods on the map metatable.
function M.install(private, map_methods)
	P = private
	for k, f in pairs(methods) do
		map_methods[k] = f
	end
	return methods
end

M.ZEROED = ZEROED
return M
