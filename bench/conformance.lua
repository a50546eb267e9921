-- The comparison half of scripts/conformance (run that; bench/README.md explains).
--
--   luajit bench/conformance.lua LIBBPF.tsv AYAC.tsv [--verbose]
--
-- Reads what bench/libbpf_load.c and bench/ayac_load.lua printed in `conform` mode (one
-- line per program, each program loaded alone) and prints the counts and every program
-- on which the two loaders disagree, with the first line of each side's error. Exit
-- status 1 when they disagree: every program libbpf loads, ayac must load (and ayac
-- must not load what libbpf refuses).
local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local lib = dofile(here .. "/lib.lua")

local lpath, apath, verbose = nil, nil, false
for _, a in ipairs(arg) do
	if a == "--verbose" or a == "-v" then verbose = true
	elseif not lpath then lpath = a
	elseif not apath then apath = a end
end
if not apath then
	io.stderr:write("usage: luajit bench/conformance.lua LIBBPF.tsv AYAC.tsv [--verbose]\n")
	os.exit(2)
end

-- { order = { "obj/prog", ... }, progs = { ["obj/prog"] = row }, objects = { obj = err } }
local function read(path)
	local f = assert(io.open(path, "r"))
	local r = { order = {}, progs = {}, objects = {}, finished = false, last = nil }
	for line in f:lines() do
		local t = lib.fields(line)
		if t[1] == "prog" then
			local key = t[2] .. "/" .. t[3]
			r.order[#r.order + 1] = key
			r.last = key
			r.progs[key] = { object = t[2], name = t[3], section = t[4], ok = t[5] == "ok", err = t[6] or "" }
		elseif t[1] == "object" then
			r.objects[t[2]] = t[6] or "?"
		elseif t[1] == "loaded" then
			r.finished = true
		end
	end
	f:close()
	return r
end

local L, A = read(lpath), read(apath)
for side, r in pairs { libbpf = L, ayac = A } do
	if not r.finished then
		io.stderr:write("conformance: the ", side, " run did not finish (see its stderr above); ",
			"last program reported: ", tostring(r.last), "\n")
		os.exit(2)
	end
end

-- Each libbpf-tools binary counts once, as the issue counts (symlinks such as ext4dist
-- -> fsdist run the same object): binaries per object name, from dpkg.
local weight = {}
do
	local p = io.popen([[for f in $(dpkg -L libbpf-tools 2>/dev/null | grep '^/usr/sbin/'); do
		[ -f "$f" ] && basename "$(readlink -f "$f")"; done]])
	for name in p:lines() do weight[name] = (weight[name] or 0) + 1 end
	p:close()
end
local function w(obj) return weight[obj] or 1 end

-- Every program either side saw, libbpf's order first.
local keys, seen = {}, {}
for _, r in ipairs { L, A } do
	for _, k in ipairs(r.order) do
		if not seen[k] then seen[k] = true keys[#keys + 1] = k end
	end
end

local objects, nbinaries = {}, 0
local n = { total = 0, l = 0, a = 0, both_fail = 0 }
local nw = { total = 0, l = 0, a = 0 }
local lib_only, ayac_only, missing, both_fail = {}, {}, {}, {}
for _, k in ipairs(keys) do
	local l, a = L.progs[k], A.progs[k]
	local obj = (l or a).object
	if not objects[obj] then objects[obj] = true nbinaries = nbinaries + w(obj) end
	n.total = n.total + 1
	nw.total = nw.total + w(obj)
	if l and l.ok then n.l = n.l + 1 nw.l = nw.l + w(obj) end
	if a and a.ok then n.a = n.a + 1 nw.a = nw.a + w(obj) end
	if not l or not a then
		missing[#missing + 1] = { key = k, side = l and "ayac" or "libbpf", row = l or a }
	elseif l.ok and not a.ok then
		lib_only[#lib_only + 1] = { key = k, l = l, a = a }
	elseif a.ok and not l.ok then
		ayac_only[#ayac_only + 1] = { key = k, l = l, a = a }
	elseif not l.ok then
		both_fail[#both_fail + 1] = { key = k, l = l, a = a }
	end
end
local nobjects = 0
for _ in pairs(objects) do nobjects = nobjects + 1 end

local function say(fmt, ...) io.write(fmt:format(...), "\n") end
local function cut(s, len)
	s = s ~= "" and s or "(loaded)"
	return #s > len and s:sub(1, len - 3) .. "..." or s
end

say("conformance: each program of the libbpf-tools corpus loaded alone, libbpf vs ayac")
say("  objects %d (%d libbpf-tools binaries), programs %d (%d counting each binary)",
	nobjects, nbinaries, n.total, nw.total)
say("  libbpf loaded %d (%d per binary)", n.l, nw.l)
say("  ayac   loaded %d (%d per binary)", n.a, nw.a)
say("  differ: %d libbpf loads and ayac does not, %d ayac loads and libbpf does not; both refuse %d",
	#lib_only, #ayac_only, #both_fail)

local function list(title, items)
	if #items == 0 then return end
	say("")
	say("%s (%d):", title, #items)
	for _, it in ipairs(items) do
		say("  %s (%s)", it.key, it.l.section)
		say("      libbpf: %s", cut(it.l.err, 400))
		say("      ayac:   %s", cut(it.a.err, 400))
	end
end
list("libbpf loads, ayac does not", lib_only)
list("ayac loads, libbpf does not", ayac_only)

if #missing > 0 then
	say("")
	say("seen by one side only (%d):", #missing)
	for _, m in ipairs(missing) do
		say("  %s: only %s has it (%s)", m.key, m.side == "ayac" and "libbpf" or "ayac", m.row.section)
	end
end
for _, r in ipairs { { "libbpf", L }, { "ayac", A } } do
	for obj, err in pairs(r[2].objects) do
		say("  %s could not open %s: %s", r[1], obj, err)
	end
end

-- Both refuse: by section kind, and the non-trampoline ones by name (they are the
-- kernel-specific cases worth a look).
if #both_fail > 0 then
	say("")
	local kinds, other = {}, {}
	for _, it in ipairs(both_fail) do
		local kind = it.l.section:match("^[^/.]+") or it.l.section
		kinds[kind] = (kinds[kind] or 0) + 1
		if not lib.is_trampoline(it.l.section) then other[#other + 1] = it end
	end
	local kl = {}
	for k, c in pairs(kinds) do kl[#kl + 1] = k .. " " .. c end
	table.sort(kl)
	say("both refuse (%d): %s", #both_fail, table.concat(kl, ", "))
	for _, it in ipairs(verbose and both_fail or other) do
		say("  %s (%s)", it.key, it.l.section)
		say("      libbpf: %s", cut(it.l.err, 400))
		say("      ayac:   %s", cut(it.a.err, 400))
	end
end

local ok = #lib_only == 0 and #ayac_only == 0 and #missing == 0
say("")
say("conformance: %s", ok and "ayac loads exactly what libbpf loads"
	or ("%d programs differ"):format(#lib_only + #ayac_only + #missing))
os.exit(ok and 0 or 1)
