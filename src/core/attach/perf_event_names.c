/* perf(1)'s event names for perf_event programs: "software" / "cpu-clock",
 * "hardware" / "cycles", "cache" / "L1-dcache-load-misses", "tracepoint" /
 * "category:name", or a PMU's name under /sys/bus/event_source/devices with a number. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"

struct name_val {
	const char *name;
	__u64 val;
};

static const struct name_val sw_names[] = {
	{ "cpu-clock", PERF_COUNT_SW_CPU_CLOCK },
	{ "task-clock", PERF_COUNT_SW_TASK_CLOCK },
	{ "page-faults", PERF_COUNT_SW_PAGE_FAULTS },
	{ "faults", PERF_COUNT_SW_PAGE_FAULTS },
	{ "context-switches", PERF_COUNT_SW_CONTEXT_SWITCHES },
	{ "cs", PERF_COUNT_SW_CONTEXT_SWITCHES },
	{ "cpu-migrations", PERF_COUNT_SW_CPU_MIGRATIONS },
	{ "migrations", PERF_COUNT_SW_CPU_MIGRATIONS },
	{ "minor-faults", PERF_COUNT_SW_PAGE_FAULTS_MIN },
	{ "major-faults", PERF_COUNT_SW_PAGE_FAULTS_MAJ },
	{ "alignment-faults", PERF_COUNT_SW_ALIGNMENT_FAULTS },
	{ "emulation-faults", PERF_COUNT_SW_EMULATION_FAULTS },
	{ "dummy", PERF_COUNT_SW_DUMMY },
	{ "bpf-output", PERF_COUNT_SW_BPF_OUTPUT },
	{ "cgroup-switches", 11 /* PERF_COUNT_SW_CGROUP_SWITCHES, Linux 5.13 */ },
	{ NULL, 0 },
};

static const struct name_val hw_names[] = {
	{ "cycles", PERF_COUNT_HW_CPU_CYCLES },
	{ "cpu-cycles", PERF_COUNT_HW_CPU_CYCLES },
	{ "instructions", PERF_COUNT_HW_INSTRUCTIONS },
	{ "cache-references", PERF_COUNT_HW_CACHE_REFERENCES },
	{ "cache-misses", PERF_COUNT_HW_CACHE_MISSES },
	{ "branch-instructions", PERF_COUNT_HW_BRANCH_INSTRUCTIONS },
	{ "branches", PERF_COUNT_HW_BRANCH_INSTRUCTIONS },
	{ "branch-misses", PERF_COUNT_HW_BRANCH_MISSES },
	{ "bus-cycles", PERF_COUNT_HW_BUS_CYCLES },
	{ "stalled-cycles-frontend", PERF_COUNT_HW_STALLED_CYCLES_FRONTEND },
	{ "stalled-cycles-backend", PERF_COUNT_HW_STALLED_CYCLES_BACKEND },
	{ "ref-cycles", PERF_COUNT_HW_REF_CPU_CYCLES },
	{ NULL, 0 },
};

static const struct name_val cache_ids[] = {
	{ "L1-dcache", PERF_COUNT_HW_CACHE_L1D }, { "L1-icache", PERF_COUNT_HW_CACHE_L1I },
	{ "LLC", PERF_COUNT_HW_CACHE_LL }, { "dTLB", PERF_COUNT_HW_CACHE_DTLB },
	{ "iTLB", PERF_COUNT_HW_CACHE_ITLB }, { "branch", PERF_COUNT_HW_CACHE_BPU },
	{ "node", PERF_COUNT_HW_CACHE_NODE }, { NULL, 0 },
};

static const struct name_val cache_ops[] = {
	{ "loads", PERF_COUNT_HW_CACHE_OP_READ }, { "load", PERF_COUNT_HW_CACHE_OP_READ },
	{ "stores", PERF_COUNT_HW_CACHE_OP_WRITE }, { "store", PERF_COUNT_HW_CACHE_OP_WRITE },
	{ "prefetches", PERF_COUNT_HW_CACHE_OP_PREFETCH },
	{ "prefetch", PERF_COUNT_HW_CACHE_OP_PREFETCH }, { NULL, 0 },
};

static const struct name_val cache_results[] = {
	{ "misses", PERF_COUNT_HW_CACHE_RESULT_MISS }, { "miss", PERF_COUNT_HW_CACHE_RESULT_MISS },
	{ "accesses", PERF_COUNT_HW_CACHE_RESULT_ACCESS },
	{ "refs", PERF_COUNT_HW_CACHE_RESULT_ACCESS }, { NULL, 0 },
};

