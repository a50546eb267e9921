/* ayac.obj: a BPF ELF object from open to close.
 *
 * obj:close() detaches and closes in the kernel but keeps the core memory, because
 * program and map handles point into it; __gc frees it, and it only runs once no such
 * handle is left (each keeps its object as owner). Globals (obj:global/set_global and
 * opts.globals) are converted by lua/ayac/object.lua through the BTF codec; the C side
 * only hands out where a global lives (obj:_global). */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include <ayac/ayac.h>
#include "lutil.h"

static const char *state_names[] = { "opened", "loaded", "closed" };

/* The object at idx, raising for a closed one (handles may still read fields). */
static struct ayac_obj *check_obj(lua_State *L, int idx)
{
	struct ayac_obj *obj = lbind_check(L, idx, LBIND_OBJ);

	if (ayac_obj_state(obj) == AYAC_OBJ_CLOSED)
		luaL_error(L, "object '%s' is closed", ayac_obj_name(obj));
	return obj;
}

static void opts_to_core(lua_State *L, int idx, struct ayac_open_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (lua_isnoneornil(L, idx))
		return;
	luaL_checktype(L, idx, LUA_TTABLE);
	o->name = lutil_opt_string(L, idx, "name", NULL);
	o->pin_root = lutil_opt_string(L, idx, "pin_path", NULL);
	o->log_level = (__u32)lutil_opt_int(L, idx, "verifier_log_level", 0, 0, LUTIL_U32_MAX);
	o->allow_unsupported_maps = lutil_opt_bool(L, idx, "allow_unsupported_maps", false);
	lua_getfield(L, idx, "btf");
	if (lua_type(L, -1) == LUA_TSTRING)
		o->btf_path = lua_tostring(L, -1); /* the options table keeps it alive */
	else if (lua_type(L, -1) == LUA_TBOOLEAN)
		o->no_btf = !lua_toboolean(L, -1);
	else if (!lua_isnil(L, -1))
		luaL_argerror(L, idx, "btf: path or false expected");
	lua_pop(L, 1);
}

typedef int (*entry_fn)(lua_State *L, struct ayac_obj *obj, const char *name);

/* For each name = value of opts[key] (values of type vtype), call fn with the value on
 * top of the stack. Stops at the first failure (negative, error recorded). */
static int each_entry(lua_State *L, struct ayac_obj *obj, int opts, const char *key, int vtype,
		      entry_fn fn)
{
	int top = lua_gettop(L), err = 0, t;

	if (!lutil_opt_table(L, opts, key))
		return 0;
	t = lua_gettop(L);
	lua_pushnil(L);
	while (!err && lua_next(L, t)) {
		if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != vtype) {
			lua_pushfstring(L, "%s: { name = %s } expected", key, lua_typename(L, vtype));
			luaL_argerror(L, opts, lua_tostring(L, -1));
		}
		err = fn(L, obj, lua_tostring(L, -2));
		lua_pop(L, 1);
	}
	lua_settop(L, top);
	return err;
}

static struct ayac_map *named_map(struct ayac_obj *obj, const char *name, const char *what)
{
	struct ayac_map *map = ayac_obj_map_by_name(obj, name);

	if (!map)
		ayac_seterr(ENOENT, "object '%s': %s: no map '%s'", ayac_obj_name(obj), what, name);
	return map;
}

static int set_max_entries(lua_State *L, struct ayac_obj *obj, const char *name)
{
	struct ayac_map *map = named_map(obj, name, "max_entries");
	lua_Number n = lutil_check_int(L, 2, "max_entries", lua_tonumber(L, -1), 0, LUTIL_U32_MAX);

	return map ? ayac_map_set_max_entries(map, (__u32)n) : -ENOENT;
}

static int set_pin_path(lua_State *L, struct ayac_obj *obj, const char *name)
{
	struct ayac_map *map = named_map(obj, name, "map_pin_paths");

	return map ? ayac_map_set_pin_path(map, lua_tostring(L, -1)) : -ENOENT;
}

static int set_autoload(lua_State *L, struct ayac_obj *obj, const char *name)
{
	struct ayac_prog *prog = ayac_obj_prog_by_name(obj, name);

	if (!prog)
		return ayac_seterr(ENOENT, "object '%s': autoload: no program '%s'",
				   ayac_obj_name(obj), name);
	return ayac_prog_set_autoload(prog, lua_toboolean(L, -1));
}

static int apply_opts(lua_State *L, struct ayac_obj *obj, int opts)
{
	int err;

	if (lua_isnoneornil(L, opts))
		return 0;
	err = each_entry(L, obj, opts, "max_entries", LUA_TNUMBER, set_max_entries);
	if (!err)
		err = each_entry(L, obj, opts, "autoload", LUA_TBOOLEAN, set_autoload);
	if (!err)
		err = each_entry(L, obj, opts, "map_pin_paths", LUA_TSTRING, set_pin_path);
	return err;
}

