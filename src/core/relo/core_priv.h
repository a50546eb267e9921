/* CO-RE inside the core, private to its four files:
 *
 *   core_calc.c   the engine: access strings, candidate matching, the values a
 *                 relocation computes. Pure: two BTFs and a record in, a result out.
 *   core_cands.c  candidates by essential name in the target BTFs, cached per object.
 *   btf_module.c  the target BTFs: vmlinux + kernel modules (once per process), or
 *                 the object's `btf = path` override.
 *   core_reloc.c  applying the .BTF.ext records of a function to its instructions.
 *
 * Terms as in libbpf's relo_core.c: a "spec" is an access resolved in one BTF; the
 * local spec comes from the object's BTF, a target spec from a candidate type. */
#ifndef AYAC_CORE_PRIV_H
#define AYAC_CORE_PRIV_H

#include "internal.h"
#include "relo.h"

/* Deepest access string (struct/union/array nesting), as libbpf's limit. */
#define CORE_SPEC_MAX 64

/* One step of an access that matters for matching: a named member (name set), or an
 * array index (name NULL; step 0 is the index applied to the root pointer). */
struct core_acc {
	__u32 type_id;     /* the struct/union holding the member; the element type of an array */
	__u32 idx;         /* member, enumerator or array index */
	const char *name;  /* member or enumerator name; NULL for an array step */
};

struct core_spec {
	const struct ayac_btf *btf;
	__u32 root_id;
	__u32 kind;                          /* enum bpf_core_relo_kind */
	struct core_acc acc[CORE_SPEC_MAX];  /* named members and array steps */
	__u32 len;
	__u32 raw[CORE_SPEC_MAX];            /* every step, anonymous members included */
	__u32 raw_len;
	__u64 bit_off;                       /* of the accessed field from the root pointer */
};

/* What a relocation does to its instruction. */
struct core_res {
	__u64 orig_val;   /* what the compiler put in the instruction (local BTF) */
	__u64 new_val;    /* what the target BTF says */
	__u32 orig_sz, new_sz;      /* field sizes for a load/store (0: not a sized field) */
	__u32 orig_type, new_type;  /* the field types behind them */
	bool poison;      /* cannot be satisfied: the instruction is poisoned */
	bool validate;    /* the instruction must hold orig_val before it is patched */
	bool fail_memsz;  /* a load/store of this field cannot be resized safely */
};

/* ---- core_calc.c: the engine ------------------------------------------------------ */

bool core_kind_is_field(__u32 kind);
bool core_kind_is_type(__u32 kind);
bool core_kind_is_enumval(__u32 kind);
const char *core_kind_name(__u32 kind);   /* "field_byte_offset", ...; NULL: unknown */
/* Length of a name without its "___flavor" suffix. */
size_t core_essential_len(const char *name);
/* Are two types of kinds that can be candidates for each other (enum ~ enum64)? */
bool core_kinds_compat(const struct btf_type *a, const struct btf_type *b);

/* Parse an access string ("0:1:2") against the local BTF. 0, or a negative error with
 * the reason in the message (AYAC_ECORE). */
int core_spec_parse(const struct ayac_btf *btf, __u32 type_id, __u32 kind, const char *access,
		    struct core_spec *spec);
/* Match the local spec against candidate type targ_id of targ: 1 (out filled), 0 (no
 * match), negative error. */
int core_spec_match(const struct core_spec *local, const struct ayac_btf *targ, __u32 targ_id,
		    struct core_spec *out);
/* The relocation's values from the local spec and a matched target spec (NULL: no
 * candidate matched). 0 or a negative error (message set). */
int core_calc(const struct core_spec *local, const struct core_spec *targ, struct core_res *res);
/* "field_byte_offset of struct task_struct.mm[0].pgd" (truncated to size). */
void core_describe(const struct core_spec *spec, char *buf, size_t size);
/* The type of the same kind behind typedefs and modifiers (kind UNKN for void); *id
 * updated. NULL with the error set when an id is out of range or the chain loops. */
const struct btf_type *core_skip_mods(const struct ayac_btf *btf, __u32 id, __u32 *out_id);

/* ---- btf_module.c: target BTFs ---------------------------------------------------- */

struct core_name_index; /* core_cands.c */

struct core_targets {
	const struct ayac_btf_target *t;  /* [0]: vmlinux or the override; then modules */
	size_t n;
	struct core_name_index **idx;     /* per target, built on first use (core_cands.c) */
	bool override;                    /* btf = path: only t[0] */
	const char *label;                /* for messages: "vmlinux", "'/path'" */
};

/* The target BTFs of an object's CO-RE relocations. n = 0 when the object was opened
 * with btf = false. Errors: vmlinux missing, override unreadable (message set). */
int core_targets_get(struct ayac_obj *obj, struct core_targets *out);
/* The first id a target's own types start at (modules are split BTF over vmlinux). */
__u32 core_target_start_id(const struct core_targets *tg, size_t i);

/* ---- core_cands.c: candidates ------------------------------------------------------ */

struct core_cand {
	__u32 target;  /* index into core_targets.t */
	__u32 id;      /* type id in that target */
};

struct core_cands {
	size_t n;
	struct core_cand c[];
};

/* Per-object CO-RE state (obj->core): the override BTF and the candidate cache. */
struct ayac_core_state {
	struct ayac_btf *override_btf;
	struct ayac_btf_target override;
	struct core_name_index *override_idx;
	struct core_cands **cands;  /* by local type id; NULL: not looked up yet */
	__u32 nr_cands;
};

/* obj->core, created on first use (NULL with ENOMEM set). */
struct ayac_core_state *core_state(struct ayac_obj *obj);
/* Candidates for local type local_id of the object's BTF: vmlinux (or the override)
 * first, modules only when vmlinux has none. Cached per object; the list may be
 * pruned by the caller (n lowered, entries moved) as libbpf does. */
int core_cands_get(struct ayac_obj *obj, const struct core_targets *tg, __u32 local_id,
		   struct core_cands **out);
void core_name_index_free(struct core_name_index *idx);

#endif
