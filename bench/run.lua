-- `make bench`: ayac and libbpf side by side in the same run, with ratios
-- (bench/README.md says what each number means). Run under a plain luajit:
--
--   luajit bench/run.lua --build DIR --host AYAC [--rounds N] [--btf-rounds N]
--                        [--map-ops N] [--event-records N] [--perf-records N]
--                        [--event-rounds N] [--dump-entries N] [--dump-rounds N]
--                        [--only btf,corpus,map,dump,events,startup] [--verbose]
--
-- DIR is the build tree holding bench/libbpf_load, bench/btf_parse and libbpf-tools/;
-- AYAC the ayac host binary that runs bench/ayac_load.lua.
local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local lib = dofile(here .. "/lib.lua")
local q = lib.shell_quote

local opts = { build = "build", host = "./ayac", rounds = 7, btf_rounds = 31,
	map_ops = 200000, event_records = 250000, perf_records = 250000, event_rounds = 15,
	dump_entries = 1048576, dump_rounds = 5,
	only = nil, verbose = false }
do
	local i = 1
	while arg[i] do
		local a = arg[i]
		if a == "--verbose" or a == "-v" then
			opts.verbose = true
		elseif a:match("^%-%-") and arg[i + 1] then
			local k = a:sub(3):gsub("-", "_")
			if opts[k] == nil and k ~= "only" then error("run.lua: unknown option " .. a) end
			local v = arg[i + 1]
			opts[k] = tonumber(v) or v
			i = i + 1
		else
			error("run.lua: unexpected argument " .. a)
		end
		i = i + 1
	end
end
local only = {}
for w in tostring(opts.only or "btf,corpus,map,dump,events,startup"):gmatch("[^,]+") do only[w] = true end

local LIBBPF = opts.build .. "/bench/libbpf_load"
local BTFBENCH = opts.build .. "/bench/btf_parse"
local EVBENCH = opts.build .. "/bench/events_libbpf"
local EVOBJ = opts.build .. "/spec/bpf/events.bpf.o"
local AYAC = q(opts.host) .. " " .. q(here .. "/ayac_load.lua")
local SETUP = here .. "/corpus-setup"
local CORPUS = opts.build .. "/libbpf-tools"

local function say(fmt, ...) io.write(fmt:format(...), "\n") io.stdout:flush() end

local function run(cmd)
	local rows, ok, status = lib.run(cmd)
	if not ok then
		io.stderr:write("run.lua: '", cmd, "' exited with ", tostring(status), "\n")
		os.exit(1)
	end
	return rows
end

local function ratio(a, b) return a / b end

local function verdict(r, target)
	return r <= target and ("met (<= %.2f)"):format(target) or ("NOT met (target <= %.2f)"):format(target)
end

local function machine()
	local model = "?"
	local f = io.open("/proc/cpuinfo")
	if f then
		for line in f:lines() do
			local m = line:match("^model name%s*:%s*(.*)$")
			if m then model = m break end
		end
		f:close()
	end
	local p = io.popen("uname -r; nproc")
	local rel, ncpu = p:read("*l"), p:read("*l")
	p:close()
	local lp = io.popen("readlink -f /usr/lib/x86_64-linux-gnu/libbpf.so.1 2>/dev/null || true")
	local lb = (lp:read("*l") or ""):match("libbpf%.so%.([%d.]+)$") or "?"
	lp:close()
	return ("%s, %s CPUs, kernel %s, libbpf %s"):format(model, ncpu, rel, lb)
end

say("ayac bench, %s", os.date("!%Y-%m-%d %H:%M UTC"))
say("machine: %s", machine())

---------------------------------------------------------------------------------------
-- (a) vmlinux BTF parse

