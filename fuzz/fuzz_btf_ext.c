/* Fuzz target: .BTF.ext — the header, the func_info, line_info and CO-RE relocation
 * blocks with their per-section record arrays, checked against the object's BTF
 * (section names are BTF strings), then every record the index points at read through
 * the lookup the loader uses.
 *
 * Input: a u32 length n, n bytes of raw BTF, then the .BTF.ext bytes. Seeds: the .BTF
 * and .BTF.ext sections of spec/bpf objects and of the libbpf-tools corpus. */
#include <string.h>

#include "fuzz.h"
#include "btf/btf.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_forbid_kernel();
	return 0;
}

static void walk(const struct ayac_btf *btf, const struct ayac_btf_ext *ext,
		 const struct ayac_btf_ext_info *info, size_t min_rec)
{
	const char *end = (const char *)ext->data + ext->size;
	__u32 s, r;

	for (s = 0; s < info->nsecs; s++) {
		const struct ayac_btf_ext_sec *sec = &info->secs[s];
		const struct ayac_btf_ext_sec *found = ayac_btf_ext_find(info, sec->sec_name);
		const char *recs = sec->recs;

		if (!found || strcmp(found->sec_name, sec->sec_name) != 0)
			fuzz_fail(".BTF.ext section '%s' not found by its name", sec->sec_name);
		if (sec->rec_size < min_rec || recs < (const char *)ext->data ||
		    (__u64)sec->num * sec->rec_size > (__u64)(end - recs))
			fuzz_fail(".BTF.ext section '%s': %u records of %u bytes outside the data",
				  sec->sec_name, sec->num, sec->rec_size);
		for (r = 0; r < sec->num; r++) {
			__u32 rec[16], id;

			memcpy(rec, recs + (size_t)r * sec->rec_size, min_rec);
			/* every kind: [1] a type id (func_info, core_relo) or a file name
			 * (line_info); core_relo: [2] the access string */
			id = rec[1];
			if (min_rec == sizeof(struct bpf_line_info))
				ayac_btf_str(btf, id);
			else
				ayac_btf_type(btf, id);
			if (min_rec == sizeof(struct bpf_core_relo))
				ayac_btf_str(btf, rec[2]);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *raw;
	size_t raw_size;
	struct ayac_btf *btf;
	struct ayac_btf_ext *ext;

	if (!fuzz_take(&data, &size, &raw, &raw_size))
		return 0;
	btf = ayac_btf_parse(raw, raw_size, NULL);
	if (!btf)
		return 0; /* the BTF target covers this */
	ext = ayac_btf_ext_parse(data, size, btf);
	if (ext) {
		walk(btf, ext, &ext->func_info, sizeof(struct bpf_func_info));
		walk(btf, ext, &ext->line_info, sizeof(struct bpf_line_info));
		walk(btf, ext, &ext->core_relo, sizeof(struct bpf_core_relo));
		ayac_btf_ext_free(ext);
	} else {
		fuzz_check_error("parse .BTF.ext");
	}
	ayac_btf_free(btf);
	return 0;
}
