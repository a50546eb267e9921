/* Extern symbols of an object (libbpf's __kconfig and __ksym): what elf_externs.c reads
 * at open, what kconfig.c, ksyms.c and externs.c resolve at load, and how externs.c
 * patches the instructions that refer to them. Private to those four files. */
#ifndef AYAC_EXTERNS_H
#define AYAC_EXTERNS_H

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

/* kconfig.c: fill the .kconfig map's initial image (LINUX_* values computed, CONFIG_*
 * from the kernel's config). Strong externs left unset are errors naming them. */
int ayac_kconfig_fill(struct ayac_externs *ext);
/* kconfig.c: KERNEL_VERSION(a, b, c) of the running kernel as libbpf computes it
 * (Ubuntu's /proc/version_signature, Debian's " Debian a.b.c" in uname -v, else the
 * release), or 0 when unparseable. */
__u32 ayac_kernel_version(void);

/* ksyms.c: the address of a kernel symbol from /proc/kallsyms (read once per process).
 * 0 and *addr; -ENOENT when absent (message set); -ENOTUNIQ when the name has several
 * addresses (message set); other negative errors when the file cannot be read. */
int ayac_kallsyms_lookup(const char *name, __u64 *addr);

#endif
