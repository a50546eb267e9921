-- Symbols: kernel (ayac.ksym, ayac.kaddr), user space (ayac.usym), stacks (ayac.stack,
-- ayac.format_stack, ayac.folded) and system call names (ayac.syscall_name,
-- ayac.syscall_nr). The lookups are the core's (src/core/syms/), called through the FFI.
--
-- Addresses are exact 64-bit values: a uint64_t/int64_t cdata, a string ("0xffff…"), or
-- a Lua number that a double holds exactly (below 2^53). Kernel addresses do not fit a
-- double, so ayac.kaddr returns a uint64_t cdata, and a number too large to be exact is
-- refused instead of being looked up wrong.
local ffi = require "ffi"
local fast = require "ayac.fast"

local lib = fast.lib
local ffi_string, ffi_new, ffi_cast = ffi.string, ffi.new, ffi.cast
local type, tonumber, tostring, error = type, tonumber, tostring, error
local concat = table.concat

pcall(ffi.cdef, [[
struct ayac_sym { const char *name; const char *module; uint64_t offset; uint64_t sym_addr; };
int ayac_ksym(uint64_t addr, struct ayac_sym *out);
int ayac_kaddr(const char *name, uint64_t *addr);
void ayac_ksyms_refresh(void);
int ayac_usym(int pid, uint64_t addr, struct ayac_sym *out);
void ayac_usyms_forget(int pid);
int ayac_syscall_count(void);
const char *ayac_syscall_name(int nr);
const char *ayac_syscall_kernel_name(int nr);
int ayac_syscall_nr(const char *name);
const char *ayac_syscall_source(void);
const char *ayac_errmsg(void);
]])

local M = {}

local u64 = ffi.typeof("uint64_t")
local sym = ffi_new("struct ayac_sym")
local addr_out = ffi_new("uint64_t[1]")
local TWO53 = 2 ^ 53
local KERNEL_HALF = 0x8000000000000000ULL

local function fail(rc)
	return nil, ffi_string(lib.ayac_errmsg()), fast.errname(rc)
end

