/* sys: the bottom package. Thin wrappers over the kernel's interfaces (bpf(2),
 * perf_event_open, bpffs/tracefs), the per-thread error record and small allocation and
 * file helpers. Every other package may include this; it includes nothing of ayac's but
 * the public header. */
#ifndef AYAC_SYS_H
#define AYAC_SYS_H

#include <linux/perf_event.h>
#include <ayac/ayac.h>

#define AYAC_OBJ_NAME_LEN 16 /* BPF_OBJ_NAME_LEN: 15 characters and a NUL */
#define BPF_INSN_SZ ((__u32)sizeof(struct bpf_insn))

/* Constants newer than the uapi headers this builds against. */
#ifndef BPF_F_MMAPABLE
#define BPF_F_MMAPABLE (1U << 10)
#endif
/* Linux 6.4+: a struct_ops map registered through a bpf_link, and its attach type. */
#define AYAC_BPF_F_LINK (1U << 13)
#define AYAC_BPF_STRUCT_OPS 44
/* Linux 6.6+: the multi-uprobe link (enum bpf_attach_type). */
#define AYAC_BPF_TRACE_UPROBE_MULTI 48
#define AYAC_BPF_TRACE_KPROBE_SESSION 56   /* 6.10 */
#define AYAC_BPF_TRACE_UPROBE_SESSION 57   /* 6.13 */

/* ---- syscalls (bpf.c) ---------------------------------------------------------- */

/* bpf(2): the result, or -errno. Fds returned are >= 3 and O_CLOEXEC. */
int sys_bpf(enum bpf_cmd cmd, union bpf_attr *attr, unsigned int size);
int sys_bpf_fd(enum bpf_cmd cmd, union bpf_attr *attr, unsigned int size);
int sys_perf_event_open(struct perf_event_attr *attr, int pid, int cpu, int group_fd,
			unsigned long flags); /* fd or -errno */
int sys_obj_pin(int fd, const char *path);
int sys_obj_get(const char *path);
int sys_obj_info(int fd, void *info, __u32 *info_len);
int sys_map_freeze(int fd);
/* Returns fd >= 3 (moving 0..2 away, since those would be confused with stdio). */
int sys_fd_above_stdio(int fd);

/* ---- globs (glob.c): '*' and '?' ---------------------------------------------------- */

bool ayac_glob_match(const char *pattern, const char *s);

/* ---- this process (pid.c) ---------------------------------------------------------- */

/* getpid(), cached; right in a forked child too (reset by pthread_atfork). */
int ayac_self_pid(void);

/* ---- small helpers (util.c) ----------------------------------------------------------- */

char *ayac_strdup(const char *s);           /* NULL on ENOMEM, after ayac_seterr */
void *ayac_calloc(size_t n, size_t size);   /* NULL on ENOMEM (overflow checked), after ayac_seterr */
void *ayac_reallocarray(void *p, size_t n, size_t size);

/* ---- files the core parses (file.c) ------------------------------------------------ */

/* Largest files ayac parses: a BPF object or raw BTF beyond 1 GiB is not one (objects
 * are KBs to a few MBs, vmlinux BTF ~6 MB); an ELF searched for .BTF (a vmlinux image
 * with debug info) may be larger, and only its headers and .BTF are read. */
#define AYAC_OBJ_MAX_SIZE ((size_t)1 << 30)
#define AYAC_BTF_MAX_SIZE ((size_t)1 << 30)
#define AYAC_BTF_ELF_MAX_SIZE ((size_t)4 << 30)

struct ayac_file {
	int fd;
	const char *path;
	size_t size;                /* from fstat; after ayac_file_map, the bytes in data */
	unsigned char head[64];     /* the first bytes (an ELF64 header's worth) */
	size_t head_len;
	void *data;                 /* after ayac_file_map */
	bool mapped;                /* data is a mapping, else malloc-ed */
};

/* Open a regular file and read its first bytes (f->head); always ayac_file_close. */
int ayac_file_open(struct ayac_file *f, const char *path);
/* The whole file in f->data: mapped private and read-only (read when it cannot be
 * mapped). Files over max bytes are refused with EFBIG (`what`: "a BPF object"). */
int ayac_file_map(struct ayac_file *f, size_t max, const char *what);
/* Hand f->data over (release it with ayac_file_release); ayac_file_close won't. */
void *ayac_file_take(struct ayac_file *f, size_t *size, bool *mapped);
void ayac_file_release(void *data, size_t size, bool mapped);
void ayac_file_close(struct ayac_file *f);
/* Copy name into a buffer of 16, keeping only characters the kernel accepts in object
 * names ([A-Za-z0-9_.]) and truncating as libbpf does. */
void ayac_kernel_obj_name(char out[AYAC_OBJ_NAME_LEN], const char *name);

#endif
