/* ./ayac: LuaJIT with ayac built in. Behaves like luajit for a script and its
 * arguments (so busted can run under it), plus -e, -l, -i, a REPL on a terminal and a
 * script from stdin otherwise. Ctrl-C (SIGINT) and SIGTERM raise "interrupted" in the
 * running Lua code (exit status 130 and 143); lua_close at exit closes objects and
 * detaches links, including the attachments the kernel would keep (netlink XDP/TC,
 * BPF_PROG_ATTACH). */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <luajit.h>
#include <lualib.h>

#include <ayac/ayac.h>
#include "host.h"
#include "../lua/lbind.h"

/* lua/ayac/fast.lua reaches these through ffi.C (the binary is linked with -E); keep
 * them in the binary even if nothing in C calls them. */
__attribute__((used)) static void *const ffi_exports[] = {
	(void *)ayac_fast_lookup, (void *)ayac_fast_update, (void *)ayac_fast_delete,
	(void *)ayac_fast_next_key, (void *)ayac_fast_lookup_and_delete, (void *)ayac_map_fd,
	(void *)ayac_errname, (void *)ayac_errmsg,
	/* the toolkit: lua/ayac/syms.lua and cc.lua */
	(void *)ayac_ksym, (void *)ayac_kaddr, (void *)ayac_ksyms_refresh, (void *)ayac_usym,
	(void *)ayac_usyms_forget, (void *)ayac_syscall_count, (void *)ayac_syscall_name,
	(void *)ayac_syscall_kernel_name, (void *)ayac_syscall_nr, (void *)ayac_syscall_source,
	(void *)ayac_hash64, (void *)ayac_file_stamp,
	/* lua/ayac/map_iter.lua */
	(void *)ayac_fast_lookup_batch, (void *)ayac_fast_lookup_and_delete_batch,
	(void *)ayac_fast_update_batch, (void *)ayac_fast_delete_batch,
};

static lua_State *main_L;
static volatile sig_atomic_t interrupted; /* the signal: SIGINT or SIGTERM */
/* Depth of host_docall's protected calls. The hook raises a Lua error, which outside a
 * pcall (luaL_openlibs, the arg table, __gc finalizers run by lua_close) would be an
 * unprotected error: LuaJIT panics and aborts. So the handler arms it only inside. */
static volatile sig_atomic_t protected_depth;

/* The hook stays armed until the error reaches the top level: a pcall on the way (a
 * library probing with pcall while the script starts) would otherwise swallow the
 * only "interrupted" and the script would run on. */
static void stop_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	luaL_error(L, "interrupted");
}

