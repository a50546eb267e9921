-- Inline C: ayac.cc and ayac.load_c with the system clang, the object cache (a clang
-- wrapper counts compilations: a hit runs none), diagnostics pointing at lines of this
-- file, and a loaded program that counts this process's getpid() calls.
local ffi = require "ffi"
local h = require "helpers"
local ayac = require "ayac"

require("helpers").cdef([[
int getpid(void);
int setenv(const char *name, const char *value, int overwrite);
int unsetenv(const char *name);
]])

local PROG = [[
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <ayac/hist.bpf.h>

const volatile __u32 target_tgid = 0;
AYAC_HIST(pid_bits);
__u64 calls;

SEC("tracepoint/syscalls/sys_enter_getpid")
int count_getpid(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	__sync_fetch_and_add(&calls, 1);
	pid_bits_add(target_tgid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
]]

local cache, counter, wrapper

local function compiles()
	local f = io.open(counter)
	if not f then return 0 end
	local n = 0
	for _ in f:lines() do n = n + 1 end
	f:close()
	return n
end

describe("ayac.cc", function()
	setup(function()
		cache = h.tmpname("-cc-cache")
		counter = h.tmpname("-count")
		wrapper = h.tmpname("-clang")
		-- clang, counting the runs that compile (not --version).
		h.write(wrapper, ("#!/bin/sh\ncase \" $* \" in *' -c '*) echo run >> %s ;; esac\nexec clang \"$@\"\n"):format(counter))
		os.execute("chmod +x " .. wrapper)
	end)
	teardown(function()
		os.execute(("rm -rf %s %s %s"):format(cache, counter, wrapper))
	end)

	it("compiles BPF C to an object, then answers from the cache without clang", function()
		local opts = { cache = cache, clang = wrapper }
		local t0 = os.clock()
		local bytes = assert(ayac.cc(PROG, opts))
		assert.are.equal("\127ELF", bytes:sub(1, 4))
		assert.are.equal(1, compiles())
		local again = assert(ayac.cc(PROG, opts))
		assert.are.equal(bytes, again)
		assert.are.equal(1, compiles(), "the second call runs no clang")
		assert.is_true(os.clock() - t0 < 30)
		local obj = assert(ayac.open(bytes))
		assert.are.equal("count_getpid", obj:program("count_getpid").name)
		obj:close()
		-- vmlinux.h for this kernel sits in the cache, made by ayac.
		local f = io.popen("ls " .. cache .. "/vmlinux/*/vmlinux.h")
		assert.matches("vmlinux%.h", f:read("*a"))
		f:close()
	end)

	it("compiles again when the source or the flags change", function()
		local opts = { cache = cache, clang = wrapper }
		local before = compiles()
		assert(ayac.cc(PROG, { cache = cache, clang = wrapper, cflags = "-DAYAC_SPEC=1" }))
		assert.are.equal(before + 1, compiles())
		assert(ayac.cc(PROG, { cache = cache, clang = wrapper, cflags = { "-DAYAC_SPEC=1" } }))
		assert.are.equal(before + 1, compiles(), "the same flags as a list")
		assert(ayac.cc(PROG .. "\n// changed\n", opts))
		assert.are.equal(before + 2, compiles())
	end)

	it("returns clang's diagnostics with lines of this file, as ECOMPILE", function()
		local line = debug.getinfo(1, "l").currentline
		local bad = [[
int f(void)
{
	return undeclared_thing;
}
]]
		local none, diag, code = ayac.cc(bad, { cache = cache })
		assert.is_nil(none)
		assert.are.equal("ECOMPILE", code)
		assert.matches("cc_spec%.lua:" .. (line + 4) .. ":9: error: use of undeclared identifier 'undeclared_thing'", diag)
		-- A one-line string: the column counts from where the string starts.
		local line2 = debug.getinfo(1, "l").currentline + 1
		local _, diag2 = ayac.cc("int g(void) { return nope; }", { cache = cache })
		local col = ('		local _, diag2 = ayac.cc("'):len() + ("int g(void) { return "):len() + 1
		assert.matches("cc_spec%.lua:" .. line2 .. ":" .. col ..
			": error: use of undeclared identifier 'nope'", diag2)
		-- Nothing of a failed compile stays in the cache.
		local p = io.popen("ls " .. cache .. "/tmp")
		assert.are.equal("", p:read("*a"))
		p:close()
	end)

	it("says where the C was when the string is not in a file", function()
		local fn = assert(loadstring("local ayac, o = ... local a, b, c = ayac.cc('int h(void) { return zz; }', o) return a, b, c", "=chunk"))
		local none, diag, code = fn(ayac, { cache = cache })
		assert.is_nil(none)
		assert.are.equal("ECOMPILE", code)
		assert.matches("chunk: C source line 1:22: error: use of undeclared identifier 'zz'", diag)
	end)

	it("fails with ENOENT when there is no clang, and raises on bad arguments", function()
		local none, msg, code = ayac.cc(PROG, { cache = cache, clang = "/nonexistent/clang" })
		assert.is_nil(none)
		assert.matches("clang not found", msg)
		assert.are.equal("ENOENT", code)
		assert.has_error(function() ayac.cc(42) end)
		assert.has_error(function() ayac.cc("x", 42) end)
		assert.has_error(function() ayac.cc("x", { cflags = 42 }) end)
	end)
end)

describe("ayac.load_c", function()
	setup(function() cache = h.tmpname("-cc-cache") end)
	teardown(function() os.execute("rm -rf " .. cache) end)

	it("loads, attaches and runs a program written inline", function()
		local pid = ffi.C.getpid()
		local obj = assert(ayac.load_c(PROG, { cache = cache, globals = { target_tgid = pid } }))
		local link = assert(obj:program("count_getpid"):attach())
		finally(function()
			link:detach()
			obj:close()
		end)
		assert.are.equal("cc_spec", obj.name)
		for _ = 1, 5 do ffi.C.getpid() end
		local deadline = os.time() + 20
		while obj:global("calls") < 5 and os.time() < deadline do ffi.C.getpid() end
		assert.is_true(obj:global("calls") >= 5)
		assert.matches("^%[%d+K?, %d+K?%)%s+%d+ |@+|\n$", ayac.hist(obj:map("pid_bits")))
	end)

	it("works without a cache, leaving nothing behind", function()
		local tmp = h.tmpname("-tmpdir")
		os.execute("mkdir " .. tmp)
		ffi.C.setenv("TMPDIR", tmp, 1)
		finally(function()
			ffi.C.unsetenv("TMPDIR")
			os.execute("rm -rf " .. tmp)
		end)
		local obj = assert(ayac.load_c(PROG, { cache = false, name = "nocache" }))
		assert.are.equal("nocache", obj.name)
		obj:close()
		local p = io.popen("ls -A " .. tmp)
		assert.are.equal("", p:read("*a"))
		p:close()
	end)

	it("returns the compile error, and load errors as ayac.load does", function()
		local none, diag, code = ayac.load_c("int broken(", { cache = cache })
		assert.is_nil(none)
		assert.are.equal("ECOMPILE", code)
		assert.matches("error", diag)
		local msg
		none, msg, code = ayac.load_c([[
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
SEC("tracepoint/syscalls/sys_enter_getpid")
int bad(void *ctx) { return *(int *)((char *)ctx + 100000); }
char LICENSE[] SEC("license") = "GPL";
]], { cache = cache })
		assert.is_nil(none)
		assert.are.equal("EVERIFIER", code)
		assert.matches("program 'bad'", msg)
	end)
end)
