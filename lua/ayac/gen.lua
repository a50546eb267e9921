-- Generated Lua code (codecs, map walks, event loops), compiled once per distinct
-- source and chunk name. LuaJIT keeps a trace's machine code until its whole code area
-- is flushed, even after the function it was compiled from is collected: code generated
-- anew for every object would grow a long-running process (a server reloading, a
-- script loading the same object again and again) by the traces of every copy — about
-- 1.5 KB a load/attach/close cycle in make soak. With one prototype per source, every
-- copy runs the traces already made (LuaJIT specializes calls on the prototype once it
-- sees many closures of it). Bounded: past LIMIT distinct sources the cache starts over.
local loadstring, assert = loadstring, assert

local M = {}

local LIMIT = 1024
local cache, count = {}, 0

-- The compiled chunk of src (not called: callers pass it their upvalues).
function M.chunk(src, name)
	local key = name .. "\0" .. src
	local f = cache[key]
	if f then return f end
	f = assert(loadstring(src, name))
	if count >= LIMIT then
		cache, count = {}, 0
	end
	cache[key] = f
	count = count + 1
	return f
end

return M
