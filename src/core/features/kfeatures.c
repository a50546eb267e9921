/* Feature answers: the cache and the dispatch to the probes (probe_*.c), names, and
 * the two things the loader does with answers before it creates anything (raise
 * RLIMIT_MEMLOCK where still needed, refuse global data where the kernel has none).
 *
 * Every answer is probed on first use, at most once per process: a slot goes from
 * idle to busy (one thread probes) to done; other threads asking meanwhile wait for
 * it. AYAC_FEATURES (probe_override.c) answers before the cache is consulted. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "probe_priv.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- names ------------------------------------------------------------------------------- */

static const char *const feature_names[AYAC_FEAT__COUNT] = {
	[AYAC_FEAT_BTF] = "btf",
	[AYAC_FEAT_BTF_FUNC] = "btf_func",
	[AYAC_FEAT_BTF_GLOBAL_FUNC] = "btf_global_func",
	[AYAC_FEAT_BTF_DATASEC] = "btf_datasec",
	[AYAC_FEAT_BTF_ZERO_DATASEC] = "btf_zero_datasec",
	[AYAC_FEAT_BTF_FLOAT] = "btf_float",
	[AYAC_FEAT_BTF_DECL_TAG] = "btf_decl_tag",
	[AYAC_FEAT_BTF_TYPE_TAG] = "btf_type_tag",
	[AYAC_FEAT_BTF_ENUM64] = "btf_enum64",
	[AYAC_FEAT_BTF_QMARK_DATASEC] = "btf_qmark_datasec",
	[AYAC_FEAT_PROG_NAME] = "prog_name",
	[AYAC_FEAT_GLOBAL_DATA] = "global_data",
	[AYAC_FEAT_ARRAY_MMAP] = "array_mmap",
	[AYAC_FEAT_PROBE_READ_KERNEL] = "probe_read_kernel",
	[AYAC_FEAT_BPF_COOKIE] = "bpf_cookie",
	[AYAC_FEAT_BOUNDED_LOOPS] = "bounded_loops",
	[AYAC_FEAT_BPF_LOOP] = "bpf_loop",
	[AYAC_FEAT_RINGBUF] = "ringbuf",
	[AYAC_FEAT_MEMCG_ACCOUNT] = "memcg_account",
	[AYAC_FEAT_CPUMAP_PROG_ID] = "cpumap_prog_id",
	[AYAC_FEAT_DEVMAP_PROG_ID] = "devmap_prog_id",
	[AYAC_FEAT_JIT] = "jit",
	[AYAC_FEAT_UNPRIV_BPF] = "unpriv_bpf",
	[AYAC_FEAT_PERF_LINK] = "perf_link",
	[AYAC_FEAT_KPROBE_MULTI] = "kprobe_multi",
	[AYAC_FEAT_UPROBE_MULTI] = "uprobe_multi",
	[AYAC_FEAT_TCX] = "tcx",
	[AYAC_FEAT_NETKIT] = "netkit",
	[AYAC_FEAT_CGROUP_LINK] = "cgroup_link",
	[AYAC_FEAT_XDP_LINK] = "xdp_link",
	[AYAC_FEAT_SOCKMAP_LINK] = "sockmap_link",
	[AYAC_FEAT_MAP_BATCH] = "map_batch",
};

const char *ayac_feature_name(enum ayac_feature f)
{
	return (unsigned)f < AYAC_FEAT__COUNT ? feature_names[f] : NULL;
}

int ayac_feature_by_name(const char *name)
{
	int f;

	for (f = 0; f < AYAC_FEAT__COUNT; f++)
		if (!strcmp(feature_names[f], name))
			return f;
	return -1;
}

/* Helper names in enum bpf_func_id order, from the uapi header's own list (whose
 * __BPF_FUNC_MAPPER(FN) expands to "FN(name)," in every version), then the ones newer
 * than that header (their ids are fixed forever). */
#define HELPER_NAME(name) #name
static const char *const header_helpers[] = { __BPF_FUNC_MAPPER(HELPER_NAME) };
#undef HELPER_NAME
static const char *const later_helpers[] = {
	[210] = "cgrp_storage_get",
	[211] = "cgrp_storage_delete",
};

int ayac_helper_count(void)
{
	return (int)(COUNT(header_helpers) > COUNT(later_helpers) ? COUNT(header_helpers)
								   : COUNT(later_helpers));
}

