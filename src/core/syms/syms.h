/* syms: names for addresses. Kernel symbols from /proc/kallsyms (kallsyms.c), function
 * symbols of user-space ELF files (elfsyms.c) placed in a process through its
 * /proc/PID/maps (procmaps.c, usyms.c), and the running kernel's system call table
 * (kmem.c, syscalls.c). Reads files and, for the syscall table, runs one BPF program
 * through sys/; never touches the object model. */
#ifndef AYAC_SYMS_H
#define AYAC_SYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sys/sys.h"
#include "btf/btf.h"

/* ---- kallsyms.c ------------------------------------------------------------------- */

/* The address of a kernel symbol by name (read once per process). A data symbol renamed
 * by LTO ("foo.llvm.1234") also answers to its C name. 0 and *addr; -ENOENT when absent,
 * -ENOTUNIQ when the name has several addresses (message set); other negative errors
 * when the file cannot be read. "module:name" restricts the search to one module. */
int ayac_kallsyms_lookup(const char *name, __u64 *addr);

/* ---- elfsyms.c -------------------------------------------------------------------- */

struct ayac_elf_seg {          /* a PT_LOAD segment: file offsets to virtual addresses */
	__u64 vaddr, offset, filesz;
};

struct ayac_elf_sym {
	__u64 addr, size;
	const char *name;      /* inside ayac_elfsyms.strings */
};

/* The function symbols of one executable or shared library (from .symtab, else .dynsym;
 * from a separate debug file found by build-id or .gnu_debuglink when the file itself
 * is stripped), sorted by address. */
struct ayac_elfsyms {
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	struct ayac_elf_seg *segs;
	size_t nsegs;
	struct ayac_elf_sym *syms;
	size_t nsyms;
	char *strings;
	char *debug_path;      /* the debug file the symbols came from, or NULL */
};

/* Read the symbols of the ELF file open at fd (the fd stays open, owned by the caller).
 * path names it in messages and locates .gnu_debuglink files. */
struct ayac_elfsyms *ayac_elfsyms_read(int fd, const char *path);
void ayac_elfsyms_free(struct ayac_elfsyms *es);
/* The virtual address (as in the ELF file) of a file offset, through the PT_LOAD segment
 * holding it. false: no segment maps that offset. */
bool ayac_elfsyms_vaddr(const struct ayac_elfsyms *es, __u64 file_off, __u64 *vaddr);
/* The symbol holding vaddr, or NULL. */
const struct ayac_elf_sym *ayac_elfsyms_find(const struct ayac_elfsyms *es, __u64 vaddr);

/* ---- procmaps.c ------------------------------------------------------------------- */

struct ayac_vma {
	__u64 start, end, pgoff;
	dev_t dev;
	ino_t ino;
	bool exec;
	char *path;            /* "/usr/lib/…", "[vdso]", "" for anonymous memory */
};

/* /proc/PID/maps: every mapping in address order. */
int ayac_procmaps_read(int pid, struct ayac_vma **out, size_t *count);
void ayac_procmaps_free(struct ayac_vma *v, size_t count);

/* ---- kmem.c ----------------------------------------------------------------------- */

/* Copy kernel memory (bpf_probe_read_kernel, or _str when str) into buf through a
 * BPF_PROG_TYPE_SYSCALL program run with BPF_PROG_TEST_RUN. The program is loaded on
 * first use and kept. 0, or a negative errno (message set). */
int ayac_kmem_read(__u64 addr, void *buf, size_t len, bool str);
/* The kernel address of the calling thread's task_struct (bpf_get_current_task). */
int ayac_kmem_current_task(__u64 *task);

#endif
