-- The host binary ./ayac: scripts and their arguments, -e, the REPL and stdin, errors,
-- Ctrl-C; and require "ayac" from a stock luajit.
local h = require "helpers"

local bin = h.bin
local root = h.root
-- The specs run with LUA_PATH/LUA_CPATH pointing at the build; the binary must work
-- without them too.
local clean_env = "env -u LUA_PATH -u LUA_CPATH -u LUA_INIT "

local function sh_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- stdout (stderr appended when both), ok, exit status.
local function ayac(args, stdin, opts)
  local cmd = (opts and opts.env or clean_env) .. sh_quote(bin) .. " " .. args
  if stdin then
    cmd = "printf '%s' " .. sh_quote(stdin) .. " | " .. cmd
  end
  if opts and opts.stderr then
    cmd = cmd .. " 2>&1"
  else
    cmd = cmd .. " 2>/dev/null"
  end
  return h.capture(cmd)
end

local function script(text)
  local p = h.tmpname(".lua")
  h.write(p, text)
  return p
end

-- Shell: wait until $pid is the ayac binary itself with its SIGINT handler installed
-- (or gone). Before the exec the forked shell may catch SIGINT itself and swallow it.
local function wait_caught_sh(bin_path)
  -- /proc/PID/exe is the resolved path: compare with bin resolved too (AYAC=./ayac-asan).
  local f = assert(io.popen("readlink -f " .. sh_quote(bin_path)))
  local real = f:read("*l")
  f:close()
  return " while kill -0 $pid 2>/dev/null && { [ \"$(readlink /proc/$pid/exe)\" != " ..
    sh_quote(real) .. " ] || [ $(( 0x$(awk '/^SigCgt/ {print $2}' /proc/$pid/status" ..
    " 2>/dev/null || echo 0) & 2 )) -eq 0 ]; }; do :; done; "
end

