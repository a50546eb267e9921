/* core.inspect(obj): what `ayac inspect` shows beyond the handles' own fields (license,
 * kernel version, .BTF.ext counts, externs, instruction counts, attach targets, map
 * pinning), from the opened object alone. lua/ayac/inspect.lua builds the report. */
#include <ayac/ayac.h>
#include "lbind.h"

static void set_int(lua_State *L, const char *k, lua_Number v)
{
	lua_pushnumber(L, v);
	lua_setfield(L, -2, k);
}

static void push_externs(lua_State *L, const struct ayac_obj *obj, size_t n)
{
	struct ayac_extern_info e;
	size_t i;

	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		if (ayac_obj_extern_at(obj, i, &e) < 0)
			break;
		lua_createtable(L, 0, 4);
		lua_pushstring(L, e.name);
		lua_setfield(L, -2, "name");
		lua_pushstring(L, e.kind);
		lua_setfield(L, -2, "kind");
		lua_pushboolean(L, e.weak);
		lua_setfield(L, -2, "weak");
		set_int(L, "type_id", e.btf_type_id);
		lua_rawseti(L, -2, (int)i + 1);
	}
	lua_setfield(L, -2, "externs");
}

static void push_programs(lua_State *L, const struct ayac_obj *obj)
{
	size_t i, n = ayac_obj_prog_cnt(obj);

	lua_createtable(L, 0, (int)n);
	for (i = 0; i < n; i++) {
		const struct ayac_prog *p = ayac_obj_prog_at(obj, i);

		lua_createtable(L, 0, 4);
		set_int(L, "insns", (lua_Number)ayac_prog_insn_cnt(p));
		set_int(L, "core_relos", (lua_Number)ayac_prog_core_relo_cnt(p));
		lua_pushstring(L, ayac_prog_attach_target(p));
		lua_setfield(L, -2, "target");
		lua_pushboolean(L, ayac_prog_autoload(p));
		lua_setfield(L, -2, "autoload");
		lua_setfield(L, -2, ayac_prog_name(p));
	}
	lua_setfield(L, -2, "programs");
}

static void push_maps(lua_State *L, const struct ayac_obj *obj)
{
	size_t i, n = ayac_obj_map_cnt(obj);

	lua_createtable(L, 0, (int)n);
	for (i = 0; i < n; i++) {
		const struct ayac_map *m = ayac_obj_map_at(obj, i);

		lua_createtable(L, 0, 1);
		lua_pushstring(L, ayac_map_pinning(m) ? "by_name" : "none");
		lua_setfield(L, -2, "pinning");
		lua_setfield(L, -2, ayac_map_name(m));
	}
	lua_setfield(L, -2, "maps");
}

static int l_inspect(lua_State *L)
{
	struct ayac_obj *obj = lbind_check(L, 1, LBIND_OBJ);
	struct ayac_obj_summary s;

	ayac_obj_summary(obj, &s);
	lua_createtable(L, 0, 10);
	lua_pushstring(L, s.license);
	lua_setfield(L, -2, "license");
	set_int(L, "kern_version", s.kern_version);
	set_int(L, "core_relos", (lua_Number)s.core_relos);
	set_int(L, "func_infos", (lua_Number)s.func_infos);
	set_int(L, "line_infos", (lua_Number)s.line_infos);
	push_externs(L, obj, s.externs);
	push_programs(L, obj);
	push_maps(L, obj);
	return 1;
}

void lbind_open_inspect(lua_State *L, int module_idx)
{
	lua_pushcfunction(L, l_inspect);
	lua_setfield(L, module_idx, "inspect");
}