/* ayac.open(path_or_bytes [, opts]): the bytes of an ELF start with "\x7fELF". */
static int l_open(lua_State *L)
{
	size_t len;
	const char *src = luaL_checklstring(L, 1, &len);
	struct ayac_open_opts o;
	struct ayac_obj *obj;
	lbind_box *box;

	opts_to_core(L, 2, &o);
	if (len >= 4 && memcmp(src, "\177ELF", 4) == 0)
		obj = ayac_obj_open_mem(src, len, o.name, &o);
	else
		obj = ayac_obj_open_file(src, &o);
	if (!obj)
		return lbind_fail(L);
	/* Pushed first, so that an argument error below leaves it to __gc. */
	box = lbind_push(L, obj, LBIND_OBJ, 0);
	if (apply_opts(L, obj, 2) == 0)
		return 1;
	lbind_fail(L);
	box->ptr = NULL;
	ayac_obj_free(obj);
	return 3;
}

/* ayac.core.load(path_or_bytes [, opts]): open + load (lua/ayac adds globals). */
static int l_load(lua_State *L)
{
	lbind_box *box;
	int n = l_open(L);

	if (n != 1)
		return n;
	box = lua_touserdata(L, -1);
	if (ayac_obj_load(box->ptr) == 0 ||
	    (lbind_reclaim(L, ayac_errnum()) && ayac_obj_load(box->ptr) == 0)) {
		lbind_account(L, LBIND_OBJ_COST_KB);
		return 1;
	}
	n = lbind_fail(L);
	ayac_obj_free(box->ptr);
	box->ptr = NULL;
	return n;
}

static int obj_load(lua_State *L)
{
	struct ayac_obj *obj = check_obj(L, 1);

	if (ayac_obj_load(obj) < 0 &&
	    (!lbind_reclaim(L, ayac_errnum()) || ayac_obj_load(obj) < 0))
		return lbind_fail(L);
	lbind_account(L, LBIND_OBJ_COST_KB);
	lua_settop(L, 1);
	return 1;
}

static int obj_close(lua_State *L)
{
	lbind_box *box = lbind_checkbox(L, 1, LBIND_OBJ);

	if (box->ptr)
		ayac_obj_close(box->ptr);
	return 0;
}

static int obj_gc(lua_State *L)
{
	lbind_box *box = lbind_checkbox(L, 1, LBIND_OBJ);

	if (box->ptr)
		ayac_obj_free(box->ptr);
	box->ptr = NULL;
	return 0;
}

static int obj_tostring(lua_State *L)
{
	lbind_box *box = lbind_checkbox(L, 1, LBIND_OBJ);

	if (!box->ptr)
		lua_pushfstring(L, "ayac.obj (freed): %p", (void *)box);
	else
		lua_pushfstring(L, "ayac.obj '%s' (%s): %p", ayac_obj_name(box->ptr),
				state_names[ayac_obj_state(box->ptr)], (void *)box);
	return 1;
}

static int obj_field(lua_State *L)
{
	struct ayac_obj *obj = lbind_check(L, 1, LBIND_OBJ);
	const char *k = lua_tostring(L, 2);

	if (strcmp(k, "name") == 0)
		lua_pushstring(L, ayac_obj_name(obj));
	else if (strcmp(k, "state") == 0)
		lua_pushstring(L, state_names[ayac_obj_state(obj)]);
	else
		return 0;
	return 1;
}

/* The iterators of obj:programs() / obj:maps(): for name, handle in ... do, with the
 * object as the generic for's state and the previous name as its control value. No
 * closure over the object: a compiled trace keeps the functions it calls for as long
 * as it lives, and a closure would keep the object open with it. */
static int iter_next(lua_State *L, bool maps)
{
	struct ayac_obj *obj = check_obj(L, 1);
	const char *prev = lua_isnil(L, 2) ? NULL : luaL_checkstring(L, 2);
	size_t i = 0, n = maps ? ayac_obj_map_cnt(obj) : ayac_obj_prog_cnt(obj);
	void *h;

	if (prev) {
		for (; i < n; i++) {
			h = maps ? (void *)ayac_obj_map_at(obj, i) : (void *)ayac_obj_prog_at(obj, i);
			if (strcmp(maps ? ayac_map_name(h) : ayac_prog_name(h), prev) == 0)
				break;
		}
		i++; /* past the previous one (past the end when it has gone) */
	}
	if (i >= n)
		return 0;
	h = maps ? (void *)ayac_obj_map_at(obj, i) : (void *)ayac_obj_prog_at(obj, i);
	lua_pushstring(L, maps ? ayac_map_name(h) : ayac_prog_name(h));
	if (maps)
		lbind_push_map(L, h, 1);
	else
		lbind_push_prog(L, h, 1);
	return 2;
}

