/* ayac.map: a map of an object, or a standalone map (map_from_pin, map_from_id,
 * create_map) that the handle owns. Element access (get/set/delete/pairs/...) lives in
 * lua/ayac/map.lua on top of the fast C ABI, reading the layout from map:_layout(). */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <ayac/ayac.h>
#include "lutil.h"

static struct ayac_map *check_map(lua_State *L, int idx)
{
	struct ayac_map *map = lbind_check(L, idx, LBIND_MAP);
	struct ayac_obj *obj = ayac_map_obj(map);

	if (obj && ayac_obj_state(obj) == AYAC_OBJ_CLOSED)
		luaL_error(L, "map '%s': its object is closed", ayac_map_name(map));
	return map;
}

void lbind_push_map(lua_State *L, struct ayac_map *map, int obj_idx)
{
	lutil_push_handle(L, map, LBIND_MAP, obj_idx);
}

static bool is_standalone(lua_State *L, int idx)
{
	bool none;

	lbind_push_owner(L, idx);
	none = lua_isnil(L, -1);
	lua_pop(L, 1);
	return none;
}

static int map_gc(lua_State *L)
{
	lbind_box *box = lbind_checkbox(L, 1, LBIND_MAP);

	if (box->ptr && is_standalone(L, 1))
		ayac_map_free(box->ptr);
	box->ptr = NULL;
	return 0;
}

/* Standalone maps: close the fd and free now. Object maps close with their object. */
static int map_close(lua_State *L)
{
	lbind_box *box = lbind_checkbox(L, 1, LBIND_MAP);

	if (box->ptr && is_standalone(L, 1)) {
		lutil_forget_handle(L, box->ptr);
		ayac_map_free(box->ptr);
		box->ptr = NULL;
	}
	return 0;
}

static int map_tostring(lua_State *L)
{
	lbind_box *box = lbind_checkbox(L, 1, LBIND_MAP);
	const char *type;

	if (!box->ptr) {
		lua_pushfstring(L, "ayac.map (closed): %p", (void *)box);
		return 1;
	}
	type = ayac_map_type_name(ayac_map_def(box->ptr)->type);
	lua_pushfstring(L, "ayac.map '%s' (%s): %p", ayac_map_name(box->ptr),
			type ? type : "unknown", (void *)box);
	return 1;
}

static void push_type(lua_State *L, enum bpf_map_type type)
{
	const char *name = ayac_map_type_name(type);

	if (name)
		lua_pushstring(L, name);
	else
		lua_pushinteger(L, type);
}

static int map_field(lua_State *L)
{
	struct ayac_map *map = lbind_check(L, 1, LBIND_MAP);
	const struct ayac_map_def *def = ayac_map_def(map);
	const char *k = lua_tostring(L, 2);

	if (strcmp(k, "name") == 0)
		lua_pushstring(L, ayac_map_name(map));
	else if (strcmp(k, "type") == 0)
		push_type(L, def->type);
	else if (strcmp(k, "key_size") == 0)
		lua_pushinteger(L, def->key_size);
	else if (strcmp(k, "value_size") == 0)
		lua_pushinteger(L, def->value_size);
	else if (strcmp(k, "max_entries") == 0)
		lua_pushinteger(L, def->max_entries);
	else if (strcmp(k, "flags") == 0)
		lua_pushinteger(L, def->map_flags);
	else
		return 0;
	return 1;
}

static int map_fd(lua_State *L)
{
	lua_pushinteger(L, ayac_map_fd(lbind_check(L, 1, LBIND_MAP)));
	return 1;
}

static void set_int(lua_State *L, const char *key, lua_Number n)
{
	lua_pushnumber(L, n);
	lua_setfield(L, -2, key);
}

static int map_info(lua_State *L)
{
	struct bpf_map_info info;

	if (ayac_map_info(check_map(L, 1), &info) < 0)
		return lbind_fail(L);
	lua_createtable(L, 0, 10);
	set_int(L, "id", info.id);
	push_type(L, info.type);
	lua_setfield(L, -2, "type");
	lua_pushstring(L, info.name);
	lua_setfield(L, -2, "name");
	set_int(L, "key_size", info.key_size);
	set_int(L, "value_size", info.value_size);
	set_int(L, "max_entries", info.max_entries);
	set_int(L, "flags", info.map_flags);
	set_int(L, "btf_id", info.btf_id);
	set_int(L, "btf_key_type_id", info.btf_key_type_id);
	set_int(L, "btf_value_type_id", info.btf_value_type_id);
	set_int(L, "map_extra", (lua_Number)info.map_extra);
	return 1;
}

