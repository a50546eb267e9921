-- Inline C: ayac.cc(source [, opts]) compiles BPF C with the system clang and returns
-- the object's bytes; ayac.load_c(source [, opts]) opens and loads it. Compiled objects
-- are cached under $XDG_CACHE_HOME/ayac (~/.cache/ayac), keyed by a hash of the
-- source, the flags, clang (its version and binary), the kernel's BTF and the headers
-- the source includes: a second run starts as fast as loading a prebuilt object, with
-- no clang process.
--
-- The source sees `#include "vmlinux.h"` (the running kernel's types, written by ayac
-- into the cache), libbpf's BPF-side headers where libbpf-dev installed them
-- (<bpf/bpf_helpers.h>, ...), and ayac's own (<ayac/hist.bpf.h>). Compile errors come
-- back as nil, clang's diagnostics, "ECOMPILE", with line numbers pointing into the
-- Lua file that holds the source string (or into the string itself when it is not in
-- a file, as with ayac -e).
--
-- opts: cflags (a string or a list of strings), clang (path or name; default
-- $AYAC_CLANG or clang), cache (a directory, or false for none); load_c also takes
-- every ayac.load option (globals, name, ...).
local ffi = require "ffi"
local fast = require "ayac.fast"
local object = require "ayac.object"

local lib = fast.lib
local type, tostring, error, pairs, ipairs = type, tostring, error, pairs, ipairs
local concat, unpack = table.concat, unpack

pcall(ffi.cdef, [[
uint64_t ayac_hash64(const void *data, size_t len, uint64_t seed);
int ayac_file_stamp(const char *path, uint64_t *stamp);
int mkdir(const char *path, unsigned int mode);
char *mkdtemp(char *template);
int getpid(void);
]])

local M = {}

local VERSION = "ayac-cc-1" -- bump when the key or the compile command changes meaning
local VMLINUX_BTF = "/sys/kernel/btf/vmlinux"
local ARCH = ({ x64 = "x86", arm64 = "arm64", arm = "arm", ppc = "powerpc", mips = "mips",
	mips64 = "mips", s390x = "s390", riscv64 = "riscv" })[jit.arch] or jit.arch
local BASE_FLAGS = { "-target", "bpf", "-g", "-O2", "-D__TARGET_ARCH_" .. ARCH }

local stamp_box = ffi.new("uint64_t[1]")

local function hex(v)
	return ("%016x"):format(v)
end

local function stamp(path)
	if lib.ayac_file_stamp(path, stamp_box) ~= 0 then return nil end
	return hex(stamp_box[0])
end

