/* prog:attach(target) for the programs that need a target the section name cannot
 * hold: XDP and TC on an interface, cgroups, sockets, socket maps, network namespaces,
 * netfilter hooks, lirc devices. Reads the target table (a wrong type raises; a value
 * the kernel cannot take, such as an unknown interface, direction or mode, is the
 * usual nil, message, code) and calls the core's attach function (src/core/attach). */
#include <errno.h>
#include <string.h>

#include <ayac/ayac.h>
#include "lutil.h"

#define TARGET 2 /* the target table's stack index */
#define NETKIT_PRIMARY 54 /* BPF_NETKIT_PRIMARY, BPF_NETKIT_PEER (Linux 6.7) */
#define NETKIT_PEER 55
#define PROG_TYPE_NETFILTER (BPF_PROG_TYPE_SYSCALL + 1)

/* A string option that must be one of names (index returned), -1 when absent; an
 * unknown name sets the error and returns -2. */
static int opt_enum(lua_State *L, const char *key, const char *const *names, int n,
		    const char *expected)
{
	const char *s = lutil_opt_string(L, TARGET, key, NULL);
	int i;

	if (!s)
		return -1;
	for (i = 0; i < n; i++)
		if (names[i] && strcmp(s, names[i]) == 0)
			return i;
	ayac_seterr(EINVAL, "bad %s '%s': %s", key, s, expected);
	return -2;
}

/* A handle of type tname in field key, or NULL when absent. */
static void *opt_handle(lua_State *L, const char *key, const char *tname)
{
	void *p = NULL;

	lua_getfield(L, TARGET, key);
	if (!lua_isnil(L, -1)) {
		lbind_box *box = luaL_testudata(L, -1, tname);

		if (!box || !box->ptr)
			luaL_argerror(L, TARGET, lua_pushfstring(L, "%s: %s handle expected", key,
								 tname));
		p = box->ptr;
	}
	lua_pop(L, 1);
	return p;
}

/* ifname = "…" or ifindex = n; neither raises. */
static void opt_interface(lua_State *L, const char **ifname, int *ifindex)
{
	*ifname = lutil_opt_string(L, TARGET, "ifname", NULL);
	*ifindex = (int)lutil_opt_int(L, TARGET, "ifindex", 0, 1, 2147483647.0);
	if (!*ifname && !*ifindex)
		luaL_argerror(L, TARGET, "ifname (string) or ifindex (number) expected");
}

/* A path (string) or an fd (number) in field key; false when absent. */
static bool opt_path_or_fd(lua_State *L, const char *key, const char **path, int *fd)
{
	*path = NULL;
	*fd = -1;
	lua_getfield(L, TARGET, key);
	if (lua_type(L, -1) == LUA_TSTRING)
		*path = lua_tostring(L, -1); /* the table keeps it alive */
	else if (lua_type(L, -1) == LUA_TNUMBER)
		*fd = (int)lutil_check_int(L, TARGET, key, lua_tonumber(L, -1), 0, 2147483647.0);
	else if (!lua_isnil(L, -1))
		luaL_argerror(L, TARGET, lua_pushfstring(L, "%s: path or fd expected", key));
	lua_pop(L, 1);
	return *path || *fd >= 0;
}

static struct ayac_link *attach_xdp(lua_State *L, struct ayac_prog *prog)
{
	static const char *const modes[] = { NULL, "skb", "drv", "hw" };
	struct ayac_xdp_opts o;
	int mode;

	memset(&o, 0, sizeof(o));
	opt_interface(L, &o.ifname, &o.ifindex);
	o.replace = opt_handle(L, "replace", LBIND_PROG);
	o.netlink = lutil_opt_bool(L, TARGET, "netlink", false);
	mode = opt_enum(L, "mode", modes, 4, "\"skb\", \"drv\" or \"hw\"");
	if (mode == -2)
		return NULL;
	o.mode = mode < 0 ? AYAC_XDP_AUTO : (enum ayac_xdp_mode)mode;
	return ayac_attach_xdp(prog, &o);
}

/* before = / after = : a program, a link, or true (first / last). */
static bool opt_relative(lua_State *L, const char *key, enum ayac_rel where,
			 struct ayac_tc_opts *o)
{
	lua_getfield(L, TARGET, key);
	if (lua_isnil(L, -1) || (lua_isboolean(L, -1) && !lua_toboolean(L, -1))) {
		lua_pop(L, 1);
		return false;
	}
	if (o->where != AYAC_REL_NONE)
		luaL_argerror(L, TARGET, "before and after are exclusive");
	o->where = where;
	o->relative_fd = -1;
	if (luaL_testudata(L, -1, LBIND_PROG)) {
		o->relative_fd = ayac_prog_fd(lbind_check(L, lua_gettop(L), LBIND_PROG));
	} else if (luaL_testudata(L, -1, LBIND_LINK)) {
		o->relative_fd = ayac_link_fd(lbind_check(L, lua_gettop(L), LBIND_LINK));
		o->relative_is_link = true;
	} else if (!lua_isboolean(L, -1)) {
		luaL_argerror(L, TARGET, lua_pushfstring(L, "%s: program, link or true expected",
							 key));
	}
	lua_pop(L, 1);
	return true;
}

