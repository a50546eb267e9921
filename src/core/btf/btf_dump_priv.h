/* Private to the BTF-to-C dumper (btf_dump.c: ordering and the top-level walk;
 * btf_dump_decl.c: definitions and declarators; btf_dump_layout.c: alignment, packing,
 * padding; btf_dump_names.c: the output buffer and name de-duplication). Everything
 * else goes through btf.h. */
#ifndef AYAC_BTF_DUMP_PRIV_H
#define AYAC_BTF_DUMP_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include "btf.h"

/* Deepest nesting followed (anonymous records inside records, parameters inside
 * function pointers, ...). C written by people stays far below; deeper is a loop in
 * malformed BTF or a recursion the stack should not pay for. */
#define DUMP_MAX_DEPTH 256
/* Longest pointer/array/modifier/prototype chain in one declaration. */
#define DUMP_MAX_CHAIN 64

/* ---- output buffer (btf_dump_names.c) ---------------------------------------------------- */

/* Largest header written (vmlinux's is under 4 MiB): BTF whose records claim sizes of
 * gigabytes would otherwise pad them out line by line. */
#define SB_LIMIT ((size_t)64 << 20)

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;      /* a growth failed: the contents are incomplete */
	bool too_big;  /* ... because of SB_LIMIT */
};

bool sb_reserve(struct sbuf *sb, size_t more);
void sb_free(struct sbuf *sb);

static inline void sb_put(struct sbuf *sb, const char *s, size_t n)
{
	if (sb->cap - sb->len <= n && !sb_reserve(sb, n))
		return;
	memcpy(sb->p + sb->len, s, n);
	sb->len += n;
}

static inline void sb_putc(struct sbuf *sb, char c)
{
	if (sb->cap - sb->len <= 1 && !sb_reserve(sb, 1))
		return;
	sb->p[sb->len++] = c;
}

void sb_puts(struct sbuf *sb, const char *s);
void sb_u64(struct sbuf *sb, __u64 v);
void sb_s64(struct sbuf *sb, __s64 v);
/* A C string literal's contents: quotes, backslashes and unprintables escaped. */
void sb_cstr(struct sbuf *sb, const char *s);

static inline char sb_last(const struct sbuf *sb)
{
	return sb->len ? sb->p[sb->len - 1] : '\0';
}

/* ---- name occurrence counts (btf_dump_names.c) -------------------------------------------- */

struct name_slot {
	const char *name;  /* points into the BTF's strings */
	__u32 hash;
	__u32 count;
};
struct name_map {
	struct name_slot *slots;
	__u32 cap, used;   /* cap: 0 or a power of two */
};

/* Counts one more use of name; returns the new count (1: first), 0 when out of memory. */
__u32 name_map_bump(struct name_map *m, const char *name);
void name_map_free(struct name_map *m);

/* ---- the dumper ------------------------------------------------------------------------- */

/* Per-type state bits. */
enum {
	ORD_MASK = 0x3, ORD_DOING = 0x1, ORD_DONE = 0x2,      /* topological order */
	EMIT_MASK = 0xc, EMIT_DOING = 0x4, EMIT_DONE = 0x8,   /* definition written */
	ST_FWD = 0x10,         /* forward declaration (or typedef) already written */
	ST_REFERENCED = 0x20,  /* some other type refers to it */
	ST_NAMED = 0x40,       /* dup[] holds its resolved name number */
};

/* Layout memo per struct/union: (log2(alignment) + 1) | flags, 0: not yet. */
#define LAYOUT_LOG2 0x3f
#define LAYOUT_ALIGNED 0x40   /* written with __attribute__((aligned(alignment))) */
#define LAYOUT_PACKED 0x80    /* written with __attribute__((packed)) */
#define MAX_INFERRED_ALIGN 8192

struct decl_tag_ref {
	__u32 id;         /* the decl tag's own id */
	__u32 target;     /* tagged type id */
	__s32 component;  /* -1: the type itself; else member/parameter index */
	__u32 name_off;
};

struct btf_dumper {
	const struct ayac_btf *btf;
	__u32 nr;                 /* ids run 0..nr-1 */
	__u8 *state;
	__u8 *layout;
	__u32 *dup;               /* 1: the name as is; n > 1: name___n */
	__u32 *queue;             /* definitions in emission order */
	__u32 nqueue;
	struct decl_tag_ref *tags;/* sorted by target */
	__u32 ntags;
	struct name_map type_names;   /* struct/union/enum tags */
	struct name_map ident_names;  /* typedef names and enumerators */
	struct sbuf out;
	size_t pragma_at;         /* where the preserve_access_index push starts */
	bool records;             /* a struct or union was defined */
	int depth;
	int err;                  /* first failure (negative); output abandoned */
};

/* The type record of a valid id (1..nr-1): the BTF was validated at parse time. */
static inline const struct btf_type *dump_type(const struct btf_dumper *d, __u32 id)
{
	return ayac_btf_type(d->btf, id);
}

static inline const char *dump_str(const struct btf_dumper *d, __u32 off)
{
	const char *s = ayac_btf_str(d->btf, off);

	return s ? s : "";
}

int dump_fail(struct btf_dumper *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* btf_dump_names.c */
void dump_indent(struct btf_dumper *d, int lvl);
void dump_type_name(struct btf_dumper *d, __u32 id);   /* struct/union/enum tag */
void dump_ident_name(struct btf_dumper *d, __u32 id);  /* typedef name */
__u32 dump_ident_dup(struct btf_dumper *d, __u32 id);   /* its ___n number (1: none) */
void dump_enumerator(struct btf_dumper *d, __u32 name_off);
void dump_decl_tags(struct btf_dumper *d, __u32 id, __s32 component);

/* btf_dump_decl.c */
void dump_decl(struct btf_dumper *d, __u32 id, const char *name, __u32 dup, int lvl);
void dump_record_def(struct btf_dumper *d, __u32 id, const struct btf_type *t, int lvl);
void dump_enum_def(struct btf_dumper *d, __u32 id, const struct btf_type *t, int lvl);
void dump_typedef_def(struct btf_dumper *d, __u32 id, const struct btf_type *t);
void dump_fwd_def(struct btf_dumper *d, __u32 id, const struct btf_type *t);
bool dump_typedef_skipped(const struct btf_dumper *d, const struct btf_type *t);

/* btf_dump_layout.c */
unsigned dump_align_of(struct btf_dumper *d, __u32 id);
/* Size in bytes of a member's type; 0 for what has none (flexible arrays have 0). */
__u64 dump_size_of(const struct btf_dumper *d, __u32 id);
/* LAYOUT_* flags and alignment of a struct or union as written. */
__u8 dump_record_layout(struct btf_dumper *d, __u32 id, const struct btf_type *t);
/* Bit size of member i (0: not a bitfield) and its bit offset, old-style int
 * bitfields included. */
__u32 dump_member_bits(const struct btf_dumper *d, const struct btf_type *t, __u32 i,
		       __u32 *bit_off);
void dump_padding(struct btf_dumper *d, __u64 cur, __u64 next, int lvl);
void dump_union_padding(struct btf_dumper *d, __u64 have, __u64 want, int lvl);

#endif