local function hash(s)
	return hex(lib.ayac_hash64(s, #s, 0)) .. hex(lib.ayac_hash64(s, #s, 0x5bd1e995))
end

local function read(path)
	local f = io.open(path, "rb")
	if not f then return nil end
	local s = f:read("*a")
	f:close()
	return s
end

-- Write through a temporary name and rename: readers never see half a file.
local function write(path, data)
	local tmp = ("%s.%d.tmp"):format(path, ffi.C.getpid())
	local f, err = io.open(tmp, "wb")
	if not f then return nil, err end
	local ok, werr = f:write(data)
	f:close()
	if not ok then
		os.remove(tmp)
		return nil, werr
	end
	return os.rename(tmp, path)
end

local function mkdirs(path)
	local p = path:sub(1, 1) == "/" and "/" or ""
	for part in path:gmatch("[^/]+") do
		p = p .. part
		ffi.C.mkdir(p, 493) -- 0755; EEXIST and friends are checked by the writes after
		p = p .. "/"
	end
	return path
end

local function shell_quote(s)
	return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function cache_root(opts)
	if opts.cache ~= nil then
		return opts.cache
	end
	local x = os.getenv("XDG_CACHE_HOME")
	if x and x ~= "" then return x .. "/ayac" end
	local home = os.getenv("HOME")
	if home and home ~= "" then return home .. "/.cache/ayac" end
	return "/tmp/ayac-cache"
end

local function find_clang(opts)
	local c = opts.clang or os.getenv("AYAC_CLANG") or "clang"
	if c:find("/", 1, true) then
		return stamp(c) and c
	end
	for dir in (os.getenv("PATH") or "/usr/bin:/bin"):gmatch("[^:]+") do
		local p = dir .. "/" .. c
		if stamp(p) then return p end
	end
end

-- clang's version line, remembered per binary (no clang run on a cache hit).
local function clang_version(clang, root)
	local st = stamp(clang)
	local memo = root and (root .. "/clang/" .. st)
	local v = memo and read(memo)
	if v then return v end
	local p = io.popen(shell_quote(clang) .. " --version 2>/dev/null")
	v = p and p:read("*l") or ""
	if p then p:close() end
	v = v .. " " .. st
	if memo then write(mkdirs(root .. "/clang") .. "/" .. st, v) end
	return v
end

-- A hash of the kernel's BTF, computed once per boot (remembered per the sysfs file's
-- identity, which a reboot changes).
local function btf_id(root)
	local st = stamp(VMLINUX_BTF)
	if not st then return "none" end
	local memo = root and (root .. "/btf/" .. st)
	local v = memo and read(memo)
	if v then return v end
	local blob = read(VMLINUX_BTF) or ""
	v = hash(blob)
	if memo then write(mkdirs(root .. "/btf") .. "/" .. st, v) end
	return v
end

local ayac_include_dir
-- ayac's BPF-side headers: beside the Lua files (the build tree: lua/ and include/)
-- or installed (share/lua/5.1/ayac and include/ayac under the same prefix).
local function ayac_include()
	if ayac_include_dir ~= nil then return ayac_include_dir end
	local env = os.getenv("AYAC_INCLUDE")
	local candidates = { env }
	local me = package.searchpath("ayac.cc", package.path)
	if me then
		local dir = me:match("^(.*)/[^/]+$")
		candidates[#candidates + 1] = dir .. "/../../include"
		candidates[#candidates + 1] = dir .. "/../../../../include"
	end
	candidates[#candidates + 1] = "/usr/local/include"
	candidates[#candidates + 1] = "/usr/include"
	ayac_include_dir = false
	for _, d in ipairs(candidates) do
		if d and stamp(d .. "/ayac/hist.bpf.h") then
			ayac_include_dir = d
			break
		end
	end
	return ayac_include_dir
end

local function flag_list(cflags)
	if cflags == nil then return {} end
	if type(cflags) == "string" then
		local t = {}
		for w in cflags:gmatch("%S+") do t[#t + 1] = w end
		return t
	end
	if type(cflags) ~= "table" then
		error("bad argument #2 to 'cc' (cflags: string or list expected, got " .. type(cflags) .. ")", 4)
	end
	for i, f in ipairs(cflags) do
		if type(f) ~= "string" then
			error(("bad argument #2 to 'cc' (cflags[%d]: string expected)"):format(i), 4)
		end
	end
	return cflags
end

-- The identity of every header the source includes directly, found in the search path.
local function include_stamps(source, dirs)
	local out = {}
	for name in source:gmatch("#%s*include%s*[<\"]([^>\"]+)[>\"]") do
		local names = { name }
		if name == "bpf/bpf_helpers.h" then names[2] = "bpf/bpf_helper_defs.h" end
		for _, n in ipairs(names) do
			for _, d in ipairs(dirs) do
				local s = stamp(d .. "/" .. n)
				if s then
					out[#out + 1] = n .. "=" .. s
					break
				end
			end
		end
	end
	return concat(out, ",")
end

-- Where the caller's source string sits: the file and the line/column it starts at.
local function locate(source)
	for level = 3, 12 do
		local info = debug.getinfo(level, "S")
		if not info then break end
		local src = info.source
		if src:sub(1, 1) == "@" and not src:match("[/\\]ayac[/\\]cc%.lua$") then
			local path = src:sub(2)
			local text = read(path)
			local at = text and text:find(source, 1, true)
			if at then
				local before = text:sub(1, at - 1)
				local _, lines = before:gsub("\n", "")
				local col = at - (before:match(".*()\n") or 0)
				return { name = path, line = lines, col = col - 1 }
			end
			return { name = path, unplaced = true }
		elseif src:sub(1, 1) ~= "@" and src ~= "=[C]" then
			return { name = src:gsub("^=", ""), unplaced = true }
		end
	end
	return { name = "ayac.cc", unplaced = true }
end

-- clang's messages about <file>: lines and columns moved to where the string is.
local function rewrite(diag, file, where)
	local esc = file:gsub("%p", "%%%0")
	return (diag:gsub(esc .. ":(%d+):(%d+)", function(l, c)
		l, c = tonumber(l), tonumber(c)
		if where.unplaced then
			return ("%s: C source line %d:%d"):format(where.name, l, c)
		end
		return ("%s:%d:%d"):format(where.name, l + where.line, l == 1 and c + where.col or c)
	end):gsub(esc .. ":(%d+)", function(l)
		if where.unplaced then return ("%s: C source line %s"):format(where.name, l) end
		return ("%s:%d"):format(where.name, tonumber(l) + where.line)
	end))
end

-- vmlinux.h of the running kernel, written once per kernel BTF into the cache.
local function vmlinux_dir(root, bid)
	local dir = mkdirs(root .. "/vmlinux/" .. bid)
	if stamp(dir .. "/vmlinux.h") then return dir end
	local btf, err, code = require("ayac.btf").vmlinux()
	if not btf then return nil, "vmlinux.h: " .. tostring(err), code end
	local ok, werr = write(dir .. "/vmlinux.h", btf:dump_c({ guard = "__VMLINUX_H__" }))
	if not ok then return nil, "write vmlinux.h: " .. tostring(werr), "EIO" end
	return dir
end

local function run_clang(clang, args, src_path, obj_path, err_path)
	local q = {}
	for i, a in ipairs(args) do q[i] = shell_quote(a) end
	local cmd = ("%s %s -c %s -o %s 2>%s"):format(shell_quote(clang), concat(q, " "),
		shell_quote(src_path), shell_quote(obj_path), shell_quote(err_path))
	local rc = os.execute(cmd)
	return rc == 0 or rc == true
end

-- The compiled object's path under root (compiling on a miss) and clang's warnings, or
-- nil, msg, code.
local function compile(source, opts, where, root)
	local clang = find_clang(opts)
	if not clang then
		return nil, ("cc: clang not found (%s): apt-get install clang, or set AYAC_CLANG"):format(
			opts.clang or os.getenv("AYAC_CLANG") or "clang on PATH"), "ENOENT"
	end
	mkdirs(root)
	local bid = btf_id(root)
	local cflags = flag_list(opts.cflags)
	local inc = ayac_include()
	local vmdir = root .. "/vmlinux/" .. bid
	local dirs = { inc, "/usr/local/include", "/usr/include" }
	local key = hash(concat({ VERSION, source, concat(cflags, "\1"), clang_version(clang, root),
		bid, include_stamps(source, dirs) }, "\0"))
	local obj_path = root .. "/obj/" .. key .. ".bpf.o"
	if stamp(obj_path) then
		return obj_path
	end
	local dir, err, code = vmlinux_dir(root, bid)
	if not dir then return nil, err, code end
	local work = mkdirs(root .. "/tmp") .. "/" .. key .. "." .. ffi.C.getpid()
	local src_path, out_path, err_path = work .. ".bpf.c", work .. ".o", work .. ".err"
	local wrote, werr = write(src_path, source)
	if not wrote then return nil, "cc: " .. tostring(werr), "EIO" end
	local args = {}
	for _, f in ipairs(BASE_FLAGS) do args[#args + 1] = f end
	args[#args + 1] = "-I" .. vmdir
	if inc then args[#args + 1] = "-I" .. inc end
	for _, f in ipairs(cflags) do args[#args + 1] = f end
	local ok = run_clang(clang, args, src_path, out_path, err_path)
	local diag = rewrite(read(err_path) or "", src_path, where)
	os.remove(src_path)
	os.remove(err_path)
	if not ok or not stamp(out_path) then
		os.remove(out_path)
		if diag == "" then diag = "clang failed (no diagnostics): " .. clang end
		return nil, diag, "ECOMPILE"
	end
	mkdirs(root .. "/obj")
	local renamed, rerr = os.rename(out_path, obj_path)
	if not renamed then
		os.remove(out_path)
		return nil, "cc: cache: " .. tostring(rerr), "EIO"
	end
	return obj_path, diag ~= "" and diag or nil
end

-- fn(root) under the cache root, or under a private directory removed afterwards when
-- opts.cache is false.
local function in_cache(opts, fn)
	local root = cache_root(opts)
	if root then
		return fn(root)
	end
	local template = (os.getenv("TMPDIR") or "/tmp") .. "/ayac-cc-XXXXXX"
	local buf = ffi.new("char[?]", #template + 1, template)
	if ffi.C.mkdtemp(buf) == nil then
		return nil, "cc: cannot make a directory like " .. template, "EIO"
	end
	local tmp = ffi.string(buf)
	local r = { pcall(fn, tmp) }
	os.execute("rm -rf " .. shell_quote(tmp))
	if not r[1] then error(r[2], 0) end
	return unpack(r, 2, 4)
end

local function check(source, opts, fname)
	if type(source) ~= "string" then
		error(("bad argument #1 to '%s' (string expected, got %s)"):format(fname, type(source)), 3)
	end
	if opts ~= nil and type(opts) ~= "table" then
		error(("bad argument #2 to '%s' (table expected, got %s)"):format(fname, type(opts)), 3)
	end
	return opts or {}
end

-- ayac.cc(source [, opts]) -> object bytes [, warnings] | nil, diagnostics, "ECOMPILE"
function M.cc(source, opts)
	opts = check(source, opts, "cc")
	local where = locate(source)
	return in_cache(opts, function(root)
		local path, diag, code = compile(source, opts, where, root)
		if not path then return nil, diag, code end
		if diag then return read(path), diag end
		return read(path) -- one value: assert(ayac.cc(src)) is just the bytes
	end)
end

-- The calling script's name without ".lua" ("opensnoop"), or "inline" for code that is
-- not in a file (ayac -e, the REPL).
local function default_name()
	for level = 3, 12 do
		local info = debug.getinfo(level, "S")
		if not info then break end
		local src = info.source
		if not src:match("[/\\]ayac[/\\]cc%.lua$") then
			local base = src:sub(1, 1) == "@" and src:match("([^/]+)%.lua$")
			base = base and base:gsub("[^%w_]", "_")
			return base and base ~= "" and base or "inline"
		end
	end
	return "inline"
end

local CC_KEYS = { cflags = true, clang = true, cache = true }

-- ayac.load_c(source [, opts]) -> a loaded object | nil, msg, code
function M.load_c(source, opts)
	opts = check(source, opts, "load_c")
	local where = locate(source)
	local src, err, code = in_cache(opts, function(root)
		local path, diag, c = compile(source, opts, where, root)
		if not path then return nil, diag, c end
		return opts.cache == false and read(path) or path
	end)
	if not src then
		return nil, err, code
	end
	local lopts = { name = default_name() }
	for k, v in pairs(opts) do
		if not CC_KEYS[k] then lopts[k] = v end
	end
	local ok, obj, lerr, lcode = pcall(object.load, src, lopts)
	if not ok then
		error((tostring(obj):gsub("'load'", "'load_c'")), 2)
	end
	return obj, lerr, lcode
end

return M
