/* Extern symbols of an object (libbpf's __kconfig and __ksym) as elf_externs.c reads
 * them at open; the relocation package (relo/externs.h) resolves them at load. */
#ifndef AYAC_ELF_EXTERNS_H
#define AYAC_ELF_EXTERNS_H

#include "internal.h"

enum ayac_ext_kind {
	AYAC_EXT_KCONFIG,  /* .kconfig variable: a value in the object's .kconfig map */
	AYAC_EXT_KSYM,     /* .ksyms variable: typed (BTF id) or typeless (address) */
	AYAC_EXT_KFUNC,    /* .ksyms function: a kfunc called (or tested) by the program */
};

/* How a .kconfig variable is typed, which decides what values it takes. */
enum ayac_kcfg_type {
	AYAC_KCFG_UNKNOWN,
	AYAC_KCFG_CHAR,     /* 1-byte integer: y/n/m as characters, or a number */
	AYAC_KCFG_BOOL,     /* _Bool: y or n */
	AYAC_KCFG_TRISTATE, /* enum libbpf_tristate: n=0, y=1, m=2 */
	AYAC_KCFG_INT,      /* 2-, 4- or 8-byte integer (decimal or 0x hex) */
	AYAC_KCFG_CHAR_ARR, /* char[N]: a quoted string, truncated to N-1 bytes */
};

struct ayac_extern {
	const char *name;          /* as in the object's BTF (and symbol table) */
	int sym_idx;               /* its symbol: relocations name it */
	bool weak;
	enum ayac_ext_kind kind;
	__u32 btf_id;              /* the VAR or FUNC in the object's BTF */
	__u32 type_id;             /* its type without modifiers (FUNC: the FUNC_PROTO);
				    * 0 for a typeless ksym (const void) */

	/* .kconfig */
	enum ayac_kcfg_type kcfg;
	bool is_signed;
	__u32 size, align, data_off; /* where the value sits in the .kconfig map */

	/* Resolution, redone at each load. */
	bool is_set;
	__u64 addr;                /* typeless ksym (and weak ones left unresolved: 0) */
	__u32 kernel_btf_id;       /* typed ksym, kfunc: id in vmlinux or module BTF */
	int kernel_btf_fd;         /* module BTF fd; 0 for vmlinux */
	__s16 fd_idx;              /* kfunc call: index in fd_array, 0 for vmlinux */
};

struct ayac_externs {
	struct ayac_extern *v;
	size_t n;
	struct ayac_map *kconfig;  /* the "<obj>.kconfig" map, NULL without .kconfig externs */
	int *fd_array;             /* BPF_PROG_LOAD fd_array for module kfuncs; [0] unused */
	__u32 fd_array_cnt;
};

void ayac_externs_free(struct ayac_externs *ext);

#endif
