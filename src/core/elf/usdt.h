/* USDT probes of executables and shared libraries (systemtap's <sys/sdt.h>): the
 * .note.stapsdt notes, and their x86-64 argument specifications. Pure: bytes in,
 * records out; attach/usdt.c turns them into uprobes and libbpf's spec maps. */
#ifndef AYAC_ELF_USDT_H
#define AYAC_ELF_USDT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct ayac_usdt_note {
	const char *provider, *name, *args; /* point into the note block (owned by the list) */
	__u64 loc_addr;      /* probe address, adjusted by .stapsdt.base when prelinked */
	__u64 sema_addr;     /* semaphore address, 0: none */
	__u64 ip_off;        /* file offset of the probe: where the uprobe goes */
	__u64 sema_off;      /* file offset of the semaphore (uprobe ref_ctr_offset), 0: none */
};

struct ayac_usdt_notes {
	struct ayac_usdt_note *notes;
	size_t n;
	bool exec;           /* ET_EXEC (fixed addresses), else ET_DYN (PIE, library) */
	char *strings;       /* provider/name/args storage */
};

/* Every USDT note of an ELF executable or shared library: from bytes (the parser
 * proper, fuzzable) or from a file. No notes is not an error (n 0). */
int ayac_usdt_notes_parse(const void *buf, size_t size, struct ayac_usdt_notes *out);
int ayac_usdt_notes_read(const char *path, struct ayac_usdt_notes *out);
void ayac_usdt_notes_free(struct ayac_usdt_notes *notes);

/* One argument, as libbpf's usdt.bpf.h reads it. */
enum ayac_usdt_arg_kind {
	AYAC_USDT_ARG_CONST,     /* "4@$42": val_off is the value */
	AYAC_USDT_ARG_REG,       /* "-8@%rdx": the register at reg_off of struct pt_regs */
	AYAC_USDT_ARG_REG_DEREF, /* "-4@-20(%rbp)": memory at register + val_off */
	AYAC_USDT_ARG_SIB,       /* "8@16(%rdi,%rsi,8)": base + index << scale + val_off */
};

struct ayac_usdt_arg {
	enum ayac_usdt_arg_kind kind;
	__s64 val_off;
	__u16 reg_off;           /* offsetof(struct pt_regs, reg) on x86-64 */
	__u16 idx_reg_off;       /* SIB: the index register */
	__u8 scale_shift;        /* SIB: scale = 1 << scale_shift */
	__u8 size;               /* bytes: 1, 2, 4, 8 */
	bool is_signed;
};

#define AYAC_USDT_MAX_ARGS 12

/* "-4@%eax 8@-16(%rbp) -4@$42": at most max arguments (x86-64 register names). */
int ayac_usdt_parse_args(const char *spec, struct ayac_usdt_arg *args, int max, int *cnt);

#endif