const char *ayac_helper_name(int id)
{
	if (id <= 0)
		return NULL;
	if ((size_t)id < COUNT(header_helpers))
		return header_helpers[id];
	return (size_t)id < COUNT(later_helpers) ? later_helpers[id] : NULL;
}

int ayac_helper_by_name(const char *name)
{
	int id, n = ayac_helper_count();

	if (!strncmp(name, "bpf_", 4))
		name += 4;
	for (id = 1; id < n; id++)
		if (ayac_helper_name(id) && !strcmp(ayac_helper_name(id), name))
			return id;
	return -1;
}

/* ---- the cache --------------------------------------------------------------------------- */

enum { SLOT_IDLE, SLOT_BUSY, SLOT_DONE };

struct slot {
	int state;
	short value;   /* 1, 0 or -errno */
	short why;     /* enum probe_helper_why for helpers */
};

typedef int (*probe_fn)(int a, int b, int *why);

static pthread_mutex_t wait_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wait_cond = PTHREAD_COND_INITIALIZER;

static struct slot feature_slots[AYAC_FEAT__COUNT];
static char feature_why[AYAC_FEAT__COUNT][96];
static struct slot prog_slots[PROBE_PROG_TYPES];
static struct slot map_slots[PROBE_MAP_TYPES];
static struct slot helper_slots[PROBE_PROG_TYPES][PROBE_HELPERS];

static int slot_get(struct slot *s, probe_fn fn, int a, int b)
{
	int idle = SLOT_IDLE, why = 0, v;

	if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == SLOT_DONE)
		return s->value;
	if (__atomic_compare_exchange_n(&s->state, &idle, SLOT_BUSY, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE)) {
		v = fn(a, b, &why);
		s->value = (short)(v < -4095 ? -EIO : v);
		s->why = (short)why;
		pthread_mutex_lock(&wait_lock);
		__atomic_store_n(&s->state, SLOT_DONE, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&wait_cond);
		pthread_mutex_unlock(&wait_lock);
		return s->value;
	}
	pthread_mutex_lock(&wait_lock);
	while (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SLOT_DONE)
		pthread_cond_wait(&wait_cond, &wait_lock);
	pthread_mutex_unlock(&wait_lock);
	return s->value;
}

/* ---- features ------------------------------------------------------------------------------ */

static int run_feature(int f, int unused, int *why)
{
	int v;

	(void)unused;
	(void)why;
	if (f <= AYAC_FEAT_BTF_ENUM64 || f == AYAC_FEAT_BTF_QMARK_DATASEC)
		v = probe_btf_feature((enum ayac_feature)f);
	else if (f >= AYAC_FEAT_PERF_LINK && f <= AYAC_FEAT_SOCKMAP_LINK)
		v = probe_link_feature((enum ayac_feature)f);
	else
		v = probe_misc_feature((enum ayac_feature)f);
	if (v < 0)
		snprintf(feature_why[f], sizeof(feature_why[f]), "%s: %s", ayac_errname(v),
			 strerror(-v));
	return v;
}

int ayac_feature(enum ayac_feature f)
{
	int v;

	if ((unsigned)f >= AYAC_FEAT__COUNT)
		return -EINVAL;
	if (probe_forced_feature(f, &v))
		return v;
	return slot_get(&feature_slots[f], run_feature, (int)f, 0);
}

const char *ayac_feature_why(enum ayac_feature f)
{
	int v;

	if ((unsigned)f >= AYAC_FEAT__COUNT)
		return NULL;
	if (probe_forced_feature(f, &v))
		return v < 0 ? "forced unknown by AYAC_FEATURES" : NULL;
	if (__atomic_load_n(&feature_slots[f].state, __ATOMIC_ACQUIRE) != SLOT_DONE ||
	    feature_slots[f].value >= 0)
		return NULL;
	return feature_why[f];
}

/* ---- program and map types ---------------------------------------------------------------- */

static int run_prog_type(int type, int unused, int *why)
{
	(void)unused;
	(void)why;
	return probe_prog_type((enum bpf_prog_type)type);
}

static int run_map_type(int type, int unused, int *why)
{
	(void)unused;
	(void)why;
	return probe_map_type((enum bpf_map_type)type);
}