static void arm_stop_hook(lua_State *L)
{
	lua_sethook(L, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

/* A second Ctrl-C while the first has not been noticed yet kills as usual. Before the
 * Lua state exists only the flag is set; the next call raises at once. SIGTERM is
 * handled the same way, so that `kill PID` detaches too. */
static void on_sigint(int sig)
{
	signal(sig, SIG_DFL);
	interrupted = sig;
	if (main_L && protected_depth > 0)
		arm_stop_hook(main_L);
}

/* Installed from the first instruction on, overriding an inherited SIG_IGN (a shell
 * without job control starts background commands so): a Ctrl-C during start-up must
 * not be lost. No SA_RESTART: a blocking poll returns EINTR. */
static void catch_sigint(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool host_interrupted(void)
{
	return interrupted;
}

void host_clear_interrupt(void)
{
	interrupted = 0;
}

/* As luajit: a nil error object (busted's exit) ends quietly with status 1. */
static int traceback(lua_State *L)
{
	if (interrupted)
		lua_sethook(L, NULL, 0, 0); /* unwinding for good: let the handler run */
	if (lua_isnoneornil(L, 1))
		return 1;
	if (!lua_isstring(L, 1)) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_isstring(L, -1))
			return 1;
		lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	}
	luaL_traceback(L, L, lua_tostring(L, -1), 1);
	return 1;
}

int host_docall(lua_State *L, int narg, int nres)
{
	int base = lua_gettop(L) - narg, status;

	lua_pushcfunction(L, traceback);
	lua_insert(L, base);
	catch_sigint(); /* again: the last Ctrl-C put back the default */
	protected_depth++;
	if (interrupted)
		arm_stop_hook(L); /* it came before this call: stop at its first step */
	status = lua_pcall(L, narg, nres, base);
	protected_depth--;
	lua_sethook(L, NULL, 0, 0);
	lua_remove(L, base);
	return status;
}

int host_report(lua_State *L, int status)
{
	const char *msg;

	if (status == 0)
		return 0;
	if (lua_isnil(L, -1) && !interrupted) {
		lua_pop(L, 1);
		return status;
	}
	msg = interrupted ? "interrupted" : lua_tostring(L, -1);
	fprintf(stderr, "ayac: %s\n", msg ? msg : "(error object is not a string)");
	fflush(stderr);
	lua_pop(L, 1);
	return status;
}

void host_print_version(void)
{
	printf("ayac %s -- %s\n", AYAC_HOST_VERSION, LUAJIT_VERSION);
	fflush(stdout);
}

static void usage(const char *progname)
{
	fprintf(stderr,
		"usage: %s [options] [script [args]]\n"
		"  -e chunk   run the string chunk\n"
		"  -l name    require library name (and set global name)\n"
		"  -i         enter the REPL after running the script\n"
		"  -v         show version\n"
		"  -h         show this help\n"
		"  --         stop handling options\n"
		"  -          run stdin and stop handling options\n"
		"With no script: a REPL when stdin is a terminal, else stdin as a script.\n"
		"Subcommands:\n"
		"  inspect OBJ.o [--json]  programs, maps, globals, BTF of a BPF object (no load)\n"
		"  features [--json]       what this kernel supports (BPF program, map, helper, BTF, link)\n"
		"  btf dump [file]         C header from BTF (default: the running kernel's vmlinux)\n"
		"  cleanup [IFNAME...] [--cgroup PATH] [--dry-run]\n"
		"                          remove what a killed process left attached without a link\n"
		"  help [TOPIC]            topics: repl, cc, hist, symbols, print, inspect, examples\n"
		"See ayac(1), docs/api.md and docs/tutorial.md.\n",
		progname);
}

enum { F_E = 1, F_I = 2, F_V = 4, F_HELP = 8 };

/* The index of the script in argv (argc when none), or -1 for a bad option. */
static int collect_args(int argc, char **argv, int *flags)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-' || strcmp(a, "-") == 0)
			return i;
		if (strcmp(a, "--") == 0)
			return i + 1;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			*flags |= F_HELP;
		else if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0)
			*flags |= F_V;
		else if (strcmp(a, "-i") == 0)
			*flags |= F_I | F_V;
		else if (a[1] == 'e' || a[1] == 'l') {
			if (a[1] == 'e')
				*flags |= F_E;
			if (a[2] == '\0' && ++i >= argc)
				return -1;
		} else {
			return -1;
		}
	}
	return argc;
}

static int dostring(lua_State *L, const char *s, const char *name)
{
	int status = luaL_loadbuffer(L, s, strlen(s), name);

	if (status == 0)
		status = host_docall(L, 0, 0);
	return host_report(L, status);
}

static int dolibrary(lua_State *L, const char *name)
{
	int status;

	lua_getglobal(L, "require");
	lua_pushstring(L, name);
	status = host_docall(L, 1, 1);
	if (status == 0 && !strchr(name, '.'))
		lua_setglobal(L, name);
	else if (status == 0)
		lua_pop(L, 1);
	return host_report(L, status);
}

/* Run the -e and -l options in order, up to the script. */
static int run_options(lua_State *L, char **argv, int script)
{
	int i;

	for (i = 1; i < script; i++) {
		const char *a = argv[i], *val;

		if (a[0] != '-' || (a[1] != 'e' && a[1] != 'l'))
			continue;
		val = a[2] ? a + 2 : argv[++i];
		if ((a[1] == 'e' ? dostring(L, val, "=(command line)") : dolibrary(L, val)) != 0)
			return 1;
	}
	return 0;
}

