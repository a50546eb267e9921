/* The "ayac.btf" userdata: find types by name, read them as plain tables.
 *
 * A BTF handle is one of three things: vmlinux (shared by the process, never freed),
 * an object's BTF (owned by the object, which the handle keeps alive), or a BTF parsed
 * from a file or bytes for Lua (freed with the handle: its environment says "owned"). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ayac/ayac.h>
#include "btf/btf.h"
#include "relo/relo.h"
#include "lbind.h"
#include "lutil.h"

static struct ayac_btf *check_btf(lua_State *L, int idx)
{
	return lbind_check(L, idx, LBIND_BTF);
}

static __u32 check_id(lua_State *L, int idx)
{
	lua_Number n = luaL_checknumber(L, idx);

	if (n < 0 || n > UINT32_MAX || n != (lua_Number)(__u32)n)
		luaL_argerror(L, idx, "type id expected");
	return (__u32)n;
}

void lbind_push_btf(lua_State *L, struct ayac_btf *btf, int owner_idx)
{
	lutil_push_handle(L, btf, LBIND_BTF, owner_idx);
}

/* A BTF parsed for Lua alone: the handle frees it. base_idx: the base BTF's handle for
 * split BTF (kept alive as the owner), or 0. */
static void push_owned(lua_State *L, struct ayac_btf *btf, int base_idx)
{
	lbind_push(L, btf, LBIND_BTF, base_idx);
	lua_getfenv(L, -1);
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "owned");
	lua_pop(L, 1);
}

/* ---- methods ------------------------------------------------------------------------- */

/* "struct foo" / "union foo" / "enum foo" name their kind as C does. */
static const char *split_kind(const char *name, int *kind)
{
	static const struct { const char *prefix; int kind; } pre[] = {
		{ "struct ", BTF_KIND_STRUCT }, { "union ", BTF_KIND_UNION },
		{ "enum ", BTF_KIND_ENUM },
	};
	size_t i;

	for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
		size_t n = strlen(pre[i].prefix);

		if (strncmp(name, pre[i].prefix, n) == 0) {
			*kind = pre[i].kind;
			return name + n;
		}
	}
	return name;
}

/* btf:find(name [, kind]) -> id | nil, msg, "ENOENT" */
static int l_find(lua_State *L)
{
	struct ayac_btf *btf = check_btf(L, 1);
	const char *name = luaL_checkstring(L, 2);
	const char *kname = luaL_optstring(L, 3, NULL);
	int kind = -1, id;

	if (kname) {
		kind = ayac_btf_kind_by_name(kname);
		if (kind < 0)
			return luaL_argerror(L, 3, "BTF kind name expected (\"struct\", \"int\", ...)");
	} else {
		name = split_kind(name, &kind);
	}
	id = ayac_btf_find(btf, name, kind);
	/* C's "enum x" may be either of BTF's two enum kinds */
	if (id == -ENOENT && kind == BTF_KIND_ENUM && !kname)
		id = ayac_btf_find(btf, name, BTF_KIND_ENUM64);
	if (id < 0)
		return lbind_fail(L);
	lua_pushinteger(L, id);
	return 1;
}

static void set_int(lua_State *L, const char *k, lua_Number v)
{
	lua_pushnumber(L, v);
	lua_setfield(L, -2, k);
}

static void set_str(lua_State *L, const char *k, const char *v)
{
	lua_pushstring(L, v ? v : "");
	lua_setfield(L, -2, k);
}

static void set_bool(lua_State *L, const char *k, int v)
{
	lua_pushboolean(L, v);
	lua_setfield(L, -2, k);
}

static const char *name_of(const struct ayac_btf *btf, __u32 off)
{
	const char *s = ayac_btf_str(btf, off);

	return s ? s : "";
}

/* A 64-bit value: a number when a double holds it exactly, else an int64_t/uint64_t
 * cdata (the C API cannot make one, but LuaJIT's parser makes one from a literal). */
