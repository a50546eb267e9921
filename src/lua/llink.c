/* ayac.link: what prog:attach() returns. The handle owns the core link: __gc frees it,
 * which detaches unless it was pinned. It keeps its program (and so its object) alive;
 * closing the object detaches it early (the core unhooks the link then). */
#include <errno.h>
#include <string.h>

#include <ayac/ayac.h>
#include "lutil.h"

void lbind_push_link(lua_State *L, struct ayac_link *link, int prog_idx)
{
	lbind_push(L, link, LBIND_LINK, prog_idx);
	lbind_account(L, LBIND_LINK_COST_KB);
}

static int link_gc(lua_State *L)
{
	lbind_box *box = lbind_checkbox(L, 1, LBIND_LINK);

	if (box->ptr)
		ayac_link_free(box->ptr);
	box->ptr = NULL;
	return 0;
}

static int link_detach(lua_State *L)
{
	lbind_box *box = lbind_checkbox(L, 1, LBIND_LINK);

	if (box->ptr && ayac_link_detach(box->ptr) < 0)
		return lbind_fail(L);
	lua_pushboolean(L, 1);
	return 1;
}

static int link_pin(lua_State *L)
{
	struct ayac_link *link = lbind_check(L, 1, LBIND_LINK);

	if (ayac_link_pin(link, luaL_checkstring(L, 2)) < 0)
		return lbind_fail(L);
	lua_pushboolean(L, 1);
	return 1;
}

static int link_fd(lua_State *L)
{
	lua_pushinteger(L, ayac_link_fd(lbind_check(L, 1, LBIND_LINK)));
	return 1;
}

static void set_int(lua_State *L, const char *key, lua_Number n)
{
	lua_pushnumber(L, n);
	lua_setfield(L, -2, key);
}

static void set_str(lua_State *L, const char *key, const char *s)
{
	if (!s)
		return;
	lua_pushstring(L, s);
	lua_setfield(L, -2, key);
}

/* Where the link is attached and through what (via = "bpf_link", "netlink", …). */
static void push_desc(lua_State *L, const struct ayac_link_desc *d)
{
	set_str(L, "via", d->via);
	if (d->ifindex)
		set_int(L, "ifindex", d->ifindex);
	set_str(L, "mode", d->mode);
	set_str(L, "direction", d->direction);
	if (d->handle || d->priority) {
		set_int(L, "handle", d->handle);
		set_int(L, "priority", d->priority);
	}
	if (d->has_attach_type)
		set_str(L, "attach_type", ayac_attach_type_name(d->attach_type));
}

/* What every link has, where it is attached, plus the kernel's view when there is a
 * bpf_link. */
static int link_info(lua_State *L)
{
	struct ayac_link *link = lbind_check(L, 1, LBIND_LINK);
	struct bpf_link_info info;

	lua_createtable(L, 0, 12);
	lua_pushstring(L, ayac_link_kind(link));
	lua_setfield(L, -2, "kind");
	lua_pushboolean(L, ayac_link_attached(link));
	lua_setfield(L, -2, "attached");
	push_desc(L, ayac_link_desc(link));
	set_int(L, "count", (lua_Number)ayac_link_count(link));
	if (ayac_link_fd(link) >= 0 && ayac_link_info(link, &info) == 0) {
		set_int(L, "id", info.id);
		set_int(L, "type", info.type);
		set_int(L, "prog_id", info.prog_id);
	}
	return 1;
}

static int link_field(lua_State *L)
{
	struct ayac_link *link = lbind_check(L, 1, LBIND_LINK);
	const char *k = lua_tostring(L, 2);

	if (strcmp(k, "attached") == 0)
		lua_pushboolean(L, ayac_link_attached(link));
	else if (strcmp(k, "kind") == 0)
		lua_pushstring(L, ayac_link_kind(link));
	else
		return 0;
	return 1;
}

static int link_tostring(lua_State *L)
{
	lbind_box *box = lbind_checkbox(L, 1, LBIND_LINK);

	if (!box->ptr)
		lua_pushfstring(L, "ayac.link (freed): %p", (void *)box);
	else
		lua_pushfstring(L, "ayac.link %s (%s): %p", ayac_link_kind(box->ptr),
				ayac_link_attached(box->ptr) ? "attached" : "detached", (void *)box);
	return 1;
}

static int link_unpin(lua_State *L)
{
	struct ayac_link *link = lbind_check(L, 1, LBIND_LINK);

	if (ayac_link_unpin(link, luaL_checkstring(L, 2)))
		return lbind_fail(L);
	lua_pushboolean(L, 1);
	return 1;
}

static int l_link_from_pin(lua_State *L)
{
	struct ayac_link *link = ayac_link_from_pin(luaL_checkstring(L, 1));

	if (!link)
		return lbind_fail(L);
	lbind_push_link(L, link, 0);
	return 1;
}

void lbind_open_link(lua_State *L, int module_idx)
{
	static const luaL_Reg methods[] = {
		{ "detach", link_detach },
		{ "pin", link_pin },
		{ "unpin", link_unpin },
		{ "fd", link_fd },
		{ "info", link_info },
		{ NULL, NULL },
	};
	static const luaL_Reg meta[] = {
		{ "__gc", link_gc },
		{ "__tostring", link_tostring },
		{ NULL, NULL },
	};

	lbind_newtype(L, module_idx, LBIND_LINK, "link", methods, meta);
	lua_pushcfunction(L, l_link_from_pin);
	lua_setfield(L, module_idx, "link_from_pin");
	lutil_set_fields(L, LBIND_LINK, link_field);
}