/* arg as luajit makes it: arg[0] the script, options below 0, arguments above. */
static void create_arg_table(lua_State *L, char **argv, int argc, int script)
{
	int i;

	lua_createtable(L, argc - script, script);
	for (i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i - script);
	}
	lua_setglobal(L, "arg");
}

/* A BPF object given where a script goes: say what to do with it instead of a Lua
 * syntax error about its bytes. */
static bool is_elf(const char *path)
{
	unsigned char magic[4] = { 0 };
	FILE *f = fopen(path, "rb");
	bool elf;

	if (!f)
		return false;
	elf = fread(magic, 1, 4, f) == 4 && memcmp(magic, "\177ELF", 4) == 0;
	fclose(f);
	return elf;
}

static int run_script(lua_State *L, char **argv, int argc, int script)
{
	const char *path = argv[script];
	int status, i;

	if (strcmp(path, "-") == 0 && strcmp(argv[script - 1], "--") != 0)
		path = NULL; /* stdin */
	if (path && is_elf(path)) {
		fprintf(stderr, "ayac: %s is an ELF file (a compiled BPF object?), not a Lua script.\n"
			"  See what it holds:  ayac inspect %s\n"
			"  Load it from Lua:   ayac -e 'local obj = assert(ayac.load(\"%s\"))'\n",
			path, path, path);
		return 1;
	}
	status = luaL_loadfile(L, path);
	if (status == 0) {
		for (i = script + 1; i < argc; i++)
			lua_pushstring(L, argv[i]);
		status = host_docall(L, argc - script - 1, 0);
	}
	return host_report(L, status);
}

/* package.path: the lua/ directory next to the binary, after LUA_PATH when it is set
 * (so a user's paths win) and before the defaults otherwise. */
static void setup_paths(lua_State *L)
{
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return;
	*slash = '\0';
	lua_getglobal(L, "package");
	lua_getfield(L, -1, "path");
	/* The build tree (./ayac beside lua/), then an installed tree (bin/../share/lua),
	 * so the binary finds the Lua half of its own version wherever it was put. */
	if (getenv("LUA_PATH"))
		lua_pushfstring(L, "%s;%s/lua/?.lua;%s/lua/?/init.lua;%s/../share/lua/5.1/?.lua;"
				"%s/../share/lua/5.1/?/init.lua", lua_tostring(L, -1), exe, exe,
				exe, exe);
	else
		lua_pushfstring(L, "%s/lua/?.lua;%s/lua/?/init.lua;%s/../share/lua/5.1/?.lua;"
				"%s/../share/lua/5.1/?/init.lua;%s", exe, exe, exe, exe,
				lua_tostring(L, -1));
	lua_setfield(L, -3, "path");
	lua_pop(L, 1);
	lua_getfield(L, -1, "preload");
	lua_pushcfunction(L, luaopen_ayac_core);
	lua_setfield(L, -2, "ayac.core");
	lua_pop(L, 2);
}

static int handle_luainit(lua_State *L)
{
	const char *init = getenv("LUA_INIT");

	if (!init)
		return 0;
	if (init[0] == '@') {
		int status = luaL_loadfile(L, init + 1);

		if (status == 0)
			status = host_docall(L, 0, 0);
		return host_report(L, status);
	}
	return dostring(L, init, "=LUA_INIT");
}

/* `ayac features …`: require(module).main(args…); the number it returns (or true:
 * 0, false: 1) is the exit status. */