static void push_u64(lua_State *L, __u64 v, int is_signed)
{
	char chunk[48];

	if (is_signed ? ((__s64)v >= -(1LL << 53) && (__s64)v <= (1LL << 53)) : v <= (1ULL << 53)) {
		lua_pushnumber(L, is_signed ? (lua_Number)(__s64)v : (lua_Number)v);
		return;
	}
	if (is_signed)
		snprintf(chunk, sizeof(chunk), "return %" PRId64 "LL", (int64_t)v);
	else
		snprintf(chunk, sizeof(chunk), "return %" PRIu64 "ULL", (uint64_t)v);
	if (luaL_loadstring(L, chunk) == 0)
		lua_call(L, 0, 1);
	else
		lua_pushnumber(L, is_signed ? (lua_Number)(__s64)v : (lua_Number)v);
}

static void push_members(lua_State *L, const struct ayac_btf *btf, const struct btf_type *t)
{
	const struct btf_member *m = btf_members_of(t);
	int i, vlen = btf_vlen_of(t);

	set_bool(L, "kflag", btf_kflag_of(t));
	lua_createtable(L, vlen, 0);
	for (i = 0; i < vlen; i++, m++) {
		lua_createtable(L, 0, 4);
		set_str(L, "name", name_of(btf, m->name_off));
		set_int(L, "type", m->type);
		set_int(L, "bit_offset", btf_kflag_of(t) ? BTF_MEMBER_BIT_OFFSET(m->offset) : m->offset);
		set_int(L, "bitfield_size", btf_kflag_of(t) ? BTF_MEMBER_BITFIELD_SIZE(m->offset) : 0);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "members");
}

static void push_values(lua_State *L, const struct ayac_btf *btf, const struct btf_type *t)
{
	int i, vlen = btf_vlen_of(t), sign = btf_kflag_of(t);
	bool is64 = btf_kind_of(t) == BTF_KIND_ENUM64;

	set_bool(L, "signed", sign);
	lua_createtable(L, vlen, 0);
	for (i = 0; i < vlen; i++) {
		__u32 name_off;
		__u64 v;

		if (is64) {
			const struct btf_enum64 *e = (const struct btf_enum64 *)(t + 1) + i;

			name_off = e->name_off;
			v = (__u64)e->val_hi32 << 32 | e->val_lo32;
		} else {
			const struct btf_enum *e = btf_enums_of(t) + i;

			name_off = e->name_off;
			v = sign ? (__u64)(__s64)e->val : (__u64)(__u32)e->val;
		}
		lua_createtable(L, 0, 2);
		set_str(L, "name", name_of(btf, name_off));
		push_u64(L, v, sign);
		lua_setfield(L, -2, "value");
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "values");
}

static void push_params(lua_State *L, const struct ayac_btf *btf, const struct btf_type *t)
{
	const struct btf_param *p = btf_params_of(t);
	int i, vlen = btf_vlen_of(t);

	lua_createtable(L, vlen, 0);
	for (i = 0; i < vlen; i++, p++) {
		lua_createtable(L, 0, 2);
		set_str(L, "name", name_of(btf, p->name_off));
		set_int(L, "type", p->type);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "params");
	set_bool(L, "variadic", vlen > 0 && btf_params_of(t)[vlen - 1].type == 0);
}

static void push_vars(lua_State *L, const struct btf_type *t)
{
	const struct btf_var_secinfo *v = btf_secinfos_of(t);
	int i, vlen = btf_vlen_of(t);

	lua_createtable(L, vlen, 0);
	for (i = 0; i < vlen; i++, v++) {
		lua_createtable(L, 0, 3);
		set_int(L, "type", v->type);
		set_int(L, "offset", v->offset);
		set_int(L, "size", v->size);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "vars");
}

static const char *linkage_name(__u32 linkage)
{
	static const char *const names[] = { "static", "global", "extern" };

	return linkage < 3 ? names[linkage] : "unknown";
}

