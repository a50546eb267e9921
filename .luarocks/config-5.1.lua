-- luarocks in this checkout: build for LuaJIT (Lua 5.1 ABI), whose headers Debian's
-- libluajit2-5.1-dev puts in /usr/include/luajit-2.1.
lua_interpreter = "luajit"
variables = {
   LUA_INCDIR = "/usr/include/luajit-2.1",
   LUA_BINDIR = "/usr/bin",
}