static const struct name_val type_names[] = {
	{ "software", PERF_TYPE_SOFTWARE }, { "hardware", PERF_TYPE_HARDWARE },
	{ "cache", PERF_TYPE_HW_CACHE }, { "hw_cache", PERF_TYPE_HW_CACHE },
	{ "raw", PERF_TYPE_RAW }, { "tracepoint", PERF_TYPE_TRACEPOINT },
	{ "breakpoint", PERF_TYPE_BREAKPOINT }, { NULL, 0 },
};

static bool find(const struct name_val *t, const char *name, size_t len, __u64 *val)
{
	for (; t->name; t++) {
		if (strlen(t->name) == len && strncmp(t->name, name, len) == 0) {
			*val = t->val;
			return true;
		}
	}
	return false;
}

/* "L1-dcache-load-misses", "LLC-loads" (accesses), "dTLB-store-misses". */
static int cache_config(const char *s, __u64 *config)
{
	const char *op, *res;
	__u64 c, o, r = PERF_COUNT_HW_CACHE_RESULT_ACCESS;

	/* The cache's own name may hold a '-' (L1-dcache): try each split point. */
	for (op = strchr(s, '-'); op; op = strchr(op + 1, '-')) {
		if (!find(cache_ids, s, (size_t)(op - s), &c))
			continue;
		res = strchr(op + 1, '-');
		if (!find(cache_ops, op + 1, res ? (size_t)(res - op - 1) : strlen(op + 1), &o))
			break;
		if (res && !find(cache_results, res + 1, strlen(res + 1), &r))
			break;
		*config = c | o << 8 | r << 16;
		return 0;
	}
	return ayac_seterr(EINVAL, "unknown cache event '%s' (expected <cache>-<op>[-<result>], "
			   "e.g. L1-dcache-load-misses, LLC-loads)", s);
}

/* A PMU's dynamic type from sysfs ("msr", "power", "cpu", ...). */
static int pmu_type_of(const char *name, __u32 *type)
{
	char path[256], buf[32], *end;
	unsigned long v;
	FILE *f;

	if (!*name || strchr(name, '/') || strlen(name) > 128)
		return ayac_seterr(EINVAL, "bad PMU name '%s'", name);
	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/type", name);
	f = fopen(path, "re");
	if (!f)
		return ayac_seterr(errno == ENOENT ? EINVAL : errno, "unknown perf event type '%s' "
				   "(software, hardware, cache, raw, tracepoint, breakpoint, or a PMU "
				   "in /sys/bus/event_source/devices)", name);
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return ayac_seterr(EIO, "read %s", path);
	}
	fclose(f);
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (errno || end == buf || v > 0xffffffffUL)
		return ayac_seterr(EINVAL, "read %s: not a type", path);
	*type = (__u32)v;
	return 0;
}

static int tracepoint_config(const char *s, __u64 *config)
{
	char cat[256];
	const char *colon = strchr(s, ':');
	int id;

	if (!colon || colon == s || !colon[1] || (size_t)(colon - s) >= sizeof(cat))
		return ayac_seterr(EINVAL, "tracepoint event '%s': expected \"category:name\"", s);
	snprintf(cat, sizeof(cat), "%.*s", (int)(colon - s), s);
	id = ayac_tracepoint_id(cat, colon + 1);
	if (id < 0)
		return ayac_errctx("tracepoint event '%s'", s);
	*config = (__u64)id;
	return 0;
}

static int config_of(__u32 type, const char *name, __u64 *config)
{
	switch (type) {
	case PERF_TYPE_SOFTWARE:
		if (find(sw_names, name, strlen(name), config))
			return 0;
		return ayac_seterr(EINVAL, "unknown software event '%s' (cpu-clock, task-clock, "
				   "page-faults, context-switches, cpu-migrations, minor-faults, "
				   "major-faults, ...)", name);
	case PERF_TYPE_HARDWARE:
		if (find(hw_names, name, strlen(name), config))
			return 0;
		return ayac_seterr(EINVAL, "unknown hardware event '%s' (cycles, instructions, "
				   "cache-references, cache-misses, branches, branch-misses, ...)", name);
	case PERF_TYPE_HW_CACHE:
		return cache_config(name, config);
	case PERF_TYPE_TRACEPOINT:
		return tracepoint_config(name, config);
	default:
		return ayac_seterr(EINVAL, "events of type %u have no names here: pass config as "
				   "a number", type);
	}
}

int ayac_perf_event_config(const char *type_name, const char *config_name, __u32 *type,
			   __u64 *config)
{
	__u64 t;

	if (!type_name || !type || !config)
		return ayac_seterr(EINVAL, "perf event: no type");
	if (find(type_names, type_name, strlen(type_name), &t))
		*type = (__u32)t;
	else if (pmu_type_of(type_name, type) < 0)
		return -ayac_errnum();
	if (config_name)
		return config_of(*type, config_name, config);
	return 0;
}