static void push_int_fields(lua_State *L, const struct btf_type *t)
{
	__u32 enc = btf_int_encoding_of(t);

	set_bool(L, "signed", BTF_INT_ENCODING(enc) & BTF_INT_SIGNED);
	set_bool(L, "char", BTF_INT_ENCODING(enc) & BTF_INT_CHAR);
	set_bool(L, "bool", BTF_INT_ENCODING(enc) & BTF_INT_BOOL);
	set_int(L, "bits", BTF_INT_BITS(enc));
	set_int(L, "bit_offset", BTF_INT_OFFSET(enc));
}

/* The kind-specific fields of type t, into the table on top. */
static void push_kind_fields(lua_State *L, const struct ayac_btf *btf, const struct btf_type *t)
{
	switch (btf_kind_of(t)) {
	case BTF_KIND_INT:
		push_int_fields(L, t);
		break;
	case BTF_KIND_ARRAY:
		set_int(L, "elem_type", btf_array_of(t)->type);
		set_int(L, "index_type", btf_array_of(t)->index_type);
		set_int(L, "nelems", btf_array_of(t)->nelems);
		break;
	case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		push_members(L, btf, t);
		break;
	case BTF_KIND_ENUM: case BTF_KIND_ENUM64:
		push_values(L, btf, t);
		break;
	case BTF_KIND_FWD:
		set_str(L, "fwd_kind", btf_kflag_of(t) ? "union" : "struct");
		break;
	case BTF_KIND_FUNC:
		set_str(L, "linkage", linkage_name(btf_vlen_of(t)));
		break;
	case BTF_KIND_FUNC_PROTO:
		push_params(L, btf, t);
		break;
	case BTF_KIND_VAR:
		set_str(L, "linkage", linkage_name(btf_var_of(t)->linkage));
		break;
	case BTF_KIND_DATASEC:
		push_vars(L, t);
		break;
	case BTF_KIND_DECL_TAG:
		set_int(L, "component_idx", ((const struct btf_decl_tag *)(t + 1))->component_idx);
		break;
	}
}

static bool has_size(__u16 kind)
{
	return kind == BTF_KIND_INT || kind == BTF_KIND_STRUCT || kind == BTF_KIND_UNION ||
	       kind == BTF_KIND_ENUM || kind == BTF_KIND_ENUM64 || kind == BTF_KIND_FLOAT ||
	       kind == BTF_KIND_DATASEC;
}

static bool has_type(__u16 kind)
{
	return kind == BTF_KIND_PTR || kind == BTF_KIND_TYPEDEF || kind == BTF_KIND_VOLATILE ||
	       kind == BTF_KIND_CONST || kind == BTF_KIND_RESTRICT || kind == BTF_KIND_FUNC ||
	       kind == BTF_KIND_FUNC_PROTO || kind == BTF_KIND_VAR || kind == BTF_KIND_DECL_TAG ||
	       kind == BTF_KIND_TYPE_TAG;
}

/* btf:type(id) -> table | nil, msg, code */
static int l_type(lua_State *L)
{
	struct ayac_btf *btf = check_btf(L, 1);
	__u32 id = check_id(L, 2);
	const struct btf_type *t;
	__u16 kind;

	lua_createtable(L, 0, 8);
	set_int(L, "id", id);
	if (id == 0) {
		set_str(L, "kind", "void");
		set_str(L, "name", "void");
		return 1;
	}
	t = ayac_btf_type(btf, id);
	if (!t)
		return lbind_fail(L);
	kind = btf_kind_of(t);
	set_str(L, "kind", ayac_btf_kind_name(kind));
	set_str(L, "name", name_of(btf, t->name_off));
	if (has_size(kind))
		set_int(L, "size", t->size);
	else if (kind == BTF_KIND_PTR)
		set_int(L, "size", 8);
	if (has_type(kind))
		set_int(L, "type", t->type);
	push_kind_fields(L, btf, t);
	return 1;
}

