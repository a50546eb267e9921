-- `ayac cleanup`: removes what a process that died without running its exit handlers
-- (SIGKILL, a crash, an OOM kill) left attached without a link. ayac removes such
-- attachments itself on detach, close, collection and exit; only a death that skips
-- all of that leaves them: XDP programs set through netlink, cls_bpf filters, and
-- programs attached to cgroups with BPF_PROG_ATTACH. Attachments held by bpf_links are
-- never touched: the kernel drops them with the link's last fd (a pinned link stays
-- until its pin is removed).
--
-- Built on ayac.xdp_query / tc_query / cgroup_query and ayac.xdp_remove / tc_remove /
-- cgroup_remove, which a program can call itself (docs/api.md).
local ffi = require "ffi"
local core = require "ayac.core"

local M = {}

local USAGE = [[
usage: ayac cleanup [--dry-run] [--name PREFIX] [IFNAME...] [--cgroup PATH]...
  Removes what a process killed before its exit handlers ran left attached without a
  link: XDP programs set through netlink and cls_bpf filters on the interfaces
  (default: every interface of this network namespace), and programs attached with
  BPF_PROG_ATTACH to each --cgroup directory (every cgroup attach type). Attachments
  held by bpf_links are left alone: they go with the link's last fd.
  --name PREFIX   only programs whose name starts with PREFIX
  --dry-run       say what would be removed, remove nothing
]]

pcall(ffi.cdef, [[
struct if_nameindex { unsigned int if_index; char *if_name; };
struct if_nameindex *if_nameindex(void);
void if_freenameindex(struct if_nameindex *ptr);
]])

-- The interfaces of this network namespace, by name.
local function interfaces()
	local out, list = {}, ffi.C.if_nameindex()
	if list == nil then return out end
	local i = 0
	while list[i].if_index ~= 0 do
		out[#out + 1] = ffi.string(list[i].if_name)
		i = i + 1
	end
	ffi.C.if_freenameindex(list)
	return out
end

-- One attachment found: act on it (or not, in a dry run) and report.
local function handle(st, what, prog_id, name, remove)
	if st.prefix and name:sub(1, #st.prefix) ~= st.prefix then return end
	local label = ("%-8s %-40s prog %u %s"):format(what[1], what[2], prog_id, name)
	if st.dry then
		st.say("would remove " .. label)
		return
	end
	local ok, err, code = remove()
	if ok then
		st.removed = st.removed + 1
		st.say("removed      " .. label)
	elseif code == "EBUSY" or code == "ENOENT" then
		-- held by a bpf_link (or gone meanwhile): not ours to take
		st.say("left         " .. label .. " (" .. (code == "EBUSY" and "a bpf_link holds it"
			or "held by a bpf_link, or gone") .. ")")
	else
		st.failed = st.failed + 1
		st.say("FAILED       " .. label .. ": " .. tostring(err))
	end
end

local function clean_interface(st, ifname)
	local q, err = core.xdp_query(ifname)
	if not q then
		st.failed = st.failed + 1
		st.say("FAILED       xdp query " .. ifname .. ": " .. tostring(err))
		return
	end
	for _, mode in ipairs { "skb", "drv", "hw" } do
		local p = q[mode]
		if p then
			handle(st, { "xdp", ifname .. " (" .. mode .. ")" }, p.id, p.name,
				function() return core.xdp_remove(ifname, mode, p.id) end)
		end
	end
	for _, dir in ipairs { "ingress", "egress" } do
		local entries = core.tc_query(ifname, dir) or {}
		for _, e in ipairs(entries) do
			if e.via == "netlink" then
				handle(st, { "tc", ("%s %s handle %d pref %d"):format(ifname, dir, e.handle,
					e.priority) }, e.prog_id, e.name,
					function() return core.tc_remove(ifname, dir, e.handle, e.priority, e.prog_id) end)
			end
		end
	end
end

local function clean_cgroup(st, path)
	local types = {}
	for _, name in pairs(core.attach_type_names()) do
		if name:match("^cgroup_") then types[#types + 1] = name end
	end
	table.sort(types)
	for _, t in ipairs(types) do
		local q = core.cgroup_query(path, t) -- types this kernel lacks: nil, skipped
		for _, id in ipairs(q and q.prog_ids or {}) do
			handle(st, { "cgroup", path .. " " .. t }, id, core.prog_name_by_id(id),
				function() return core.cgroup_remove(path, t, id) end)
		end
	end
end

-- Runs a cleanup: opts = { ifnames = {…} | nil (all), cgroups = {…}, prefix =, dry = }.
-- Returns removed, failed counts; say(line) gets each line (default: io.stdout).
function M.run(opts, say)
	local st = { removed = 0, failed = 0, prefix = opts.prefix, dry = opts.dry,
		say = say or function(l) io.stdout:write(l, "\n") end }
	for _, ifname in ipairs(opts.ifnames or interfaces()) do clean_interface(st, ifname) end
	for _, path in ipairs(opts.cgroups or {}) do clean_cgroup(st, path) end
	return st.removed, st.failed
end

function M.main(...)
	local args, opts = { ... }, { cgroups = {} }
	local ifnames = {}
	local i = 1
	while i <= #args do
		local a = args[i]
		if a == "-h" or a == "--help" then io.stdout:write(USAGE) return 0
		elseif a == "--dry-run" then opts.dry = true
		elseif a == "--name" or a == "--cgroup" then
			local v = args[i + 1]
			if not v then
				io.stderr:write("ayac cleanup: ", a, " needs a value\n", USAGE)
				return 2
			end
			if a == "--name" then opts.prefix = v else opts.cgroups[#opts.cgroups + 1] = v end
			i = i + 1
		elseif a:sub(1, 1) == "-" then
			io.stderr:write("ayac cleanup: unknown option '", a, "'\n", USAGE)
			return 2
		else
			ifnames[#ifnames + 1] = a
		end
		i = i + 1
	end
	-- Interfaces named, or cgroups only: just those; nothing named: every interface.
	if #ifnames > 0 or #opts.cgroups > 0 then opts.ifnames = ifnames end
	local _, failed = M.run(opts)
	return failed > 0 and 1 or 0
end

return M
