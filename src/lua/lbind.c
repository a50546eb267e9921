/* Helpers shared by the binding's userdata files: boxed handles, owners, failures, and
 * telling the collector about what handles hold outside Lua's heap. */
#include <errno.h>
#include <ayac/ayac.h>
#include "lbind.h"

void *lbind_push(lua_State *L, void *ptr, const char *tname, int owner_idx)
{
	lbind_box *box;

	if (owner_idx < 0 && owner_idx > LUA_REGISTRYINDEX)
		owner_idx = lua_gettop(L) + owner_idx + 1;
	box = lua_newuserdata(L, sizeof(*box));
	box->ptr = ptr;
	luaL_getmetatable(L, tname);
	lua_setmetatable(L, -2);
	/* The environment table holds the owner, so a program handle keeps its object
	 * (and thus the core memory it points into) alive. */
	lua_createtable(L, 0, 1);
	if (owner_idx) {
		lua_pushvalue(L, owner_idx);
		lua_setfield(L, -2, "owner");
	}
	lua_setfenv(L, -2);
	return box;
}

lbind_box *lbind_checkbox(lua_State *L, int idx, const char *tname)
{
	return luaL_checkudata(L, idx, tname);
}

void *lbind_check(lua_State *L, int idx, const char *tname)
{
	lbind_box *box = luaL_checkudata(L, idx, tname);

	if (!box->ptr)
		luaL_argerror(L, idx, "handle is closed");
	return box->ptr;
}

void lbind_push_owner(lua_State *L, int idx)
{
	lua_getfenv(L, idx);
	if (lua_istable(L, -1)) {
		lua_getfield(L, -1, "owner");
		lua_remove(L, -2);
	} else {
		lua_pop(L, 1);
		lua_pushnil(L);
	}
}

int lbind_fail(lua_State *L)
{
	int err = ayac_errnum();

	lua_pushnil(L);
	lua_pushstring(L, ayac_errmsg());
	lua_pushstring(L, ayac_errname(err ? err : 5 /* EIO: nobody said why */));
	return 3;
}

void lbind_newtype(lua_State *L, int module_idx, const char *tname, const char *short_name,
		   const luaL_Reg *methods, const luaL_Reg *metamethods)
{
	if (module_idx < 0)
		module_idx = lua_gettop(L) + module_idx + 1;
	luaL_newmetatable(L, tname);
	if (metamethods)
		luaL_register(L, NULL, metamethods);
	lua_newtable(L);
	if (methods)
		luaL_register(L, NULL, methods);
	/* module.methods[short_name] lets lua/ayac add methods written in Lua. */
	lua_getfield(L, module_idx, "methods");
	lua_pushvalue(L, -2);
	lua_setfield(L, -2, short_name);
	lua_pop(L, 1);
	/* Always the new table: the module may be opened again in one state (busted
	 * reloads modules between spec files) and the registry keeps the metatable. */
	lua_setfield(L, -2, "__index");
	lua_pushstring(L, tname);
	lua_setfield(L, -2, "__name");
	lua_pop(L, 1);
}

/* The collector paces itself by Lua's own allocations and knows nothing of the core's
 * memory or of the fds and tracepoint slots a handle holds: a loop that loads and
 * attaches and drops its handles would keep them all until the next cycle, which may
 * never come. Each such handle counts as kb of allocation, moving the collector on. */
void lbind_account(lua_State *L, int kb)
{
	lua_gc(L, LUA_GCSTEP, kb);
}

bool lbind_reclaim(lua_State *L, int err)
{
	if (err < 0)
		err = -err;
	if (err != E2BIG && err != EMFILE && err != ENFILE && err != EBUSY)
		return false;
	lua_gc(L, LUA_GCCOLLECT, 0);
	return true;
}
