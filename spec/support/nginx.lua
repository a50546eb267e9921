-- A real nginx for the specs: examples/nginx/ run from a temp prefix that mirrors the
-- repository's layout (so the example's ${prefix}../../lua paths find this build), on
-- 127.0.0.1 and a port of its own, with its own pid file and error log and no system
-- configuration. Every wait polls a condition up to a deadline; stop() leaves no
-- process, file or BPF object behind (it kills by pid what does not exit in time).
local h = require "helpers"

local M = {}

M.module_dir = "/usr/lib/nginx/modules"

local function sh_quote(s)
	return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
M.sh_quote = sh_quote

local function exists(path)
	local f = io.open(path, "rb")
	if f then f:close() end
	return f ~= nil
end

-- nil when nginx and its Lua module are installed, else why they are not usable.
function M.missing()
	local _, ok = h.capture("command -v nginx >/dev/null 2>&1")
	if not ok then
		return "no nginx binary (make deps installs Debian's nginx)"
	end
	if not exists(M.module_dir .. "/ngx_http_lua_module.so") then
		return "no " .. M.module_dir .. "/ngx_http_lua_module.so (make deps installs libnginx-mod-http-lua)"
	end
	return nil
end

-- Polls f() every 50 ms until it returns a true value (returned) or the deadline.
function M.wait(f, seconds, what)
	local deadline = os.time() + (seconds or 30)
	while true do
		local v = f()
		if v then return v end
		if os.time() > deadline then
			error("timed out waiting for " .. (what or "a condition"), 2)
		end
		os.execute("sleep 0.05")
	end
end

local function pid_alive(pid)
	return exists("/proc/" .. pid .. "/stat")
end
M.alive = pid_alive