static struct ayac_link *attach_tc(lua_State *L, struct ayac_prog *prog)
{
	static const char *const dirs[] = { "ingress", "egress" };
	static const char *const kits[] = { "primary", "peer" };
	struct ayac_tc_opts o;
	int dir, kit, at = ayac_prog_attach_type(prog);

	memset(&o, 0, sizeof(o));
	opt_interface(L, &o.ifname, &o.ifindex);
	o.handle = (__u32)lutil_opt_int(L, TARGET, "handle", 0, 0, LUTIL_U32_MAX);
	o.priority = (__u32)lutil_opt_int(L, TARGET, "priority", 0, 0, 65535);
	o.netlink = lutil_opt_bool(L, TARGET, "netlink", false);
	o.relative_fd = -1;
	if (!opt_relative(L, "before", AYAC_REL_BEFORE, &o))
		opt_relative(L, "after", AYAC_REL_AFTER, &o);
	dir = opt_enum(L, "direction", dirs, 2, "\"ingress\" or \"egress\"");
	kit = opt_enum(L, "netkit", kits, 2, "\"primary\" or \"peer\"");
	if (dir == -2 || kit == -2)
		return NULL;
	if (kit < 0 && (at == NETKIT_PRIMARY || at == NETKIT_PEER))
		kit = at == NETKIT_PEER;
	if (kit >= 0)
		return ayac_attach_netkit(prog, &o, kit == 1);
	o.direction = dir < 0 ? AYAC_TC_FROM_PROG : (enum ayac_tc_dir)dir;
	return ayac_attach_tc(prog, &o);
}

static struct ayac_link *attach_cgroup(lua_State *L, struct ayac_prog *prog)
{
	static const char *const modes[] = { NULL, "multi", "override", "single" };
	struct ayac_cgroup_opts o;
	const char *type;
	int mode;

	memset(&o, 0, sizeof(o));
	if (!opt_path_or_fd(L, "cgroup", &o.path, &o.fd))
		luaL_argerror(L, TARGET, "cgroup (path or fd) expected");
	o.attach_type = -1;
	type = lutil_opt_string(L, TARGET, "attach_type", NULL);
	if (type && (o.attach_type = ayac_attach_type_by_name(type)) < 0) {
		ayac_seterr(EINVAL, "unknown attach_type '%s'", type);
		return NULL;
	}
	mode = opt_enum(L, "mode", modes, 4, "\"multi\", \"override\" or \"single\"");
	if (mode == -2)
		return NULL;
	o.mode = mode < 0 ? AYAC_CGROUP_DEFAULT : (enum ayac_cgroup_mode)mode;
	return ayac_attach_cgroup(prog, &o);
}

/* Userdata without a metatable cannot be indexed (it would raise). */
static bool indexable(lua_State *L, int idx)
{
	if (lua_type(L, idx) == LUA_TTABLE)
		return true;
	if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx))
		return false;
	lua_pop(L, 1);
	return true;
}

/* socket = fd, or an object with getfd() (LuaSocket, luaposix) or fd(). */
static int socket_fd(lua_State *L)
{
	lua_getfield(L, TARGET, "socket");
	if (lua_type(L, -1) == LUA_TNUMBER)
		return (int)lutil_check_int(L, TARGET, "socket", lua_tonumber(L, -1), 0, 2147483647.0);
	if (indexable(L, -1)) {
		lua_getfield(L, -1, "getfd");
		if (lua_isnil(L, -1)) {
			lua_pop(L, 1);
			lua_getfield(L, -1, "fd");
		}
		if (lua_isfunction(L, -1)) {
			lua_pushvalue(L, -2);
			lua_call(L, 1, 1);
			if (lua_type(L, -1) == LUA_TNUMBER)
				return (int)lutil_check_int(L, TARGET, "socket:getfd()",
							    lua_tonumber(L, -1), 0, 2147483647.0);
		}
	}
	return luaL_argerror(L, TARGET, "socket: fd or object with getfd() expected");
}

static struct ayac_link *attach_netns(lua_State *L, struct ayac_prog *prog)
{
	const char *path;
	int fd;

	opt_path_or_fd(L, "netns", &path, &fd);
	return ayac_attach_netns(prog, path, fd);
}

static struct ayac_link *attach_lirc(lua_State *L, struct ayac_prog *prog)
{
	const char *path;
	int fd;

	if (!opt_path_or_fd(L, "device", &path, &fd))
		luaL_argerror(L, TARGET, "device (path or fd) expected");
	return ayac_attach_lirc(prog, path, fd);
}

static struct ayac_link *attach_netfilter(lua_State *L, struct ayac_prog *prog)
{
	static const char *const hooks[] = { "pre_routing", "local_in", "forward", "local_out",
					     "post_routing" };
	struct ayac_netfilter_opts o;
	int hook;