static int map_pin(lua_State *L)
{
	if (ayac_map_pin(check_map(L, 1), luaL_checkstring(L, 2)) < 0)
		return lbind_fail(L);
	lua_pushboolean(L, 1);
	return 1;
}

static int map_unpin(lua_State *L)
{
	if (ayac_map_unpin(check_map(L, 1), luaL_optstring(L, 2, NULL)) < 0)
		return lbind_fail(L);
	lua_pushboolean(L, 1);
	return 1;
}

static int map_freeze(lua_State *L)
{
	if (ayac_map_freeze(check_map(L, 1)) < 0)
		return lbind_fail(L);
	lua_pushboolean(L, 1);
	return 1;
}

/* Setters of a u32 definition field before load; they return the map for chaining. */
static int set_u32(lua_State *L, const char *what, int (*set)(struct ayac_map *, __u32))
{
	struct ayac_map *map = check_map(L, 1);
	lua_Number n = lutil_check_int(L, 2, what, luaL_checknumber(L, 2), 0, LUTIL_U32_MAX);

	if (set(map, (__u32)n) < 0)
		return lbind_fail(L);
	lua_settop(L, 1);
	return 1;
}

static int map_set_max_entries(lua_State *L)
{
	return set_u32(L, "entries", ayac_map_set_max_entries);
}

/* map:set_value_size(n): before load, as libbpf's bpf_map__set_value_size (stack maps
 * sized at run time); the BTF value type no longer applies and is dropped. */
static int map_set_value_size(lua_State *L)
{
	return set_u32(L, "size", ayac_map_set_value_size);
}

/* map:_mmap() -> address (light userdata), size; lua/ayac/map.lua makes the FFI
 * pointer of it. */
static int map_mmap(lua_State *L)
{
	struct ayac_map *map = check_map(L, 1);
	size_t size;
	void *p = ayac_map_mmap(map, &size);

	if (!p)
		return lbind_fail(L);
	lua_pushlightuserdata(L, p);
	lua_pushnumber(L, (lua_Number)size);
	return 2;
}

/* map:_layout() -> what lua/ayac/map.lua needs to move elements with the FFI. */
static int map_layout(lua_State *L)
{
	struct ayac_map *map = check_map(L, 1);
	const struct ayac_map_def *def = ayac_map_def(map);
	struct ayac_btf *btf = ayac_map_btf(map);
	int ncpus = ayac_map_is_percpu(map) ? ayac_num_possible_cpus() : 1;
	int owner;

	if (ncpus < 0)
		return lbind_fail(L);
	lua_createtable(L, 0, 12);
	lua_pushlightuserdata(L, map);
	lua_setfield(L, -2, "ptr");
	lua_pushstring(L, ayac_map_name(map));
	lua_setfield(L, -2, "name");
	push_type(L, def->type);
	lua_setfield(L, -2, "type");
	set_int(L, "key_size", def->key_size);
	set_int(L, "value_size", def->value_size);
	set_int(L, "max_entries", def->max_entries);
	set_int(L, "flags", def->map_flags);
	lua_pushboolean(L, ayac_map_is_percpu(map));
	lua_setfield(L, -2, "percpu");
	set_int(L, "ncpus", ncpus);
	set_int(L, "value_buf_size", (lua_Number)ayac_map_value_buf_size(map));
	/* The BTF handle's owner is the object, never this map handle: lua/ayac keeps it
	 * in a table weakly keyed by the map handle, which must not reach its own key. */
	lbind_push_owner(L, 1);
	owner = lua_gettop(L);
	if (btf && !lua_isnil(L, owner)) {
		lbind_push_btf(L, btf, owner);
		lua_setfield(L, owner - 1, "btf");
		lua_pushinteger(L, ayac_map_btf_key_type_id(map));
		lua_setfield(L, owner - 1, "key_type_id");
		lua_pushinteger(L, ayac_map_btf_value_type_id(map));
		lua_setfield(L, owner - 1, "value_type_id");
	}
	lua_settop(L, owner - 1);
	return 1;
}

