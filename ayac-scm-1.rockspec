-- LuaRocks: `luarocks make` in a checkout builds the C core and the binding into
-- ayac/core.so and installs it with the Lua half (lua/ayac/*.lua). Needs OpenResty's
-- LuaJIT headers (libluajit2-5.1-dev), libelf, libmnl and zlib (`make deps`).
rockspec_format = "3.0"
package = "ayac"
version = "scm-1"
source = {
	url = "git+file:///work/main",
}
description = {
	summary = "eBPF host runtime for LuaJIT: load, attach and read BPF objects",
	detailed = [[
ayac loads clang-compiled BPF ELF objects the way libbpf does (BTF-defined maps,
global data, CO-RE, externs, pinning), attaches their programs and reads and writes
their maps from LuaJIT, with FFI fast paths for map access.]],
	license = "GPL-2.0-only",
	labels = { "ebpf", "bpf", "linux", "tracing", "luajit" },
}
dependencies = {
	"lua == 5.1",
}
supported_platforms = { "linux" }
build = {
	type = "make",
	build_target = "rock",
	install_target = "install-rock",
	install_variables = {
		ROCK_LUADIR = "$(LUADIR)",
		ROCK_LIBDIR = "$(LIBDIR)",
	},
}
