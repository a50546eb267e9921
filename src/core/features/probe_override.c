/* AYAC_FEATURES: forced answers, so that the loader's other paths (BTF sanitization,
 * ioctl attach, probe_read rewriting, …) run on a kernel that does not need them.
 *
 *   AYAC_FEATURES="perf_link=0,btf_enum64=0,map_type.ringbuf=0,helper.xdp.redirect=0"
 *
 * Entries are separated by commas, semicolons or spaces; each is name=value where name
 * is a feature name (ayac_feature_name: "perf_link", "btf_float", …),
 * prog_type.NAME, map_type.NAME, helper.NAME (every program type) or
 * helper.TYPE.NAME, and value is 1/0 (also true/false, yes/no) or an errno name
 * ("EPERM") for an unknown answer. Read once, on the first probe; a later entry wins;
 * malformed entries are reported on stderr and ignored. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_priv.h"

enum forced_kind { FORCED_FEATURE, FORCED_PROG, FORCED_MAP, FORCED_HELPER };

struct forced {
	enum forced_kind kind;
	int type;   /* feature, prog type or map type; -1: every prog type (helpers) */
	int id;     /* helper id */
	int value;
};

#define MAX_FORCED 64
static struct forced forced[MAX_FORCED];
static int nr_forced;
static pthread_once_t parse_once = PTHREAD_ONCE_INIT;

static bool parse_value(const char *s, int *value)
{
	int e;

	if (!strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, "yes")) {
		*value = 1;
		return true;
	}
	if (!strcmp(s, "0") || !strcmp(s, "false") || !strcmp(s, "no")) {
		*value = 0;
		return true;
	}
	for (e = 1; e < AYAC_EBADELF; e++)
		if (!strcmp(ayac_errname(e), s)) {
			*value = -e;
			return true;
		}
	return false;
}

/* "xdp.redirect" or "redirect" (every program type). */
static bool parse_helper(const char *s, struct forced *f)
{
	const char *dot = strchr(s, '.');
	char type[64];

	f->kind = FORCED_HELPER;
	f->type = -1;
	if (dot) {
		if ((size_t)(dot - s) >= sizeof(type))
			return false;
		memcpy(type, s, (size_t)(dot - s));
		type[dot - s] = '\0';
		f->type = ayac_prog_type_by_name(type);
		if (f->type < 0)
			return false;
		s = dot + 1;
	}
	f->id = ayac_helper_by_name(s);
	return f->id > 0;
}

static bool word_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && !strncmp(s, word, len);
}

static bool parse_name(const char *name, struct forced *f)
{
	const char *rest;

	if ((rest = strchr(name, '.')) != NULL) {
		size_t len = (size_t)(rest - name);
		rest++;
		if (word_is(name, len, "prog_type") || word_is(name, len, "prog_types")) {
			f->kind = FORCED_PROG;
			return (f->type = ayac_prog_type_by_name(rest)) > 0;
		}
		if (word_is(name, len, "map_type") || word_is(name, len, "map_types")) {
			f->kind = FORCED_MAP;
			return (f->type = ayac_map_type_by_name(rest)) > 0;
		}
		if (word_is(name, len, "helper") || word_is(name, len, "helpers"))
			return parse_helper(rest, f);
		return false;
	}
	f->kind = FORCED_FEATURE;
	return (f->type = ayac_feature_by_name(name)) >= 0;
}

static void parse_entry(char *entry)
{
	char *eq = strchr(entry, '=');
	struct forced f;

	memset(&f, 0, sizeof(f));
	if (!eq) {
		fprintf(stderr, "ayac: AYAC_FEATURES: ignoring '%s': expected name=value\n", entry);
		return;
	}
	*eq = '\0';
	if (!parse_name(entry, &f)) {
		fprintf(stderr, "ayac: AYAC_FEATURES: ignoring '%s': no such feature\n", entry);
		return;
	}
	if (!parse_value(eq + 1, &f.value)) {
		fprintf(stderr, "ayac: AYAC_FEATURES: ignoring '%s=%s': the value is 1, 0 or an "
			"errno name\n", entry, eq + 1);
		return;
	}
	if (nr_forced == MAX_FORCED) {
		fprintf(stderr, "ayac: AYAC_FEATURES: more than %d entries; ignoring '%s'\n",
			MAX_FORCED, entry);
		return;
	}
	forced[nr_forced++] = f;
}

static void parse_env(void)
{
	const char *env = getenv("AYAC_FEATURES");
	char *copy, *tok, *save = NULL;

	if (!env || !*env || !(copy = strdup(env)))
		return;
	for (tok = strtok_r(copy, ",; \t\n", &save); tok; tok = strtok_r(NULL, ",; \t\n", &save))
		parse_entry(tok);
	free(copy);
}

static bool lookup(enum forced_kind kind, int type, int id, int *value)
{
	int i;

	pthread_once(&parse_once, parse_env);
	for (i = nr_forced - 1; i >= 0; i--) {
		const struct forced *f = &forced[i];
		if (f->kind == kind && (f->type == type || (kind == FORCED_HELPER && f->type == -1)) &&
		    f->id == id) {
			*value = f->value;
			return true;
		}
	}
	return false;
}

bool probe_forced_feature(enum ayac_feature f, int *value)
{
	return lookup(FORCED_FEATURE, (int)f, 0, value);
}

bool probe_forced_prog_type(int type, int *value)
{
	return lookup(FORCED_PROG, type, 0, value);
}

bool probe_forced_map_type(int type, int *value)
{
	return lookup(FORCED_MAP, type, 0, value);
}

bool probe_forced_helper(int type, int helper_id, int *value)
{
	return lookup(FORCED_HELPER, type, helper_id, value);
}
