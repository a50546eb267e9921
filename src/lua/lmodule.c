/* luaopen_ayac_core: the C half of require "ayac". lua/ayac/init.lua builds the
 * public module on top of it. */
#include <ayac/ayac.h>
#include "lbind.h"

static int l_errname(lua_State *L)
{
	lua_pushstring(L, ayac_errname((int)luaL_checkinteger(L, 1)));
	return 1;
}

static int l_num_possible_cpus(lua_State *L)
{
	int n = ayac_num_possible_cpus();

	if (n < 0)
		return lbind_fail(L);
	lua_pushinteger(L, n);
	return 1;
}

/* core._interrupt_point(): does nothing, but as a Lua C function it is never compiled
 * into a trace: lua/ayac/events.lua calls it after each wait so that the interrupt
 * hook a Ctrl-C handler armed (the host's, or luajit's) runs there and then. */
static int l_interrupt_point(lua_State *L)
{
	(void)L;
	return 0;
}

int luaopen_ayac_core(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "errname", l_errname },
		{ "num_possible_cpus", l_num_possible_cpus },
		{ "_interrupt_point", l_interrupt_point },
		{ NULL, NULL },
	};
	int mod;

	lua_newtable(L);
	mod = lua_gettop(L);
	luaL_register(L, NULL, funcs);
	lua_newtable(L);
	lua_setfield(L, mod, "methods");
	lbind_open_btf(L, mod);
	lbind_open_obj(L, mod);
	lbind_open_prog(L, mod);
	lbind_open_map(L, mod);
	lbind_open_link(L, mod);
	lbind_open_iter(L, mod);
	lbind_open_attach(L, mod);
	lbind_open_features(L, mod);
	lbind_open_caps(L, mod);
	lbind_open_attach_query(L, mod);
	lbind_open_inspect(L, mod);
	lua_settop(L, mod);
	return 1;
}