/* btf:count() -> the last type id (ids run 1..count(), base ids first for split BTF) */
static int l_count(lua_State *L)
{
	lua_pushinteger(L, ayac_btf_type_cnt(check_btf(L, 1)) - 1);
	return 1;
}

static int l_resolve_size(lua_State *L)
{
	struct ayac_btf *btf = check_btf(L, 1);
	__u64 size;

	if (ayac_btf_resolve_size(btf, check_id(L, 2), &size) < 0)
		return lbind_fail(L);
	lua_pushnumber(L, (lua_Number)size);
	return 1;
}

static int l_skip_mods(lua_State *L)
{
	struct ayac_btf *btf = check_btf(L, 1);

	lua_pushinteger(L, ayac_btf_skip_mods(btf, check_id(L, 2)));
	return 1;
}

/* btf:kind(id) -> kind name, without building the whole table */
static int l_kind(lua_State *L)
{
	struct ayac_btf *btf = check_btf(L, 1);
	__u32 id = check_id(L, 2);
	const struct btf_type *t = id ? ayac_btf_type(btf, id) : NULL;

	if (id && !t)
		return lbind_fail(L);
	lua_pushstring(L, t ? ayac_btf_kind_name(btf_kind_of(t)) : "void");
	return 1;
}

struct text_arg {
	const char *p;
	size_t len;
};

static int push_text(lua_State *L)
{
	const struct text_arg *a = lua_touserdata(L, 1);

	lua_pushlstring(L, a->p, a->len);
	return 1;
}

/* btf:dump_c([{ guard = "NAME_H" }]) -> C header text | nil, msg, code */
static int l_dump_c(lua_State *L)
{
	struct ayac_btf *btf = check_btf(L, 1);
	struct ayac_btf_dump_opts opts = { NULL };
	struct text_arg arg;
	size_t len;
	char *text;
	int status;

	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		lua_getfield(L, 2, "guard"); /* stays on the stack while used */
		if (!lua_isnil(L, -1) && !lua_isstring(L, -1))
			return luaL_argerror(L, 2, "guard: string expected");
		opts.guard = lua_tostring(L, -1);
	}
	if (ayac_btf_dump_c(btf, &opts, &text, &len))
		return lbind_fail(L);
	/* pushing may raise (memory): free the text either way, then pass that on */
	arg.p = text;
	arg.len = len;
	lua_pushcfunction(L, push_text);
	lua_pushlightuserdata(L, &arg);
	status = lua_pcall(L, 1, 1, 0);
	free(text);
	return status ? lua_error(L) : 1;
}

/* btf:sanitize([{ "btf_func", ... }]) -> a new BTF without what a kernel lacking those
 * features refuses (default: what this kernel lacks) | nil, msg, code */
static int l_sanitize(lua_State *L)
{
	struct ayac_btf *btf = check_btf(L, 1), *out;
	unsigned missing = 0;
	int i;

	if (lua_isnoneornil(L, 2)) {
		missing = ayac_btf_missing_features();
	} else {
		luaL_checktype(L, 2, LUA_TTABLE);
		for (i = 1; lua_rawgeti(L, 2, i), !lua_isnil(L, -1); i++) {
			unsigned bit = lua_isstring(L, -1) ? ayac_btf_feature_bit(lua_tostring(L, -1)) : 0;

			if (!bit)
				return luaL_argerror(L, 2, "BTF feature names expected (\"btf_func\", ...)");
			missing |= bit;
			lua_pop(L, 1);
		}
	}
	out = ayac_btf_sanitized(btf, missing);
	if (!out)
		return lbind_fail(L);
	push_owned(L, out, 0);
	return 1;
}

/* btf:fd() -> fd of this BTF loaded into the kernel (once; kept) | nil, msg, code */
static int l_fd(lua_State *L)
{
	int fd = ayac_btf_fd(check_btf(L, 1));

	if (fd < 0)
		return lbind_fail(L);
	lua_pushinteger(L, fd);
	return 1;
}

