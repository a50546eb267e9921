/* prog:attach(target) for perf_event programs and iterators: the target table into the
 * core's options. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <ayac/ayac.h>
#include "lattach.h"

/* t[key] as a name (string) or a number; returns the name, or NULL with *num set
 * (*has false when absent). */
static const char *opt_name_or_int(lua_State *L, int idx, const char *key, lua_Number max,
				   lua_Number *num, bool *has)
{
	const char *s = NULL;

	*has = false;
	lua_getfield(L, idx, key);
	if (lua_type(L, -1) == LUA_TSTRING) {
		s = lua_tostring(L, -1);
		*has = true;
	} else if (lua_type(L, -1) == LUA_TNUMBER) {
		*num = lutil_check_int(L, idx, key, lua_tonumber(L, -1), 0, max);
		*has = true;
	} else if (!lua_isnil(L, -1)) {
		lua_pushfstring(L, "%s: name or number expected, got %s", key, luaL_typename(L, -1));
		luaL_argerror(L, idx, lua_tostring(L, -1));
	}
	lua_pop(L, 1); /* the table keeps the string alive */
	return s;
}

/* { type = "software"|"hardware"|"cache"|"raw"|"tracepoint"|pmu|number,
 *   config = "cpu-clock"|...|number, sample_period = | sample_freq =, pid =, cpu =,
 *   cookie = }; type and config default to software cpu-clock. */
struct ayac_link *lattach_perf_event(lua_State *L, struct ayac_prog *prog)
{
	struct ayac_perf_event_opts o;
	const char *tname, *cname;
	lua_Number tnum = 0, cnum = 0;
	bool has_type, has_config;

	luaL_checktype(L, 2, LUA_TTABLE);
	memset(&o, 0, sizeof(o));
	tname = opt_name_or_int(L, 2, "type", LUTIL_U32_MAX, &tnum, &has_type);
	cname = opt_name_or_int(L, 2, "config", LUTIL_U64_END, &cnum, &has_config);
	if (!has_type)
		tname = "software";
	if (!has_config && has_type)
		luaL_argerror(L, 2, "config: the event of that type expected (name or number)");
	if (!has_config)
		cname = "cpu-clock";
	if (tname) {
		if (ayac_perf_event_config(tname, cname, &o.type, &o.config) < 0) {
			ayac_errctx("attach perf_event for program '%s'", ayac_prog_name(prog));
			return NULL;
		}
	} else {
		o.type = (__u32)tnum;
		if (cname) {
			ayac_seterr(EINVAL, "attach perf_event for program '%s': type %u: config "
				    "names need a named type; pass config as a number",
				    ayac_prog_name(prog), o.type);
			return NULL;
		}
	}
	if (!cname)
		o.config = (__u64)cnum;
	o.sample_period = (__u64)lutil_opt_int(L, 2, "sample_period", 0, 1, LUTIL_U64_END);
	o.sample_freq = (__u64)lutil_opt_int(L, 2, "sample_freq", 0, 1, LUTIL_U64_END);
	o.pid = (int)lutil_opt_int(L, 2, "pid", -1, -1, 2147483647.0);
	o.cpu = (int)lutil_opt_int(L, 2, "cpu", -1, -1, 65535);
	o.cookie = (__u64)lutil_opt_int(L, 2, "cookie", 0, 0, LUTIL_U64_END);
	return ayac_attach_perf_events(prog, &o);
}

static const char *const cgroup_orders[] = { "self_only", "descendants_pre",
					     "descendants_post", "ancestors_up", NULL };

/* { map = m } | { cgroup = "/sys/fs/cgroup/..." | fd, cgroup_id =, order = } |
 * { tid = } | { pid = } | { pid_fd = }. */
struct ayac_link *lattach_iter(lua_State *L, struct ayac_prog *prog)
{
	struct ayac_iter_opts o;
	struct ayac_link *link;
	const char *order, *path = NULL;
	int i, own_fd = -1;

	memset(&o, 0, sizeof(o));
	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	lua_getfield(L, 2, "map");
	if (!lua_isnil(L, -1))
		o.map_fd = ayac_map_fd(lbind_check(L, lua_gettop(L), LBIND_MAP));
	lua_pop(L, 1);
	lua_getfield(L, 2, "cgroup");
	if (lua_type(L, -1) == LUA_TSTRING)
		path = lua_tostring(L, -1);
	else if (!lua_isnil(L, -1))
		o.cgroup_fd = (int)lutil_check_int(L, 2, "cgroup", luaL_checknumber(L, -1), 0,
						   2147483647.0);
	lua_pop(L, 1);
	o.cgroup_id = (__u64)lutil_opt_int(L, 2, "cgroup_id", 0, 0, LUTIL_U64_END);
	order = lutil_opt_string(L, 2, "order", NULL);
	if (order) {
		for (i = 0; cgroup_orders[i] && strcmp(cgroup_orders[i], order); i++)
			;
		if (!cgroup_orders[i])
			luaL_argerror(L, 2, "order: \"self_only\", \"descendants_pre\", "
				      "\"descendants_post\" or \"ancestors_up\" expected");
		o.order = (__u32)i + BPF_CGROUP_ITER_SELF_ONLY;
	}
	o.tid = (__u32)lutil_opt_int(L, 2, "tid", 0, 1, 2147483647.0);
	o.pid = (__u32)lutil_opt_int(L, 2, "pid", 0, 1, 2147483647.0);
	o.pid_fd = (int)lutil_opt_int(L, 2, "pid_fd", 0, 0, 2147483647.0);
	if (path) {
		own_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (own_fd < 0) {
			ayac_seterr(errno, "attach iter for program '%s': open cgroup '%s'",
				    ayac_prog_name(prog), path);
			return NULL;
		}
		o.cgroup_fd = own_fd;
	}
	link = ayac_attach_iter(prog, &o);
	if (own_fd >= 0)
		close(own_fd); /* the link holds its own reference to the cgroup */
	return link;
}

