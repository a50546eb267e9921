/* Reading iterator links: link:read() (the whole output) and link:lines() (an iterator
 * over its lines, holding one chunk at a time). Each call starts a new read of the
 * iterator (BPF_ITER_CREATE), so the program runs again and sees the current state. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ayac/ayac.h>
#include "lutil.h"

#define CHUNK (64 * 1024)
#define READER "ayac.iter_reader"

/* read() that retries on EINTR; -errno on failure. */
static ssize_t read_some(int fd, char *buf, size_t size)
{
	ssize_t n;

	do
		n = read(fd, buf, size);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static int link_read(lua_State *L)
{
	struct ayac_link *link = lbind_check(L, 1, LBIND_LINK);
	luaL_Buffer b;
	ssize_t n;
	int fd = ayac_link_iter_open(link);

	if (fd < 0)
		return lbind_fail(L);
	luaL_buffinit(L, &b);
	for (;;) {
		char *p = luaL_prepbuffer(&b);
		n = read_some(fd, p, LUAL_BUFFERSIZE);
		if (n <= 0)
			break;
		luaL_addsize(&b, (size_t)n);
	}
	close(fd);
	if (n < 0)
		return lutil_fail(L, (int)-n, "read %s link: %s", ayac_link_kind(link),
				  strerror((int)-n));
	luaL_pushresult(&b);
	return 1;
}

struct reader {
	int fd;
	char *buf;
	size_t len, pos, cap;
	bool eof;
};

static int reader_gc(lua_State *L)
{
	struct reader *r = luaL_checkudata(L, 1, READER);

	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	free(r->buf);
	r->buf = NULL;
	return 0;
}

/* Reads another chunk after what is left; false at the end. Raises on read errors. */
static bool reader_fill(lua_State *L, struct reader *r)
{
	ssize_t n;

	if (r->eof)
		return false;
	if (r->pos) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	if (r->cap - r->len < CHUNK) {
		char *grown = realloc(r->buf, r->cap + CHUNK);
		if (!grown)
			luaL_error(L, "iterator lines: out of memory");
		r->buf = grown;
		r->cap += CHUNK;
	}
	n = read_some(r->fd, r->buf + r->len, r->cap - r->len);
	if (n < 0)
		luaL_error(L, "iterator lines: read: %s", strerror((int)-n));
	if (n == 0) {
		r->eof = true;
		close(r->fd);
		r->fd = -1;
		return false;
	}
	r->len += (size_t)n;
	return true;
}

static int reader_next(lua_State *L)
{
	struct reader *r = luaL_checkudata(L, lua_upvalueindex(1), READER);
	size_t scanned = 0;
	char *nl;

	for (;;) {
		nl = r->len > r->pos + scanned ?
		     memchr(r->buf + r->pos + scanned, '\n', r->len - r->pos - scanned) : NULL;
		if (nl) {
			lua_pushlstring(L, r->buf + r->pos, (size_t)(nl - (r->buf + r->pos)));
			r->pos = (size_t)(nl - r->buf) + 1;
			return 1;
		}
		scanned = r->len - r->pos;
		if (!reader_fill(L, r))
			break;
	}
	if (r->len > r->pos) { /* a last line without a newline */
		lua_pushlstring(L, r->buf + r->pos, r->len - r->pos);
		r->pos = r->len;
		return 1;
	}
	lua_pushnil(L);
	return 1;
}

static int link_lines(lua_State *L)
{
	struct ayac_link *link = lbind_check(L, 1, LBIND_LINK);
	struct reader *r;
	int fd = ayac_link_iter_open(link);

	if (fd < 0)
		return lbind_fail(L);
	r = lua_newuserdata(L, sizeof(*r));
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	luaL_getmetatable(L, READER);
	lua_setmetatable(L, -2);
	lua_pushcclosure(L, reader_next, 1);
	return 1;
}

void lbind_open_iter(lua_State *L, int module_idx)
{
	luaL_newmetatable(L, READER);
	lua_pushcfunction(L, reader_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	lua_getfield(L, module_idx, "methods");
	lua_getfield(L, -1, "link");
	lua_pushcfunction(L, link_read);
	lua_setfield(L, -2, "read");
	lua_pushcfunction(L, link_lines);
	lua_setfield(L, -2, "lines");
	lua_pop(L, 2);
}
