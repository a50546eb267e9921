/* Instruction rewrites that adapt a program to this kernel, run on the final
 * instructions (subprograms appended) just before BPF_PROG_LOAD.
 *
 * bpf_probe_read_{kernel,user}[_str] (Linux 5.5) become bpf_probe_read[_str] on
 * kernels without them, as libbpf does: the old helpers read either address space,
 * which is what the new ones split. Only a program that calls them costs the probe. */
#include "features/features.h"
#include "internal.h"

/* enum bpf_func_id values (fixed by the kernel ABI). */
enum {
	FUNC_PROBE_READ = 4,
	FUNC_PROBE_READ_STR = 45,
	FUNC_PROBE_READ_USER = 112,
	FUNC_PROBE_READ_KERNEL = 113,
	FUNC_PROBE_READ_USER_STR = 114,
	FUNC_PROBE_READ_KERNEL_STR = 115,
};

/* A call to a helper (not a bpf-to-bpf call, not a kfunc): its id, else -1. */
static int helper_call(const struct bpf_insn *insn)
{
	if (insn->code != (BPF_JMP | BPF_CALL) || insn->src_reg != 0 || insn->dst_reg != 0)
		return -1;
	return insn->imm;
}

/* The older helper that does the same, or 0 when id is not one of the four. */
static int older_probe_read(int id)
{
	switch (id) {
	case FUNC_PROBE_READ_USER:
	case FUNC_PROBE_READ_KERNEL:
		return FUNC_PROBE_READ;
	case FUNC_PROBE_READ_USER_STR:
	case FUNC_PROBE_READ_KERNEL_STR:
		return FUNC_PROBE_READ_STR;
	default:
		return 0;
	}
}

static bool uses_probe_read_split(const struct ayac_prog *prog)
{
	size_t i;

	for (i = 0; i < prog->insn_cnt; i++)
		if (older_probe_read(helper_call(&prog->insns[i])))
			return true;
	return false;
}

int ayac_prog_fixups(struct ayac_prog *prog)
{
	size_t i;
	int old;

	if (!prog->insns || !uses_probe_read_split(prog))
		return 0;
	/* Supported, or unknown (then the load says what is wrong, if anything). */
	if (ayac_feature(AYAC_FEAT_PROBE_READ_KERNEL) != 0)
		return 0;
	for (i = 0; i < prog->insn_cnt; i++)
		if ((old = older_probe_read(helper_call(&prog->insns[i]))))
			prog->insns[i].imm = old;
	return 0;
}