describe("host", function()
  it("runs a script with arg and ... as luajit does", function()
    local p = script([[
      print(arg[0], arg[1], arg[2], #arg, select('#', ...), ...)
      print(type(arg[-1]))
    ]])
    local out, ok = ayac(sh_quote(p) .. " a 'b c'")
    assert.is_true(ok)
    assert.are.equal(p .. "\ta\tb c\t2\t2\ta\tb c\nstring\n", out)
    os.remove(p)
  end)

  it("runs -e one-liners, in order, then the script", function()
    local out, ok = ayac("-e 'print(1+1)'")
    assert.is_true(ok)
    assert.are.equal("2\n", out)
    local p = script("print(x)")
    out = ayac("-e 'x = 5' -e 'io.write(x, \" \")' " .. sh_quote(p))
    assert.are.equal("5 5\n", out)
    os.remove(p)
  end)

  it("exposes ayac through require from any directory", function()
    local out, ok = h.capture("cd / && " .. clean_env .. sh_quote(bin) ..
      " -e 'local a = require \"ayac\"; print(type(a.open), type(a.load), a.version)'")
    assert.is_true(ok, out)
    assert.matches("^function\tfunction\t%d+%.%d+%.%d+\n$", out)
  end)

  it("honours LUA_PATH", function()
    local dir = h.tmpname("")
    os.execute("mkdir -p " .. dir)
    h.write(dir .. "/mymod.lua", "return { hello = 'from LUA_PATH' }")
    local out = ayac("-e 'print(require(\"mymod\").hello)'", nil,
      { env = "env LUA_PATH=" .. sh_quote(dir .. "/?.lua;;") .. " " })
    assert.are.equal("from LUA_PATH\n", out)
    os.execute("rm -rf " .. dir)
  end)

  it("prints REPL results (-i with a pipe), continuing incomplete input", function()
    local out, ok = ayac("-i", "1+1\nlocal t = {\n1, 2, 3}\nfor i = 1, 2 do\nprint('i', i)\nend\n" ..
      "'s', 4\nerror('oops')\n10*10\n", { stderr = true })
    assert.is_true(ok, out)
    assert.matches("2\n", out, 1, true)
    assert.matches("i\t1\ni\t2\n", out, 1, true)
    assert.matches("s\t4\n", out, 1, true)
    assert.matches("oops", out, 1, true)
    assert.matches("100\n", out, 1, true) -- goes on after an error
  end)

  it("runs a script from stdin: with no arguments off a terminal, and with -", function()
    local out, ok = ayac("", "x = 2\nprint(x * 3)\n")
    assert.is_true(ok)
    assert.are.equal("6\n", out)
    out, ok = ayac("- p q", "print(3, ...)\n")
    assert.is_true(ok)
    assert.are.equal("3\tp\tq\n", out)
  end)

  it("exits non-zero with the message and a traceback on a runtime error", function()
    local p = script("local function f() error('kaboom') end\nf()\n")
    local out, ok, rc = ayac(sh_quote(p), nil, { stderr = true })
    assert.is_false(ok)
    assert.are.equal(1, rc)
    assert.matches("kaboom", out, 1, true)
    assert.matches("stack traceback", out, 1, true)
    assert.matches("in function 'f'", out, 1, true)
    os.remove(p)
    out, ok = ayac("-e 'error({})'", nil, { stderr = true })
    assert.is_false(ok)
    assert.matches("error object is a table value", out, 1, true)
    out, ok = ayac("-e 'x = = 1'", nil, { stderr = true })
    assert.is_false(ok)
    out, ok = ayac("/no/such/script.lua", nil, { stderr = true })
    assert.is_false(ok)
    assert.matches("/no/such/script.lua", out, 1, true)
  end)

  it("passes os.exit codes through", function()
    local _, ok, rc = ayac("-e 'os.exit(3)'")
    assert.is_false(ok)
    assert.are.equal(3, rc)
    _, ok = ayac("-e 'os.exit(true)'")
    assert.is_true(ok)
  end)

  it("has -v, -h, and refuses unknown options", function()
    local out, ok = ayac("-v")
    assert.is_true(ok)
    assert.matches("^ayac %d+%.%d+%.%d+ %-%- LuaJIT", out)
    out, ok = ayac("-h", nil, { stderr = true })
    assert.is_true(ok)
    assert.matches("usage:", out, 1, true)
    out, ok = ayac("--frobnicate", nil, { stderr = true })
    assert.is_false(ok)
    assert.matches("usage:", out, 1, true)
  end)

  it("turns Ctrl-C into an 'interrupted' error and exit status 130", function()
    -- The loop calls a C function, as a polling loop does.
    local p = script([[
      local core = require "ayac.core"
      io.stdout:write("ready\n") io.stdout:flush()
      while true do core.errname(2) end
    ]])
    local log = h.tmpname(".log")
    local out, _, rc = h.capture("(" .. clean_env .. sh_quote(bin) .. " " .. sh_quote(p) ..
      " > " .. log .. " 2>&1 & pid=$!; i=0; until grep -q ready " .. log ..
      " || [ $i -ge 200 ]; do sleep 0.05; i=$((i+1)); done; kill -INT $pid; wait $pid)")
    out = out .. h.read(log)
    assert.are.equal(130, rc, out)
    assert.matches("interrupted", out, 1, true)
    os.remove(p)
    os.remove(log)
  end)

  it("keeps interrupting when the first 'interrupted' is caught by a pcall", function()
    -- JIT off so the hook runs in the loop; nearly all time is spent inside the pcall.
    local p = script([[
      jit.off()
      io.stdout:write("ready\n") io.stdout:flush()
      local t = os.time()
      while os.time() - t < 5 do
        pcall(function() for i = 1, 100000 do local x = i * i end end)
      end
      print("finished normally")
    ]])
    local out, _, rc = h.capture("(" .. clean_env .. sh_quote(bin) .. " " .. sh_quote(p) ..
      " 2>&1 & pid=$!;" .. wait_caught_sh(bin) .. "sleep 0.5; kill -INT $pid; wait $pid)")
    assert.are.equal(130, rc, out)
    assert.is_nil(out:find("finished normally", 1, true))
    os.remove(p)
  end)

  it("is not fooled by a Ctrl-C that arrives while the script is still starting", function()
    -- Early enough to land inside require, where library code runs under pcall. The
    -- shell starts background commands with SIGINT ignored until ayac's main installs
    -- its handler, so wait for /proc to show it caught (slow under emulation).
    local p = script([[
      local ayac = require "ayac"
      while true do ayac.errname(2) end
    ]])
    local caught = wait_caught_sh(bin)
    for _, delay in ipairs({ "0", "0.01", "0.03", "0.1" }) do
      local out, _, rc = h.capture("(" .. clean_env .. sh_quote(bin) .. " " .. sh_quote(p) ..
        " 2>&1 & pid=$!; " .. caught .. "sleep " .. delay .. "; kill -INT $pid; wait $pid)")
      assert.are.equal(130, rc, "after " .. delay .. " s: " .. out)
    end
    os.remove(p)
  end)

  it("never panics on a Ctrl-C at any moment of start-up", function()
    -- Outside a protected call (opening libraries, building arg) the interrupt must only
    -- be noted: an error raised there is an unprotected error, which aborts LuaJIT.
    local p = script([[
      local ayac = require "ayac"
      while true do ayac.errname(2) end
    ]])
    local cmd = "for d in " .. string.rep("0 0.002 0.005 0.01 0.02 0.04 ", 3) .. "; do " ..
      "( " .. clean_env .. sh_quote(bin) .. " " .. sh_quote(p) .. " 2>&1 & pid=$!;" ..
      wait_caught_sh(bin) .. "sleep $d;" ..
      " kill -INT $pid; wait $pid; echo \"rc=$?\" ); done"
    local out = h.capture(cmd)
    assert.is_nil(out:find("PANIC", 1, true), out)
    for rc in out:gmatch("rc=(%d+)") do
      assert.are.equal("130", rc, out)
    end
    os.remove(p)
  end)

  it("closes objects at exit (links detach with their object)", function()
    local out, ok = ayac("-e " .. sh_quote(
      "local ayac = require 'ayac'; local o = assert(ayac.load('" .. h.bpf("globals") .. "'));" ..
      " local l = assert(o:program('on_getpid'):attach()); print(o:program('on_getpid'):id())"),
      nil, { stderr = true })
    assert.is_true(ok, out)
    local id = tonumber(out:match("(%d+)"))
    assert.is_number(id)
    local listed = h.capture("bpftool prog show id " .. id .. " 2>&1")
    assert.matches("Error", listed, 1, true) -- gone with the process
  end)

  it("lets a stock luajit require ayac with LUA_PATH and LUA_CPATH", function()
    local env = "env LUA_PATH=" .. sh_quote(root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;;") ..
      " LUA_CPATH=" .. sh_quote(h.build .. "/lib/?.so;;") .. " "
    if bin:match("asan") then -- the sanitizer build's core.so needs its runtime first
      local lib = h.capture("gcc -print-file-name=libasan.so"):gsub("%s+$", "")
      env = env .. "LD_PRELOAD=" .. sh_quote(lib) .. " ASAN_OPTIONS=detect_leaks=0 "
    end
    local code = [[
      local ayac = require "ayac"
      local m = assert(ayac.create_map { type = "array", key = "u32", value = "u64", max_entries = 2 })
      m[1] = 0x8000000000000001ULL
      print(type(ayac.open), tostring(m[1]), m[0])
    ]]
    local out, ok = h.capture(env .. "luajit -e " .. sh_quote(code) .. " 2>&1")
    assert.is_true(ok, out)
    assert.are.equal("function\t9223372036854775809ULL\t0\n", out)
  end)

  it("runs busted scripts (a script path, its options and -e) like luajit", function()
    local p = script([[
      describe("inner", function() it("works", function() assert.are.equal(2, 1 + 1) end) end)
    ]])
    local out, ok = h.capture(clean_env .. sh_quote(bin) .. " /usr/bin/busted --ignore-lua " ..
      "-e 'x = 1' " .. sh_quote(p) .. " 2>&1")
    assert.is_true(ok, out)
    assert.matches("1 success", out, 1, true)
    os.remove(p)
  end)
end)