/* { path=, provider=, name=, pid=, cookie= } */
struct ayac_link *lattach_usdt(lua_State *L, struct ayac_prog *prog)
{
	struct ayac_usdt_opts o;

	luaL_checktype(L, 2, LUA_TTABLE);
	memset(&o, 0, sizeof(o));
	o.path = lutil_opt_string(L, 2, "path", NULL);
	o.provider = lutil_opt_string(L, 2, "provider", NULL);
	o.name = lutil_opt_string(L, 2, "name", NULL);
	if (!o.path || !o.provider || !o.name)
		luaL_argerror(L, 2, "{ path = , provider = , name = } expected");
	o.pid = (int)lutil_opt_int(L, 2, "pid", -1, -1, 2147483647.0);
	o.cookie = (__u64)lutil_opt_int(L, 2, "cookie", 0, 0, LUTIL_U64_END);
	return ayac_attach_usdt(prog, &o);
}

/* map:attach(): register a struct_ops map; the link keeps the map (and its object). */
static int map_attach(lua_State *L)
{
	struct ayac_map *map = lbind_check(L, 1, LBIND_MAP);
	struct ayac_link *link = ayac_map_attach_struct_ops(map);

	if (!link)
		return lbind_fail(L);
	lbind_push_link(L, link, 1);
	return 1;
}

/* A target program: a program handle or an fd. */
static int target_fd_at(lua_State *L, int idx, const char *what)
{
	if (lua_type(L, idx) == LUA_TNUMBER)
		return (int)lutil_check_int(L, idx, what, lua_tonumber(L, idx), 0, 2147483647.0);
	return ayac_prog_fd(lbind_check(L, idx, LBIND_PROG));
}

/* { target_prog = prog | fd, func = "name" } (both optional once a target was set
 * before load). */
struct ayac_link *lattach_freplace(lua_State *L, struct ayac_prog *prog)
{
	const char *func;
	int fd = -1;

	luaL_checktype(L, 2, LUA_TTABLE);
	func = lutil_opt_string(L, 2, "func", NULL);
	lua_getfield(L, 2, "target_prog");
	if (!lua_isnil(L, -1))
		fd = target_fd_at(L, lua_gettop(L), "target_prog");
	lua_pop(L, 1);
	return ayac_attach_freplace(prog, fd, func);
}

/* prog:set_attach_target(target_prog | fd [, func]) */
static int prog_set_attach_target(lua_State *L)
{
	struct ayac_prog *prog = lbind_check(L, 1, LBIND_PROG);
	int fd = target_fd_at(L, 2, "target");

	if (ayac_prog_set_attach_target(prog, fd, luaL_optstring(L, 3, NULL)) < 0)
		return lbind_fail(L);
	lua_settop(L, 1);
	return 1;
}

/* prog:set_extension(): loaded at attach, against the target given then. */
static int prog_set_extension(lua_State *L)
{
	if (ayac_prog_set_extension(lbind_check(L, 1, LBIND_PROG)) < 0)
		return lbind_fail(L);
	lua_settop(L, 1);
	return 1;
}

/* map:set_autocreate(bool) before load */
static int map_set_autocreate(lua_State *L)
{
	struct ayac_map *map = lbind_check(L, 1, LBIND_MAP);

	luaL_checkany(L, 2);
	if (ayac_map_set_autocreate(map, lua_toboolean(L, 2)) < 0)
		return lbind_fail(L);
	lua_settop(L, 1);
	return 1;
}

static int map_autocreate(lua_State *L)
{
	lua_pushboolean(L, ayac_map_autocreate(lbind_check(L, 1, LBIND_MAP)));
	return 1;
}

void lbind_open_attach(lua_State *L, int module_idx)
{
	lua_getfield(L, module_idx, "methods");
	lua_getfield(L, -1, "map");
	lua_pushcfunction(L, map_attach);
	lua_setfield(L, -2, "attach");
	lua_pushcfunction(L, map_set_autocreate);
	lua_setfield(L, -2, "set_autocreate");
	lua_pushcfunction(L, map_autocreate);
	lua_setfield(L, -2, "autocreate");
	lua_pop(L, 1);
	lua_getfield(L, -1, "prog");
	lua_pushcfunction(L, prog_set_attach_target);
	lua_setfield(L, -2, "set_attach_target");
	lua_pushcfunction(L, prog_set_extension);
	lua_setfield(L, -2, "set_extension");
	lua_pop(L, 2);
}

