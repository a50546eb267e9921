/* CO-RE relocation. Placeholder until issue 3: code with CO-RE relocations would run
 * with the field offsets of the machine it was compiled on, so it is refused. */
#include <string.h>

#include "internal.h"

int ayac_core_relocate(struct ayac_obj *obj, struct ayac_prog *main, const struct ayac_prog *fn,
		       size_t base)
{
	const struct ayac_btf_ext_sec *sec;
	__u32 r, off;

	(void)base;
	if (!obj->btf_ext)
		return 0;
	sec = ayac_btf_ext_find(&obj->btf_ext->core_relo, fn->sec_name);
	for (r = 0; sec && r < sec->num; r++) {
		memcpy(&off, (const char *)sec->recs + (size_t)r * sec->rec_size, sizeof(off));
		if (off / BPF_INSN_SZ >= fn->sec_insn_off &&
		    off / BPF_INSN_SZ < fn->sec_insn_off + fn->sec_insn_cnt)
			return ayac_seterr(AYAC_ECORE, "program '%s': function '%s' has CO-RE "
					   "relocations, which this version cannot apply yet",
					   main->name, fn->name);
	}
	return 0;
}
