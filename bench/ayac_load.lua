-- The ayac side of scripts/conformance and `make bench` (bench/README.md): run inside
-- the ayac host (./ayac bench/ayac_load.lua MODE ...). Prints the same tab-separated
-- lines as bench/libbpf_load.c does for libbpf.
--
--   conform SETUP OBJ...   every program of every object loaded alone (every other
--                          program's autoload off), after the object's run-time
--                          adjustments from SETUP (bench/corpus-setup):
--                          prog <object> <program> <section> ok|fail <error, first line>
--   corpus SETUP OBJ...    the objects one after the other in this process: open,
--                          adjust, trampoline programs off, load, close:
--                          object <object> ok|fail <microseconds> <programs> <error>;
--                          total <microseconds>
--                          (vmlinux BTF is parsed by the first object that needs it)
--   btf N [PATH]           ayac.btf.load(PATH) N times, a fresh parse each time
--                          (default /sys/kernel/btf/vmlinux): btf <run> <microseconds>
--   map N [ENTRIES]        N sets and N gets, m[k] = v and m[k], u32 -> u64 array and
--                          hash maps of ENTRIES (1024) keys, key i * 7919 % ENTRIES,
--                          through the FFI path:
--                          map <kind> <update|lookup> <N> <ns per op> <ENTRIES>
--   dump N ROUNDS          a u32 -> u64 hash map of N entries (filled untimed), read
--                          whole ROUNDS times in this process by m:dump() into a table,
--                          then ROUNDS times by a pairs loop summing the values:
--                          dump|pairs ayac <round> <microseconds> <entries>
--   ringbuf OBJ N ROUNDS [PAYLOAD]
--                          N records of PAYLOAD (8) bytes already in OBJ's ring buffer
--                          `bench` (put there by its program emit_bench, untimed), read
--                          by rb:consume() into a Lua handler: "field" decodes struct
--                          bench_event by BTF and reads its seq, "raw" reads the u64 at
--                          the zero-copy pointer: ringbuf ayac_<mode> <N> <ns per record>
--   perfbuf OBJ N ROUNDS   the same with N 8-byte samples in OBJ's perf buffer `perf`
--                          (emit_perf, 4096 pages per CPU, wakeup_events 2^20):
--                          perfbuf ayac_<mode> <N> <ns>
local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local lib = dofile(here .. "/lib.lua")
local ayac = require "ayac"

local function out(...)
	local t = { ... }
	for i, v in ipairs(t) do
		t[i] = tostring(v):gsub("[\t\r\n]", " ")
	end
	io.write(table.concat(t, "\t"), "\n")
	io.stdout:flush()
end

-- Verifier log lines that are statistics, not the reason (as in bench/libbpf_load.c).
local STATS = { "^processed ", "^verification time", "^stack depth", "^%-%- END PROG LOAD LOG",
	"^%-%- BEGIN PROG LOAD LOG" }

-- "<code>: <first line> | verifier: <last line of the log>" (the log part when the
-- message carries one).
local function first_line(err, code)
	err = tostring(err)
	local line = err:match("^[^\n]*")
	local s = code and (tostring(code) .. ": " .. line) or line
	local verdict
	for l in err:gmatch("\n([^\n]*)") do
		local stats = l == ""
		for _, p in ipairs(STATS) do stats = stats or l:match(p) ~= nil end
		if not stats then verdict = l end
	end
	return verdict and (s .. " | verifier: " .. verdict) or s
end

-- Apply the object's run-time adjustments; true, or nil and the error.
local function apply_setup(obj, name, setup)
	for _, a in ipairs(setup[name] or {}) do
		local map = obj:map(a.map)
		if not map then return nil, "setup: no map '" .. a.map .. "'", "ENOENT" end
		local ok, err, code
		if a.what == "max_entries" then
			ok, err, code = map:set_max_entries(a.value)
		else
			ok, err, code = map:set_value_size(a.value)
		end
		if not ok then return nil, err, code end
	end
	return true
end

-- Open, let keep(prog_name, section) pick the autoloaded programs, adjust, load, close.
-- true, or nil, message, code.
-- Returns true and the number of programs autoloaded, or nil, message, code.
local function load_object_raw(path, name, setup, keep)
	local obj, err, code = ayac.open(path)
	if not obj then return nil, err, code end
	local ok, nprogs = true, 0
	for pname, prog in obj:programs() do
		if not keep(pname, prog.section) then
			ok, err, code = prog:set_autoload(false)
			if not ok then break end
		else
			nprogs = nprogs + 1
		end
	end
	if ok then ok, err, code = apply_setup(obj, name, setup) end
	if ok then ok, err, code = obj:load() end
	obj:close()
	if not ok then return nil, err, code end
	return true, nprogs
end

-- The same, with a raised error (ayac should never raise on these inputs) reported as
-- a failure with code "RAISED" instead of ending the run.
local function load_object(path, name, setup, keep)
	local res = { pcall(load_object_raw, path, name, setup, keep) }
	if not res[1] then
		collectgarbage() -- closes whatever the failed attempt left open
		return nil, "raised: " .. tostring(res[2]), "RAISED"
	end
	return unpack(res, 2, 4)
end

local function read_setup(path)
	local setup, err = lib.read_setup(path)
	if not setup then
		io.stderr:write("ayac_load: ", err, "\n")
		os.exit(1)
	end
	return setup
end

local modes = {}

function modes.conform(setup_path, ...)
	local setup = read_setup(setup_path)
	local loaded = 0
	for _, path in ipairs { ... } do
		local name = lib.object_name(path)
		local obj, err, code = ayac.open(path)
		if not obj then
			out("object", name, "fail", 0, 0, first_line(err, code))
		else
			local progs = {}
			for pname, prog in obj:programs() do
				progs[#progs + 1] = { name = pname, section = prog.section }
			end
			obj:close()
			for _, p in ipairs(progs) do
				local ok, lerr, lcode = load_object(path, name, setup,
					function(pname) return pname == p.name end)
				if ok then
					loaded = loaded + 1
					out("prog", name, p.name, p.section, "ok", "")
				else
					out("prog", name, p.name, p.section, "fail", first_line(lerr, lcode))
				end
			end
		end
	end
	out("loaded", loaded)
end

function modes.corpus(setup_path, ...)
	local setup = read_setup(setup_path)
	local function keep(_, section) return not lib.is_trampoline(section) end
	local total = 0
	for _, path in ipairs { ... } do
		local name = lib.object_name(path)
		local t0 = lib.now_us()
		local ok, err, code = load_object(path, name, setup, keep)
		local dt = lib.now_us() - t0
		total = total + dt
		out("object", name, ok and "ok" or "fail", ("%.1f"):format(dt),
			ok and err or 0, ok and "" or first_line(err, code))
	end
	out("total", ("%.1f"):format(total))
end

function modes.btf(n, path)
	n = tonumber(n) or 20
	path = path or "/sys/kernel/btf/vmlinux"
	for i = 1, n do
		collectgarbage() -- the previous run's BTF is freed outside the timed part
		local t0 = lib.now_us()
		local btf, err = ayac.btf.load(path)
		local dt = lib.now_us() - t0
		if not btf then
			io.stderr:write("ayac_load: ", tostring(err), "\n")
			os.exit(1)
		end
		out("btf", i, ("%.1f"):format(dt))
		btf = nil -- luacheck: ignore
	end
end

function modes.map(n, entries)
	n = tonumber(n) or 100000
	entries = tonumber(entries) or 1024
	for _, kind in ipairs { "array", "hash" } do
		local m = assert(ayac.create_map { type = kind, key = "u32", value = "u64",
			max_entries = entries, name = "bench" })
		-- untimed warm-up on both sides (here: the JIT compiles the loops)
		for i = 0, 1999 do
			m[i * 7919 % entries] = m[i * 7919 % entries] or i
		end
		local t0 = lib.cpu_us()
		for i = 0, n - 1 do
			m[i * 7919 % entries] = i
		end
		local t1 = lib.cpu_us()
		local sum = 0
		for i = 0, n - 1 do
			sum = sum + m[i * 7919 % entries]
		end
		local t2 = lib.cpu_us()
		m:close()
		out("map", kind, "update", n, ("%.1f"):format((t1 - t0) * 1e3 / n), entries)
		out("map", kind, "lookup", n, ("%.1f"):format((t2 - t1) * 1e3 / n), entries)
		assert(sum > 0)
	end
end

function modes.dump(n, rounds)
	n, rounds = tonumber(n) or 1000000, tonumber(rounds) or 5
	local m = assert(ayac.create_map { type = "hash", key = "u32", value = "u64",
		max_entries = n, name = "dump" })
	local fillt = {}
	for i = 0, n - 1 do
		fillt[i] = i * 3
	end
	assert(assert(m:update_batch(fillt)) == n)
	fillt = nil -- luacheck: ignore
	for r = 1, rounds do
		local t0 = lib.cpu_us()
		local t = m:dump()
		local dt = lib.cpu_us() - t0
		if t[n - 1] ~= (n - 1) * 3 then
			io.stderr:write("ayac_load: dump: wrong value for key ", n - 1, "\n")
			os.exit(1)
		end
		out("dump", "ayac", r, ("%.1f"):format(dt), n)
	end
	for r = 1, rounds do
		local t0 = lib.cpu_us()
		local sum, cnt = 0, 0
		for _, v in m:pairs() do
			sum, cnt = sum + v, cnt + 1
		end
		local dt = lib.cpu_us() - t0
		if cnt ~= n or sum ~= 3 * n * (n - 1) / 2 then
			io.stderr:write("ayac_load: pairs: ", cnt, " entries\n")
			os.exit(1)
		end
		out("pairs", "ayac", r, ("%.1f"):format(dt), n)
	end
	m:close()
end

-- Fill with `fill`, consume with buf:consume(), per round; round 0 warms the JIT up.
local function events_rounds(kind, mode, buf, fill, n, rounds)
	for round = 0, rounds do
		fill()
		local t0 = lib.now_us()
		local got = buf:consume()
		local dt = lib.now_us() - t0
		if got ~= n then
			io.stderr:write(("ayac_load: %s %s: consumed %s of %d\n"):format(kind, mode,
				tostring(got), n))
			os.exit(1)
		end
		if round > 0 then
			out(kind, "ayac_" .. mode, n, ("%.3f"):format(dt * 1e3 / n))
		end
	end
end

local function events_bench(kind, path, n, rounds, payload)
	local ffi = require "ffi"
	local cast, u64p = ffi.cast, ffi.typeof("const uint64_t *")
	n, rounds = tonumber(n) or 1000000, tonumber(rounds) or 5
	local obj = assert(ayac.load(path))
	assert(obj:set_global("nr_records", n))
	assert(obj:set_global("payload", tonumber(payload) or 8))
	local prog = obj:program(kind == "ringbuf" and "emit_bench" or "emit_perf")
	local pkt = string.rep("\0", 64)
	local function fill()
		assert(prog:test_run { data = pkt })
	end
	local sum = 0
	local handlers = {
		field = { function(e) sum = sum + e.seq end, { type = "struct bench_event" } },
		raw = { function(p) sum = sum + tonumber(cast(u64p, p)[0]) end, { raw = true } },
	}
	for _, mode in ipairs { "field", "raw" } do
		local h = handlers[mode]
		local buf
		if kind == "ringbuf" then
			buf = assert(ayac.ringbuf(obj:map("bench"), h[1], h[2]))
		else
			h[2].pages = 4096
			h[2].wakeup_events = 2 ^ 20 -- as events_libbpf: filling is slow with wakeups
			buf = assert(ayac.perfbuf(obj:map("perf"), h[1], h[2]))
		end
		events_rounds(kind, mode, buf, fill, n, rounds)
		buf:close()
	end
	assert(sum > 0)
	obj:close()
end

function modes.ringbuf(path, n, rounds, payload)
	events_bench("ringbuf", path, n, rounds, payload)
end

function modes.perfbuf(path, n, rounds)
	events_bench("perfbuf", path, n, rounds, 8)
end

local mode = arg and arg[1]
if not modes[mode] then
	io.stderr:write("usage: ayac bench/ayac_load.lua conform|corpus SETUP OBJ... | btf N [PATH] | map N" ..
		" | ringbuf|perfbuf OBJ N ROUNDS\n")
	os.exit(2)
end
modes[mode](select(2, unpack(arg)))
