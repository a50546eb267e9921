/* The REPL: `ayac` on a terminal, or `ayac -i`. A line is tried as an expression first
 * ("return <line>", so values print as with luajit -i), then as a statement; input that
 * ends before the chunk does ('<eof>') is continued on the next line. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "host.h"

#define LINE_MAX_LEN 4096

static const char *prompt(lua_State *L, bool first)
{
	const char *p;

	lua_getglobal(L, first ? "_PROMPT" : "_PROMPT2");
	p = lua_tostring(L, -1);
	lua_pop(L, 1);
	return p ? p : (first ? "> " : ">> ");
}

/* Push the next line (without its newline); false at end of input. */
static bool read_line(lua_State *L, bool first)
{
	char buf[LINE_MAX_LEN];
	luaL_Buffer b;
	size_t len;
	bool got = false;

	if (isatty(STDIN_FILENO)) {
		fputs(prompt(L, first), stdout);
		fflush(stdout);
	}
	luaL_buffinit(L, &b);
	while (fgets(buf, sizeof(buf), stdin)) {
		got = true;
		len = strlen(buf);
		if (len && buf[len - 1] == '\n') {
			luaL_addlstring(&b, buf, len - 1);
			break;
		}
		luaL_addlstring(&b, buf, len);
	}
	luaL_pushresult(&b);
	if (!got)
		lua_pop(L, 1);
	return got;
}

static bool incomplete(lua_State *L, int status)
{
	static const char eof_mark[] = "'<eof>'";
	size_t len;
	const char *msg;

	if (status != LUA_ERRSYNTAX)
		return false;
	msg = lua_tolstring(L, -1, &len);
	return len >= sizeof(eof_mark) - 1 &&
	       strcmp(msg + len - (sizeof(eof_mark) - 1), eof_mark) == 0;
}

/* Compile the chunk in the source string at the top: as "return <src>" when that
 * parses, else as is. Replaces the source with the function or an error message. */
static int compile(lua_State *L)
{
	size_t len;
	const char *src;
	int status;

	lua_pushliteral(L, "return ");
	lua_pushvalue(L, -2);
	lua_concat(L, 2);
	src = lua_tolstring(L, -1, &len);
	status = luaL_loadbuffer(L, src, len, "=stdin"); /* src, "return src", fn|err */
	lua_remove(L, -2);
	if (status != 0) {
		lua_pop(L, 1);
		src = lua_tolstring(L, -1, &len);
		status = luaL_loadbuffer(L, src, len, "=stdin");
	}
	lua_remove(L, -2);
	return status;
}

/* Read lines until they make a whole chunk; pushes a function or an error message.
 * Returns -1 at end of input (nothing pushed). */
static int load_chunk(lua_State *L)
{
	int status;

	if (!read_line(L, true))
		return -1;
	if (lua_tostring(L, -1)[0] == '=') { /* Lua 5.1's "=expr" */
		lua_pushstring(L, lua_tostring(L, -1) + 1);
		lua_remove(L, -2);
	}
	for (;;) {
		lua_pushvalue(L, -1);
		status = compile(L); /* src, fn|err */
		if (!incomplete(L, status) || !read_line(L, false))
			break;
		lua_remove(L, -2); /* src, next line */
		lua_pushliteral(L, "\n");
		lua_insert(L, -2);
		lua_concat(L, 3);
	}
	lua_remove(L, -2);
	return status;
}

static void print_results(lua_State *L, int base)
{
	int n = lua_gettop(L) - base;

	if (n <= 0)
		return;
	lua_getglobal(L, "print");
	lua_insert(L, base + 1);
	if (lua_pcall(L, n, 0, 0) != 0) {
		fprintf(stderr, "ayac: error calling print (%s)\n", lua_tostring(L, -1));
		lua_pop(L, 1);
	}
}

void host_repl(lua_State *L)
{
	int status, base = lua_gettop(L);

	while ((status = load_chunk(L)) != -1) {
		if (status == 0)
			status = host_docall(L, 0, LUA_MULTRET);
		if (status == 0)
			print_results(L, base);
		else
			host_report(L, status);
		host_clear_interrupt(); /* Ctrl-C ends the line, not the session */
		lua_settop(L, base);
	}
	if (isatty(STDIN_FILENO))
		fputc('\n', stdout);
	fflush(stdout);
}
