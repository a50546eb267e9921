-- The core's plain C ABI through LuaJIT's FFI: the calls that JIT-compiled Lua code
-- (map get/set with scalar keys) makes without going through the Lua C API.
--
-- Inside ./ayac the functions are in the executable itself (linked with -E), so
-- ffi.C has them. Under a stock luajit, require "ayac.core" dlopen-ed core.so with
-- RTLD_LOCAL; ffi.load of the same file returns that already loaded library.
local ffi = require "ffi"

local M = {}

local function cdef(decl)
	-- Another module may have declared the same thing; the second cdef would fail.
	pcall(ffi.cdef, decl)
end

cdef [[
struct ayac_map;
int ayac_map_fd(const struct ayac_map *map);
int ayac_fast_lookup(int map_fd, const void *key, void *value);
int ayac_fast_update(int map_fd, const void *key, const void *value, uint64_t flags);
int ayac_fast_delete(int map_fd, const void *key);
int ayac_fast_lookup_and_delete(int map_fd, const void *key, void *value);
int ayac_fast_next_key(int map_fd, const void *key, void *next_key);
int ayac_fast_lookup_batch(int map_fd, void *in_batch, void *out_batch, void *keys,
			   void *values, uint32_t *count, uint64_t elem_flags);
int ayac_fast_lookup_and_delete_batch(int map_fd, void *in_batch, void *out_batch, void *keys,
				      void *values, uint32_t *count, uint64_t elem_flags);
int ayac_fast_update_batch(int map_fd, const void *keys, const void *values, uint32_t *count,
			   uint64_t elem_flags);
int ayac_fast_delete_batch(int map_fd, const void *keys, uint32_t *count, uint64_t elem_flags);
const char *ayac_errname(int err);
]]
cdef "char *strerror(int errnum);"

local function has(lib, sym)
	return (pcall(function() return lib[sym] end))
end

local function find_lib()
	if has(ffi.C, "ayac_fast_lookup") then
		return ffi.C
	end
	local core = require "ayac.core"
	local path = core._path or package.searchpath("ayac.core", package.cpath)
	if not path then
		error("ayac.fast: cannot find the ayac.core library for the FFI (LUA_CPATH?)")
	end
	return ffi.load(path)
end

M.lib = find_lib()
M.C = ffi.C

-- Error codes the callers compare against (Linux values).
M.ENOENT = 2
M.EBADF = 9
M.EEXIST = 17
M.EINVAL = 22

-- "EEXIST", "File exists" for a negative errno from the fast calls.
function M.errname(rc)
	return ffi.string(M.lib.ayac_errname(rc < 0 and -rc or rc))
end

function M.strerror(rc)
	rc = rc < 0 and -rc or rc
	if rc == 524 then -- the kernel's ENOTSUPP, which libc has no text for
		return "Operation not supported (for this map type)"
	end
	return ffi.string(ffi.C.strerror(rc))
end

return M
