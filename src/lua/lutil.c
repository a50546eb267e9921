/* Helpers shared by the binding's handle types; see lutil.h. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include <ayac/ayac.h>
#include "lutil.h"

/* Registry key of the weak-valued table: core pointer -> live handle. */
static char handles_key;

static void push_handles(lua_State *L)
{
	lua_pushlightuserdata(L, &handles_key);
	lua_rawget(L, LUA_REGISTRYINDEX);
	if (lua_istable(L, -1))
		return;
	lua_pop(L, 1);
	lua_newtable(L);
	lua_createtable(L, 0, 1);
	lua_pushliteral(L, "v");
	lua_setfield(L, -2, "__mode");
	lua_setmetatable(L, -2);
	lua_pushlightuserdata(L, &handles_key);
	lua_pushvalue(L, -2);
	lua_rawset(L, LUA_REGISTRYINDEX);
}

/* The handle at idx is a live box of type tname holding ptr. */
static bool is_handle_of(lua_State *L, int idx, const char *tname, void *ptr)
{
	lbind_box *box = lua_touserdata(L, idx);
	bool same = false;

	if (!box || !lua_getmetatable(L, idx))
		return false;
	luaL_getmetatable(L, tname);
	same = lua_rawequal(L, -1, -2) && box->ptr == ptr;
	lua_pop(L, 2);
	return same;
}

void lutil_push_handle(lua_State *L, void *ptr, const char *tname, int owner_idx)
{
	int handles;

	if (owner_idx < 0 && owner_idx > LUA_REGISTRYINDEX)
		owner_idx = lua_gettop(L) + owner_idx + 1;
	push_handles(L);
	handles = lua_gettop(L);
	lua_pushlightuserdata(L, ptr);
	lua_rawget(L, handles);
	if (!is_handle_of(L, -1, tname, ptr)) {
		lua_pop(L, 1);
		lbind_push(L, ptr, tname, owner_idx);
		lua_pushlightuserdata(L, ptr);
		lua_pushvalue(L, -2);
		lua_rawset(L, handles);
	}
	lua_remove(L, handles);
}

void lutil_forget_handle(lua_State *L, void *ptr)
{
	push_handles(L);
	lua_pushlightuserdata(L, ptr);
	lua_pushnil(L);
	lua_rawset(L, -3);
	lua_pop(L, 1);
}

/* __index: upvalue 1 the methods table, upvalue 2 the type's field function. */
static int index_fields(lua_State *L)
{
	lua_pushvalue(L, 2);
	lua_rawget(L, lua_upvalueindex(1));
	if (!lua_isnil(L, -1))
		return 1;
	lua_pop(L, 1);
	if (lua_type(L, 2) != LUA_TSTRING)
		return 0;
	lua_pushvalue(L, lua_upvalueindex(2));
	lua_pushvalue(L, 1);
	lua_pushvalue(L, 2);
	lua_call(L, 2, 1);
	return 1;
}

void lutil_set_fields(lua_State *L, const char *tname, lua_CFunction field)
{
	luaL_getmetatable(L, tname);
	lua_getfield(L, -1, "__index");
	lua_pushcfunction(L, field);
	lua_pushcclosure(L, index_fields, 2);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
}

int lutil_fail(lua_State *L, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ayac_seterr(err, "%s", msg);
	return lbind_fail(L);
}

/* Pushes t[key] for the options table at idx; false (nothing pushed) when absent. */
static bool opt_field(lua_State *L, int idx, const char *key, int type, const char *what)
{
	if (lua_isnoneornil(L, idx))
		return false;
	lua_getfield(L, idx, key);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return false;
	}
	if (lua_type(L, -1) != type) {
		lua_pushfstring(L, "%s: %s expected, got %s", key, what, luaL_typename(L, -1));
		luaL_argerror(L, idx, lua_tostring(L, -1));
	}
	return true;
}

const char *lutil_opt_string(lua_State *L, int idx, const char *key, const char *def)
{
	const char *s;

	if (!opt_field(L, idx, key, LUA_TSTRING, "string"))
		return def;
	s = lua_tostring(L, -1); /* stays alive: the options table holds it */
	lua_pop(L, 1);
	return s;
}

lua_Number lutil_opt_number(lua_State *L, int idx, const char *key, lua_Number def)
{
	lua_Number n;

	if (!opt_field(L, idx, key, LUA_TNUMBER, "number"))
		return def;
	n = lua_tonumber(L, -1);
	lua_pop(L, 1);
	return n;
}

lua_Number lutil_check_int(lua_State *L, int arg, const char *what, lua_Number n, lua_Number min,
			   lua_Number max)
{
	if (n != floor(n) || n < min || n > max || n >= LUTIL_U64_END) {
		lua_pushfstring(L, "%s: integer in [%f, %f] expected", what, min, max);
		luaL_argerror(L, arg, lua_tostring(L, -1));
	}
	return n;
}

lua_Number lutil_opt_int(lua_State *L, int idx, const char *key, lua_Number def, lua_Number min,
			 lua_Number max)
{
	lua_Number n;

	if (!opt_field(L, idx, key, LUA_TNUMBER, "number"))
		return def;
	n = lua_tonumber(L, -1);
	lua_pop(L, 1);
	return lutil_check_int(L, idx, key, n, min, max);
}

bool lutil_opt_bool(lua_State *L, int idx, const char *key, bool def)
{
	bool b;

	if (!opt_field(L, idx, key, LUA_TBOOLEAN, "boolean"))
		return def;
	b = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return b;
}

bool lutil_opt_table(lua_State *L, int idx, const char *key)
{
	return opt_field(L, idx, key, LUA_TTABLE, "table");
}
