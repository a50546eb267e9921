-- examples/execsnoop.lua, run as a user would: one line per exec.
local h = require "helpers"

local function sh_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

describe("examples/execsnoop.lua", function()
  it("prints a line for an exec of /bin/true, with its pid, parent, comm and return code", function()
    local log = h.tmpname(".log")
    local tool = h.root .. "/examples/execsnoop.lua"
    -- Start the tool, wait for its header (it is attached by then), exec /bin/true from a
    -- shell that prints its pid first (exec keeps it), until the tool shows that pid.
    local script = table.concat({
      "env -u LUA_PATH -u LUA_CPATH " .. sh_quote(h.bin) .. " " .. sh_quote(tool) ..
        " -d 60 > " .. log .. " 2>&1 & tool=$!",
      "i=0; until grep -q FILENAME " .. log .. " || [ $i -ge 400 ]; do sleep 0.05; i=$((i+1)); done",
      "i=0; while [ $i -lt 100 ]; do",
      "  pid=$(sh -c 'echo $$; exec /bin/true')",
      "  sleep 0.1",
      "  if grep -qE \" $pid +$$ +0 true +/bin/true$\" " .. log .. "; then break; fi",
      "  i=$((i+1))",
      "done",
      "echo \"pid=$pid shell=$$\"",
      "kill -INT $tool; wait $tool; echo \"rc=$?\"",
    }, "\n")
    local out = h.capture("sh -c " .. sh_quote(script))
    local text = h.read(log)
    os.remove(log)
    local pid, shell = out:match("pid=(%d+) shell=(%d+)")
    assert.is_truthy(pid, out)
    assert.matches("^TIME%(s%)%s+PID%s+PPID%s+RET%s+COMM%s+FILENAME\n", text)
    local line = text:match("\n([%d.]+ +" .. pid .. " +" .. shell .. " +0 true +/bin/true)\n")
    assert.is_truthy(line, "no line for pid " .. pid .. " in:\n" .. text)
    assert.matches("rc=130", out, 1, true) -- Ctrl-C ends it cleanly
  end)
end)
