/* CO-RE candidates: the types of the target BTFs that share a local type's essential
 * name (the name without its "___flavor" suffix) and kind family. Each target gets an
 * index of essential names on first use (vmlinux and modules: once per process, shared;
 * a `btf = path` override: once per object), so a lookup is a hash probe instead of
 * libbpf's scan of every target type; the candidates of each local type are cached per
 * object, where the relocation loop prunes them as libbpf does. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core_priv.h"

struct core_name_slot {
	__u32 hash;
	__u32 id; /* 0: empty */
};

struct core_name_index {
	__u32 mask;
	struct core_name_slot slots[];
};

static __u32 hash_prefix(const char *s, size_t n)
{
	__u32 h = 2166136261u; /* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h ? h : 1;
}

/* Kinds a relocation's root type can have; functions, variables, sections and tags
 * never are one (and are half of vmlinux). */
static bool indexed_kind(__u16 kind)
{
	return kind != BTF_KIND_FUNC && kind != BTF_KIND_VAR && kind != BTF_KIND_DATASEC &&
	       kind != BTF_KIND_DECL_TAG;
}

static struct core_name_index *index_build(const struct ayac_btf *btf, __u32 start)
{
	__u32 end = ayac_btf_type_cnt(btf), cap = 16, id;
	struct core_name_index *idx;

	while (cap < 2 * (size_t)(end - start) && cap < (1u << 31))
		cap *= 2;
	idx = ayac_calloc(1, sizeof(*idx) + (size_t)cap * sizeof(idx->slots[0]));
	if (!idx)
		return NULL;
	idx->mask = cap - 1;
	for (id = start; id < end; id++) {
		const struct btf_type *t = ayac_btf_type(btf, id);
		const char *name = t && t->name_off ? ayac_btf_str(btf, t->name_off) : NULL;
		__u32 h, pos;

		if (!name || !*name || !indexed_kind(btf_kind_of(t)))
			continue;
		h = hash_prefix(name, core_essential_len(name));
		for (pos = h & idx->mask; idx->slots[pos].id; pos = (pos + 1) & idx->mask)
			;
		idx->slots[pos] = (struct core_name_slot){ h, id };
	}
	return idx;
}

void core_name_index_free(struct core_name_index *idx)
{
	free(idx);
}

static const struct core_name_index *index_get(const struct core_targets *tg, size_t i)
{
	struct core_name_index **slot = &tg->idx[i], *idx, *expected = NULL;

	idx = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (idx)
		return idx;
	idx = index_build(tg->t[i].btf, core_target_start_id(tg, i));
	if (!idx)
		return NULL;
	/* the shared set's indexes may be raced for by two threads: one wins */
	if (!__atomic_compare_exchange_n(slot, &expected, idx, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		free(idx);
		idx = expected;
	}
	return idx;
}

static int cands_add(struct core_cands **cands, __u32 target, __u32 id)
{
	size_t n = *cands ? (*cands)->n : 0;
	struct core_cands *grown = realloc(*cands, sizeof(**cands) + (n + 1) * sizeof(grown->c[0]));

	if (!grown)
		return ayac_seterr(ENOMEM, "CO-RE candidates: out of memory");
	grown->c[n] = (struct core_cand){ target, id };
	grown->n = n + 1;
	*cands = grown;
	return 0;
}

/* Append target ti's types named like lname (essential length llen) of lt's kind family. */
static int add_from(const struct core_targets *tg, size_t ti, const struct btf_type *lt,
		    const char *lname, size_t llen, struct core_cands **cands)
{
	const struct core_name_index *idx = index_get(tg, ti);
	const struct ayac_btf *btf = tg->t[ti].btf;
	__u32 h = hash_prefix(lname, llen), pos;

	if (!idx)
		return -ENOMEM;
	for (pos = h & idx->mask; idx->slots[pos].id; pos = (pos + 1) & idx->mask) {
		const struct btf_type *t;
		const char *name;

		if (idx->slots[pos].hash != h)
			continue;
		t = ayac_btf_type(btf, idx->slots[pos].id);
		if (!t || !core_kinds_compat(t, lt))
			continue;
		name = ayac_btf_str(btf, t->name_off);
		if (!name || core_essential_len(name) != llen || strncmp(name, lname, llen) != 0)
			continue;
		if (cands_add(cands, (__u32)ti, idx->slots[pos].id))
			return -ENOMEM;
	}
	return 0;
}

static int cands_find(const struct ayac_btf *local, const struct core_targets *tg, __u32 local_id,
		      struct core_cands **out)
{
	const struct btf_type *lt = ayac_btf_type(local, local_id);
	const char *lname = lt ? ayac_btf_str(local, lt->name_off) : NULL;
	struct core_cands *cands = NULL;
	size_t llen, i;

	if (!lname)
		return -ayac_errnum();
	llen = core_essential_len(lname);
	/* modules only when vmlinux has nothing by that name, as libbpf */
	for (i = 0; i < tg->n && (i < 1 || !cands); i++)
		if (add_from(tg, i, lt, lname, llen, &cands)) {
			free(cands);
			return -ENOMEM;
		}
	if (!cands && !(cands = ayac_calloc(1, sizeof(*cands))))
		return -ENOMEM;
	*out = cands;
	return 0;
}

struct ayac_core_state *core_state(struct ayac_obj *obj)
{
	if (!obj->core)
		obj->core = ayac_calloc(1, sizeof(*obj->core));
	return obj->core;
}

int core_cands_get(struct ayac_obj *obj, const struct core_targets *tg, __u32 local_id,
		   struct core_cands **out)
{
	struct ayac_core_state *st = core_state(obj);
	__u32 n = ayac_btf_type_cnt(obj->btf);

	if (!st)
		return -ENOMEM;
	if (local_id >= n)
		return ayac_seterr(AYAC_ECORE, "local type id %u is not in the object's BTF", local_id);
	if (!st->cands) {
		st->cands = ayac_calloc(n, sizeof(*st->cands));
		if (!st->cands)
			return -ENOMEM;
		st->nr_cands = n;
	}
	if (!st->cands[local_id] && cands_find(obj->btf, tg, local_id, &st->cands[local_id]))
		return -ayac_errnum();
	*out = st->cands[local_id];
	return 0;
}

void ayac_core_obj_free(struct ayac_obj *obj)
{
	struct ayac_core_state *st = obj->core;
	__u32 i;

	if (!st)
		return;
	for (i = 0; st->cands && i < st->nr_cands; i++)
		free(st->cands[i]);
	free(st->cands);
	core_name_index_free(st->override_idx);
	ayac_btf_free(st->override_btf);
	free(st);
	obj->core = NULL;
}
