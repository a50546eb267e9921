-- The C library and `make install`: the C example built against libayac runs, and an
-- installed tree (DESTDIR stage) works from outside the source tree with only its own
-- paths: pkg-config, a C program, a stock luajit with the fast path, the binary, the
-- man page; `make uninstall` leaves the stage empty.
local h = require "helpers"

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local build_name = h.build:match("[^/]+$")
local host_name = h.bin:match("[^/]+$")
local object = h.root .. "/examples/getpid_count.bpf.o"

describe("libayac", function()
	it("runs the C example, which loads, attaches and reads a map", function()
		local out, ok = h.capture(q(h.build .. "/examples/c/getpid_count") .. " " .. q(object) ..
			" 7 2>&1")
		assert.is_true(ok, out)
		assert.matches("called getpid 7 times", out)
	end)

	it("refuses a missing object with the errno name", function()
		local out, ok = h.capture(q(h.build .. "/examples/c/getpid_count") ..
			" /nonexistent.bpf.o 2>&1")
		assert.is_false(ok)
		assert.matches("ENOENT", out)
	end)
end)

describe("make install", function()
	local stage
	local function make(target)
		return h.capture(("make -s -C %s %s DESTDIR=%s PREFIX=/usr BUILD=%s HOST=%s 2>&1"):format(
			q(h.root), target, q(stage), q(build_name), q(host_name)))
	end

	before_each(function()
		stage = h.tmpname("-stage")
		assert(os.execute("mkdir -p " .. q(stage)) == 0)
	end)
	after_each(function()
		os.execute("rm -rf " .. q(stage))
	end)

	it("installs a tree usable from outside the source, and uninstall removes it all", function()
		local out, ok = make("install")
		assert.is_true(ok, out)
		local env = ("cd / && export PKG_CONFIG_SYSROOT_DIR=%s PKG_CONFIG_PATH=%s/usr/lib/pkgconfig; "):format(
			q(stage), q(stage))

		local flags, fok = h.capture(env .. "pkg-config --cflags --libs ayac")
		assert.is_true(fok, flags)
		assert.matches("%-layac", flags)

		local src, exe = stage .. "/t.c", stage .. "/t"
		h.write(src, [[
#include <stdio.h>
#include <ayac/ayac.h>
int main(int argc, char **argv)
{
	struct ayac_obj *o = ayac_obj_open_file(argv[1], NULL);
	if (!o || ayac_obj_load(o) < 0) {
		fprintf(stderr, "%s\n", ayac_errmsg());
		return 1;
	}
	printf("%s: %zu programs\n", ayac_obj_name(o), ayac_obj_prog_cnt(o));
	ayac_obj_free(o);
	return 0;
}
]])
		-- Under `make asan` the library carries the sanitizer runtime: so must the program.
		local sanitize = h.capture("ldd " .. q(stage .. "/usr/lib/libayac.so") .. " | grep -c libasan")
		sanitize = tonumber(sanitize) ~= 0 and " -fsanitize=address,undefined" or ""
		out, ok = h.capture(env .. "cc" .. sanitize .. " -o " .. q(exe) .. " " .. q(src) ..
			" $(pkg-config --cflags --libs ayac) 2>&1")
		assert.is_true(ok, out)
		out, ok = h.capture("LD_LIBRARY_PATH=" .. q(stage .. "/usr/lib") .. " " .. q(exe) .. " " ..
			q(object) .. " 2>&1")
		assert.is_true(ok, out)
		assert.matches("getpid_count: 1 programs", out)
		os.remove(src)
		os.remove(exe)

		-- A stock luajit loading a sanitizer build of core.so needs the runtime first.
		local preload = sanitize ~= "" and ("LD_PRELOAD=%s ASAN_OPTIONS=detect_leaks=0 "):format(
			h.capture("cc -print-file-name=libasan.so"):gsub("%s+$", "")) or ""
		local lua = ("cd / && " .. preload .. "LUA_PATH=%s LUA_CPATH=%s luajit -e %s 2>&1"):format(
			q(stage .. "/usr/share/lua/5.1/?.lua;" .. stage .. "/usr/share/lua/5.1/?/init.lua"),
			q(stage .. "/usr/lib/" .. h.capture("cc -print-multiarch"):gsub("%s+$", "") ..
				"/lua/5.1/?.so"),
			q([[local ayac = require "ayac"
local fast = require "ayac.fast"
assert(fast.lib ~= require("ffi").C, "fast path should come from core.so")
local o = assert(ayac.load("]] .. object .. [["))
local m = o:map("counts")
m[7] = 42
io.write("value ", tostring(m[7]))
o:close()]]))
		out, ok = h.capture(lua)
		assert.is_true(ok, out)
		assert.equals("value 42", out)

		out, ok = h.capture("cd / && " .. q(stage .. "/usr/bin/ayac") .. " --help 2>&1")
		assert.is_true(ok, out)
		assert.matches("btf dump", out)
		out, ok = h.capture("cd / && " .. q(stage .. "/usr/bin/ayac") ..
			[[ -e 'io.write(require("ayac").version)' 2>&1]])
		assert.is_true(ok, out)
		assert.matches("^%d+%.%d+%.%d+$", out)
		out, ok = h.capture("MANWIDTH=80 man -l " .. q(stage .. "/usr/share/man/man1/ayac.1") ..
			" 2>/dev/null")
		assert.is_true(ok, out)
		assert.matches("eBPF host runtime", out)

		out, ok = make("uninstall")
		assert.is_true(ok, out)
		local left = h.capture("find " .. q(stage) .. " -mindepth 1")
		assert.equals("", left)
	end)
end)

describe("the rockspec", function()
	it("builds and installs with luarocks make, and the tree's module loads", function()
		local tree = h.tmpname("-rocks")
		finally(function() os.execute("rm -rf " .. q(tree)) end)
		local out, ok = h.capture("cd " .. q(h.root) .. " && luarocks make --tree " .. q(tree) ..
			" 2>&1")
		assert.is_true(ok, out)
		out, ok = h.capture("cd / && eval \"$(luarocks --lua-version 5.1 --tree " .. q(tree) ..
			" path)\" && luajit -e " .. q([[
local ayac = require "ayac"
assert(package.searchpath("ayac.core", package.cpath):find("]] .. tree .. [[", 1, true))
local o = assert(ayac.load("]] .. object .. [["))
o:map("counts")[3] = 9
io.write(tostring(o:map("counts")[3]))
o:close()]]) .. " 2>&1")
		assert.is_true(ok, out)
		assert.equals("9", out)
	end)
end)
