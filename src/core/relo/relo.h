/* relo: what the relocation package offers the object model: turning a parsed object
 * into instructions this kernel accepts (subprograms, CO-RE, externs, kconfig, ksyms,
 * BTF sanitization and per-kernel fix-ups). */
#ifndef AYAC_RELO_H
#define AYAC_RELO_H

#include "internal.h"

/* core_reloc.c (CO-RE, issue 3): apply every CO-RE relocation record of function fn,
 * which sits at instruction `base` of main->insns. Unsatisfiable relocations poison
 * their instruction as libbpf does; errors only for what cannot be encoded. */
int ayac_core_relocate(struct ayac_obj *obj, struct ayac_prog *main, const struct ayac_prog *fn,
		       size_t base);
/* core_reloc.c: when the verifier refused prog at an instruction a CO-RE relocation
 * poisoned, set the error (AYAC_ECORE) naming that relocation and return true. */
bool ayac_core_explain_reject(const struct ayac_prog *prog);
void ayac_core_prog_free(struct ayac_prog *prog);   /* prog.c: ayac_prog_destroy */
void ayac_core_obj_free(struct ayac_obj *obj);      /* object.c: ayac_obj_free */

/* btf_module.c: the target BTFs of an object for CO-RE and kfuncs. With the load
 * option btf = "/path", that BTF alone; btf = false, none (n = 0); by default vmlinux
 * then every kernel module's BTF (split over vmlinux), read once per process and
 * shared. The array stays valid while the object lives. */
struct ayac_btf_target {
	struct ayac_btf *btf;
	const char *module;  /* the module's name; NULL for vmlinux and btf = path */
	int kernel_fd;       /* the module's BTF fd in the kernel (kfunc fd_array); -1 for
			      * vmlinux, btf = path, or when it could not be found */
};
int ayac_btf_targets(struct ayac_obj *obj, const struct ayac_btf_target **out, size_t *n);
/* btf_fixup.c: rewrite the object's BTF into what this kernel accepts. */
int ayac_btf_sanitize(struct ayac_obj *obj);
/* prog_fixups.c (issue 4): instruction rewrites for this kernel (helpers it lacks). */
int ayac_prog_fixups(struct ayac_prog *prog);
/* externs.c (issue 3): patch the instruction(s) of an AYAC_RELOC_EXTERN relocation. */
int ayac_extern_relocate(struct ayac_obj *obj, struct ayac_prog *main, struct bpf_insn *insn,
			 const struct ayac_reloc *r);
/* externs.c: resolve every extern for this load (kconfig values into the .kconfig map's
 * image, ksym addresses and BTF ids, kfuncs), before maps are created. */
int ayac_externs_resolve(struct ayac_obj *obj);

/* reloc.c: build each program's final instructions with subprograms appended, maps
 * and data resolved to fds, func/line info rebased. Maps must have fds. */
int ayac_obj_relocate(struct ayac_obj *obj);

/* What this kernel lacks (btf_fixup.c: ayac_feature answers that are a definite 0). */
unsigned ayac_btf_missing_features(void);
/* The bit for a feature name as ayac_feature_name spells it ("btf_func"); 0: none. */
unsigned ayac_btf_feature_bit(const char *name);

#endif
