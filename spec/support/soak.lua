-- The soak: many cycles of open, load, attach, fire, poll, detach and close in one
-- process, then what is left. Run by the host binary (scripts/soak, spec/soak_spec.lua):
--
--   ayac soak.lua OBJECT CYCLES MODE [IFNAME]
--
-- OBJECT is spec/bpf/ayac_soak.bpf.o. MODE:
--   explicit  every handle is detached or closed by hand, every cycle
--   gc        nothing is: each cycle drops its references and leaves the rest to __gc
--             (no collectgarbage() call in the loop; one full collection at the end)
--   kill      explicit, for ever, writing the step it is at to stdout ("step load 17"):
--             the kill runs SIGKILL it at random points
-- Every name the object gives the kernel is renamed to start with a tag of this run's
-- own (AYAC_SOAK_TAG, default "s<pid>_": nine characters, as long as "ayac_soak", which
-- it replaces in the object's bytes), so that bpftool tells this run's programs and
-- maps from those of any other run going on at the same time.
--
-- Each cycle: load (globals set), attach the tracepoint (from its section name) and a
-- uprobe on libc's getpid, XDP on IFNAME when given and this build attaches XDP, a ring
-- buffer over the object's ringbuf map when this build has ayac.ringbuf; one getpid()
-- fires the tracepoint and the uprobe, checked through the counts map and, with a ring
-- buffer, by polling its record.
--
-- After a warm-up (caches: vmlinux BTF, features, the libc symbol), the fd count and
-- VmRSS are taken after a full collection; at the end again, with bpftool's view of
-- what carries the object's names. It passes when the fds are the same, VmRSS grew
-- less than AYAC_SOAK_RSS_KIB (default 1024; the sanitizer build's quarantine needs
-- more) and bpftool shows nothing of it. The last line is "soak: PASS" or
-- "soak: FAIL: why", and the exit status says the same.
local ffi = require "ffi"
local ayac = require "ayac"

pcall(ffi.cdef, [[
int getpid(void);
]])
pcall(ffi.cdef, [[
typedef struct ayac_soak_dir ayac_soak_dir;
struct ayac_soak_dirent {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[256];
};
ayac_soak_dir *opendir(const char *name);
struct ayac_soak_dirent *readdir(ayac_soak_dir *dir);
int closedir(ayac_soak_dir *dir);
int dirfd(ayac_soak_dir *dir);
long readlink(const char *path, char *buf, size_t size);
]])

local object, cycles, mode, ifname = arg[1], tonumber(arg[2]), arg[3], arg[4]
assert(object and cycles and (mode == "explicit" or mode == "gc" or mode == "kill"),
	"usage: ayac soak.lua OBJECT CYCLES explicit|gc|kill [IFNAME]")

local PID = ffi.C.getpid()
local SLOT_TP, SLOT_UPROBE = 0, 1
local TAG = os.getenv("AYAC_SOAK_TAG") or string.format("s%07d_", PID % 10000000)
assert(#TAG == 9 and TAG:match("^[%a_][%w_]+$"), "AYAC_SOAK_TAG: 9 identifier characters")
local IMAGE
do
	local f = assert(io.open(object, "rb"))
	IMAGE = f:read("*a"):gsub("ayac_soak", TAG)
	f:close()
end
local have_ringbuf = type(ayac.ringbuf) == "function"
local have_xdp = ifname ~= nil -- settled by the first attach (EOPNOTSUPP: no XDP here)
local step_log = mode == "kill"
io.stdout:setvbuf("line")

local function step(name, n)
	if step_log then io.stdout:write("step ", name, " ", n, "\n") end
end

-- The fds open in this process and what they are, read in-process (a child listing
-- /proc/PID/fd could catch popen's pipe with both ends still open).
local function fd_list()
	local t = {}
	local dir = ffi.C.opendir("/proc/self/fd")
	assert(dir ~= nil, "opendir /proc/self/fd")
	local own, buf = ffi.C.dirfd(dir), ffi.new("char[256]")
	while true do
		local e = ffi.C.readdir(dir)
		if e == nil then break end
		local fd = tonumber(ffi.string(e.d_name))
		if fd and fd ~= own then
			local n = ffi.C.readlink("/proc/self/fd/" .. fd, buf, 255)
			t[#t + 1] = fd .. "=" .. (n > 0 and ffi.string(buf, n) or "?")
		end
	end
	ffi.C.closedir(dir)
	table.sort(t)
	return #t, table.concat(t, " ")
end

local function fd_count()
	return (fd_list())
end

local function rss_kib()
	local f = assert(io.open("/proc/self/status"))
	local s = f:read("*a")
	f:close()
	return tonumber(s:match("\nVmRSS:%s+(%d+) kB"))
end

-- What bpftool shows of this run: programs named TAG*, maps named TAG*, the data map
-- (the object's name, TAG, cut to 8 characters, then ".rodata"), and links and
-- perf-event attachments of those programs.
local function bpftool_count()
	local progs, maps, links, perf, ids = 0, 0, 0, 0, {}
	local p = io.popen("bpftool prog show 2>/dev/null")
	for l in p:lines() do
		local id, name = l:match("^(%d+): [%w_]+%s+name (%S+)")
		if id and name:sub(1, #TAG) == TAG then progs, ids[id] = progs + 1, true end
	end
	p:close()
	p = io.popen("bpftool map show 2>/dev/null")
	for l in p:lines() do
		local name = l:match("^%d+: [%w_]+%s+name (%S+)")
		if name and name:sub(1, 8) == TAG:sub(1, 8) then maps = maps + 1 end
	end
	p:close()
	p = io.popen("bpftool link show 2>/dev/null")
	for l in p:lines() do
		local id = l:match("^%d+: .-prog (%d+)")
		if id and ids[id] then links = links + 1 end
	end
	p:close()
	p = io.popen("bpftool perf show 2>/dev/null")
	for l in p:lines() do
		local id = l:match("prog_id (%d+)")
		if id and ids[id] then perf = perf + 1 end
	end
	p:close()
	return { progs = progs, maps = maps, links = links, perf = perf }
end

-- The kernel frees programs and maps after an RCU grace period, from a work queue:
-- what a run released shows gone in bpftool a little later. Polled for up to 30 s.
local function bpftool_settled()
	local deadline, c = os.time() + 30
	repeat
		c = bpftool_count()
		if c.progs + c.maps + c.links + c.perf == 0 then break end
		os.execute("sleep 0.1")
	until os.time() > deadline
	return c
end

local records = 0
local function on_record() records = records + 1 end

local function counts(obj)
	local m = obj:map(TAG .. "_cnt")
	return tonumber(m:get(SLOT_TP) or 0), tonumber(m:get(SLOT_UPROBE) or 0)
end

local xdp_attached = 0

-- One cycle; returns the handles it made (gc mode drops them), or raises.
local function cycle(n)
	step("load", n)
	local obj = assert(ayac.load(IMAGE, { name = TAG, globals = { target_tgid = PID } }))
	step("attach", n)
	local tp = assert(obj:program(TAG .. "_tp"):attach())
	local up = assert(obj:program(TAG .. "_up"):attach { path = "libc.so.6", symbol = "getpid" })
	local xdp
	if have_xdp then
		local msg, code
		xdp, msg, code = obj:program(TAG .. "_xdp"):attach { ifname = ifname }
		if not xdp and code == "EOPNOTSUPP" and xdp_attached == 0 then
			have_xdp = false
		elseif not xdp then
			error("attach XDP on " .. ifname .. ": " .. tostring(msg))
		else
			xdp_attached = xdp_attached + 1
		end
	end
	local rb = have_ringbuf and assert(ayac.ringbuf(obj:map(TAG .. "_rb"), on_record)) or nil
	step("fire", n)
	local before = records
	ffi.C.getpid()
	local t, u = counts(obj)
	if t ~= 1 or u ~= 1 then
		error(string.format("cycle %d: the tracepoint fired %d times, the uprobe %d (want 1, 1)",
			n, t, u))
	end
	if rb then
		step("poll", n)
		local deadline = os.time() + 10
		while records == before and os.time() < deadline do rb:poll(1000) end
		if records == before then error("cycle " .. n .. ": no ring buffer record in 10 s") end
	end
	if mode == "gc" then return end
	step("detach", n)
	if rb then rb:close() end
	if xdp then xdp:detach() end
	up:detach()
	tp:detach()
	step("close", n)
	obj:close()
end

local function full_gc()
	collectgarbage("collect")
	collectgarbage("collect")
end

if mode == "kill" then
	for n = 1, cycles do cycle(n) end
	return
end

local warmup = math.min(100, math.max(1, math.floor(cycles / 20)))
local start_clock = os.clock()
local t0 = os.time()
for n = 1, warmup do cycle(n) end
full_gc()
local fds0, list0 = fd_list()
local rss0, bpf0 = rss_kib(), bpftool_settled()
local peak_fds = fds0
local every = math.max(1, math.floor(cycles / 10))
for n = warmup + 1, cycles do
	cycle(n)
	if n % 50 == 0 then
		local f = fd_count()
		if f > peak_fds then peak_fds = f end
	end
	if n % every == 0 then
		io.stdout:write(string.format("soak %s: cycle %d, %d fds, VmRSS %d KiB\n", mode, n,
			fd_count(), rss_kib()))
	end
end
full_gc()
local fds1, list1 = fd_list()
local rss1, bpf1 = rss_kib(), bpftool_settled()
local secs = os.time() - t0

local function fmt(c)
	return string.format("programs %d, maps %d, links %d, perf attachments %d", c.progs, c.maps,
		c.links, c.perf)
end

print(string.format("soak %s: %d cycles in %d s (%.0f cycles/s, %.1f s CPU)", mode, cycles, secs,
	cycles / math.max(secs, 1), os.clock() - start_clock))
print(string.format("  fds: %d after warm-up, %d at the end (peak %d)", fds0, fds1, peak_fds))
print(string.format("  VmRSS: %d KiB after warm-up, %d KiB at the end (%+d KiB)", rss0, rss1,
	rss1 - rss0))
print("  bpftool after warm-up: " .. fmt(bpf0))
print("  bpftool at the end:    " .. fmt(bpf1))
print("  ring buffer: " .. (have_ringbuf and (records .. " records polled")
	or "not in this build (no ayac.ringbuf)"))
print("  XDP: " .. (not ifname and "not asked for (no IFNAME)"
	or have_xdp and string.format("attached %d times on %s", xdp_attached, ifname)
	or "not in this build (XDP attach says EOPNOTSUPP)"))

local why = {}
if fds1 ~= fds0 then
	why[#why + 1] = string.format("fds %d -> %d (%s; then %s)", fds0, fds1, list0, list1)
end
local rss_limit = tonumber(os.getenv("AYAC_SOAK_RSS_KIB")) or 1024
if rss1 - rss0 >= rss_limit then
	why[#why + 1] = string.format("VmRSS grew %d KiB (limit %d)", rss1 - rss0, rss_limit)
end
for k, v in pairs(bpf1) do
	if v ~= 0 then why[#why + 1] = string.format("bpftool still shows %d %s", v, k) end
end
if #why == 0 then
	print("soak: PASS")
else
	print("soak: FAIL: " .. table.concat(why, "; "))
	os.exit(1)
end