local function parse_string(s, fname)
	local hex = s:match("^0[xX](%x+)$")
	local digits, base = hex or s:match("^(%d+)$"), hex and 16 or 10
	if not digits or (hex and #digits > 16) or (not hex and #digits > 20) then
		error(("bad argument #1 to '%s' (address string expected, got '%s')"):format(fname, s), 3)
	end
	local v = u64(0)
	for i = 1, #digits do
		local d = tonumber(digits:sub(i, i), 16)
		local nv = v * base + d
		if nv < v or (nv - d) / base ~= v then
			error(("bad argument #1 to '%s' (address '%s' does not fit 64 bits)"):format(fname, s), 3)
		end
		v = nv
	end
	return v
end

-- Any accepted address form as a uint64_t cdata; raises on anything else.
local function to_u64(a, fname, argn)
	local t = type(a)
	if t == "cdata" then
		return ffi_cast(u64, a)
	elseif t == "number" then
		if a ~= a or a % 1 ~= 0 or a >= TWO53 or a <= -TWO53 then
			error(("bad argument #%d to '%s' (address %s is not exact in a double: pass a " ..
				"uint64_t cdata such as 0xffffffff81000000ULL, or a string)"):format(
				argn or 1, fname, tostring(a)), 3)
		end
		return a < 0 and ffi_cast(u64, ffi_cast("int64_t", a)) or u64(a)
	elseif t == "string" then
		return parse_string(a, fname)
	end
	error(("bad argument #%d to '%s' (address expected, got %s)"):format(argn or 1, fname, t), 3)
end
M.to_u64 = to_u64

-- A 64-bit value as a number when exact, the cdata otherwise.
local function num(v)
	return v < TWO53 and tonumber(v) or v
end

local function opt_string(p)
	return p ~= nil and ffi_string(p) or nil
end

-- ayac.ksym(addr) -> name, offset, module (nil for vmlinux)
function M.ksym(addr)
	local a = to_u64(addr, "ksym")
	local rc = lib.ayac_ksym(a, sym)
	if rc ~= 0 then
		return fail(rc)
	end
	return ffi_string(sym.name), num(sym.offset), opt_string(sym.module)
end

-- ayac.kaddr(name) -> uint64_t cdata ("module:name" for one module)
function M.kaddr(name)
	if type(name) ~= "string" then
		error("bad argument #1 to 'kaddr' (string expected, got " .. type(name) .. ")", 2)
	end
	local rc = lib.ayac_kaddr(name, addr_out)
	if rc ~= 0 then
		return fail(rc)
	end
	return addr_out[0] + 0ULL
end

-- ayac.ksym_refresh(): read /proc/kallsyms again at the next lookup (kernel modules and
-- BPF programs loaded since the first one).
function M.ksym_refresh()
	lib.ayac_ksyms_refresh()
end

local function check_pid(pid, fname)
	if type(pid) ~= "number" or pid % 1 ~= 0 or pid <= 0 or pid > 0x7fffffff then
		error(("bad argument #1 to '%s' (pid expected, got %s)"):format(fname, tostring(pid)), 3)
	end
	return pid
end

-- ayac.usym(pid, addr) -> name ("[unknown]" when no symbol covers it), offset, path
function M.usym(pid, addr)
	check_pid(pid, "usym")
	local a = to_u64(addr, "usym", 2)
	local rc = lib.ayac_usym(pid, a, sym)
	if rc ~= 0 then
		return fail(rc)
	end
	if sym.name == nil then
		return "[unknown]", nil, opt_string(sym.module)
	end
	return ffi_string(sym.name), num(sym.offset), opt_string(sym.module)
end

-- ayac.usym_forget(pid): drop the cached mappings of one process (all when nil).
function M.usym_forget(pid)
	lib.ayac_usyms_forget(pid and check_pid(pid, "usym_forget") or 0)
end

local function frame_of(a, pid)
	local f = { addr = a }
	local rc
	if a >= KERNEL_HALF then
		rc = lib.ayac_ksym(a, sym)
	elseif pid then
		rc = lib.ayac_usym(pid, a, sym)
	else
		rc = -1
	end
	if rc == 0 and sym.name ~= nil then
		f.name, f.offset, f.module = ffi_string(sym.name), num(sym.offset), opt_string(sym.module)
	else
		f.name = "[unknown]"
		if rc == 0 then f.module = opt_string(sym.module) end
	end
	return f
end

-- The addresses of one stack trace map entry, up to the first 0.
local function read_stack(m, id)
	if type(id) ~= "number" or id % 1 ~= 0 then
		error("bad argument #2 to 'stack' (stack id expected, got " .. type(id) .. ")", 3)
	end
	if id < 0 then
		return nil, ("stack id %d: bpf_get_stackid failed (%s)"):format(id, fast.errname(id)), "EINVAL"
	end
	local n = math.floor(m.value_size / 8)
	local buf = ffi_new("uint64_t[?]", math.max(n, 1))
	local key = ffi_new("uint32_t[1]", id)
	local rc = lib.ayac_fast_lookup(m:fd(), key, buf)
	if rc ~= 0 then
		return nil, ("map '%s': stack id %d: %s"):format(m.name, id, fast.strerror(rc)), fast.errname(rc)
	end
	local addrs = {}
	for i = 0, n - 1 do
		if buf[i] == 0 then break end
		addrs[#addrs + 1] = buf[i] + 0ULL
	end
	return addrs
end

-- ayac.stack(stack_map, id [, { pid = }]) or ayac.stack(addresses [, { pid = }]) ->
-- frames { addr=, name=, offset=, module= }, innermost first. Kernel addresses (upper
-- half) by /proc/kallsyms; user ones by the process's mappings when pid is given.
function M.stack(src, id, opts)
	local addrs, err, code
	if type(src) == "table" and getmetatable(src) == nil then
		addrs, opts = src, id
	elseif type(src) == "userdata" then
		addrs, err, code = read_stack(src, id)
		if not addrs then
			return nil, err, code
		end
	else
		error("bad argument #1 to 'stack' (stack trace map or array of addresses expected, got " ..
			type(src) .. ")", 2)
	end
	if opts ~= nil and type(opts) ~= "table" then
		error("bad argument #3 to 'stack' (table expected, got " .. type(opts) .. ")", 2)
	end
	local pid = opts and opts.pid
	if pid ~= nil then check_pid(pid, "stack") end
	local frames = {}
	for i = 1, #addrs do
		frames[i] = frame_of(to_u64(addrs[i], "stack"), pid)
	end
	return frames
end

local function hex(a)
	return ("0x%x"):format(a):gsub("ULL$", "")
end

local function frame_text(f, modules)
	local s
	if f.name == "[unknown]" or f.name == nil then
		s = hex(f.addr)
	else
		s = f.name .. "+" .. tostring(f.offset or 0):gsub("U?LL$", "")
	end
	if modules and f.module then
		s = s .. " (" .. f.module .. ")"
	end
	return s
end

-- ayac.format_stack(frames [, { indent = "    ", modules = false }]): one frame a
-- line, "name+offset" (the address in hex when unknown), as bpftrace prints stacks.
function M.format_stack(frames, opts)
	if type(frames) ~= "table" then
		error("bad argument #1 to 'format_stack' (table expected, got " .. type(frames) .. ")", 2)
	end
	local indent = opts and opts.indent or "    "
	local modules = opts and opts.modules
	local out = {}
	for i = 1, #frames do
		out[i] = indent .. frame_text(frames[i], modules) .. "\n"
	end
	return concat(out)
end

-- ayac.folded(frames [, prefix]): "outer;…;inner" for flame graphs (prefix, such as a
-- process name, goes first).
function M.folded(frames, prefix)
	if type(frames) ~= "table" then
		error("bad argument #1 to 'folded' (table expected, got " .. type(frames) .. ")", 2)
	end
	local out = {}
	if prefix ~= nil then out[1] = tostring(prefix) end
	for i = #frames, 1, -1 do
		local n = frames[i].name
		out[#out + 1] = (n and n ~= "") and n or "[unknown]"
	end
	return concat(out, ";")
end

-- System calls -----------------------------------------------------------------------

local function check_table()
	local n = lib.ayac_syscall_count()
	if n < 0 then
		return fail(n)
	end
	return n
end

-- ayac.syscall_name(nr) -> the ABI name ("stat"), the kernel's name ("newstat"); nil
-- when this kernel has no such number.
function M.syscall_name(nr)
	if type(nr) ~= "number" and type(nr) ~= "cdata" then
		error("bad argument #1 to 'syscall_name' (number expected, got " .. type(nr) .. ")", 2)
	end
	local ok, err, code = check_table()
	if not ok then
		return nil, err, code
	end
	nr = tonumber(nr)
	if nr % 1 ~= 0 or nr < 0 or nr >= ok then
		return nil
	end
	local p = lib.ayac_syscall_name(nr)
	if p == nil then
		return nil
	end
	return ffi_string(p), ffi_string(lib.ayac_syscall_kernel_name(nr))
end

-- ayac.syscall_nr(name) -> number ("stat" or the kernel's "newstat"; "sys_" allowed)
function M.syscall_nr(name)
	if type(name) ~= "string" then
		error("bad argument #1 to 'syscall_nr' (string expected, got " .. type(name) .. ")", 2)
	end
	local rc = lib.ayac_syscall_nr(name)
	if rc < 0 then
		return fail(rc)
	end
	return rc
end

-- ayac.syscalls() -> { [nr] = name }, source ("kernel" or "headers")
function M.syscalls()
	local n, err, code = check_table()
	if not n then
		return nil, err, code
	end
	local t = {}
	for i = 0, n - 1 do
		local p = lib.ayac_syscall_name(i)
		if p ~= nil then t[i] = ffi_string(p) end
	end
	return t, ffi_string(lib.ayac_syscall_source())
end

return M