if only.btf then
	say("")
	say("(a) parsing /sys/kernel/btf/vmlinux, one process, %d rounds, median (bench/btf_parse)",
		opts.btf_rounds)
	local times = {}
	for _, r in ipairs(run(q(BTFBENCH) .. " " .. opts.btf_rounds)) do
		if r[1] == "btf" then
			times[r[2]] = times[r[2]] or {}
			table.insert(times[r[2]], tonumber(r[4]))
		end
	end
	local m = {}
	for k, v in pairs(times) do m[k] = lib.median(v) end
	local rows = {
		{ "libbpf", "btf__parse (reference)", nil },
		{ "ayac", "ayac_btf_parse_file, as for vmlinux", "libbpf" },
		{ "ayac_validate", "file read + ayac_btf_parse, every record checked", "libbpf" },
		{ "libbpf_find", "btf__parse + find 'task_struct'", nil },
		{ "ayac_find", "parse + find 'task_struct' (builds the name index)", "libbpf_find" },
	}
	for _, row in ipairs(rows) do
		local v = m[row[1]]
		if v then
			local rs = row[3] and m[row[3]] and ("  %.2fx %s"):format(ratio(v, m[row[3]]), row[3]) or ""
			say("  %-14s %8.3f ms  %-52s%s", row[1], v / 1e3, row[2], rs)
		end
	end
	-- What a Lua script pays: ayac.btf.load through the binding (fresh parse each time).
	local lua = {}
	for _, r in ipairs(run(AYAC .. " btf " .. opts.btf_rounds)) do
		if r[1] == "btf" then lua[#lua + 1] = tonumber(r[3]) end
	end
	local lm = lib.median(lua)
	if lm and m.libbpf then
		say("  %-14s %8.3f ms  %-52s  %.2fx libbpf", "ayac_lua", lm / 1e3,
			"ayac.btf.load(path) from Lua, in the ayac host", lm / m.libbpf)
	end
	if m.ayac and m.libbpf then
		local r = m.ayac / m.libbpf
		say("  => ayac / libbpf = %.2f: %s", r, verdict(r, 0.5))
	end
end

---------------------------------------------------------------------------------------
-- (b) the libbpf-tools corpus, one object after the other in one process

local function objects_in(dir)
	local list = {}
	local p = io.popen("ls " .. q(dir) .. " 2>/dev/null")
	for f in p:lines() do
		if f:match("%.bpf%.o$") then list[#list + 1] = dir .. "/" .. f end
	end
	p:close()
	return list
end

local function corpus_run(cmd)
	local res, total = {}, nil
	for _, r in ipairs(run(cmd)) do
		if r[1] == "object" then
			res[r[2]] = { ok = r[3] == "ok", us = tonumber(r[4]), progs = tonumber(r[5]) or 0, err = r[6] }
		elseif r[1] == "total" then
			total = tonumber(r[2])
		end
	end
	return res, total
end

if only.corpus then
	say("")
	local objs = objects_in(CORPUS)
	if #objs == 0 then
		io.stderr:write("run.lua: no objects in ", CORPUS, " (make corpus)\n")
		os.exit(1)
	end
	local function args(list)
		local t = {}
		for i, p in ipairs(list) do t[i] = q(p) end
		return q(SETUP) .. " " .. table.concat(t, " ")
	end
	-- Which objects each side loads (fentry/fexit/fmod_ret/lsm programs off).
	local lres = corpus_run(q(LIBBPF) .. " corpus " .. args(objs))
	local ares = corpus_run(AYAC .. " corpus " .. args(objs))
	local nl, na, both, empty, nprogs = 0, 0, {}, {}, 0
	for _, path in ipairs(objs) do
		local name = lib.object_name(path)
		local l, a = lres[name], ares[name]
		if l and l.ok then nl = nl + 1 end
		if a and a.ok then na = na + 1 end
		if l and l.ok and a and a.ok then
			if l.progs == 0 then
				empty[#empty + 1] = name
			else
				both[#both + 1] = path
				nprogs = nprogs + l.progs
			end
		end
	end
	say("(b) loading the libbpf-tools corpus one object after the other, one process per side")
	say("  objects: %d; libbpf loads %d, ayac loads %d (fentry/fexit programs off, bench/corpus-setup applied)",
		#objs, nl, na)
	if #empty > 0 then
		say("  not timed, no program left once fentry/fexit are off: %s", table.concat(empty, " "))
	end
	if #both == 0 then
		say("  no object that both load: nothing to time")
	else
		local names = {}
		for i, p in ipairs(both) do names[i] = lib.object_name(p) end
		say("  timed: the %d objects both load (%d programs), %d rounds, median total:", #both,
			nprogs, opts.rounds)
		if opts.verbose then say("    %s", table.concat(names, " ")) end
		local lt, at, lper, aper = {}, {}, {}, {}
		for round = 1, opts.rounds do
			-- alternate which side goes first
			local first_ayac = round % 2 == 0
			local ar, atot, lr, ltot
			if first_ayac then ar, atot = corpus_run(AYAC .. " corpus " .. args(both)) end
			lr, ltot = corpus_run(q(LIBBPF) .. " corpus " .. args(both))
			if not first_ayac then ar, atot = corpus_run(AYAC .. " corpus " .. args(both)) end
			for _, n in ipairs(names) do
				if not (lr[n] and lr[n].ok and ar[n] and ar[n].ok) then
					io.stderr:write(("run.lua: %s did not load in round %d (libbpf %s, ayac %s)\n"):format(
						n, round, tostring(lr[n] and lr[n].err), tostring(ar[n] and ar[n].err)))
					os.exit(1)
				end
				lper[n] = lper[n] or {}; table.insert(lper[n], lr[n].us)
				aper[n] = aper[n] or {}; table.insert(aper[n], ar[n].us)
			end
			lt[#lt + 1], at[#at + 1] = ltot, atot
		end
		local lm, am = lib.median(lt), lib.median(at)
		say("  %-14s %8.2f ms", "libbpf", lm / 1e3)
		say("  %-14s %8.2f ms  %.2fx libbpf", "ayac", am / 1e3, am / lm)
		if opts.verbose then
			say("    %-16s %10s %10s %7s", "object", "libbpf ms", "ayac ms", "ratio")
			for _, n in ipairs(names) do
				local l, a = lib.median(lper[n]), lib.median(aper[n])
				say("    %-16s %10.3f %10.3f %7.2f", n, l / 1e3, a / 1e3, a / l)
			end
		end
		say("  => ayac / libbpf = %.2f on %d of %d objects: %s", am / lm, #both, #objs,
			verdict(am / lm, 0.5))
	end
end

---------------------------------------------------------------------------------------
-- (c) map get/set throughput

if only.map then
	say("")
	say("(c) map element access, u32 -> u64, %d ops per run, %d runs per side, median CPU time;",
		opts.map_ops, opts.rounds)
	say("    rate = libbpf ns / ayac ns (target >= 0.95)")
	local function collect(cmd)
		local t = {}
		for _, r in ipairs(run(cmd)) do
			if r[1] == "map" then t[r[2] .. " " .. r[3] .. " " .. (r[6] or "1024")] = tonumber(r[5]) end
		end
		return t
	end
	local l, a = {}, {}
	local function add(into, t)
		for k, v in pairs(t) do
			into[k] = into[k] or {}
			table.insert(into[k], v)
		end
	end
	for _, entries in ipairs { 1024, 1048576 } do
		local args = " map " .. opts.map_ops .. " " .. entries
		for round = 1, opts.rounds do
			if round % 2 == 0 then add(a, collect(AYAC .. args)) end
			add(l, collect(q(LIBBPF) .. args))
			if round % 2 == 1 then add(a, collect(AYAC .. args)) end
		end
	end
	for k, v in pairs(l) do l[k] = lib.median(v) end
	for k, v in pairs(a) do a[k] = lib.median(v) end
	say("  %-24s %14s %14s %8s", "", "libbpf C ns/op", "ayac Lua ns/op", "rate")
	for _, entries in ipairs { 1024, 1048576 } do
		for _, op in ipairs { "array update", "array lookup", "hash update", "hash lookup" } do
			local k = op .. " " .. entries
			if l[k] and a[k] then
				local r = l[k] / a[k]
				say("  %-24s %14.0f %14.0f %8.2f  %s", ("%s %dk"):format(op, entries / 1024), l[k], a[k], r,
					r >= 0.95 and "met (>= 0.95)" or "NOT met (target >= 0.95)")
			end
		end
	end
	say("  (libbpf: bpf_map_update_elem/bpf_map_lookup_elem in C; ayac: m[k] = v / m[k] from Lua, FFI path;")
	say("   keys i * 7919 %% entries on maps of 1,024 and 1,048,576 entries)")
end

---------------------------------------------------------------------------------------
-- (e) whole-map dumps

if only.dump then
	say("")
	say("(e) dump of a %d-entry u32 -> u64 hash map, %d processes per side (alternating),",
		opts.dump_entries, opts.rounds)
	say("    %d dumps per process; median CPU microseconds (user + system)", opts.dump_rounds)
	local t = {}
	local function collect(cmd)
		for _, r in ipairs(run(cmd)) do
			if tonumber(r[5]) ~= opts.dump_entries then
				io.stderr:write("run.lua: ", cmd, ": ", tostring(r[5]), " entries dumped\n")
				os.exit(1)
			end
			local k = r[1] .. " " .. r[2]
			t[k] = t[k] or {}
			table.insert(t[k], tonumber(r[4]))
			local kr = k .. " " .. r[3]
			t[kr] = t[kr] or {}
			table.insert(t[kr], tonumber(r[4]))
		end
	end
	local args = (" dump %d %d"):format(opts.dump_entries, opts.dump_rounds)
	for round = 1, opts.rounds do
		if round % 2 == 0 then collect(AYAC .. args) end
		collect(q(LIBBPF) .. args)
		if round % 2 == 1 then collect(AYAC .. args) end
	end
	local m = {}
	for k, v in pairs(t) do m[k] = lib.median(v) end
	local lb = m["dump libbpf"]
	local first, last = m["dump ayac 1"], m["dump ayac " .. opts.dump_rounds]
	local rows = {
		{ "libbpf: bpf_map_lookup_batch, 10,000 a call, into arrays", lb },
		{ "ayac: m:dump() into a Lua table, every dump", m["dump ayac"], 1.25 },
		{ "ayac: m:dump(), the first in the process", first },
		{ ("ayac: m:dump(), dump #%d in the process"):format(opts.dump_rounds), last },
		{ "ayac: for k, v in m:pairs() summing v", m["pairs ayac"], 1.25 },
	}
	say("  %-58s %10s %8s", "", "us", "x libbpf")
	for _, row in ipairs(rows) do
		if row[2] then
			local r = row[2] / lb
			say("  %-58s %10.0f %8.2f  %s", row[1], row[2], r, row[3] and verdict(r, row[3]) or "")
		end
	end
	if first and last then
		local r = last / first
		say("  => dump #%d / dump #1 = %.2f: %s", opts.dump_rounds, r, verdict(r, 1.0))
	end
end

---------------------------------------------------------------------------------------
-- (d) event streams: records already in the buffer, consumed into a callback

if only.events then
	say("")
	say("(d) event streams: records already in the buffer, consumed into a callback reading one field;")
	say("    %d processes per side (alternating), %d timed rounds each, median ns per record",
		opts.rounds, opts.event_rounds)
	local function collect(cmd, into)
		for _, r in ipairs(run(cmd)) do
			local k = r[1] .. " " .. r[2]
			into[k] = into[k] or {}
			table.insert(into[k], tonumber(r[4]))
		end
	end
	local t = {}
	local rb_args = (" %s %d %d"):format(q(EVOBJ), opts.event_records, opts.event_rounds)
	local pb_args = (" %s %d %d"):format(q(EVOBJ), opts.perf_records, opts.event_rounds)
	for round = 1, opts.rounds do
		local sides = {
			function() collect(q(EVBENCH) .. " ringbuf" .. rb_args, t) end,
			function() collect(AYAC .. " ringbuf" .. rb_args, t) end,
			function() collect(q(EVBENCH) .. " perfbuf" .. pb_args, t) end,
			function() collect(AYAC .. " perfbuf" .. pb_args, t) end,
		}
		local order = round % 2 == 0 and { 2, 1, 4, 3 } or { 1, 2, 3, 4 }
		for _, i in ipairs(order) do sides[i]() end
	end
	local m = {}
	for k, v in pairs(t) do m[k] = lib.median(v) end
	local rows = {
		{ "ringbuf", "ayac_field", "ring buffer, Lua handler on the BTF-decoded record", 0.5 },
		{ "ringbuf", "ayac_raw", "ring buffer, Lua handler on the zero-copy pointer", 0.8 },
		{ "perfbuf", "ayac_field", "perf buffer, Lua handler on the BTF-decoded sample", 0.5 },
		{ "perfbuf", "ayac_raw", "perf buffer, Lua handler on the zero-copy pointer", nil },
		{ "ringbuf", "ayac_c", "ring buffer, ayac's C API, C callback (informative)", nil },
		{ "perfbuf", "ayac_c", "perf buffer, ayac's C API, C callback (informative)", nil },
	}
	say("  %-52s %9s %9s %8s", "", "libbpf ns", "ayac ns", "rate")
	for _, row in ipairs(rows) do
		local l, a = m[row[1] .. " libbpf"], m[row[1] .. " " .. row[2]]
		if l and a then
			local r = l / a -- ayac's rate over libbpf's
			local v = row[4] and (r >= row[4] and ("met (>= %.1f)"):format(row[4]) or
				("NOT met (target >= %.1f)"):format(row[4])) or ""
			say("  %-52s %9.2f %9.2f %7.2fx  %s", row[3], l, a, r, v)
		end
	end
	say("  (libbpf: ring_buffer__consume / perf_buffer__consume with a C callback summing the first")
	say("   u64; ayac: rb:consume() / pb:consume(), the loop in Lua over the mapped ring, or")
	say("   ayac_ringbuf_consume / ayac_perfbuf_consume in C; rate = libbpf ns / ayac ns: >= 1 is faster)")
end

---------------------------------------------------------------------------------------
-- (f) start-up against bpftrace (bench/startup.lua)

if only.startup then
	say("")
	dofile(here .. "/startup.lua")(opts, say, lib, here)
end
