-- Shared by the specs: paths into the build, and small utilities.
local M = {}

M.root = os.getenv("AYAC_ROOT") or "."
M.build = os.getenv("AYAC_BUILD") or (M.root .. "/build")
M.bin = os.getenv("AYAC_BIN") or (M.root .. "/ayac")
-- The interpreter these specs run in (luajit, or the sanitizer host binary), with the
-- environment scripts/run-specs exported (LUA_PATH, LUA_CPATH, AYAC_BUILD).
M.lua = os.getenv("AYAC_SPEC_LUA") or "luajit"

function M.bpf(name)
  return M.build .. "/spec/bpf/" .. name .. ".bpf.o"
end

function M.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

function M.write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

function M.tmpname(suffix)
  local p = os.tmpname()
  os.remove(p)
  return p .. (suffix or "")
end

-- Little-endian integer into / out of a byte string (LuaJIT has no string.pack).
function M.u32le(v)
  return string.char(v % 256, math.floor(v / 256) % 256, math.floor(v / 65536) % 256,
    math.floor(v / 16777216) % 256)
end

function M.get_u16(s, off) -- off: 0-based
  local a, b = s:byte(off + 1, off + 2)
  return a + b * 256
end

function M.get_u64(s, off)
  local v = 0
  for i = 8, 1, -1 do v = v * 256 + s:byte(off + i) end
  return v
end

function M.splice(s, off, bytes) -- replace bytes at 0-based off
  return s:sub(1, off) .. bytes .. s:sub(off + #bytes + 1)
end

-- Runs a shell command, returns its stdout and whether it exited 0.
function M.capture(cmd)
  local p = assert(io.popen(cmd .. "; echo \"::rc=$?\"", "r"))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("::rc=(%d+)%s*$"))
  return out:gsub("::rc=%d+%s*$", ""), rc == 0, rc
end

-- A 64-byte Ethernet-sized packet for XDP test runs.
M.packet = string.rep("\0", 64)

return M
