/* Name lookup for BTF: an open-addressing hash table of type ids keyed by name, built
 * on the first find (vmlinux has ~100k named types; most processes never look one up,
 * and those that do look up many). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sys/sys.h"
#include "btf_priv.h"

struct btf_name_slot {
	__u32 hash;
	__u32 id; /* 0: empty (id 0 is void, which has no name) */
};

struct btf_name_index {
	__u32 mask;
	struct btf_name_slot slots[];
};

/* A word-at-a-time hash: FNV over bytes spends most of the index build on its
 * multiply chain (vmlinux: ~100k names). Defined on the content alone: full 8-byte
 * chunks, then the zero-padded rest, then the length, so that names read in place
 * (hash_in_place) and names given by a caller (hash_str) agree. */
#define HASH_MUL 0x9e3779b97f4a7c15ull
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static inline __u64 hash_mix(__u64 h, __u64 w)
{
	h = (h ^ w) * HASH_MUL;
	return h ^ (h >> 29);
}

static inline __u32 hash_end(__u64 h, __u64 tail, size_t len)
{
	h = hash_mix(h, tail) ^ len;
	h *= HASH_MUL;
	return (__u32)(h >> 32);
}

static __u32 hash_str(const char *s)
{
	size_t len = strlen(s), i;
	__u64 h = HASH_MUL, w = 0;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, 8);
		h = hash_mix(h, w);
	}
	w = 0;
	memcpy(&w, s + i, len - i);
	return hash_end(h, w, len);
}

/* s lies in a string section ending at end (NUL-terminated there): whole words can be
 * read up to it, with the bytes after the name's NUL masked off. */
static __u32 hash_in_place(const char *s, const char *end)
{
	const char *p = s;
	__u64 h = HASH_MUL, w, zero;

	while (end - p >= 8) {
		memcpy(&w, p, 8);
		zero = (w - ONES) & ~w & HIGHS; /* lowest set bit: the first NUL byte */
		if (zero) {
			unsigned n = (unsigned)__builtin_ctzll(zero) / 8;

			w = n ? w & (~0ull >> (64 - 8 * n)) : 0;
			return hash_end(h, w, (size_t)(p - s) + n);
		}
		h = hash_mix(h, w);
		p += 8;
	}
	/* the last few bytes of the section: finish byte by byte */
	return hash_str(s);
}

static const struct btf_type *own_type(const struct ayac_btf *btf, __u32 i)
{
	return (const struct btf_type *)(btf->types + btf->type_offs[i]);
}

/* Names were bounded when the BTF was parsed; own strings are read directly. */
static const char *type_name(const struct ayac_btf *btf, const struct btf_type *t)
{
	if (t->name_off >= btf->start_str && t->name_off - btf->start_str < btf->strs_len)
		return btf->strs + (t->name_off - btf->start_str);
	return ayac_btf_str(btf, t->name_off);
}

static __u32 type_name_hash(const struct ayac_btf *btf, const char *name)
{
	if (name >= btf->strs && name < btf->strs + btf->strs_len)
		return hash_in_place(name, btf->strs + btf->strs_len);
	return hash_str(name);
}

static void slot_put(struct btf_name_index *idx, __u32 h, __u32 id)
{
	__u32 pos;

	for (pos = h & idx->mask; idx->slots[pos].id; pos = (pos + 1) & idx->mask)
		;
	idx->slots[pos].hash = h;
	idx->slots[pos].id = id;
}

#define INDEX_AHEAD 16 /* names hashed ahead of their insertion (a power of 2) */

static struct btf_name_index *index_build(const struct ayac_btf *btf)
{
	struct { __u32 hash, id; } ahead[INDEX_AHEAD];
	struct btf_name_index *idx;
	__u32 i, cap = 16, queued = 0;

	/* Sized for every type, named or not: most are, and counting costs a pass. At
	 * most half full keeps probe runs short. */
	while (cap < 2 * (size_t)btf->nr_types)
		cap *= 2;
	idx = ayac_calloc(1, sizeof(*idx) + (size_t)cap * sizeof(idx->slots[0]));
	if (!idx)
		return NULL;
	idx->mask = cap - 1;
	/* Each insertion lands on a random slot of a table larger than the caches, so the
	 * slot is prefetched when the name is hashed and filled INDEX_AHEAD names later.
	 * Insertions stay in id order: with linear probing, equal names then sit in id
	 * order along their probe run, and a lookup meets the lowest id first. */
	for (i = 0; i < btf->nr_types; i++) {
		const struct btf_type *t = own_type(btf, i);
		const char *name = t->name_off ? type_name(btf, t) : NULL;
		__u32 h, q;

		if (!name || !*name)
			continue;
		h = type_name_hash(btf, name);
		__builtin_prefetch(&idx->slots[h & idx->mask], 1);
		q = queued++ % INDEX_AHEAD;
		if (queued > INDEX_AHEAD)
			slot_put(idx, ahead[q].hash, ahead[q].id);
		ahead[q].hash = h;
		ahead[q].id = btf->start_id + i;
	}
	for (i = queued > INDEX_AHEAD ? queued - INDEX_AHEAD : 0; i < queued; i++)
		slot_put(idx, ahead[i % INDEX_AHEAD].hash, ahead[i % INDEX_AHEAD].id);
	return idx;
}

void btf_index_free(struct btf_name_index *index)
{
	free(index);
}

static const struct btf_name_index *index_get(const struct ayac_btf *btf)
{
	/* The index is a cache: building it does not change what the BTF says, so it is
	 * filled in behind a const pointer. Two threads may race to build; one wins. */
	struct btf_name_index **slot = &((struct ayac_btf *)btf)->index;
	struct btf_name_index *idx = __atomic_load_n(slot, __ATOMIC_ACQUIRE), *expected = NULL;

	if (idx)
		return idx;
	idx = index_build(btf);
	if (!idx)
		return NULL;
	if (!__atomic_compare_exchange_n(slot, &expected, idx, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		free(idx);
		idx = expected;
	}
	return idx;
}

/* id > 0 found, 0 not found, < 0 error. Base types come first: their ids are lower. */
static int find_in(const struct ayac_btf *btf, const char *name, __u32 h, int kind)
{
	const struct btf_name_index *idx;
	__u32 pos;
	int id;

	if (btf->base) {
		id = find_in(btf->base, name, h, kind);
		if (id)
			return id;
	}
	idx = index_get(btf);
	if (!idx)
		return -ENOMEM;
	for (pos = h & idx->mask; idx->slots[pos].id; pos = (pos + 1) & idx->mask) {
		const struct btf_name_slot *s = &idx->slots[pos];
		const struct btf_type *t;
		const char *tname;

		if (s->hash != h)
			continue;
		t = own_type(btf, s->id - btf->start_id);
		if (kind >= 0 && btf_kind_of(t) != kind)
			continue;
		tname = type_name(btf, t);
		if (tname && strcmp(tname, name) == 0)
			return (int)s->id;
	}
	return 0;
}

int ayac_btf_find(const struct ayac_btf *btf, const char *name, int kind)
{
	const char *kname = ayac_btf_kind_name(kind);
	int id;

	if (!name)
		name = "";
	id = *name ? find_in(btf, name, hash_str(name), kind) : 0;
	if (id < 0)
		return ayac_errctx("BTF find '%s'", name);
	if (id == 0)
		return ayac_seterr(ENOENT, "BTF has no %s named '%s'", kname ? kname : "type",
				   name);
	return id;
}
