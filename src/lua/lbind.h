/* Shared by the Lua binding's files (one file per userdata type, as luv does).
 *
 * Every handle is a boxed pointer: the userdata holds a pointer to core state, so the
 * core object's life is not tied to Lua's allocator and a closed handle is detectable
 * (NULL in the box). A handle that depends on another (a program on its object) keeps
 * the owner alive through its environment table (LuaJIT: lua_setfenv on userdata). */
#ifndef AYAC_LBIND_H
#define AYAC_LBIND_H

#include <stdbool.h>
#include <lauxlib.h>
#include <lua.h>
#include <luajit.h>

/* One LuaJIT for ayac, busted and nginx's Lua module: OpenResty's (Debian luajit2 /
 * libluajit2-5.1-dev). Debian's other build lacks its JIT fixes and conflicts with it. */
#ifndef OPENRESTY_LUAJIT
#error "ayac builds against OpenResty's LuaJIT: apt-get install libluajit2-5.1-dev (make deps); see README.md"
#endif

#define LBIND_OBJ "ayac.obj"
#define LBIND_PROG "ayac.prog"
#define LBIND_MAP "ayac.map"
#define LBIND_LINK "ayac.link"
#define LBIND_BTF "ayac.btf"

typedef struct {
	void *ptr;
} lbind_box;

/* Push a new boxed handle with metatable tname; owner_idx (0: none) is a stack index
 * of a value kept alive as long as the handle lives. */
void *lbind_push(lua_State *L, void *ptr, const char *tname, int owner_idx);
/* The pointer in a handle of type tname at idx; raises an argument error for another
 * type, and "closed" for a NULL box. */
void *lbind_check(lua_State *L, int idx, const char *tname);
/* The box itself (for __gc/close, which must accept closed handles). */
lbind_box *lbind_checkbox(lua_State *L, int idx, const char *tname);
/* Push the owner kept by the handle at idx (nil when none). */
void lbind_push_owner(lua_State *L, int idx);
/* Expected failure, luv style: pushes nil, message, code from the core's last error;
 * returns 3 for `return lbind_fail(L);`. */
int lbind_fail(lua_State *L);
/* What a loaded object and a link count as for the collector (lbind_account). */
#define LBIND_OBJ_COST_KB 64
#define LBIND_LINK_COST_KB 16
/* Move the collector on as if kb had been allocated: for a new handle holding core
 * memory or kernel resources (fds, tracepoint slots) the collector cannot see. */
void lbind_account(lua_State *L, int kb);
/* After a failure with err: when it is one that handles nobody references any more may
 * be the cause of (E2BIG: a tracepoint full of programs; EMFILE, ENFILE: out of fds;
 * EBUSY: an interface or cgroup already running a program, maybe through a dropped
 * link), run a full collection, whose __gc releases them, and return true: try once
 * more. */
bool lbind_reclaim(lua_State *L, int err);
/* Create metatable tname with methods in __index (a table also reachable as
 * module.methods[short_name] so lua/ayac can add Lua methods) and metamethods. */
void lbind_newtype(lua_State *L, int module_idx, const char *tname, const char *short_name,
		   const luaL_Reg *methods, const luaL_Reg *metamethods);

/* Each userdata file registers its type into the module table at module_idx. */
void lbind_open_obj(lua_State *L, int module_idx);
void lbind_open_prog(lua_State *L, int module_idx);
void lbind_open_map(lua_State *L, int module_idx);
void lbind_open_link(lua_State *L, int module_idx);
void lbind_open_btf(lua_State *L, int module_idx);
/* link:read() and link:lines() for iterator links (liter.c); after lbind_open_link. */
void lbind_open_iter(lua_State *L, int module_idx);
/* map:attach() for struct_ops maps (lattach.c); after lbind_open_map. */
void lbind_open_attach(lua_State *L, int module_idx);
/* Plain functions (no userdata type): kernel feature answers (lfeatures.c). */
void lbind_open_features(lua_State *L, int module_idx);
/* core.inspect(obj): the facts `ayac inspect` reports (linspect.c). */
void lbind_open_inspect(lua_State *L, int module_idx);
/* ayac.capabilities() (lcaps.c). */
void lbind_open_caps(lua_State *L, int module_idx);

/* Constructors used across files. */
struct ayac_btf;
struct ayac_prog;
struct ayac_map;
struct ayac_link;
/* owner_idx: the object (or nothing for vmlinux/standalone) the handle depends on. */
void lbind_push_btf(lua_State *L, struct ayac_btf *btf, int owner_idx);
void lbind_push_prog(lua_State *L, struct ayac_prog *prog, int obj_idx);
void lbind_push_map(lua_State *L, struct ayac_map *map, int obj_idx); /* obj_idx 0: standalone, owned */
void lbind_push_link(lua_State *L, struct ayac_link *link, int prog_idx);

/* prog:attach(target) for networking, cgroup and socket programs (lattach.c): the link,
 * or NULL with the core's error set. Raises for a target of the wrong shape. */
struct ayac_link *lattach_target(lua_State *L, struct ayac_prog *prog);
/* ayac.xdp_query, ayac.tc_query, ayac.cgroup_query (lattach_query.c). */
void lbind_open_attach_query(lua_State *L, int module_idx);

int luaopen_ayac_core(lua_State *L);

#endif
