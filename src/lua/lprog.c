/* ayac.prog: a program of an object. The handle keeps its object alive (owner); once
 * the object is closed, everything but the fields raises. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ayac/ayac.h>
#include "lattach.h"

#define MAX_MAP_IDS 64

static struct ayac_prog *check_prog(lua_State *L, int idx)
{
	struct ayac_prog *prog = lbind_check(L, idx, LBIND_PROG);

	if (ayac_obj_state(ayac_prog_obj(prog)) == AYAC_OBJ_CLOSED)
		luaL_error(L, "program '%s': its object is closed", ayac_prog_name(prog));
	return prog;
}

void lbind_push_prog(lua_State *L, struct ayac_prog *prog, int obj_idx)
{
	lutil_push_handle(L, prog, LBIND_PROG, obj_idx);
}

static void push_name_or_number(lua_State *L, const char *name, int n)
{
	if (name)
		lua_pushstring(L, name);
	else
		lua_pushinteger(L, n);
}

static int prog_field(lua_State *L)
{
	struct ayac_prog *prog = lbind_check(L, 1, LBIND_PROG);
	const char *k = lua_tostring(L, 2);

	if (strcmp(k, "name") == 0)
		lua_pushstring(L, ayac_prog_name(prog));
	else if (strcmp(k, "section") == 0)
		lua_pushstring(L, ayac_prog_section(prog));
	else if (strcmp(k, "type") == 0)
		push_name_or_number(L, ayac_prog_type_name(ayac_prog_type(prog)),
				    ayac_prog_type(prog));
	else if (strcmp(k, "attach_type") == 0 && ayac_prog_type(prog) == BPF_PROG_TYPE_STRUCT_OPS)
		lua_pushinteger(L, ayac_prog_attach_type(prog)); /* its member's index */
	else if (strcmp(k, "attach_type") == 0) {
		/* 0 is BPF_CGROUP_INET_INGRESS, and also "none": only cgroup_skb means it. */
		if (ayac_prog_attach_type(prog) == 0 &&
		    ayac_prog_type(prog) != BPF_PROG_TYPE_CGROUP_SKB)
			return 0;
		push_name_or_number(L, ayac_attach_type_name(ayac_prog_attach_type(prog)),
				    ayac_prog_attach_type(prog));
	}
	else if (strcmp(k, "autoload") == 0)
		lua_pushboolean(L, ayac_prog_autoload(prog));
	else if (strcmp(k, "flags") == 0)
		lua_pushinteger(L, ayac_prog_flags(prog));
	else
		return 0;
	return 1;
}

static int prog_tostring(lua_State *L)
{
	lbind_box *box = lbind_checkbox(L, 1, LBIND_PROG);

	if (!box->ptr)
		lua_pushfstring(L, "ayac.prog (freed): %p", (void *)box);
	else
		lua_pushfstring(L, "ayac.prog '%s' (%s): %p", ayac_prog_name(box->ptr),
				ayac_prog_section(box->ptr), (void *)box);
	return 1;
}

/* The object owns the program: nothing to free, the box just forgets it. */
static int prog_gc(lua_State *L)
{
	lbind_box *box = lbind_checkbox(L, 1, LBIND_PROG);

	box->ptr = NULL;
	return 0;
}

static int prog_fd(lua_State *L)
{
	struct ayac_prog *prog = lbind_check(L, 1, LBIND_PROG);

	lua_pushinteger(L, ayac_prog_fd(prog));
	return 1;
}

static int prog_verifier_log(lua_State *L)
{
	const char *log = ayac_prog_log(check_prog(L, 1));

	lua_pushstring(L, log ? log : "");
	return 1;
}

static int prog_set_autoload(lua_State *L)
{
	struct ayac_prog *prog = check_prog(L, 1);

	luaL_checkany(L, 2);
	if (ayac_prog_set_autoload(prog, lua_toboolean(L, 2)) < 0)
		return lbind_fail(L);
	lua_settop(L, 1);
	return 1;
}

static int prog_set_type(lua_State *L)
{
	struct ayac_prog *prog = check_prog(L, 1);
	int type = ayac_prog_type_by_name(luaL_checkstring(L, 2));
	int attach = ayac_prog_attach_type(prog);

	if (type < 0)
		return luaL_argerror(L, 2, "unknown program type");
	if (!lua_isnoneornil(L, 3)) {
		attach = ayac_attach_type_by_name(luaL_checkstring(L, 3));
		if (attach < 0)
			return luaL_argerror(L, 3, "unknown attach type");
	}
	if (ayac_prog_set_type(prog, type, attach) < 0)
		return lbind_fail(L);
	lua_settop(L, 1);
	return 1;
}