-- The children of pid (nginx's workers, old ones included while they drain).
function M.children(pid)
	local out = h.capture("pgrep -P " .. tonumber(pid) .. " 2>/dev/null")
	local list = {}
	for p in out:gmatch("%d+") do list[#list + 1] = tonumber(p) end
	table.sort(list)
	return list
end

-- Open fds of pid, and the kernel's ids of the BPF links among them (from fdinfo).
function M.fds(pid)
	local out = h.capture("ls /proc/" .. tonumber(pid) .. "/fd 2>/dev/null")
	local n, links = 0, {}
	for fd in out:gmatch("%d+") do
		n = n + 1
		local f = io.open("/proc/" .. pid .. "/fdinfo/" .. fd, "rb")
		if f then
			local info = f:read("*a")
			f:close()
			local id = info:match("\nlink_id:%s*(%d+)")
			if id then links[#links + 1] = tonumber(id) end
		end
	end
	return n, links
end

function M.rss_kb(pid)
	local f = io.open("/proc/" .. pid .. "/status", "rb")
	if not f then return nil end
	local s = f:read("*a")
	f:close()
	return tonumber(s:match("VmRSS:%s*(%d+)"))
end

local Nginx = {}
Nginx.__index = Nginx

-- Makes the prefix: <dir>/examples/nginx/{nginx.conf,syscalls.lua,syscalls.bpf.o,logs/}
-- and <dir>/lua, <dir>/build/lib linking to this tree. Workers run as nobody when the
-- master is root, so the directories are world-readable.
local function make_prefix(port)
	local dir = h.tmpname("-nginx")
	local prefix = dir .. "/examples/nginx/"
	local ex = h.root .. "/examples/nginx/"
	local conf = h.read(ex .. "nginx.conf")
	local n
	conf, n = conf:gsub("listen 127%.0%.0%.1:8080;", "listen 127.0.0.1:" .. port .. ";")
	assert(n == 1, "examples/nginx/nginx.conf: no 'listen 127.0.0.1:8080;' line to change")
	local cmds = {
		"mkdir -p " .. sh_quote(prefix .. "logs") .. " " .. sh_quote(dir .. "/build"),
		"ln -s " .. sh_quote(h.root .. "/lua") .. " " .. sh_quote(dir .. "/lua"),
		"ln -s " .. sh_quote(h.build .. "/lib") .. " " .. sh_quote(dir .. "/build/lib"),
		"ln -s " .. sh_quote(ex .. "syscalls.lua") .. " " .. sh_quote(prefix),
		"ln -s " .. sh_quote(ex .. "syscalls.bpf.o") .. " " .. sh_quote(prefix),
		"chmod -R a+rX " .. sh_quote(dir),
	}
	local out, ok = h.capture("(" .. table.concat(cmds, " && ") .. ") 2>&1")
	assert(ok, out)
	h.write(prefix .. "nginx.conf", conf)
	return dir, prefix
end

-- A sanitizer build's core.so (make asan) needs its runtime loaded before anything
-- else, and nginx is not built with it: preload the runtime the module links.
local preload
local function sanitizer_env()
	if preload == nil then
		local out = h.capture("ldd " .. sh_quote(h.build .. "/lib/ayac/core.so") .. " 2>/dev/null")
		local libs = {}
		for path in out:gmatch("=> (/%S+/lib%a*san%.so[%.%d]*)") do libs[#libs + 1] = path end
		preload = #libs == 0 and "" or ("LD_PRELOAD=" .. table.concat(libs, ":") ..
			" ASAN_OPTIONS=detect_leaks=0 ")
	end
	return preload
end

-- Whether nginx runs with the sanitizer runtime (its quarantine makes RSS meaningless).
function M.sanitized()
	return sanitizer_env() ~= ""
end

local function nginx_cmd(self, args)
	return h.capture(sanitizer_env() .. "nginx -p " .. sh_quote(self.prefix) .. " -c nginx.conf " ..
		(args or "") .. " 2>&1")
end

function Nginx:error_log()
	local f = io.open(self.prefix .. "logs/error.log", "rb")
	if not f then return "" end
	local s = f:read("*a")
	f:close()
	return s
end

function Nginx:master()
	local f = io.open(self.prefix .. "logs/nginx.pid", "rb")
	if not f then return nil end
	local pid = tonumber(f:read("*a"))
	f:close()
	return pid
end

-- GET path: body, HTTP status (0 when nothing answered).
function Nginx:get(path)
	local out = h.capture("curl -s -m 10 -w '\\n::status=%{http_code}' " ..
		sh_quote("http://127.0.0.1:" .. self.port .. path))
	local status = tonumber(out:match("::status=(%d+)%s*$")) or 0
	return out:gsub("\n::status=%d+%s*$", ""), status
end

-- n GETs of path from one curl on one keep-alive connection: how many answered 200,
-- and the other statuses seen.
function Nginx:requests(n, path)
	local cfg = h.tmpname(".curl")
	local lines = {}
	for i = 1, n do
		lines[i] = ('url = "http://127.0.0.1:%d%s?i=%d"\noutput = "/dev/null"'):format(self.port, path, i)
	end
	h.write(cfg, table.concat(lines, "\n") .. "\n")
	local out = h.capture("curl -s -K " .. sh_quote(cfg) .. " -w '%{http_code}\\n'")
	os.remove(cfg)
	local ok, other = 0, {}
	for code in out:gmatch("%d+") do
		if code == "200" then ok = ok + 1 else other[#other + 1] = code end
	end
	return ok, other
end

-- Every pid that belongs to this nginx now (the master and its workers).
function Nginx:pids()
	local master = self:master()
	if not master or not pid_alive(master) then return {} end
	local list = M.children(master)
	table.insert(list, 1, master)
	return list
end

-- Starts nginx (a fresh port on a clash); returns the instance or raises with the log.
function M.start()
	for attempt = 1, 5 do
		local port = 20000 + math.random(0, 30000)
		local dir, prefix = make_prefix(port)
		local workers = tonumber(h.read(prefix .. "nginx.conf"):match("\nworker_processes (%d+);"))
		local self = setmetatable({ dir = dir, prefix = prefix, port = port, seen = {},
			workers = assert(workers, "nginx.conf: no worker_processes N;") }, Nginx)
		local out, ok = nginx_cmd(self)
		if ok then
			local master = M.wait(function() return self:master() end, 30, "nginx's pid file")
			self.seen[master] = true
			M.wait(function()
				local _, status = self:get("/")
				return status == 200
			end, 30, "nginx to answer on port " .. port)
			return self
		end
		local log = self:error_log()
		self:cleanup()
		if not (out .. log):find("Address already in use", 1, true) or attempt == 5 then
			error("nginx did not start:\n" .. out .. "\n" .. log, 2)
		end
	end
end

-- Reloads and waits until the master has started the new generation's workers: a
-- signal only asks, and HUPs sent faster than the master handles them would merge.
function Nginx:reload()
	local before = {}
	for _, p in ipairs(self:pids()) do
		self.seen[p] = true
		before[p] = true
	end
	local out, ok = nginx_cmd(self, "-s reload")
	assert(ok, "nginx -s reload: " .. out .. "\n" .. self:error_log())
	M.wait(function()
		local fresh = 0
		for _, p in ipairs(M.children(self:master())) do
			if not before[p] then fresh = fresh + 1 end
		end
		return fresh >= self.workers
	end, 30, "the reload's new workers")
end

-- The workers of the current generation once the previous ones have exited.
function Nginx:settled_workers()
	local list = M.children(self:master())
	return #list == self.workers and list or nil
end

-- Stops nginx and waits for every process it ever had to be gone (SIGKILL by pid after
-- the deadline, so that a failing spec still leaves nothing running).
function Nginx:stop()
	for _, p in ipairs(self:pids()) do self.seen[p] = true end
	if self:master() then nginx_cmd(self, "-s stop") end
	local ok = pcall(M.wait, function()
		for p in pairs(self.seen) do
			if pid_alive(p) then return false end
		end
		return true
	end, 30, "nginx to exit")
	if not ok then
		for p in pairs(self.seen) do
			if pid_alive(p) then os.execute("kill -KILL " .. tonumber(p) .. " 2>/dev/null") end
		end
	end
	return ok
end

function Nginx:cleanup()
	if self.dir and self.dir:match("^/tmp/") then
		os.execute("rm -rf " .. sh_quote(self.dir))
	end
	self.dir = nil
end

return M
