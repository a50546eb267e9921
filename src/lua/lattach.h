/* Attach target tables of the program kinds in lattach_trace.c (perf_event, iter, usdt,
 * multi-probes, freplace), parsed into the core's options. Each reads the table at
 * stack index 2 and returns the core's link, or NULL with the core's error set. */
#ifndef AYAC_LATTACH_H
#define AYAC_LATTACH_H

#include "lutil.h"

struct ayac_prog;
struct ayac_link;

struct ayac_link *lattach_perf_event(lua_State *L, struct ayac_prog *prog);
struct ayac_link *lattach_iter(lua_State *L, struct ayac_prog *prog);
struct ayac_link *lattach_usdt(lua_State *L, struct ayac_prog *prog);
struct ayac_link *lattach_freplace(lua_State *L, struct ayac_prog *prog);
/* kprobe programs: is the table (or the program's section) a multi-probe attach? */
bool lattach_is_multi(lua_State *L, struct ayac_prog *prog);
struct ayac_link *lattach_multi(lua_State *L, struct ayac_prog *prog);

#endif