static int prog_pin(lua_State *L)
{
	if (ayac_prog_pin(check_prog(L, 1), luaL_checkstring(L, 2)) < 0)
		return lbind_fail(L);
	lua_pushboolean(L, 1);
	return 1;
}

static int prog_unpin(lua_State *L)
{
	if (ayac_prog_unpin(check_prog(L, 1), luaL_optstring(L, 2, NULL)) < 0)
		return lbind_fail(L);
	lua_pushboolean(L, 1);
	return 1;
}

static int prog_id(lua_State *L)
{
	struct bpf_prog_info info;

	memset(&info, 0, sizeof(info));
	if (ayac_prog_info(check_prog(L, 1), &info) < 0)
		return lbind_fail(L);
	lua_pushinteger(L, info.id);
	return 1;
}

static void set_number(lua_State *L, const char *key, lua_Number n)
{
	lua_pushnumber(L, n);
	lua_setfield(L, -2, key);
}

static void push_tag(lua_State *L, const __u8 tag[BPF_TAG_SIZE])
{
	char hex[2 * BPF_TAG_SIZE + 1];
	int i;

	for (i = 0; i < BPF_TAG_SIZE; i++)
		snprintf(hex + 2 * i, 3, "%02x", tag[i]);
	lua_pushstring(L, hex);
}

static int prog_info(lua_State *L)
{
	__u32 ids[MAX_MAP_IDS], i;
	struct bpf_prog_info info;
	const char *type;

	memset(&info, 0, sizeof(info));
	info.nr_map_ids = MAX_MAP_IDS;
	info.map_ids = (__u64)(uintptr_t)ids;
	if (ayac_prog_info(check_prog(L, 1), &info) < 0)
		return lbind_fail(L);
	lua_createtable(L, 0, 16);
	set_number(L, "id", info.id);
	type = ayac_prog_type_name(info.type);
	lua_pushstring(L, type ? type : "unknown");
	lua_setfield(L, -2, "type");
	lua_pushstring(L, info.name);
	lua_setfield(L, -2, "name");
	push_tag(L, info.tag);
	lua_setfield(L, -2, "tag");
	set_number(L, "run_cnt", (lua_Number)info.run_cnt);
	set_number(L, "run_time_ns", (lua_Number)info.run_time_ns);
	set_number(L, "xlated_prog_len", info.xlated_prog_len);
	set_number(L, "jited_prog_len", info.jited_prog_len);
	set_number(L, "load_time", (lua_Number)info.load_time);
	set_number(L, "created_by_uid", info.created_by_uid);
	set_number(L, "btf_id", info.btf_id);
	set_number(L, "nr_func_info", info.nr_func_info);
	set_number(L, "nr_line_info", info.nr_line_info);
	set_number(L, "verified_insns", info.verified_insns);
	set_number(L, "recursion_misses", (lua_Number)info.recursion_misses);
	lua_createtable(L, (int)info.nr_map_ids, 0);
	for (i = 0; i < info.nr_map_ids && i < MAX_MAP_IDS; i++) {
		lua_pushinteger(L, ids[i]);
		lua_rawseti(L, -2, (int)i + 1);
	}
	lua_setfield(L, -2, "map_ids");
	return 1;
}

/* A string field of the test_run table as an input buffer (NULL when absent). */
static const char *opt_bytes(lua_State *L, int idx, const char *key, size_t *len)
{
	const char *s = NULL;

	*len = 0;
	if (lutil_opt_string(L, idx, key, NULL)) {
		lua_getfield(L, idx, key);
		s = lua_tolstring(L, -1, len); /* the table keeps it alive */
		lua_pop(L, 1);
	}
	return s;
}

/* Output buffers are userdata, so a raised error frees them with the rest. */
static void *scratch(lua_State *L, size_t size)
{
	return lua_newuserdata(L, size ? size : 1);
}

