/* Feature answers for Lua (kfeatures.h): plain functions in ayac.core, from which
 * lua/ayac/features.lua builds ayac.features(). Each answer is true, false, or (when
 * the probe itself failed) nil, "EPERM: Operation not permitted", "EPERM". */
#include <string.h>

#include <ayac/ayac.h>
#include "features/features.h"
#include "lutil.h"

/* Pushes the answer v (1, 0, -errno); why explains an unknown one. */
static int push_answer(lua_State *L, int v, const char *why)
{
	if (v >= 0) {
		lua_pushboolean(L, v > 0);
		return 1;
	}
	lua_pushnil(L);
	if (why)
		lua_pushstring(L, why);
	else
		lua_pushfstring(L, "%s: %s", ayac_errname(v), strerror(-v));
	lua_pushstring(L, ayac_errname(v));
	return 3;
}

/* A program or map type given by name ("xdp") or number. */
static int check_type(lua_State *L, int arg, int (*by_name)(const char *), const char *what)
{
	int t;

	if (lua_type(L, arg) == LUA_TNUMBER)
		return (int)lutil_check_int(L, arg, what, lua_tonumber(L, arg), 0, 1023);
	t = by_name(luaL_checkstring(L, arg));
	if (t < 0)
		return luaL_argerror(L, arg, lua_pushfstring(L, "unknown %s '%s'", what,
							      lua_tostring(L, arg)));
	return t;
}

static int l_feature(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	int f = ayac_feature_by_name(name), v;

	if (f < 0)
		return luaL_argerror(L, 1, lua_pushfstring(L, "unknown feature '%s'", name));
	v = ayac_feature((enum ayac_feature)f);
	return push_answer(L, v, ayac_feature_why((enum ayac_feature)f));
}

static int l_feature_names(lua_State *L)
{
	int f;

	lua_createtable(L, AYAC_FEAT__COUNT, 0);
	for (f = 0; f < AYAC_FEAT__COUNT; f++) {
		lua_pushstring(L, ayac_feature_name((enum ayac_feature)f));
		lua_rawseti(L, -2, f + 1);
	}
	return 1;
}

static int l_feature_prog_type(lua_State *L)
{
	int t = check_type(L, 1, ayac_prog_type_by_name, "program type");

	return push_answer(L, ayac_feature_prog_type((enum bpf_prog_type)t), NULL);
}

static int l_feature_map_type(lua_State *L)
{
	int t = check_type(L, 1, ayac_map_type_by_name, "map type");

	return push_answer(L, ayac_feature_map_type((enum bpf_map_type)t), NULL);
}

/* (prog_type, helper name or id) → true | false, why | nil, why, code */
static int l_feature_helper(lua_State *L)
{
	int t = check_type(L, 1, ayac_prog_type_by_name, "program type"), id, v;

	if (lua_type(L, 2) == LUA_TNUMBER)
		id = (int)lutil_check_int(L, 2, "helper id", lua_tonumber(L, 2), 0, 65535);
	else if ((id = ayac_helper_by_name(luaL_checkstring(L, 2))) < 0)
		return luaL_argerror(L, 2, lua_pushfstring(L, "unknown helper '%s'",
							    lua_tostring(L, 2)));
	v = ayac_feature_helper((enum bpf_prog_type)t, id);
	if (v != 0)
		return push_answer(L, v, v < 0 ? ayac_feature_helper_why((enum bpf_prog_type)t, id)
					       : NULL);
	lua_pushboolean(L, 0);
	lua_pushstring(L, ayac_feature_helper_why((enum bpf_prog_type)t, id));
	return 2;
}

/* { [id] = "map_lookup_elem", … } */
static int l_helper_names(lua_State *L)
{
	int id, n = ayac_helper_count();

	lua_createtable(L, n, 0);
	for (id = 1; id < n; id++) {
		if (!ayac_helper_name(id))
			continue;
		lua_pushstring(L, ayac_helper_name(id));
		lua_rawseti(L, -2, id);
	}
	return 1;
}

/* Names of program or map types in enum order, without UNSPEC. */
static int push_type_names(lua_State *L, const char *(*name)(int))
{
	int t, n = 0;

	lua_newtable(L);
	for (t = 1; name(t); t++) {
		lua_pushstring(L, name(t));
		lua_rawseti(L, -2, ++n);
	}
	return 1;
}

static const char *prog_type_name(int t)
{
	return ayac_prog_type_name((enum bpf_prog_type)t);
}

static const char *map_type_name(int t)
{
	return ayac_map_type_name((enum bpf_map_type)t);
}

static int l_prog_type_names(lua_State *L)
{
	return push_type_names(L, prog_type_name);
}

static int l_map_type_names(lua_State *L)
{
	return push_type_names(L, map_type_name);
}

/* Names of attach types by value (from 0, BPF_CGROUP_INET_INGRESS): ayac's own table,
 * which knows types newer than the running kernel's BTF. */
static int l_attach_type_names(lua_State *L)
{
	int t;

	lua_newtable(L);
	for (t = 0; t < 256; t++) {
		const char *name = ayac_attach_type_name((enum bpf_attach_type)t);

		if (!name) /* a value ayac has no name for */
			continue;
		lua_pushstring(L, name);
		lua_rawseti(L, -2, t);
	}
	return 1;
}

void lbind_open_features(lua_State *L, int module_idx)
{
	static const luaL_Reg funcs[] = {
		{ "feature", l_feature },
		{ "feature_names", l_feature_names },
		{ "feature_prog_type", l_feature_prog_type },
		{ "feature_map_type", l_feature_map_type },
		{ "feature_helper", l_feature_helper },
		{ "helper_names", l_helper_names },
		{ "prog_type_names", l_prog_type_names },
		{ "map_type_names", l_map_type_names },
		{ "attach_type_names", l_attach_type_names },
		{ NULL, NULL },
	};
	const luaL_Reg *r;

	for (r = funcs; r->name; r++) {
		lua_pushcfunction(L, r->func);
		lua_setfield(L, module_idx, r->name);
	}
}
