/* Instruction rewrites that adapt a program to this kernel. Placeholder until issue 4. */
#include "internal.h"

int ayac_prog_fixups(struct ayac_prog *prog)
{
	(void)prog;
	return 0;
}