static int prog_test_run(lua_State *L)
{
	struct ayac_prog *prog = check_prog(L, 1);
	bool syscall = ayac_prog_type(prog) == BPF_PROG_TYPE_SYSCALL;
	struct ayac_test_run run;
	size_t data_len, ctx_len;
	const char *data, *ctx;
	void *ctx_buf = NULL;

	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	memset(&run, 0, sizeof(run));
	data = opt_bytes(L, 2, "data", &data_len);
	ctx = opt_bytes(L, 2, "ctx", &ctx_len);
	run.repeat = (__u32)lutil_opt_int(L, 2, "repeat", 0, 0, LUTIL_U32_MAX);
	run.flags = (__u32)lutil_opt_int(L, 2, "flags", 0, 0, LUTIL_U32_MAX);
	run.cpu = (__u32)lutil_opt_int(L, 2, "cpu", 0, 0, LUTIL_U32_MAX);
	run.data_in = data;
	run.data_size_in = (__u32)data_len;
	if (data) {
		run.data_size_out = (__u32)lutil_opt_int(L, 2, "data_size_out",
							(lua_Number)data_len + 4096, 0, 1 << 30);
		run.data_out = scratch(L, run.data_size_out);
	}
	if (ctx) {
		/* Syscall programs take no ctx_out: the kernel writes the context back in. */
		ctx_buf = scratch(L, ctx_len);
		memcpy(ctx_buf, ctx, ctx_len);
		run.ctx_in = syscall ? ctx_buf : ctx;
		run.ctx_size_in = (__u32)ctx_len;
		run.ctx_out = syscall ? NULL : ctx_buf;
		run.ctx_size_out = syscall ? 0 : (__u32)ctx_len;
	}
	if (ayac_prog_test_run(prog, &run) < 0)
		return lbind_fail(L);
	lua_createtable(L, 0, 4);
	set_number(L, "retval", run.retval);
	set_number(L, "duration_ns", run.duration_ns);
	if (data) {
		lua_pushlstring(L, run.data_out, run.data_size_out);
		lua_setfield(L, -2, "data");
	}
	if (ctx) {
		lua_pushlstring(L, ctx_buf, syscall ? ctx_len : run.ctx_size_out);
		lua_setfield(L, -2, "ctx");
	}
	return 1;
}

/* attach targets by program type ------------------------------------------------ */

static struct ayac_link *attach_tracepoint(lua_State *L, struct ayac_prog *prog)
{
	const char *cat, *name, *colon;

	if (lua_type(L, 2) == LUA_TSTRING) {
		cat = lua_tostring(L, 2);
		colon = strchr(cat, ':');
		if (!colon || colon == cat || !colon[1])
			luaL_argerror(L, 2, "\"category:name\" expected");
		lua_pushlstring(L, cat, (size_t)(colon - cat));
		cat = lua_tostring(L, -1);
		name = colon + 1;
	} else {
		luaL_checktype(L, 2, LUA_TTABLE);
		cat = lutil_opt_string(L, 2, "category", NULL);
		name = lutil_opt_string(L, 2, "name", NULL);
		if (!cat || !name)
			luaL_argerror(L, 2, "{ category = , name = } expected");
	}
	return ayac_attach_tracepoint(prog, cat, name);
}

static struct ayac_link *attach_raw_tp(lua_State *L, struct ayac_prog *prog)
{
	const char *name;

	if (lua_type(L, 2) == LUA_TSTRING)
		name = lua_tostring(L, 2);
	else {
		luaL_checktype(L, 2, LUA_TTABLE);
		name = lutil_opt_string(L, 2, "name", NULL);
	}
	return ayac_attach_raw_tp(prog, name);
}

static struct ayac_link *attach_uprobe(lua_State *L, struct ayac_prog *prog)
{
	struct ayac_uprobe_opts o;
	lua_Number offset;

	memset(&o, 0, sizeof(o));
	o.path = lutil_opt_string(L, 2, "path", NULL);
	if (!o.path)
		luaL_argerror(L, 2, "path: string expected (the executable or library to probe)");
	o.symbol = lutil_opt_string(L, 2, "symbol", NULL);
	offset = lutil_opt_int(L, 2, "offset", -1, 0, LUTIL_U64_END);
	if (!o.symbol && offset < 0)
		luaL_argerror(L, 2, "symbol or offset expected");
	o.offset = offset < 0 ? 0 : (__u64)offset;
	o.pid = (int)lutil_opt_int(L, 2, "pid", -1, -1, 2147483647.0);
	o.retprobe = lutil_opt_bool(L, 2, "retprobe", false);
	o.cookie = (__u64)lutil_opt_int(L, 2, "cookie", 0, 0, LUTIL_U64_END);
	return ayac_attach_uprobe(prog, &o);
}

static struct ayac_link *attach_kprobe(lua_State *L, struct ayac_prog *prog)
{
	struct ayac_kprobe_opts o;

	memset(&o, 0, sizeof(o));
	o.func = lutil_opt_string(L, 2, "func", NULL);
	if (!o.func)
		luaL_argerror(L, 2, "func: string expected (the kernel function to probe)");
	o.offset = (__u64)lutil_opt_int(L, 2, "offset", 0, 0, LUTIL_U64_END);
	o.retprobe = lutil_opt_bool(L, 2, "retprobe", false);
	o.cookie = (__u64)lutil_opt_int(L, 2, "cookie", 0, 0, LUTIL_U64_END);
	return ayac_attach_kprobe(prog, &o);
}

