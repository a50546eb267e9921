-- Running the same code interpreted and JIT-compiled, for specs that compare the two.
--
--   jitrun.interpreted(body, n)  body(i) for i = 1..n with the JIT off and no trace left
--   jitrun.compiled(body, n)     the same in a loop of its own with the JIT on; returns
--                                whether a trace of that loop was compiled, and why
--                                not (the trace aborts seen)
--
-- The loop is a fresh function each time (its own prototype, so its own trace); n
-- should be well past the hot-loop threshold (56), e.g. 300. Before it, the traces are
-- flushed and the hot counters reset (jit.flush keeps them: LuaJIT's counters are
-- shared by loops whose bytecode addresses hash alike, and an abort elsewhere can leave
-- one at a penalty of thousands of iterations).
local M = {}

local LOOP = "local body, n = ... for i = 1, n do body(i) end"

function M.interpreted(body, n)
  jit.off()
  jit.flush() -- traces compiled before would still run
  local ok, err = pcall(assert(loadstring(LOOP, "=jitrun.interpreted")), body, n)
  jit.on()
  if not ok then error(err, 0) end
end

function M.compiled(body, n)
  local loop = assert(loadstring(LOOP, "=jitrun.compiled"))
  local started, compiled, aborts = {}, false, {}
  local function watch(what, tr, func, pc, code, reason)
    if what == "start" then
      started[tr] = func == loop
    elseif what == "stop" and started[tr] then
      compiled = true
    elseif what == "abort" and started[tr] then
      local fmt = require("jit.vmdef").traceerr[code]
      aborts[#aborts + 1] = type(fmt) == "string" and fmt:format(reason) or tostring(code)
    end
  end
  jit.on()
  jit.flush()
  jit.opt.start("hotloop=56") -- LuaJIT's default; setting it resets every counter
  jit.attach(watch, "trace")
  local ok, err = pcall(loop, body, n)
  jit.attach(watch)
  if not ok then error(err, 0) end
  return compiled, table.concat(aborts, "; ")
end

-- A value as text that compares equal for equal integers, numbers or 64-bit cdata.
function M.norm(v)
  if type(v) == "number" then
    return v % 1 == 0 and string.format("%.0f", v) or tostring(v)
  elseif type(v) == "cdata" then
    return (tostring(v):gsub("U?LL$", ""))
  elseif type(v) == "table" then
    local keys, out = {}, {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do out[#out + 1] = tostring(k) .. "=" .. M.norm(v[k]) end
    return "{" .. table.concat(out, ",") .. "}"
  end
  return tostring(v)
end

function M.hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

return M
