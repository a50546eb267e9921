/* Helpers shared by the binding's handle types (lobj.c, lprog.c, lmap.c, llink.c):
 * one live userdata per core handle, fields read through __index, option tables. */
#ifndef AYAC_LUTIL_H
#define AYAC_LUTIL_H

#include <stdbool.h>
#include "lbind.h"

/* Push the live handle for ptr if Lua still holds one (so obj:map("x") == obj:map("x")
 * and per-handle state kept by lua/ayac is shared), else a new one owned by owner_idx. */
void lutil_push_handle(lua_State *L, void *ptr, const char *tname, int owner_idx);
/* Drop ptr from that cache (before the core memory behind it is freed). */
void lutil_forget_handle(lua_State *L, void *ptr);
/* After lbind_newtype: make __index look in the methods table, then call field(L) with
 * the handle at 1 and the key at 2 (it returns 1 with a value, or 0 for nil). */
void lutil_set_fields(lua_State *L, const char *tname, lua_CFunction field);
/* Expected failure with a message of ours: ayac_seterr(err, ...) then lbind_fail. */
int lutil_fail(lua_State *L, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Options tables (the table at idx, which is also the argument number for errors): a
 * missing or nil key gives def; a value of the wrong type raises an argument error. */
const char *lutil_opt_string(lua_State *L, int idx, const char *key, const char *def);
lua_Number lutil_opt_number(lua_State *L, int idx, const char *key, lua_Number def);
/* An integer in [min, max] (max at most 2^64), so that the caller's cast is exact. */
lua_Number lutil_opt_int(lua_State *L, int idx, const char *key, lua_Number def, lua_Number min,
			 lua_Number max);
/* The same check for a number already read: n from argument arg (what names it). */
lua_Number lutil_check_int(lua_State *L, int arg, const char *what, lua_Number n, lua_Number min,
			   lua_Number max);
#define LUTIL_U32_MAX 4294967295.0
#define LUTIL_U64_END 18446744073709551616.0 /* 2^64: exclusive */
bool lutil_opt_bool(lua_State *L, int idx, const char *key, bool def);
/* Pushes the field key of the options table at idx (a table, checked), or returns
 * false (nothing pushed) when it is absent. */
bool lutil_opt_table(lua_State *L, int idx, const char *key);

#endif