static int maps_next(lua_State *L) { return iter_next(L, true); }
static int programs_next(lua_State *L) { return iter_next(L, false); }

static int push_iter(lua_State *L, lua_CFunction next)
{
	check_obj(L, 1);
	lua_pushcfunction(L, next);
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	return 3;
}

static int obj_programs(lua_State *L) { return push_iter(L, programs_next); }
static int obj_maps(lua_State *L) { return push_iter(L, maps_next); }

static int obj_program(lua_State *L)
{
	struct ayac_obj *obj = check_obj(L, 1);
	const char *name = luaL_checkstring(L, 2);
	struct ayac_prog *prog = ayac_obj_prog_by_name(obj, name);

	if (!prog)
		return lutil_fail(L, ENOENT, "object '%s': no program '%s'", ayac_obj_name(obj), name);
	lbind_push_prog(L, prog, 1);
	return 1;
}

static int obj_map(lua_State *L)
{
	struct ayac_obj *obj = check_obj(L, 1);
	const char *name = luaL_checkstring(L, 2);
	struct ayac_map *map = ayac_obj_map_by_name(obj, name);

	if (!map)
		return lutil_fail(L, ENOENT, "object '%s': no map '%s'", ayac_obj_name(obj), name);
	lbind_push_map(L, map, 1);
	return 1;
}

static int obj_btf(lua_State *L)
{
	struct ayac_obj *obj = check_obj(L, 1);
	struct ayac_btf *btf = ayac_obj_btf(obj);

	if (!btf)
		return lutil_fail(L, ENOENT, "object '%s' has no BTF", ayac_obj_name(obj));
	lbind_push_btf(L, btf, 1);
	return 1;
}

/* obj:_global(name) -> data pointer (light userdata, or false when the live data is
 * not mapped), size, BTF type id, writable, the data map, offset in the map's value. */
static int obj_global_ref(lua_State *L)
{
	struct ayac_obj *obj = check_obj(L, 1);
	const char *name = luaL_checkstring(L, 2);
	struct ayac_global g;
	bool writable = false;
	size_t size = 0;
	char *data;

	if (ayac_obj_find_global(obj, name, &g) < 0)
		return lbind_fail(L);
	data = ayac_map_data(g.map, &size, &writable);
	if (data && (size < g.offset || size - g.offset < g.size))
		return lutil_fail(L, EINVAL, "object '%s': global '%s' lies outside %s",
				  ayac_obj_name(obj), name, ayac_map_name(g.map));
	if (data)
		lua_pushlightuserdata(L, data + g.offset);
	else
		lua_pushboolean(L, 0);
	lua_pushinteger(L, g.size);
	lua_pushinteger(L, g.btf_type_id);
	lua_pushboolean(L, writable);
	lbind_push_map(L, g.map, 1);
	lua_pushinteger(L, g.offset);
	return 6;
}

/* Where this code was loaded from when it is a shared library (a stock luajit's
 * require): lua/ayac/fast.lua ffi.load-s it. nil inside the ayac binary. */
static void push_library_path(lua_State *L)
{
	Dl_info info;
	size_t len;

	if (dladdr((void *)lbind_open_obj, &info) && info.dli_fname &&
	    (len = strlen(info.dli_fname)) > 3 && strcmp(info.dli_fname + len - 3, ".so") == 0)
		lua_pushstring(L, info.dli_fname);
	else
		lua_pushnil(L);
}

void lbind_open_obj(lua_State *L, int module_idx)
{
	static const luaL_Reg methods[] = {
		{ "load", obj_load },         { "close", obj_close },
		{ "programs", obj_programs }, { "maps", obj_maps },
		{ "program", obj_program },   { "map", obj_map },
		{ "btf", obj_btf },           { "_global", obj_global_ref },
		{ NULL, NULL },
	};
	static const luaL_Reg meta[] = {
		{ "__gc", obj_gc },
		{ "__tostring", obj_tostring },
		{ NULL, NULL },
	};
	static const luaL_Reg funcs[] = {
		{ "open", l_open },
		{ "load", l_load },
		{ NULL, NULL },
	};

	if (module_idx < 0)
		module_idx = lua_gettop(L) + module_idx + 1;
	lbind_newtype(L, module_idx, LBIND_OBJ, "obj", methods, meta);
	lutil_set_fields(L, LBIND_OBJ, obj_field);
	lua_pushvalue(L, module_idx);
	luaL_register(L, NULL, funcs);
	lua_pop(L, 1);
	push_library_path(L);
	lua_setfield(L, module_idx, "_path");
}
