/* Line editing for the REPL on a terminal, with libedit (BSD licensed, so it can be
 * linked into GPL-2.0-only ayac; GNU readline is GPL-3.0+, which GPL-2.0-only code
 * cannot be combined with). Emacs keys, history kept in
 * $XDG_STATE_HOME/ayac/history (~/.local/state/ayac/history), Tab completion answered
 * by lua/ayac/repl.lua.
 *
 * Ctrl-C while editing clears the line: the terminal's ISIG is off in edit mode, so ^C
 * arrives as a key bound to clear_line() instead of as SIGINT (while a line runs,
 * ISIG is on again and Ctrl-C interrupts the Lua code, as in scripts). Ctrl-D on an
 * empty line ends the session. */
#include <errno.h>
#include <histedit.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#include "host.h"

#define HISTORY_SIZE 1000
#define LIST_WIDTH 80

struct host_edit {
	EditLine *el;
	History *hist;
	lua_State *L;
	char history_path[PATH_MAX];
	const char *prompt;
	bool cleared;
};

static volatile sig_atomic_t resized;

static void on_winch(int sig)
{
	(void)sig;
	resized = 1;
}

static char *prompt_of(EditLine *el)
{
	struct host_edit *e = NULL;

	el_get(el, EL_CLIENTDATA, &e);
	return (char *)(e && e->prompt ? e->prompt : "> ");
}

/* ^C: note it, show "^C" at the end of the line and end it as Enter would (a newline
 * fed back as input, so libedit moves to the next line itself); the REPL drops what
 * was typed. */
static unsigned char clear_line(EditLine *el, int ch)
{
	struct host_edit *e = NULL;
	const LineInfo *li = el_line(el);

	(void)ch;
	el_get(el, EL_CLIENTDATA, &e);
	if (e)
		e->cleared = true;
	el_cursor(el, (int)(li->lastchar - li->cursor));
	el_insertstr(el, "^C");
	el_push(el, "\n");
	return CC_REFRESH;
}

/* The candidates under the line, in columns. */
static void list_candidates(lua_State *L, int idx, FILE *out)
{
	size_t i, n = lua_objlen(L, idx), width = 0, cols, col = 0;

	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, idx, (int)i);
		if (lua_objlen(L, -1) > width)
			width = lua_objlen(L, -1);
		lua_pop(L, 1);
	}
	width += 2;
	cols = width < LIST_WIDTH ? LIST_WIDTH / width : 1;
	fputc('\n', out);
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, idx, (int)i);
		fprintf(out, "%-*s", (int)width, lua_tostring(L, -1));
		lua_pop(L, 1);
		if (++col == cols || i == n) {
			fputc('\n', out);
			col = 0;
		}
	}
}

/* Tab: ayac.repl.complete(text before the cursor) -> delete, insert, list. */
static unsigned char complete(EditLine *el, int ch)
{
	struct host_edit *e = NULL;
	const LineInfo *li = el_line(el);
	unsigned char ret = CC_REFRESH;
	lua_State *L;
	int top;

	(void)ch;
	el_get(el, EL_CLIENTDATA, &e);
	if (!e)
		return CC_ERROR;
	L = e->L;
	top = lua_gettop(L);
	lua_getglobal(L, "require");
	lua_pushliteral(L, "ayac.repl");
	if (lua_pcall(L, 1, 1, 0) != 0)
		goto out;
	lua_getfield(L, -1, "complete");
	lua_pushlstring(L, li->buffer, (size_t)(li->cursor - li->buffer));
	if (lua_pcall(L, 1, 3, 0) != 0)
		goto out;
	if (lua_tointeger(L, -3) > 0)
		el_deletestr(el, (int)lua_tointeger(L, -3));
	if (lua_tostring(L, -2) && *lua_tostring(L, -2))
		el_insertstr(el, lua_tostring(L, -2));
	if (lua_istable(L, -1)) {
		list_candidates(L, lua_gettop(L), stdout);
		ret = CC_REDISPLAY;
	}
out:
	lua_settop(L, top);
	return ret;
}

/* $XDG_STATE_HOME/ayac/history, or ~/.local/state/ayac/history; the folders made. */
static bool history_path(char *out, size_t cap)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char dir[PATH_MAX], *p;
	int n;

	if (state && *state)
		n = snprintf(dir, sizeof(dir), "%s/ayac", state);
	else if (home && *home)
		n = snprintf(dir, sizeof(dir), "%s/.local/state/ayac", home);
	else
		return false;
	if (n < 0 || (size_t)n >= sizeof(dir) || snprintf(out, cap, "%s/history", dir) >= (int)cap)
		return false;
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(dir, 0700);
		*p = '/';
	}
	return mkdir(dir, 0700) == 0 || errno == EEXIST;
}

struct host_edit *host_edit_open(lua_State *L)
{
	struct host_edit *e = calloc(1, sizeof(*e));
	HistEvent ev;

	if (!e)
		return NULL;
	e->L = L;
	e->el = el_init("ayac", stdin, stdout, stderr);
	e->hist = history_init();
	if (!e->el || !e->hist) {
		host_edit_close(e);
		return NULL;
	}
	history(e->hist, &ev, H_SETSIZE, HISTORY_SIZE);
	history(e->hist, &ev, H_SETUNIQUE, 1);
	el_set(e->el, EL_CLIENTDATA, e);
	el_set(e->el, EL_EDITOR, "emacs");
	el_set(e->el, EL_PROMPT, prompt_of);
	el_set(e->el, EL_HIST, history, e->hist);
	el_set(e->el, EL_SETTY, "-d", "-isig", NULL);
	el_set(e->el, EL_ADDFN, "ayac-complete", "complete a name", complete);
	el_set(e->el, EL_ADDFN, "ayac-clear", "clear the line", clear_line);
	el_set(e->el, EL_BIND, "^I", "ayac-complete", NULL);
	el_set(e->el, EL_BIND, "^C", "ayac-clear", NULL);
	el_source(e->el, NULL); /* ~/.editrc, as other libedit programs */
	if (history_path(e->history_path, sizeof(e->history_path)))
		history(e->hist, &ev, H_LOAD, e->history_path);
	else
		e->history_path[0] = '\0';
	signal(SIGWINCH, on_winch);
	return e;
}

int host_edit_read(struct host_edit *e, const char *prompt, char **line)
{
	const char *s;
	int count = 0;
	size_t len;

	if (resized) {
		resized = 0;
		el_resize(e->el);
	}
	e->prompt = prompt;
	e->cleared = false;
	s = el_gets(e->el, &count);
	if (e->cleared)
		return -1;
	if (!s || count <= 0)
		return 0;
	len = strlen(s);
	if (len && s[len - 1] == '\n')
		len--;
	*line = strndup(s, len);
	return *line ? 1 : 0;
}

void host_edit_remember(struct host_edit *e, const char *text)
{
	HistEvent ev;

	if (!text || !*text)
		return;
	history(e->hist, &ev, H_ENTER, text);
	if (e->history_path[0])
		history(e->hist, &ev, H_SAVE, e->history_path);
}

void host_edit_close(struct host_edit *e)
{
	if (!e)
		return;
	if (e->el)
		el_end(e->el);
	if (e->hist)
		history_end(e->hist);
	free(e);
}