int ayac_feature_prog_type(enum bpf_prog_type type)
{
	int v, why = 0;

	if (probe_forced_prog_type((int)type, &v))
		return v;
	if ((int)type <= 0)
		return 0;
	if ((int)type >= PROBE_PROG_TYPES)
		return run_prog_type((int)type, 0, &why);
	return slot_get(&prog_slots[type], run_prog_type, (int)type, 0);
}

int ayac_feature_map_type(enum bpf_map_type type)
{
	int v, why = 0;

	if (probe_forced_map_type((int)type, &v))
		return v;
	if ((int)type <= 0)
		return 0;
	if ((int)type >= PROBE_MAP_TYPES)
		return run_map_type((int)type, 0, &why);
	return slot_get(&map_slots[type], run_map_type, (int)type, 0);
}

/* ---- helpers ------------------------------------------------------------------------------ */

static int run_helper(int type, int id, int *why)
{
	return probe_helper((enum bpf_prog_type)type, id, why);
}

/* The answer and why it is not 1 (enum probe_helper_why). */
static int helper_answer(enum bpf_prog_type type, int id, int *why)
{
	int v;

	*why = PROBE_HELPER_OK;
	if (probe_forced_helper((int)type, id, &v)) {
		*why = PROBE_HELPER_FORCED;
		return v;
	}
	if (id <= 0)
		return 0;
	v = ayac_feature_prog_type(type);
	if (v <= 0) {
		*why = PROBE_HELPER_NO_PROG;
		return v;
	}
	if ((int)type >= PROBE_PROG_TYPES || id >= PROBE_HELPERS)
		return run_helper((int)type, id, why);
	v = slot_get(&helper_slots[type][id], run_helper, (int)type, id);
	*why = helper_slots[type][id].why;
	return v;
}

int ayac_feature_helper(enum bpf_prog_type type, int helper_id)
{
	int why;

	return helper_answer(type, helper_id, &why);
}

const char *ayac_feature_helper_why(enum bpf_prog_type type, int helper_id)
{
	static _Thread_local char buf[192];
	const char *tname = ayac_prog_type_name(type);
	char tcopy[64];
	int why, v = helper_answer(type, helper_id, &why);

	snprintf(tcopy, sizeof(tcopy), "%s", tname ? tname : "unknown");
	if (v == 1)
		return NULL;
	switch (why) {
	case PROBE_HELPER_FORCED:
		return v ? "forced unknown by AYAC_FEATURES" : "forced off by AYAC_FEATURES";
	case PROBE_HELPER_NO_ID:
		return "the kernel has no helper with this id (verifier: invalid func)";
	case PROBE_HELPER_NOT_TYPE:
		snprintf(buf, sizeof(buf), "not available to %s programs (verifier: program of this "
			 "type cannot use helper)", tcopy);
		return buf;
	case PROBE_HELPER_NO_PROG:
		if (v == 0)
			snprintf(buf, sizeof(buf), "the kernel has no %s programs", tcopy);
		else
			snprintf(buf, sizeof(buf), "%s programs: %s: %s", tcopy, ayac_errname(v),
				 strerror(-v));
		return buf;
	case PROBE_HELPER_UNPROBED:
		snprintf(buf, sizeof(buf), "not probed: %s programs load only against an attach "
			 "target (bpftool does not probe them either)", tcopy);
		return buf;
	default:
		if (v == 0)
			return "no such helper";
		snprintf(buf, sizeof(buf), "%s: %s", ayac_errname(v), strerror(-v));
		return buf;
	}
}

/* ---- what the loader does with the answers ------------------------------------------------ */

int ayac_feature_memlock(void)
{
	static int done;
	struct rlimit cur, inf = { RLIM_INFINITY, RLIM_INFINITY };

	if (__atomic_load_n(&done, __ATOMIC_ACQUIRE))
		return 0;
	/* Only a clear "no memcg accounting" (or an unknown answer) costs a setrlimit. */
	if (ayac_feature(AYAC_FEAT_MEMCG_ACCOUNT) == 1) {
		__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
		return 0;
	}
	if (__atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL))
		return 0;
	if (getrlimit(RLIMIT_MEMLOCK, &cur) == 0 && cur.rlim_cur == RLIM_INFINITY)
		return 0;
	return setrlimit(RLIMIT_MEMLOCK, &inf) < 0 ? -errno : 0;
}

