/* What is attached where, for Lua: ayac.xdp_query, ayac.tc_query, ayac.cgroup_query
 * (plain functions of ayac.core over src/core/attach). Failures are nil, message, code. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ayac/ayac.h>
#include "lutil.h"

#define MAX_CGROUP_PROGS 64

static void set_num(lua_State *L, const char *key, lua_Number v)
{
	lua_pushnumber(L, v);
	lua_setfield(L, -2, key);
}

static void set_str(lua_State *L, const char *key, const char *v)
{
	lua_pushstring(L, v);
	lua_setfield(L, -2, key);
}

/* An interface argument: a name, or an index. */
static void check_interface(lua_State *L, int arg, const char **name, int *index)
{
	*name = NULL;
	*index = 0;
	if (lua_type(L, arg) == LUA_TNUMBER)
		*index = (int)lutil_check_int(L, arg, "ifindex", lua_tonumber(L, arg), 1,
					      2147483647.0);
	else
		*name = luaL_checkstring(L, arg);
}

static void push_xdp_mode(lua_State *L, const char *mode, __u32 id)
{
	char name[64];

	if (!id)
		return;
	lua_createtable(L, 0, 2);
	set_num(L, "id", id);
	ayac_prog_name_by_id(id, name, sizeof(name));
	set_str(L, "name", name);
	lua_setfield(L, -2, mode);
}

static void push_xdp(lua_State *L, const struct ayac_xdp_query *q)
{
	lua_createtable(L, 0, 5);
	set_str(L, "ifname", q->ifname);
	set_num(L, "ifindex", q->ifindex);
	push_xdp_mode(L, "skb", q->skb_id);
	push_xdp_mode(L, "drv", q->drv_id);
	push_xdp_mode(L, "hw", q->hw_id);
}

/* ayac.xdp_query(ifname | ifindex) → { ifname=, ifindex=, skb=, drv=, hw= } (each mode
 * { id=, name= } or nil); ayac.xdp_query() → such a table for every interface that has
 * an XDP program. */
static int l_xdp_query(lua_State *L)
{
	struct ayac_xdp_query q, *all;
	const char *name;
	size_t n, i;
	int index;

	if (lua_isnoneornil(L, 1)) {
		if (ayac_xdp_query_all(&all, &n) < 0)
			return lbind_fail(L);
		lua_createtable(L, (int)n, 0);
		for (i = 0; i < n; i++) {
			push_xdp(L, &all[i]);
			lua_rawseti(L, -2, (int)i + 1);
		}
		free(all);
		return 1;
	}
	check_interface(L, 1, &name, &index);
	if (ayac_xdp_query(name, index, &q) < 0)
		return lbind_fail(L);
	push_xdp(L, &q);
	return 1;
}

/* ayac.tc_query(ifname | ifindex, "ingress" | "egress") → an array of { via = "tcx" |
 * "netlink", prog_id=, name=, link_id= (tcx), handle=, priority=, direct_action=
 * (netlink) }, TCX programs first in run order. */
static int l_tc_query(lua_State *L)
{
	const char *name, *dir = luaL_checkstring(L, 2);
	struct ayac_tc_entry *v;
	size_t n, i;
	int index, d;

	check_interface(L, 1, &name, &index);
	if (strcmp(dir, "ingress") && strcmp(dir, "egress"))
		return lutil_fail(L, EINVAL, "tc query: bad direction '%s': \"ingress\" or "
				  "\"egress\"", dir);
	d = strcmp(dir, "egress") == 0 ? AYAC_TC_EGRESS : AYAC_TC_INGRESS;
	if (ayac_tc_query(name, index, (enum ayac_tc_dir)d, &v, &n) < 0)
		return lbind_fail(L);
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		lua_createtable(L, 0, 7);
		set_str(L, "via", v[i].via);
		set_num(L, "prog_id", v[i].prog_id);
		set_str(L, "name", v[i].name);
		if (v[i].link_id)
			set_num(L, "link_id", v[i].link_id);
		if (!strcmp(v[i].via, "netlink")) {
			set_num(L, "handle", v[i].handle);
			set_num(L, "priority", v[i].priority);
			lua_pushboolean(L, v[i].direct_action);
			lua_setfield(L, -2, "direct_action");
		}
		lua_rawseti(L, -2, (int)i + 1);
	}
	free(v);
	return 1;
}

static void push_ids(lua_State *L, const __u32 *ids, __u32 n)
{
	__u32 i;

	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n && i < MAX_CGROUP_PROGS; i++) {
		lua_pushnumber(L, ids[i]);
		lua_rawseti(L, -2, (int)i + 1);
	}
}

static const char *mode_name(__u32 flags)
{
	if (flags & BPF_F_ALLOW_MULTI)
		return "multi";
	if (flags & BPF_F_ALLOW_OVERRIDE)
		return "override";
	return "single";
}

