/* Fuzz target: BTF — parsing and checking a raw blob, looking every named type up by
 * name, following modifier chains and sizes, writing the C header (btf:dump_c), the
 * rewrite for older kernels (btf:sanitize, whose output must parse again), and the
 * same blob read as split BTF on top of itself (module BTF over vmlinux) and looked up.
 *
 * Input: raw BTF (header, types, strings). Seeds: the .BTF sections of spec/bpf
 * objects and of the libbpf-tools corpus. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "btf/btf.h"

/* Every kind, so sanitizing rewrites everything it knows how to. */
#define ALL_MISSING 0xff
/* How ayac_btf_sanitized says that what it wrote failed the check. */
#define NOT_PARSED "sanitize BTF: the rewritten BTF does not parse"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_forbid_kernel();
	return 0;
}

static void lookups(const struct ayac_btf *btf)
{
	__u32 n = ayac_btf_type_cnt(btf), id;
	__u64 size;

	for (id = 1; id < n; id++) {
		const struct btf_type *t = ayac_btf_type(btf, id), *found;
		const char *name;
		int got;

		if (!t)
			fuzz_fail("type %u of %u missing", id, n);
		name = ayac_btf_str(btf, t->name_off);
		if (!name)
			fuzz_fail("type %u: name offset %u passed the check but reads nothing", id,
				  t->name_off);
		ayac_btf_skip_mods(btf, id);
		ayac_btf_resolve_size(btf, id, &size);
		if (!*name)
			continue;
		/* The first type of that name and kind: never after this one, same name. */
		got = ayac_btf_find(btf, name, btf_kind_of(t));
		if (got <= 0 || (__u32)got > id)
			fuzz_fail("find('%s', kind %u) gave %d, but type %u has that name", name,
				  btf_kind_of(t), got, id);
		found = ayac_btf_type(btf, (__u32)got);
		if (!found || strcmp(ayac_btf_str(btf, found->name_off), name) != 0)
			fuzz_fail("find('%s') gave type %d named otherwise", name, got);
	}
	ayac_btf_find(btf, "task_struct", BTF_KIND_STRUCT);
	ayac_btf_find(btf, "", -1);
}

/* Padding is written a line per 64 bits, so a 4-byte size field can ask for megabytes
 * of header: linear work that only slows the fuzzer down. Records beyond 64 KiB are
 * dumped by the same code as smaller ones, so they are left out here. */
static bool has_huge_record(const struct ayac_btf *btf)
{
	__u32 n = ayac_btf_type_cnt(btf), id;

	for (id = 1; id < n; id++) {
		const struct btf_type *t = ayac_btf_type(btf, id);
		__u16 kind = btf_kind_of(t);
		if ((kind == BTF_KIND_STRUCT || kind == BTF_KIND_UNION || kind == BTF_KIND_DATASEC) &&
		    t->size > 65536)
			return true;
	}
	return false;
}

static void dump(const struct ayac_btf *btf)
{
	char *out = NULL;
	size_t len = 0;

	if (has_huge_record(btf))
		return;
	if (ayac_btf_dump_c(btf, NULL, &out, &len)) {
		fuzz_check_error("dump_c");
		return;
	}
	if (!out || strlen(out) != len)
		fuzz_fail("dump_c: length %zu does not match the text", len);
	free(out);
}

/* The rewrite keeps every id and appends at most the stand-in int; what it makes must
 * parse (it is parsed on the way out) and need no more rewriting. */
static void sanitize(const struct ayac_btf *btf, unsigned missing)
{
	__u32 before = ayac_btf_type_cnt(btf), after;
	struct ayac_btf *clean;

	if (!ayac_btf_needs_sanitize(btf, missing))
		return;
	clean = ayac_btf_sanitized(btf, missing);
	if (!clean) {
		fuzz_check_error("sanitize");
		if (strncmp(ayac_errmsg(), NOT_PARSED, strlen(NOT_PARSED)) == 0)
			fuzz_fail("sanitize (missing 0x%x) made BTF that does not parse: %s", missing,
				  ayac_errmsg());
		return;
	}
	after = ayac_btf_type_cnt(clean);
	if (after < before || after > before + 1)
		fuzz_fail("sanitize changed the type count (%u -> %u)", before, after);
	if (ayac_btf_needs_sanitize(clean, missing))
		fuzz_fail("sanitized BTF (missing 0x%x) still needs sanitizing", missing);
	ayac_btf_free(clean);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ayac_btf *btf = ayac_btf_parse(data, size, NULL), *split;

	if (!btf) {
		fuzz_check_error("parse");
		return 0;
	}
	lookups(btf);
	dump(btf);
	sanitize(btf, ALL_MISSING);
	sanitize(btf, size > 0 ? data[size - 1] : 0);
	split = ayac_btf_parse(data, size, btf);
	if (split) {
		/* its dump would be the base's types again, then the same code on its own */
		lookups(split);
		ayac_btf_free(split);
	} else {
		fuzz_check_error("parse split");
	}
	ayac_btf_free(btf);
	return 0;
}
