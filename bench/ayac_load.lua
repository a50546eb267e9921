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
--   map N                  N sets and N gets, m[k] = v and m[k], u32 -> u64 array and
--                          hash maps through the FFI path:
--                          map <kind> <update|lookup> <N> <nanoseconds per op>
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

function modes.map(n)
	n = tonumber(n) or 100000
	local entries = 1024
	for _, kind in ipairs { "array", "hash" } do
		local m = assert(ayac.create_map { type = kind, key = "u32", value = "u64",
			max_entries = entries, name = "bench" })
		local t0 = lib.now_us()
		for i = 0, n - 1 do
			m[i % entries] = i
		end
		local t1 = lib.now_us()
		local sum = 0
		for i = 0, n - 1 do
			sum = sum + m[i % entries]
		end
		local t2 = lib.now_us()
		m:close()
		out("map", kind, "update", n, ("%.1f"):format((t1 - t0) * 1e3 / n))
		out("map", kind, "lookup", n, ("%.1f"):format((t2 - t1) * 1e3 / n))
		assert(sum > 0)
	end
end

local mode = arg and arg[1]
if not modes[mode] then
	io.stderr:write("usage: ayac bench/ayac_load.lua conform|corpus SETUP OBJ... | btf N [PATH] | map N\n")
	os.exit(2)
end
modes[mode](select(2, unpack(arg)))
