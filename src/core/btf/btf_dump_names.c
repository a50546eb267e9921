/* BTF to C: the output buffer, and names. C has one namespace for struct/union/enum
 * tags and another for ordinary identifiers (typedefs, enumerators); BTF may use a name
 * twice in either (two different "struct foo" that deduplication kept apart). The
 * first use keeps the name, later ones become name___2, name___3, ... as bpftool does. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sys/sys.h"
#include "btf_dump_priv.h"

/* ---- output buffer ---------------------------------------------------------------------- */

bool sb_reserve(struct sbuf *sb, size_t more)
{
	size_t cap = sb->cap ? sb->cap : 4096;
	char *p;

	if (sb->oom)
		return false;
	if (more >= SB_LIMIT - sb->len) {
		sb->too_big = true;
		goto oom;
	}
	while (cap - sb->len <= more)
		cap *= 2;
	p = realloc(sb->p, cap);
	if (!p)
		goto oom;
	sb->p = p;
	sb->cap = cap;
	return true;
oom:
	sb->oom = true;
	return false;
}

void sb_free(struct sbuf *sb)
{
	free(sb->p);
	memset(sb, 0, sizeof(*sb));
}

void sb_puts(struct sbuf *sb, const char *s)
{
	sb_put(sb, s, strlen(s));
}

void sb_u64(struct sbuf *sb, __u64 v)
{
	char tmp[24];
	int n = sizeof(tmp);

	do {
		tmp[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sb_put(sb, tmp + n, sizeof(tmp) - (size_t)n);
}

void sb_s64(struct sbuf *sb, __s64 v)
{
	if (v < 0) {
		sb_putc(sb, '-');
		sb_u64(sb, (__u64)0 - (__u64)v);
	} else {
		sb_u64(sb, (__u64)v);
	}
}

void sb_cstr(struct sbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			sb_putc(sb, '\\');
			sb_putc(sb, (char)c);
		} else if (c < 0x20 || c >= 0x7f) {
			char esc[4] = { '\\', (char)('0' + (c >> 6)), (char)('0' + ((c >> 3) & 7)),
					(char)('0' + (c & 7)) };
			sb_put(sb, esc, sizeof(esc));
		} else {
			sb_putc(sb, (char)c);
		}
	}
}

/* ---- name counts: open addressing over the BTF's own string pointers --------------------- */

static __u32 hash_str(const char *s)
{
	__u32 h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static bool name_map_grow(struct name_map *m)
{
	__u32 cap = m->cap ? m->cap * 2 : 1024, i;
	struct name_slot *slots;

	if (cap < m->cap)
		return false;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return false;
	for (i = 0; i < m->cap; i++) {
		struct name_slot *s = &m->slots[i];
		__u32 j;

		if (!s->name)
			continue;
		for (j = s->hash & (cap - 1); slots[j].name; j = (j + 1) & (cap - 1))
			;
		slots[j] = *s;
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return true;
}

__u32 name_map_bump(struct name_map *m, const char *name)
{
	__u32 h = hash_str(name), j;

	if ((m->used + 1) * 4 > m->cap * 3 && !name_map_grow(m))
		return 0;
	for (j = h & (m->cap - 1); m->slots[j].name; j = (j + 1) & (m->cap - 1)) {
		struct name_slot *s = &m->slots[j];

		if (s->hash == h && (s->name == name || strcmp(s->name, name) == 0))
			return ++s->count;
	}
	m->slots[j].name = name;
	m->slots[j].hash = h;
	m->slots[j].count = 1;
	m->used++;
	return 1;
}

void name_map_free(struct name_map *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

/* ---- names as written --------------------------------------------------------------------- */

void dump_indent(struct btf_dumper *d, int lvl)
{
	static const char tabs[] = "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t";

	if (lvl > (int)sizeof(tabs) - 1)
		lvl = (int)sizeof(tabs) - 1;
	if (lvl > 0)
		sb_put(&d->out, tabs, (size_t)lvl);
}

static void put_suffixed(struct btf_dumper *d, const char *name, __u32 n)
{
	sb_puts(&d->out, name);
	if (n > 1) {
		sb_put(&d->out, "___", 3);
		sb_u64(&d->out, n);
	}
}

/* The number a type's name gets: its first use decides it, later uses repeat it. */
static __u32 resolve(struct btf_dumper *d, __u32 id, struct name_map *map)
{
	const struct btf_type *t;
	__u16 kind;
	__u32 n;

	if (d->state[id] & ST_NAMED)
		return d->dup[id];
	t = dump_type(d, id);
	kind = btf_kind_of(t);
	/* A forward declaration names whatever the full definition is called. */
	if (kind == BTF_KIND_FWD || (kind == BTF_KIND_ENUM && btf_vlen_of(t) == 0)) {
		n = 1;
	} else {
		n = name_map_bump(map, dump_str(d, t->name_off));
		if (!n) {
			dump_fail(d, -ENOMEM, "out of memory for type names");
			n = 1;
		}
	}
	d->dup[id] = n;
	d->state[id] |= ST_NAMED;
	return n;
}

void dump_type_name(struct btf_dumper *d, __u32 id)
{
	put_suffixed(d, dump_str(d, dump_type(d, id)->name_off), resolve(d, id, &d->type_names));
}

__u32 dump_ident_dup(struct btf_dumper *d, __u32 id)
{
	return resolve(d, id, &d->ident_names);
}

void dump_ident_name(struct btf_dumper *d, __u32 id)
{
	put_suffixed(d, dump_str(d, dump_type(d, id)->name_off), resolve(d, id, &d->ident_names));
}

/* Enumerators share the identifier namespace with typedefs; each definition counts. */
void dump_enumerator(struct btf_dumper *d, __u32 name_off)
{
	const char *name = dump_str(d, name_off);
	__u32 n = name_map_bump(&d->ident_names, name);

	if (!n)
		dump_fail(d, -ENOMEM, "out of memory for enumerator names");
	put_suffixed(d, name, n);
}

/* ---- decl tags -------------------------------------------------------------------------- */

void dump_decl_tags(struct btf_dumper *d, __u32 id, __s32 component)
{
	__u32 lo = 0, hi = d->ntags;

	if (!d->ntags)
		return;
	while (lo < hi) {  /* first tag on id */
		__u32 mid = lo + (hi - lo) / 2;

		if (d->tags[mid].target < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < d->ntags && d->tags[lo].target == id; lo++) {
		if (d->tags[lo].component != component)
			continue;
		sb_puts(&d->out, " __attribute__((btf_decl_tag(\"");
		sb_cstr(&d->out, dump_str(d, d->tags[lo].name_off));
		sb_puts(&d->out, "\")))");
	}
}