/* kprobe and uprobe programs are one program type: the target table says which it is
 * (path: a uprobe, func: a kprobe), and when it says neither, the section name does. */
static bool target_is_uprobe(lua_State *L, struct ayac_prog *prog)
{
	const char *sec = ayac_prog_section(prog);
	bool has_path, has_func;

	lua_getfield(L, 2, "path");
	has_path = !lua_isnil(L, -1);
	lua_getfield(L, 2, "func");
	has_func = !lua_isnil(L, -1);
	lua_pop(L, 2);
	if (has_path || has_func)
		return has_path;
	return sec && (!strncmp(sec, "uprobe", 6) || !strncmp(sec, "uretprobe", 9) ||
		       !strncmp(sec, "usdt", 4));
}

static struct ayac_link *attach_target(lua_State *L, struct ayac_prog *prog)
{
	switch (ayac_prog_type(prog)) {
	case BPF_PROG_TYPE_TRACEPOINT:
		return attach_tracepoint(L, prog);
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
	case BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE:
		return attach_raw_tp(L, prog);
	case BPF_PROG_TYPE_LSM:
		if (ayac_prog_attach_type(prog) == BPF_LSM_CGROUP)
			return lattach_target(L, prog);
		/* fall through */
	case BPF_PROG_TYPE_TRACING:
		if (ayac_prog_attach_type(prog) == BPF_TRACE_ITER)
			return lattach_iter(L, prog);
		luaL_checktype(L, 2, LUA_TTABLE);
		return ayac_attach_raw_tp(prog, NULL);
	case BPF_PROG_TYPE_PERF_EVENT:
		return lattach_perf_event(L, prog);
	case BPF_PROG_TYPE_EXT:
		return lattach_freplace(L, prog);
	case BPF_PROG_TYPE_KPROBE:
		luaL_checktype(L, 2, LUA_TTABLE);
		lua_getfield(L, 2, "provider");
		if (!lua_isnil(L, -1))
			return lattach_usdt(L, prog);
		lua_pop(L, 1);
		if (lattach_is_multi(L, prog))
			return lattach_multi(L, prog);
		return target_is_uprobe(L, prog) ? attach_uprobe(L, prog) : attach_kprobe(L, prog);
	default:
		return lattach_target(L, prog); /* networking, cgroups, sockets: lattach.c */
	}
}

/* A tracepoint full of programs (E2BIG) even after the collector freed the links that
 * nobody held any more (prog_attach): the rest are held somewhere. */
static int attach_fail(lua_State *L)
{
	if (ayac_errnum() != E2BIG)
		return lbind_fail(L);
	lua_pushnil(L);
	lua_pushfstring(L, "%s (links nobody references were collected first: the ones still "
			"attached are held by something, or belong to other processes; "
			"link:detach() those you are done with)", ayac_errmsg());
	lua_pushstring(L, ayac_errname(E2BIG));
	return 3;
}

static int prog_attach(lua_State *L)
{
	struct ayac_prog *prog = check_prog(L, 1);
	struct ayac_link *link;

	if (lua_isnoneornil(L, 2))
		link = ayac_prog_attach_auto(prog);
	else
		link = attach_target(L, prog);
	/* links (and their fds) that nobody references are released by a collection */
	if (!link && lbind_reclaim(L, ayac_errnum()))
		link = lua_isnoneornil(L, 2) ? ayac_prog_attach_auto(prog) : attach_target(L, prog);
	if (!link)
		return attach_fail(L);
	lbind_push_link(L, link, 1);
	return 1;
}

void lbind_open_prog(lua_State *L, int module_idx)
{
	static const luaL_Reg methods[] = {
		{ "fd", prog_fd },
		{ "id", prog_id },
		{ "info", prog_info },
		{ "verifier_log", prog_verifier_log },
		{ "set_autoload", prog_set_autoload },
		{ "set_type", prog_set_type },
		{ "pin", prog_pin },
		{ "unpin", prog_unpin },
		{ "test_run", prog_test_run },
		{ "attach", prog_attach },
		{ NULL, NULL },
	};
	static const luaL_Reg meta[] = {
		{ "__gc", prog_gc },
		{ "__tostring", prog_tostring },
		{ NULL, NULL },
	};

	lbind_newtype(L, module_idx, LBIND_PROG, "prog", methods, meta);
	lutil_set_fields(L, LBIND_PROG, prog_field);
}