/* btf:kernel() -> the BTF the kernel holds for this one (an object's, after load) */
static int l_kernel(lua_State *L)
{
	struct ayac_btf *out = ayac_btf_kernel_copy(check_btf(L, 1));

	if (!out)
		return lbind_fail(L);
	push_owned(L, out, 0);
	return 1;
}

static int l_tostring(lua_State *L)
{
	lbind_box *box = lbind_checkbox(L, 1, LBIND_BTF);

	if (!box->ptr)
		lua_pushstring(L, "ayac.btf (closed)");
	else
		lua_pushfstring(L, "ayac.btf (%d types)",
				(int)ayac_btf_type_cnt(box->ptr) - 1);
	return 1;
}

static int l_gc(lua_State *L)
{
	lbind_box *box = lbind_checkbox(L, 1, LBIND_BTF);
	int owned;

	lua_getfenv(L, 1);
	lua_getfield(L, -1, "owned");
	owned = lua_toboolean(L, -1);
	lua_pop(L, 2);
	if (box->ptr && owned) {
		lutil_forget_handle(L, box->ptr);
		ayac_btf_free(box->ptr);
	}
	box->ptr = NULL;
	return 0;
}

/* ---- module functions ------------------------------------------------------------------ */

static int l_btf_vmlinux(lua_State *L)
{
	struct ayac_btf *btf = ayac_btf_vmlinux();

	if (!btf)
		return lbind_fail(L);
	lbind_push_btf(L, btf, 0);
	return 1;
}

/* Optional base BTF (for split BTF such as a kernel module's) at idx. */
static struct ayac_btf *opt_base(lua_State *L, int idx)
{
	return lua_isnoneornil(L, idx) ? NULL : check_btf(L, idx);
}

/* btf_load(path [, base]) -> btf | nil, msg, code */
static int l_btf_load(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct ayac_btf *base = opt_base(L, 2);
	struct ayac_btf *btf = ayac_btf_parse_file(path, base);

	if (!btf)
		return lbind_fail(L);
	push_owned(L, btf, base ? 2 : 0);
	return 1;
}

/* btf_parse(bytes [, base]) -> btf | nil, msg, code */
static int l_btf_parse(lua_State *L)
{
	size_t size;
	const char *bytes = luaL_checklstring(L, 1, &size);
	struct ayac_btf *base = opt_base(L, 2);
	struct ayac_btf *btf = ayac_btf_parse(bytes, size, base);

	if (!btf)
		return lbind_fail(L);
	push_owned(L, btf, base ? 2 : 0);
	return 1;
}

void lbind_open_btf(lua_State *L, int module_idx)
{
	static const luaL_Reg methods[] = {
		{ "find", l_find },
		{ "type", l_type },
		{ "kind", l_kind },
		{ "count", l_count },
		{ "resolve_size", l_resolve_size },
		{ "skip_mods", l_skip_mods },
		{ "dump_c", l_dump_c },
		{ "sanitize", l_sanitize },
		{ "kernel", l_kernel },
		{ "fd", l_fd },
		{ NULL, NULL },
	};
	static const luaL_Reg metamethods[] = {
		{ "__tostring", l_tostring },
		{ "__gc", l_gc },
		{ NULL, NULL },
	};
	static const luaL_Reg funcs[] = {
		{ "btf_vmlinux", l_btf_vmlinux },
		{ "btf_load", l_btf_load },
		{ "btf_parse", l_btf_parse },
		{ NULL, NULL },
	};

	if (module_idx < 0)
		module_idx = lua_gettop(L) + module_idx + 1;
	lbind_newtype(L, module_idx, LBIND_BTF, "btf", methods, metamethods);
	lua_pushvalue(L, module_idx);
	luaL_register(L, NULL, funcs);
	lua_pop(L, 1);
}
