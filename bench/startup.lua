-- (f) start-up: a one-liner that loads a program, attaches a tracepoint and exits,
-- `ayac -e` against `bpftrace -e`, each a fresh process: wall time from fork to exit
-- and peak RSS (wait4's ru_maxrss), medians over the rounds. ayac's program is inline C
-- through ayac.load_c, compiled once before timing into a private cache (every timed
-- run is a cache hit: no clang); the same program prebuilt (ayac.cc's bytes in a file,
-- loaded with ayac.load) is timed too: the difference is what the cache lookup costs.
-- Run by bench/run.lua (`make bench`, or --only startup).
local ffi = require "ffi"

pcall(ffi.cdef, [[
int fork(void);
int execvp(const char *file, char *const argv[]);
void _exit(int status);
int open(const char *path, int flags, ...);
int dup2(int oldfd, int newfd);
int setenv(const char *name, const char *value, int overwrite);
struct bench_rusage { long utime[2]; long stime[2]; long maxrss; long rest[14]; };
int wait4(int pid, int *status, int options, struct bench_rusage *ru);
]])

local C = ffi.C

-- Run argv (output to /dev/null); wall ms, peak RSS KB, exit status.
local function measure(now_us, argv)
	local cargv = ffi.new("char *[?]", #argv + 1)
	local keep = {}
	for i, a in ipairs(argv) do
		keep[i] = ffi.new("char[?]", #a + 1, a)
		cargv[i - 1] = keep[i]
	end
	local t0 = now_us()
	local pid = C.fork()
	if pid == 0 then
		local null = C.open("/dev/null", 2)
		C.dup2(null, 1)
		C.dup2(null, 2)
		C.execvp(cargv[0], cargv)
		C._exit(127)
	end
	local status, ru = ffi.new("int[1]"), ffi.new("struct bench_rusage")
	C.wait4(pid, status, 0, ru)
	local wall = (now_us() - t0) / 1e3
	return wall, tonumber(ru.maxrss), bit.rshift(bit.band(status[0], 0xff00), 8)
end

local C_SOURCE = [[
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");
SEC("tracepoint/syscalls/sys_enter_getpid")
int count_getpid(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 one = 1, *n = bpf_map_lookup_elem(&counts, &pid);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&counts, &pid, &one, BPF_NOEXIST);
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
]]

local INLINE = "local obj = assert(ayac.load_c([[\n" .. C_SOURCE .. "]]))\n" ..
	"assert(obj:program(\"count_getpid\"):attach())\nayac.print_maps(obj)\n"

local BPFTRACE = "tracepoint:syscalls:sys_enter_getpid { @[pid] = count(); } BEGIN { exit(); }"

return function(opts, say, lib, here)
	local bpftrace = io.popen("command -v bpftrace"):read("*l")
	if not bpftrace then
		say("  bpftrace is not installed (scripts/deps bench): start-up not measured")
		return
	end
	local cache = io.popen("realpath -m " .. lib.shell_quote(opts.build .. "/bench/ayac-cache")):read("*l")
	os.execute("mkdir -p " .. lib.shell_quote(cache))
	C.setenv("XDG_CACHE_HOME", cache, 1)
	local object = cache .. "/startup.bpf.o"
	local _, _, rc = measure(lib.now_us, { opts.host, "-e", ("assert(io.open(%q, 'wb')):write(assert(ayac.cc([[\n%s]])))")
		:format(object, C_SOURCE) })
	if rc ~= 0 then
		io.stderr:write("run.lua: startup: compiling the program with ayac.cc failed\n")
		os.exit(1)
	end
	local prebuilt = ("local obj = assert(ayac.load(%q)) assert(obj:program(\"count_getpid\"):attach()) ayac.print_maps(obj)")
		:format(object)
	local sides = {
		{ name = "bpftrace", argv = { bpftrace, "-e", BPFTRACE } },
		{ name = "ayac", argv = { opts.host, "-e", INLINE } },
		{ name = "ayac_prebuilt", argv = { opts.host, "-e", prebuilt } },
	}
	for _, s in ipairs(sides) do -- untimed: fills ayac's object cache and the page cache
		local _, _, rc = measure(lib.now_us, s.argv)
		if rc ~= 0 then
			io.stderr:write(("run.lua: startup: %s exited with %d: %s\n"):format(s.name, rc,
				table.concat(s.argv, " ")))
			os.exit(1)
		end
		s.wall, s.rss = {}, {}
	end
	for round = 1, opts.rounds do
		local order = round % 2 == 0 and { 2, 3, 1 } or { 1, 2, 3 }
		for _, i in ipairs(order) do
			local s = sides[i]
			local wall, rss, rc = measure(lib.now_us, s.argv)
			if rc ~= 0 then
				io.stderr:write(("run.lua: startup: %s exited with %d in round %d\n"):format(s.name, rc, round))
				os.exit(1)
			end
			table.insert(s.wall, wall)
			table.insert(s.rss, rss)
		end
	end
	local b = sides[1]
	local bw, br = lib.median(b.wall), lib.median(b.rss)
	say("(f) start-up: load a program, attach a tracepoint, exit; one process per run, %d rounds, median",
		opts.rounds)
	say("  %-14s %9s %11s %12s %12s", "", "wall ms", "peak RSS KB", "wall ratio", "RSS ratio")
	for _, s in ipairs(sides) do
		local w, r = lib.median(s.wall), lib.median(s.rss)
		say("  %-14s %9.1f %11d %12s %12s", s.name, w, r, s == b and "-" or ("%.3f"):format(w / bw),
			s == b and "-" or ("%.3f"):format(r / br))
	end
	say("  bpftrace: bpftrace -e '%s'", BPFTRACE)
	say("  ayac:     ayac -e 'local obj = assert(ayac.load_c(<the same in C>)) ... attach() ayac.print_maps(obj)'")
	say("            (a cached object: no clang run; ayac_prebuilt: the same C compiled to a file, ayac.load)")
	local a = sides[2]
	local wr, rr = lib.median(a.wall) / bw, lib.median(a.rss) / br
	say("  => wall %.3f: %s; peak RSS %.3f: %s", wr, wr <= 0.2 and "met (<= 0.20)" or "NOT met (target <= 0.20)",
		rr, rr <= 0.1 and "met (<= 0.10)" or "NOT met (target <= 0.10)")
end