/* map:_check(): raises when the map's object is closed (lua/ayac/map.lua asks on its
 * failure path, to tell a closed object from a map not loaded yet). */
static int map_check(lua_State *L)
{
	check_map(L, 1);
	return 0;
}

static int push_standalone(lua_State *L, struct ayac_map *map)
{
	if (!map)
		return lbind_fail(L);
	lbind_push_map(L, map, 0);
	return 1;
}

static int l_map_from_pin(lua_State *L)
{
	return push_standalone(L, ayac_map_from_pin(luaL_checkstring(L, 1)));
}

static int l_map_from_id(lua_State *L)
{
	lua_Number id = lutil_check_int(L, 1, "id", luaL_checknumber(L, 1), 0, LUTIL_U32_MAX);

	return push_standalone(L, ayac_map_from_id((__u32)id));
}

/* ayac.core.create_map{ type=, key_size=, value_size=, max_entries=, flags=, map_extra=,
 * numa_node=, inner_map_fd=, name= };
 * lua/ayac/map.lua's create_map also takes codec names for key and value. */
static int l_create_map(lua_State *L)
{
	struct ayac_map_def def;
	const char *type;
	int t;

	luaL_checktype(L, 1, LUA_TTABLE);
	memset(&def, 0, sizeof(def));
	type = lutil_opt_string(L, 1, "type", NULL);
	t = type ? ayac_map_type_by_name(type) : -1;
	if (t < 0)
		return luaL_argerror(L, 1, "type: map type name expected");
	def.type = t;
	def.key_size = (__u32)lutil_opt_int(L, 1, "key_size", 0, 0, LUTIL_U32_MAX);
	def.value_size = (__u32)lutil_opt_int(L, 1, "value_size", 0, 0, LUTIL_U32_MAX);
	def.max_entries = (__u32)lutil_opt_int(L, 1, "max_entries", 0, 0, LUTIL_U32_MAX);
	def.map_flags = (__u32)lutil_opt_int(L, 1, "flags", 0, 0, LUTIL_U32_MAX);
	def.map_extra = (__u64)lutil_opt_int(L, 1, "map_extra", 0, 0, LUTIL_U64_END);
	def.numa_node = (__u32)lutil_opt_int(L, 1, "numa_node", 0, 0, LUTIL_U32_MAX);
	def.inner_map_fd = (int)lutil_opt_int(L, 1, "inner_map_fd", 0, 0, INT_MAX);
	def.name = lutil_opt_string(L, 1, "name", NULL);
	return push_standalone(L, ayac_map_create(&def));
}

void lbind_open_map(lua_State *L, int module_idx)
{
	static const luaL_Reg methods[] = {
		{ "fd", map_fd },
		{ "info", map_info },
		{ "pin", map_pin },
		{ "unpin", map_unpin },
		{ "freeze", map_freeze },
		{ "set_max_entries", map_set_max_entries },
		{ "set_value_size", map_set_value_size },
		{ "close", map_close },
		{ "_layout", map_layout },
		{ "_mmap", map_mmap },
		{ "_check", map_check },
		{ NULL, NULL },
	};
	static const luaL_Reg meta[] = {
		{ "__gc", map_gc },
		{ "__tostring", map_tostring },
		{ NULL, NULL },
	};
	static const luaL_Reg funcs[] = {
		{ "map_from_pin", l_map_from_pin },
		{ "map_from_id", l_map_from_id },
		{ "create_map", l_create_map },
		{ NULL, NULL },
	};

	if (module_idx < 0)
		module_idx = lua_gettop(L) + module_idx + 1;
	lbind_newtype(L, module_idx, LBIND_MAP, "map", methods, meta);
	lutil_set_fields(L, LBIND_MAP, map_field);
	/* lua/ayac/map.lua replaces __index/__newindex for element access. */
	luaL_getmetatable(L, LBIND_MAP);
	lua_setfield(L, module_idx, "map_metatable");
	lua_pushvalue(L, module_idx);
	luaL_register(L, NULL, funcs);
	lua_pop(L, 1);
}
