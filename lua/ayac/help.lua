-- `ayac help [TOPIC]`: short help on the toolkit, one topic at a time. The full API is
-- in docs/api.md, the walk-through in docs/tutorial.md.
local M = {}

local TOPICS = {}
local ORDER = {}

local function topic(name, summary, text)
	TOPICS[name] = { summary = summary, text = text }
	ORDER[#ORDER + 1] = name
end

topic("repl", "the interactive prompt", [[
ayac with no script on a terminal (or ayac -i after a script) starts the REPL.

  Enter        run the line; an expression prints its value (ayac.print)
  Tab          complete globals, table keys (ayac.hi<Tab>), and methods and fields
               of handles (obj:ma<Tab> -> obj:map( ; Tab again for the next one)
  Up / Down    history, kept in ~/.local/state/ayac/history ($XDG_STATE_HOME)
  Ctrl-C       clear the line (while code runs: interrupt it)
  Ctrl-D       leave (on an empty line)

`ayac` is a global in the REPL and in ayac -e one-liners. Lines that end in the
middle of a chunk continue on a ">>" prompt. Keys are libedit's emacs bindings;
~/.editrc can change them.
]])

topic("cc", "inline C: ayac.cc and ayac.load_c", [=[
ayac.load_c(source [, opts]) compiles BPF C with the system clang and loads it;
ayac.cc(source [, opts]) returns the object's bytes.

  local obj = assert(ayac.load_c([[
  #include "vmlinux.h"              // the running kernel's types, made by ayac
  #include <bpf/bpf_helpers.h>      // libbpf's BPF-side headers (libbpf-dev)
  #include <ayac/hist.bpf.h>        // ayac's histogram buckets
  ...
  ]], { globals = { target = 42 } }))

Flags: -target bpf -g -O2 -D__TARGET_ARCH_<arch>, plus opts.cflags. Objects are
cached in $XDG_CACHE_HOME/ayac (~/.cache/ayac) by a hash of the source, flags,
clang and the kernel's BTF: the second run does not start clang. Compile errors
return nil, clang's messages (lines point into your Lua file), "ECOMPILE".
opts: cflags, clang (path), cache (a directory, or false), and ayac.load's options.
]=])

topic("hist", "histograms: ayac.hist, ayac.lhist, hist.bpf.h", [[
In BPF (#include <ayac/hist.bpf.h>):
  AYAC_HIST(lat);                 lat_add(ns);           @lat = hist(ns)
  AYAC_LHIST(sz, 0, 1000, 100);   sz_add(bytes);         @sz = lhist(bytes, 0, 1000, 100)
  AYAC_HIST_KEYED(by, struct k, 10240);  by_add(&k, v); one histogram per key
In Lua:
  io.write(ayac.hist(obj:map("lat")))              bpftrace's layout
  io.write(ayac.hist(obj:map("lat"), { unit = "ns" }))   time labels
  io.write(ayac.lhist(obj:map("sz"), 0, 1000, 100))
  io.write(ayac.hist_of({ 3, 700, 12 }))           raw values, bucketed in Lua
  ayac.print_maps(obj)                             every map, as bpftrace on exit
]])

topic("symbols", "ksym, kaddr, usym, stacks, syscall names", [[
  ayac.ksym(addr)        name, offset, module   (/proc/kallsyms; addr a uint64_t
                                                 cdata, "0x..." string or exact number)
  ayac.kaddr(name)       uint64_t address ("module:name" for one module)
  ayac.usym(pid, addr)   name, offset, path     (ELF .symtab/.dynsym, build-id debug
                                                 files under /usr/lib/debug)
  ayac.stack(map, id, { pid = })  frames { addr, name, offset, module }
  ayac.format_stack(frames)       "    name+off" lines, as bpftrace prints them
  ayac.folded(frames [, prefix])  "outer;...;inner" for flame graphs
  ayac.syscall_name(nr), ayac.syscall_nr(name)   the running kernel's table
]])

topic("print", "ayac.print, ayac.pretty, ayac.print_maps", [[
  ayac.print(v, ...)     tables nested with sorted keys, 64-bit cdata as numbers,
                         stacks one frame a line, maps as their contents
  ayac.pretty(v [, { depth = 4, width = 64, line = 78 }])   the same as a string
  ayac.print_maps(obj)   every map of an object, as bpftrace prints maps on exit
]])

topic("inspect", "ayac inspect: what an object holds", [[
  ayac inspect prog.bpf.o [--json]
Programs (section, type, attach type and target, instructions, CO-RE relocations,
autoload), maps (type, sizes, BTF key/value types, max_entries, pinning), globals
(section, type, initial value), license, kernel version, BTF summary, externs.
The object is only parsed, never loaded: it works for objects this kernel cannot load.
]])

topic("examples", "tools written with ayac", [[
examples/ holds single-file tools, each BPF C inline through ayac.load_c:
  ayac examples/opensnoop.lua [seconds]    files opened, by whom
  ayac examples/syscount.lua [seconds]     top system calls by name, refreshed
  ayac examples/runqlat.lua [seconds]      run queue latency histogram
  ayac examples/tcpconnect.lua [seconds]   TCP connections made
Run as root. docs/tutorial.md builds one from nothing.
]])

local function list()
	local out = { "ayac help TOPIC, topics:\n" }
	for _, name in ipairs(ORDER) do
		out[#out + 1] = ("  %-10s %s\n"):format(name, TOPICS[name].summary)
	end
	out[#out + 1] = "Also: ayac --help (options and subcommands), docs/api.md, docs/tutorial.md.\n"
	return table.concat(out)
end

function M.text(name)
	if not name then return list() end
	local t = TOPICS[name]
	return t and t.text or nil
end

function M.main(name, ...)
	if select("#", ...) > 0 then
		io.stderr:write("usage: ayac help [TOPIC]\n")
		return 2
	end
	local text = M.text(name)
	if not text then
		io.stderr:write("ayac help: no topic '", tostring(name), "'\n", list())
		return 1
	end
	io.stdout:write(text)
	return 0
end

return M