	memset(&o, 0, sizeof(o));
	lua_getfield(L, TARGET, "pf");
	if (lua_type(L, -1) == LUA_TSTRING && !strcmp(lua_tostring(L, -1), "ipv4"))
		o.pf = 2;
	else if (lua_type(L, -1) == LUA_TSTRING && !strcmp(lua_tostring(L, -1), "ipv6"))
		o.pf = 10;
	else if (lua_type(L, -1) == LUA_TNUMBER)
		o.pf = (__u32)lutil_check_int(L, TARGET, "pf", lua_tonumber(L, -1), 0, 255);
	else
		luaL_argerror(L, TARGET, "pf: \"ipv4\", \"ipv6\" or a number expected");
	lua_pop(L, 1);
	lua_getfield(L, TARGET, "hooknum");
	hook = lua_type(L, -1) == LUA_TNUMBER ?
	       (int)lutil_check_int(L, TARGET, "hooknum", lua_tonumber(L, -1), 0, 4) :
	       opt_enum(L, "hooknum", hooks, 5, "pre_routing, local_in, forward, local_out or "
			"post_routing");
	lua_pop(L, 1);
	if (hook == -2)
		return NULL;
	if (hook == -1)
		luaL_argerror(L, TARGET, "hooknum expected");
	o.hooknum = (__u32)hook;
	o.priority = (__s32)lutil_opt_int(L, TARGET, "priority", 0, -2147483648.0, 2147483647.0);
	o.defrag = lutil_opt_bool(L, TARGET, "defrag", false);
	return ayac_attach_netfilter(prog, &o);
}

static const char *no_target_hint(int type)
{
	switch (type) {
	case BPF_PROG_TYPE_LWT_IN:
	case BPF_PROG_TYPE_LWT_OUT:
	case BPF_PROG_TYPE_LWT_XMIT:
	case BPF_PROG_TYPE_LWT_SEG6LOCAL:
		return " (a route takes them: pin the program and use `ip route … encap bpf "
		       "… pinned PATH`)";
	case BPF_PROG_TYPE_SYSCALL:
		return " (run them with prog:test_run{ ctx = … })";
	default:
		return "";
	}
}

static struct ayac_link *dispatch(lua_State *L, struct ayac_prog *prog, int type)
{
	switch (type) {
	case BPF_PROG_TYPE_XDP:
		return attach_xdp(L, prog);
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
		return attach_tc(L, prog);
	case BPF_PROG_TYPE_CGROUP_SKB:
	case BPF_PROG_TYPE_CGROUP_SOCK:
	case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
	case BPF_PROG_TYPE_CGROUP_DEVICE:
	case BPF_PROG_TYPE_CGROUP_SYSCTL:
	case BPF_PROG_TYPE_CGROUP_SOCKOPT:
	case BPF_PROG_TYPE_SOCK_OPS:
	case BPF_PROG_TYPE_LSM: /* lsm_cgroup: lprog.c sends the others to raw_tp */
		return attach_cgroup(L, prog);
	case BPF_PROG_TYPE_SOCKET_FILTER:
	case BPF_PROG_TYPE_SK_REUSEPORT:
		return ayac_attach_socket(prog, socket_fd(L));
	case BPF_PROG_TYPE_SK_LOOKUP:
	case BPF_PROG_TYPE_FLOW_DISSECTOR:
		return attach_netns(L, prog);
	case BPF_PROG_TYPE_SK_MSG:
	case BPF_PROG_TYPE_SK_SKB:
		lua_getfield(L, TARGET, "map");
		if (lua_isnil(L, -1))
			luaL_argerror(L, TARGET, "map (a sockmap or sockhash) expected");
		lua_pop(L, 1);
		return ayac_attach_sockmap(prog, opt_handle(L, "map", LBIND_MAP));
	case BPF_PROG_TYPE_LIRC_MODE2:
		return attach_lirc(L, prog);
	case PROG_TYPE_NETFILTER:
		return attach_netfilter(L, prog);
	default:
		ayac_seterr(EOPNOTSUPP, "program '%s': %s programs have no attach target in "
			    "ayac%s", ayac_prog_name(prog), ayac_prog_type_name(type) ?
			    ayac_prog_type_name(type) : "these", no_target_hint(type));
		return NULL;
	}
}

struct ayac_link *lattach_target(lua_State *L, struct ayac_prog *prog)
{
	struct ayac_link *link;

	luaL_checktype(L, TARGET, LUA_TTABLE);
	link = dispatch(L, prog, ayac_prog_type(prog));
	/* A bad value read here (mode, direction…) has no context yet; the core's own
	 * errors start with "attach" or "program" already. */
	if (!link && strncmp(ayac_errmsg(), "attach ", 7) && strncmp(ayac_errmsg(), "program ", 8))
		ayac_errctx("attach %s for program '%s'", ayac_prog_type_name(ayac_prog_type(prog)) ?
			    ayac_prog_type_name(ayac_prog_type(prog)) : "?", ayac_prog_name(prog));
	return link;
}
