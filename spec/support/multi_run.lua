-- Run by spec/multi_spec.lua as `ayac spec/support/multi_run.lua EXE N`, in a process of
-- its own so that AYAC_FEATURES=uprobe_multi=0 can take the multi link away: attaches
-- spec/bpf/multi.bpf.o's up_multi to EXE's two ayacfix_*_func functions with cookies
-- 16 and 17 and its uret_multi by pattern, runs EXE N times, and prints the link kinds
-- and counts: "kind count kind count | up ret retsum c16 c17".
local ayac = require "ayac"
local helpers = require "helpers"

local exe, n = arg[1], tonumber(arg[2])
local obj = assert(ayac.load(helpers.bpf("multi"), { globals = { target_tgid = 1 } }))
local up = assert(obj:program("up_multi"):attach { path = exe,
	symbols = { "ayacfix_exe_func", "ayacfix_static_func" }, cookies = { 16, 17 } })
local ret = assert(obj:program("uret_multi"):attach { path = exe, pattern = "ayacfix_*_func" })
assert(helpers.capture(exe .. " " .. n))
local m = obj:map("counts")
print(("%s %d %s %d | %d %d %d %d %d"):format(up.kind, up:info().count, ret.kind,
	ret:info().count, m:get(0), m:get(1), m:get(2), m:get(16), m:get(17)))
obj:close()
