/* Extern symbols of an object (libbpf's __kconfig and __ksym): what elf_externs.c reads
 * at open, what kconfig.c and externs.c resolve at load (kernel symbol addresses come
 * from syms/kallsyms.c), and how externs.c
 * patches the instructions that refer to them. The records themselves are the ELF package's (elf/elf_externs.h). */
#ifndef AYAC_EXTERNS_H
#define AYAC_EXTERNS_H

#include "internal.h"
#include "elf/elf_externs.h"
#include "syms/syms.h"

/* kconfig.c: fill the .kconfig map's initial image (LINUX_* values computed, CONFIG_*
 * from the kernel's config). Strong externs left unset are errors naming them. */
int ayac_kconfig_fill(struct ayac_externs *ext);
/* kconfig.c: the bytes of a kernel config (NUL-terminated text, split into lines in
 * place) given to the unset CONFIG_ externs; origin names the file in messages. The
 * parsing half of ayac_kconfig_fill, with no file or kernel behind it. */
int ayac_kconfig_apply(struct ayac_externs *ext, char *text, const char *origin);
/* kconfig.c: KERNEL_VERSION(a, b, c) of the running kernel as libbpf computes it
 * (Ubuntu's /proc/version_signature, Debian's " Debian a.b.c" in uname -v, else the
 * release), or 0 when unparseable. */
__u32 ayac_kernel_version(void);

/* ayac_kallsyms_lookup (typeless __ksym addresses) lives with the other kernel symbol
 * code in syms/. */

#endif
