/* The REPL: `ayac` on a terminal, or `ayac -i`. A line is tried as an expression first
 * ("return <line>", so values print as with luajit -i), then as a statement; input that
 * ends before the chunk does ('<eof>') is continued on the next line. Results print with
 * ayac.print. On a terminal lines are edited with libedit (edit.c): history, Tab
 * completion, Ctrl-C clearing the line; otherwise they are read as they come. */
#include <stdio.h>
#include <stdlib.h>
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

enum { LINE_CLEARED = -1, LINE_EOF = 0, LINE_OK = 1 };

/* Push the next line (without its newline): LINE_OK, LINE_EOF at end of input,
 * LINE_CLEARED when Ctrl-C dropped it (nothing pushed then). */
static int read_line(lua_State *L, struct host_edit *e, bool first)
{
	char buf[LINE_MAX_LEN], *line;
	luaL_Buffer b;
	size_t len;
	bool got = false;
	int r;

	if (e) {
		r = host_edit_read(e, prompt(L, first), &line);
		if (r == LINE_OK) {
			lua_pushstring(L, line);
			free(line);
		}
		return r;
	}
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
	return got ? LINE_OK : LINE_EOF;
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
 * parses, else as is. Replaces the source with the function or an error message. An
 * expression cut short ("1 +") is incomplete as an expression even when the statement
 * form fails differently, so it continues on the next line. */
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
	if (status != 0 && !incomplete(L, status)) {
		lua_pop(L, 1);
		src = lua_tolstring(L, -1, &len);
		status = luaL_loadbuffer(L, src, len, "=stdin");
	}
	lua_remove(L, -2);
	return status;
}

enum { CHUNK_EOF = -1, CHUNK_CLEARED = -2 };

/* Read lines until they make a whole chunk; pushes its source, then a function or an
 * error message, and returns the load status; CHUNK_EOF at end of input and
 * CHUNK_CLEARED after Ctrl-C (nothing pushed). */
static int load_chunk(lua_State *L, struct host_edit *e)
{
	int status, r = read_line(L, e, true);

	if (r != LINE_OK)
		return r == LINE_EOF ? CHUNK_EOF : CHUNK_CLEARED;
	if (lua_tostring(L, -1)[0] == '=') { /* Lua 5.1's "=expr" */
		lua_pushstring(L, lua_tostring(L, -1) + 1);
		lua_remove(L, -2);
	}
	for (;;) {
		lua_pushvalue(L, -1);
		status = compile(L); /* src, fn|err */
		if (!incomplete(L, status))
			break;
		r = read_line(L, e, false); /* src, err, line */
		if (r == LINE_EOF)
			break; /* report the error about the unfinished chunk */
		if (r == LINE_CLEARED) {
			lua_pop(L, 2);
			return CHUNK_CLEARED;
		}
		lua_remove(L, -2); /* src, line */
		lua_pushliteral(L, "\n");
		lua_insert(L, -2);
		lua_concat(L, 3);
	}
	return status;
}

/* Call ayac.repl.<fn> with the nargs values on top (consumed); false when it failed. */
static bool call_repl(lua_State *L, const char *fn, int nargs, int nres)
{
	lua_getglobal(L, "require");
	lua_pushliteral(L, "ayac.repl");
	if (lua_pcall(L, 1, 1, 0) != 0 || !lua_istable(L, -1)) {
		lua_pop(L, 1 + nargs);
		return false;
	}
	lua_getfield(L, -1, fn);
	lua_remove(L, -2);
	lua_insert(L, -1 - nargs);
	if (lua_pcall(L, nargs, nres, 0) != 0) {
		lua_pop(L, 1);
		return false;
	}
	return true;
}

/* The chunk's source into the history: one line when ayac.repl says the lines can be
 * joined, else each line. */
static void remember(lua_State *L, struct host_edit *e, int src_idx)
{
	const char *src = lua_tostring(L, src_idx), *p, *nl;
	int top = lua_gettop(L);

	if (!e || !src)
		return;
	lua_pushvalue(L, src_idx);
	if (call_repl(L, "history_text", 1, 1) && lua_isstring(L, -1)) {
		host_edit_remember(e, lua_tostring(L, -1));
		lua_settop(L, top);
		return;
	}
	lua_settop(L, top);
	for (p = src; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		lua_pushlstring(L, p, nl ? (size_t)(nl - p) : strlen(p));
		host_edit_remember(e, lua_tostring(L, -1));
		lua_pop(L, 1);
		if (!nl)
			break;
	}
}

static void print_results(lua_State *L, int base)
{
	int n = lua_gettop(L) - base;

	if (n <= 0)
		return;
	if (call_repl(L, "print_results", n, 0))
		return;
	fprintf(stderr, "ayac: error printing the results\n");
}

void host_repl(lua_State *L)
{
	struct host_edit *e = isatty(STDIN_FILENO) ? host_edit_open(L) : NULL;
	int status, base = lua_gettop(L);

	while ((status = load_chunk(L, e)) != CHUNK_EOF) {
		if (status == CHUNK_CLEARED) {
			host_clear_interrupt();
			continue;
		}
		remember(L, e, base + 1);
		lua_remove(L, base + 1); /* the source */
		if (status == 0)
			status = host_docall(L, 0, LUA_MULTRET);
		if (status == 0)
			print_results(L, base);
		else
			host_report(L, status);
		host_clear_interrupt(); /* Ctrl-C ends the line, not the session */
		lua_settop(L, base);
	}
	host_edit_close(e);
	if (isatty(STDIN_FILENO))
		fputc('\n', stdout);
	fflush(stdout);
}
