-- The REPL on a real terminal: ./ayac run inside a tmux session, keys sent with
-- send-keys, the screen read with capture-pane. History recall (also across sessions,
-- from the history file), Tab completion of handle methods, Ctrl-C clearing the line,
-- Ctrl-D leaving, values printed with ayac.print.
local h = require "helpers"

local function sh(cmd)
	local out, ok = h.capture(cmd .. " 2>&1")
	return out, ok
end

local have_tmux = select(2, sh("command -v tmux >/dev/null"))

local OBJ = h.bpf("toolkit")
local session, state

local function send(...)
	for _, k in ipairs({ ... }) do
		if k:match("^[A-Z]") or k:match("^C%-") then -- a key name: Enter, Tab, Up, C-c
			sh(("tmux send-keys -t %s %s"):format(session, k))
		else
			sh(("tmux send-keys -t %s -l %q"):format(session, k))
		end
	end
end

local function screen()
	return (sh(("tmux capture-pane -N -p -t %s"):format(session)))
end

-- Wait until the screen matches pattern (plain text unless pattern=true).
local function wait_screen(text, pattern)
	local deadline = os.time() + 20
	repeat
		local s = screen()
		if s:find(text, 1, not pattern) then return s end
		os.execute("sleep 0.05")
	until os.time() > deadline
	error(("timed out waiting for %q on the screen:\n%s"):format(text, screen()))
end

local function count(s, text)
	local n, i = 0, 1
	while true do
		local a, b = s:find(text, i, true)
		if not a then return n end
		n, i = n + 1, b + 1
	end
end

local function start()
	session = ("ayac_repl_%d_%d"):format(os.time(), math.random(1, 1e9))
	local cmd = ("cd %s && XDG_STATE_HOME=%s %s; echo SESSION-ENDED; sleep 60"):format(
		h.root, state, h.bin)
	assert(select(2, sh(("tmux new-session -d -s %s -x 120 -y 40 %q"):format(session, cmd))))
	wait_screen("> ")
end

local function stop()
	if session then sh("tmux kill-session -t " .. session) end
	session = nil
end

describe("the REPL (under tmux)", function()
	if not have_tmux then
		pending("tmux is not installed (scripts/deps installs it)")
		return
	end

	before_each(function()
		math.randomseed(os.time() + os.clock() * 1e6)
		state = h.tmpname("-state")
		start()
	end)

	after_each(function()
		stop()
		os.execute("rm -rf " .. state)
	end)

	it("prints tables with ayac.print and has ayac as a global", function()
		send("{ 1, 2, { a = 3 }, name = 'x' }", "Enter")
		wait_screen('{ 1, 2, { a = 3 }, name = "x" }')
		send("ayac.hist_of({ 5, 5, 9 })", "Enter")
		wait_screen("[8, 16)                1 |@@@@@@@@@@@@@@@@@@@@@@@@@@")
	end)

	it("recalls history with Up, in the session and in the next one", function()
		send("x = 41", "Enter", "x + 1", "Enter")
		wait_screen("42")
		send("Up")
		wait_screen("42\n> x + 1")
		send("Enter")
		local s = wait_screen("42\n> x + 1\n42")
		assert.are.equal(2, count(s, "42\n"))
		-- A new session reads the history file.
		send("C-d")
		wait_screen("SESSION-ENDED")
		stop()
		local f = assert(io.open(state .. "/ayac/history"))
		assert.matches("x\\040%+\\0401", f:read("*a"))
		f:close()
		start()
		send("Up")
		wait_screen("> x + 1")
	end)

	it("completes obj:ma to obj:map(, and Tab again to obj:maps(", function()
		send(("obj = ayac.open(%q)"):format(OBJ), "Enter")
		wait_screen("> ", false)
		send("obj:ma", "Tab")
		local s = wait_screen("> obj:map(")
		assert.matches("map%(%s+maps%(", s) -- the candidates are listed
		send('"calls"):', "Tab")
		wait_screen('obj:map("calls"):')
		send("C-u", "obj:map(\"calls\").max_", "Tab")
		wait_screen('obj:map("calls").max_') -- nothing known about a call's result
		send("C-u", "m = obj:map('calls')", "Enter", "m.max_e", "Tab")
		wait_screen("> m.max_entries")
		send("Enter")
		wait_screen("\n16\n")
		send("ayac.format_st", "Tab")
		wait_screen("> ayac.format_stack")
	end)

	it("clears the line on Ctrl-C and keeps the session", function()
		send("1 +", "Enter")
		wait_screen(">> ")
		send("2", "C-c")
		wait_screen(">> 2^C\n> ")
		send("7 * 6", "Enter")
		local s = wait_screen("42")
		assert.is_nil(s:find("\n3\n", 1, true))
		send("C-c", "C-c", "'still here'", "Enter")
		wait_screen("\nstill here\n")
	end)

	it("interrupts running code with Ctrl-C, and leaves on Ctrl-D", function()
		send("for i = 1, 1e12 do os.clock() end", "Enter")
		os.execute("sleep 0.3")
		send("C-c")
		wait_screen("interrupted")
		send("'after'", "Enter")
		wait_screen("\nafter\n")
		send("C-d")
		wait_screen("SESSION-ENDED")
	end)
end)