static int run_module_main(lua_State *L, const char *module, int argc, char **argv)
{
	int status, i, ret;

	lua_getglobal(L, "require");
	lua_pushstring(L, module);
	status = host_docall(L, 1, 1);
	if (status == 0 && !lua_istable(L, -1)) {
		lua_pop(L, 1);
		lua_pushfstring(L, "module '%s' has no main", module);
		status = LUA_ERRRUN;
	}
	if (status == 0) {
		lua_getfield(L, -1, "main");
		lua_remove(L, -2);
		for (i = 0; i < argc; i++)
			lua_pushstring(L, argv[i]);
		status = host_docall(L, argc, 1);
	}
	if (status != 0) {
		host_report(L, status);
		return 1;
	}
	ret = lua_isnumber(L, -1) ? (int)lua_tointeger(L, -1) :
	      lua_isboolean(L, -1) ? !lua_toboolean(L, -1) : 0;
	lua_pop(L, 1);
	return ret;
}

/* LuaJIT honours __pairs only when built with LUA52COMPAT (Debian's is not): in the
 * host, pairs(m) over a map works either way. Scripts meant for a stock luajit too use
 * m:pairs() (docs/maps.md). */
static const char pairs_shim[] =
	"local rawpairs, getmetatable, type = pairs, getmetatable, type\n"
	"local probe = setmetatable({}, { __pairs = function() return rawpairs({ 1 }) end })\n"
	"for _ in rawpairs(probe) do return end -- __pairs honoured already\n"
	"function pairs(t)\n"
	"  local mt = getmetatable(t)\n"
	"  local f = type(mt) == 'table' and mt.__pairs\n"
	"  if f then return f(t) end\n"
	"  return rawpairs(t)\n"
	"end\n";

struct run {
	int argc;
	char **argv;
	int status;
};

static int run_main(lua_State *L, struct run *r)
{
	int flags = 0, script = collect_args(r->argc, r->argv, &flags);

	if (script < 0 || (flags & F_HELP)) {
		usage(r->argv[0]);
		return script < 0 ? 1 : 0;
	}
	luaL_openlibs(L);
	if (dostring(L, pairs_shim, "=ayac.pairs") != 0)
		return 1;
	setup_paths(L);
	if (r->argc > 1 && strcmp(r->argv[1], "features") == 0)
		return run_module_main(L, "ayac.features", r->argc - 2, r->argv + 2);
	if (r->argc > 1 && strcmp(r->argv[1], "inspect") == 0)
		return run_module_main(L, "ayac.inspect", r->argc - 2, r->argv + 2);
	if (r->argc > 1 && strcmp(r->argv[1], "cleanup") == 0)
		return run_module_main(L, "ayac.cleanup", r->argc - 2, r->argv + 2);
	if (r->argc > 1 && strcmp(r->argv[1], "help") == 0)
		return run_module_main(L, "ayac.help", r->argc - 2, r->argv + 2);
	create_arg_table(L, r->argv, r->argc, script);
	if ((flags & F_V) && !(flags & F_I))
		host_print_version();
	/* One-liners and the REPL have the module as the global `ayac`. */
	if ((flags & (F_E | F_I)) || (script >= r->argc && !(flags & F_V) && isatty(STDIN_FILENO)))
		dolibrary(L, "ayac");
	if (handle_luainit(L) != 0 || run_options(L, r->argv, script) != 0)
		return 1;
	if (script < r->argc && run_script(L, r->argv, r->argc, script) != 0)
		return 1;
	if (flags & F_I) {
		host_print_version();
		host_repl(L);
	} else if (script >= r->argc && !(flags & (F_E | F_V))) {
		if (isatty(STDIN_FILENO)) {
			host_print_version();
			host_repl(L);
		} else if (run_script(L, (char *[]){ r->argv[0], "-" }, 2, 1) != 0) {
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct run r = { argc, argv, 0 };
	lua_State *L;

	catch_sigint();
	if (argc > 1 && strcmp(argv[1], "btf") == 0)
		return host_btf_command(argc, argv);
	L = luaL_newstate();
	if (!L) {
		fprintf(stderr, "ayac: cannot create the Lua state: not enough memory\n");
		return 1;
	}
	main_L = L;
	r.status = run_main(L, &r);
	lua_close(L);
	if (r.status && interrupted)
		return 128 + interrupted;
	return r.status;
}