/* ---- kprobe.multi / uprobe.multi ---------------------------------------------------- */

static bool has_field(lua_State *L, int idx, const char *key)
{
	bool has;

	lua_getfield(L, idx, key);
	has = !lua_isnil(L, -1);
	lua_pop(L, 1);
	return has;
}

bool lattach_is_multi(lua_State *L, struct ayac_prog *prog)
{
	enum bpf_attach_type t = ayac_prog_attach_type(prog);

	if (t == BPF_TRACE_KPROBE_MULTI || t == 48 || t == 56 || t == 57)
		return true; /* kprobe.multi, uprobe.multi, kprobe.session, uprobe.session */
	if (has_field(L, 2, "funcs") || has_field(L, 2, "pattern") || has_field(L, 2, "symbols"))
		return true;
	lua_getfield(L, 2, "offsets");
	t = lua_istable(L, -1);
	lua_pop(L, 1);
	return t;
}

/* An array of strings (or one string under `one`) into a userdata-backed C array. */
static const char **string_array(lua_State *L, const char *key, const char *one, size_t *n)
{
	const char **out;
	size_t i;

	*n = 0;
	if (!lutil_opt_table(L, 2, key)) {
		const char *s = one ? lutil_opt_string(L, 2, one, NULL) : NULL;
		if (!s)
			return NULL;
		out = lua_newuserdata(L, sizeof(*out));
		out[0] = s;
		*n = 1;
		return out;
	}
	*n = lua_objlen(L, -1);
	if (!*n)
		luaL_argerror(L, 2, lua_pushfstring(L, "%s: a non-empty array expected", key));
	out = lua_newuserdata(L, *n * sizeof(*out)); /* the stack keeps it; the table its strings */
	for (i = 0; i < *n; i++) {
		lua_rawgeti(L, -2, (int)i + 1);
		if (lua_type(L, -1) != LUA_TSTRING)
			luaL_argerror(L, 2, lua_pushfstring(L, "%s[%d]: string expected", key, (int)i + 1));
		out[i] = lua_tostring(L, -1);
		lua_pop(L, 1);
	}
	return out;
}

static const __u64 *u64_array(lua_State *L, const char *key, size_t want, size_t *n)
{
	__u64 *out;
	size_t i;

	if (!lutil_opt_table(L, 2, key))
		return NULL;
	*n = lua_objlen(L, -1);
	if (!*n || (want && *n != want))
		luaL_argerror(L, 2, lua_pushfstring(L, "%s: %d numbers expected", key, (int)want));
	out = lua_newuserdata(L, *n * sizeof(*out));
	for (i = 0; i < *n; i++) {
		lua_rawgeti(L, -2, (int)i + 1);
		out[i] = (__u64)lutil_check_int(L, 2, key, luaL_checknumber(L, -1), 0, LUTIL_U64_END);
		lua_pop(L, 1);
	}
	return out;
}

/* { funcs = {…} | func = | pattern =, cookies = {…}, retprobe =, session = } or, with a
 * path, { symbols = {…} | symbol = | offsets = {…} | pattern =, cookies =, pid =, … }. */
struct ayac_link *lattach_multi(lua_State *L, struct ayac_prog *prog)
{
	struct ayac_kprobe_multi_opts k;
	struct ayac_uprobe_multi_opts u;
	size_t n = 0, cn;
	enum bpf_attach_type t = ayac_prog_attach_type(prog);
	bool session = t == 56 || t == 57;

	if (!has_field(L, 2, "path")) {
		memset(&k, 0, sizeof(k));
		k.pattern = lutil_opt_string(L, 2, "pattern", NULL);
		k.funcs = k.pattern ? NULL : string_array(L, "funcs", "func", &n);
		k.cnt = n;
		k.cookies = u64_array(L, "cookies", n, &cn);
		k.retprobe = lutil_opt_bool(L, 2, "retprobe", false);
		k.session = lutil_opt_bool(L, 2, "session", session);
		return ayac_attach_kprobe_multi(prog, &k);
	}
	memset(&u, 0, sizeof(u));
	u.path = lutil_opt_string(L, 2, "path", NULL);
	u.pattern = lutil_opt_string(L, 2, "pattern", NULL);
	if (!u.pattern) {
		u.offsets = u64_array(L, "offsets", 0, &n);
		if (!u.offsets)
			u.symbols = string_array(L, "symbols", "symbol", &n);
	}
	u.cnt = n;
	u.cookies = u64_array(L, "cookies", n, &cn);
	u.pid = (int)lutil_opt_int(L, 2, "pid", -1, -1, 2147483647.0);
	u.retprobe = lutil_opt_bool(L, 2, "retprobe", false);
	u.session = lutil_opt_bool(L, 2, "session", session);
	return ayac_attach_uprobe_multi(prog, &u);
}
