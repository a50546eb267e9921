/* prog:attach(target) for perf_event programs and iterators: the target table into the
 * core's options. */
#include <errno.h>
#include <string.h>

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
