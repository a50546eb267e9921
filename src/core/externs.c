/* Extern symbols (.kconfig, __ksym, kfuncs). Placeholder until issue 3. */
#include <errno.h>

#include "elf_object.h"

int ayac_extern_relocate(struct ayac_obj *obj, struct ayac_prog *main, struct bpf_insn *insn,
			 const struct ayac_reloc *r)
{
	(void)obj;
	(void)insn;
	return ayac_seterr(EOPNOTSUPP, "program '%s': extern symbol #%d (__ksym/.kconfig) is not "
			   "supported yet", main->name, r->sym_idx);
}

int ayac_elf_read_externs(struct ayac_obj *obj, struct ayac_elf *elf)
{
	(void)obj;
	(void)elf;
	return 0;
}