/* The (path | fd, attach_type) arguments of the cgroup functions: the attach type. */
static int check_cgroup_args(lua_State *L, const char **path, int *fd)
{
	const char *tname = luaL_checkstring(L, 2);
	int type = ayac_attach_type_by_name(tname);

	*path = NULL;
	*fd = -1;
	if (lua_type(L, 1) == LUA_TNUMBER)
		*fd = (int)lutil_check_int(L, 1, "fd", lua_tonumber(L, 1), 0, 2147483647.0);
	else
		*path = luaL_checkstring(L, 1);
	if (type < 0)
		luaL_argerror(L, 2, lua_pushfstring(L, "unknown attach type '%s'", tname));
	return type;
}

/* ayac.cgroup_query(path | fd, attach_type) → { prog_ids = { … } (attached to this
 * cgroup), effective = { … } (what runs, inherited ones included), mode = "multi" |
 * "override" | "single" (nil when nothing is attached) }. */
static int l_cgroup_query(lua_State *L)
{
	__u32 ids[MAX_CGROUP_PROGS], n = MAX_CGROUP_PROGS, flags = 0;
	const char *path;
	int fd, type = check_cgroup_args(L, &path, &fd);

	if (ayac_cgroup_query(path, fd, type, false, ids, &n, &flags) < 0)
		return lbind_fail(L);
	lua_createtable(L, 0, 3);
	push_ids(L, ids, n);
	lua_setfield(L, -2, "prog_ids");
	if (n)
		set_str(L, "mode", mode_name(flags));
	n = MAX_CGROUP_PROGS;
	if (ayac_cgroup_query(path, fd, type, true, ids, &n, NULL) < 0)
		return lbind_fail(L);
	push_ids(L, ids, n);
	lua_setfield(L, -2, "effective");
	return 1;
}

/* ---- removal by place (what a killed process left; ayac cleanup) ---- */

static __u32 check_id(lua_State *L, int arg, const char *what, bool optional)
{
	if (optional && lua_isnoneornil(L, arg))
		return 0;
	return (__u32)lutil_check_int(L, arg, what, luaL_checknumber(L, arg), 1, 4294967295.0);
}

static int push_ok(lua_State *L, int err)
{
	if (err < 0)
		return lbind_fail(L);
	lua_pushboolean(L, 1);
	return 1;
}

/* ayac.core.prog_name_by_id(id) → the kernel's name of a loaded program ("" when gone) */
static int l_prog_name_by_id(lua_State *L)
{
	char name[64];

	ayac_prog_name_by_id(check_id(L, 1, "prog_id", false), name, sizeof(name));
	lua_pushstring(L, name);
	return 1;
}

/* ayac.xdp_remove(ifname | ifindex, "skb" | "drv" | "hw", prog_id) */
static int l_xdp_remove(lua_State *L)
{
	static const char *const modes[] = { "skb", "drv", "hw", NULL };
	const char *name;
	int index, mode;
	__u32 id;

	check_interface(L, 1, &name, &index);
	mode = luaL_checkoption(L, 2, NULL, modes);
	id = check_id(L, 3, "prog_id", false);
	return push_ok(L, ayac_xdp_remove(name, index, (enum ayac_xdp_mode)(AYAC_XDP_SKB + mode),
					  id));
}

/* ayac.tc_remove(ifname | ifindex, "ingress" | "egress", handle, priority [, prog_id]) */
static int l_tc_remove(lua_State *L)
{
	static const char *const dirs[] = { "ingress", "egress", NULL };
	const char *name;
	int index, dir;
	__u32 handle, prio;

	check_interface(L, 1, &name, &index);
	dir = luaL_checkoption(L, 2, NULL, dirs);
	handle = check_id(L, 3, "handle", false);
	prio = (__u32)lutil_check_int(L, 4, "priority", luaL_checknumber(L, 4), 1, 65535);
	return push_ok(L, ayac_tc_remove(name, index, dir ? AYAC_TC_EGRESS : AYAC_TC_INGRESS,
					 handle, prio, check_id(L, 5, "prog_id", true)));
}

/* ayac.cgroup_remove(path | fd, attach_type, prog_id) */
static int l_cgroup_remove(lua_State *L)
{
	const char *path;
	int fd, type = check_cgroup_args(L, &path, &fd);

	return push_ok(L, ayac_cgroup_remove(path, fd, (enum bpf_attach_type)type,
					     check_id(L, 3, "prog_id", false)));
}

void lbind_open_attach_query(lua_State *L, int module_idx)
{
	static const luaL_Reg funcs[] = {
		{ "xdp_query", l_xdp_query },
		{ "tc_query", l_tc_query },
		{ "cgroup_query", l_cgroup_query },
		{ "xdp_remove", l_xdp_remove },
		{ "prog_name_by_id", l_prog_name_by_id },
		{ "tc_remove", l_tc_remove },
		{ "cgroup_remove", l_cgroup_remove },
		{ NULL, NULL },
	};
	const luaL_Reg *f;

	for (f = funcs; f->name; f++) {
		lua_pushcfunction(L, f->func);
		lua_setfield(L, module_idx, f->name);
	}
}
