/* ayac.capabilities(): what this process may do with BPF (caps.c), for embedders that
 * want to say so before loading — an nginx master checking it is privileged, a service
 * explaining which capability its unit file lacks. */
#include <ayac/ayac.h>
#include "lbind.h"

/* { uid=, euid=, root=, cap_bpf=, cap_perfmon=, cap_net_admin=, cap_sys_admin=,
 *   bpf=, tracing=, networking=, unprivileged_bpf_disabled= } | nil, msg, code */
static int l_capabilities(lua_State *L)
{
	struct ayac_caps c;
	size_t i;

	if (ayac_caps_get(&c) < 0)
		return lbind_fail(L);
	const struct { const char *name; bool v; } flags[] = {
		{ "root", c.euid == 0 },       { "cap_bpf", c.cap_bpf },
		{ "cap_perfmon", c.cap_perfmon }, { "cap_net_admin", c.cap_net_admin },
		{ "cap_sys_admin", c.cap_sys_admin }, { "bpf", c.bpf },
		{ "tracing", c.tracing },      { "networking", c.networking },
	};
	lua_createtable(L, 0, 12);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		lua_pushboolean(L, flags[i].v);
		lua_setfield(L, -2, flags[i].name);
	}
	lua_pushinteger(L, c.uid);
	lua_setfield(L, -2, "uid");
	lua_pushinteger(L, c.euid);
	lua_setfield(L, -2, "euid");
	lua_pushinteger(L, c.unprivileged_bpf_disabled);
	lua_setfield(L, -2, "unprivileged_bpf_disabled");
	return 1;
}

void lbind_open_caps(lua_State *L, int module_idx)
{
	lua_pushcfunction(L, l_capabilities);
	lua_setfield(L, module_idx, "capabilities");
}
