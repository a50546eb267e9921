/* Shared inside src/core only: the structures behind the opaque handles, the syscall
 * wrappers and the section table. Nothing outside src/core includes this. */
#ifndef AYAC_INTERNAL_H
#define AYAC_INTERNAL_H

#include <linux/perf_event.h>
#include "ayac.h"
#include "btf.h"

#define AYAC_OBJ_NAME_LEN 16 /* BPF_OBJ_NAME_LEN: 15 characters and a NUL */
#define BPF_INSN_SZ ((__u32)sizeof(struct bpf_insn))

/* Constants newer than the uapi headers this builds against. */
#ifndef BPF_F_MMAPABLE
#define BPF_F_MMAPABLE (1U << 10)
#endif

/* ---- syscalls (sys_bpf.c) ---------------------------------------------------------- */

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

/* ---- section table (section.c) -------------------------------------------------------- */

enum ayac_attach_kind {
	AYAC_ATTACH_NONE,        /* nothing automatic (xdp, tc, cgroup... take a target) */
	AYAC_ATTACH_TRACEPOINT,  /* tracepoint/cat/name, tp/cat/name */
	AYAC_ATTACH_RAW_TP,      /* raw_tp/name, raw_tracepoint/name */
	AYAC_ATTACH_TRACING,     /* tp_btf/name, fentry/fexit/fmod_ret, lsm, iter */
	AYAC_ATTACH_KPROBE,      /* kprobe/func[+off], kretprobe/func */
	AYAC_ATTACH_UPROBE,      /* uprobe/path:sym[+off], uretprobe/... */
	AYAC_ATTACH_TARGETED,    /* needs a target from the caller (xdp, tc, cgroup, ...) */
};

enum {
	AYAC_SEC_SLEEPABLE = 1 << 0,  /* ".s" variants: BPF_F_SLEEPABLE */
	AYAC_SEC_RETPROBE = 1 << 1,   /* kretprobe/uretprobe */
	AYAC_SEC_BTF_ID = 1 << 2,     /* attach_btf_id from vmlinux (tp_btf, fentry, lsm, iter) */
	AYAC_SEC_XDP_FRAGS = 1 << 3,  /* xdp.frags: BPF_F_XDP_HAS_FRAGS */
	AYAC_SEC_EXACT = 1 << 4,      /* the name must match exactly, not as a prefix */
};

struct ayac_sec_def {
	const char *prefix;            /* "tracepoint/", "xdp", ... */
	enum bpf_prog_type prog_type;
	enum bpf_attach_type attach_type;
	enum ayac_attach_kind attach_kind;
	unsigned flags;
	/* For AYAC_SEC_BTF_ID: the prefix put before the target's name when looking it up in
	 * vmlinux BTF ("btf_trace_" for tp_btf, "bpf_lsm_" for lsm, "bpf_iter_" for iter). */
	const char *btf_name_prefix;
};

/* The definition whose prefix matches the section name best; NULL when none. */
const struct ayac_sec_def *ayac_sec_def_find(const char *sec_name);

/* ---- objects, programs, maps ------------------------------------------------------------ */

enum ayac_map_kind {
	AYAC_MAP_USER,    /* from .maps or legacy maps */
	AYAC_MAP_DATA,    /* .data, .data.* */
	AYAC_MAP_RODATA,  /* .rodata, .rodata.* */
	AYAC_MAP_BSS,     /* .bss, .bss.* */
	AYAC_MAP_KCONFIG, /* .kconfig externs, filled by the loader (externs.c) */
};

enum { AYAC_PIN_NONE = 0, AYAC_PIN_BY_NAME = 1 };

struct ayac_map {
	struct ayac_obj *obj;        /* NULL for standalone maps */
	char *name;
	struct ayac_map_def def;     /* def.name points at name */
	enum ayac_map_kind kind;
	int fd;
	int sec_idx;                 /* ELF section it came from */
	size_t sec_offset;           /* .maps: offset of its symbol; data maps: 0 */
	__u32 btf_key_type_id, btf_value_type_id;
	__u32 btf_var_type_id;       /* .maps: the variable's struct type (for diagnostics) */
	__u32 pinning;
	char *pin_path;              /* set pin path (by name or map_pin_paths) */
	bool reused;                 /* fd came from an existing pin */
	struct ayac_map *inner;      /* map-in-map: template of the inner map */
	__u32 sec_size;              /* .maps: bytes of its definition */
	__u32 values_off;            /* .maps: offset of the `values` array; 0: none */
	struct ayac_map_slot *slots; /* .maps initial values, filled after programs load */
	size_t nr_slots;
	void *data;                  /* data maps: initial image (def.value_size bytes) */
	void *mmaped;                /* data maps after load, when mmap-able */
	size_t mmap_size;
};

/* `.values = { [slot] = &x }` in a .maps definition: a map (maps of maps) or a program
 * (program arrays). */
struct ayac_map_slot {
	__u32 slot;
	struct ayac_map *map;
	struct ayac_prog *prog;
};

struct ayac_prog {
	struct ayac_obj *obj;
	char *name;
	char *sec_name;
	int sec_idx;
	size_t sec_insn_off;         /* first instruction within its section */
	size_t sec_insn_cnt;         /* its own instructions (no subprograms) */
	const struct ayac_sec_def *sec_def;
	enum bpf_prog_type type;
	enum bpf_attach_type attach_type;
	__u32 prog_flags;
	__u32 attach_btf_id;
	bool autoload;
	bool is_subprog;             /* a .text function, appended to callers */
	bool global_func;            /* STB_GLOBAL (matters for func_info linkage only) */
	__u32 log_level;
	int fd;

	/* Relocation state: insns is the program with appended subprograms. */
	struct bpf_insn *insns;
	size_t insn_cnt;
	struct ayac_reloc *relocs;   /* relocations inside this function's own instructions */
	size_t nr_relocs;
	size_t sub_insn_off;         /* where this subprogram sits in the program being built */
	struct ayac_prog *appended_to; /* the program sub_insn_off refers to */

	/* func_info / line_info rebased for insns (insn_off in instructions). */
	struct bpf_func_info *func_info;
	__u32 func_info_cnt;
	struct bpf_line_info *line_info;
	__u32 line_info_cnt;

	char *log;                   /* verifier log of the last attempt */

	/* BTF fds of kernel modules referenced by kfunc calls (BPF_PROG_LOAD fd_array);
	 * owned by the object's target BTF cache, not closed here. */
	int *fd_array;
	__u32 fd_array_cnt;

	/* CO-RE relocations that poisoned an instruction of insns (core_reloc.c), named in
	 * the error when the verifier reaches one. */
	struct ayac_core_poison *core_poisons;
	size_t nr_core_poisons;
};

enum ayac_reloc_type {
	AYAC_RELOC_MAP,          /* ld_imm64 of a map: BPF_PSEUDO_MAP_FD */
	AYAC_RELOC_DATA,         /* ld_imm64 of a global variable: BPF_PSEUDO_MAP_VALUE */
	AYAC_RELOC_CALL,         /* bpf-to-bpf call into another function */
	AYAC_RELOC_SUBPROG_ADDR, /* ld_imm64 of a function's address: BPF_PSEUDO_FUNC */
	AYAC_RELOC_EXTERN,       /* extern symbol (.kconfig, __ksym): resolved by the CO-RE work */
};

struct ayac_reloc {
	enum ayac_reloc_type type;
	size_t insn_idx;         /* within the function's own instructions */
	int map_idx;             /* MAP / DATA */
	__s64 sym_off;           /* symbol's value (byte offset in its section) */
	int sym_idx;
	size_t sym_sec;          /* CALL / SUBPROG_ADDR: the section of the callee */
};

/* The parsed ELF, kept from open to load. */
struct ayac_elf;

struct ayac_obj {
	char *name;
	enum ayac_obj_state state;
	struct ayac_open_opts opts;  /* strings below are owned copies */
	char *btf_path, *pin_root;

	struct ayac_elf *elf;        /* parse state (elf_object.c); freed after load */
	char license[128];
	__u32 kern_version;

	struct ayac_prog **progs;    /* programs, then .text subprograms */
	size_t nr_progs;             /* entry programs (visible) */
	size_t nr_all_progs;         /* including subprograms */
	struct ayac_map **maps;
	size_t nr_maps;

	struct ayac_btf *btf;        /* the object's own BTF (NULL: none) */
	struct ayac_btf_ext *btf_ext;
	char *btf_load_error;        /* why the kernel refused the object's BTF, if it did */
	bool btf_drop_func_info;     /* kernel without BTF FUNC: load programs without
				      * func_info/line_info (set by ayac_btf_sanitize) */
	struct ayac_externs *externs; /* __kconfig/__ksym externs (externs.h); NULL: none */

	struct ayac_link *links;     /* links made from this object's programs */
	struct ayac_core_state *core; /* CO-RE: btf = path target, candidate cache (core_cands.c) */
};

/* elf_object.c: parse the ELF into obj (programs, maps, BTF, relocations). */
int ayac_elf_open(struct ayac_obj *obj, const void *buf, size_t size);
void ayac_elf_free(struct ayac_elf *elf);

/* object.c: the object's BTF fd, or -1 when it has none or the kernel refused it. */
int ayac_obj_btf_fd(struct ayac_obj *obj);

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
/* elf_externs.c (issue 3): the object's extern symbols, read at open. */
int ayac_elf_read_externs(struct ayac_obj *obj, struct ayac_elf *elf);
/* btf_sanitize.c (issue 3): rewrite the object's BTF into what this kernel accepts. */
int ayac_btf_sanitize(struct ayac_obj *obj);
/* prog_fixups.c (issue 4): instruction rewrites for this kernel (helpers it lacks). */
int ayac_prog_fixups(struct ayac_prog *prog);
/* externs.c (issue 3): patch the instruction(s) of an AYAC_RELOC_EXTERN relocation. */
int ayac_extern_relocate(struct ayac_obj *obj, struct ayac_prog *main, struct bpf_insn *insn,
			 const struct ayac_reloc *r);
/* externs.c: resolve every extern for this load (kconfig values into the .kconfig map's
 * image, ksym addresses and BTF ids, kfuncs), before maps are created. */
int ayac_externs_resolve(struct ayac_obj *obj);
void ayac_externs_free(struct ayac_externs *ext);

/* reloc.c: build each program's final instructions with subprograms appended, maps
 * and data resolved to fds, func/line info rebased. Maps must have fds. */
int ayac_obj_relocate(struct ayac_obj *obj);

/* map.c */
struct ayac_map *ayac_map_new(struct ayac_obj *obj, const char *name);
int ayac_map_create_in_kernel(struct ayac_map *map);  /* pins, reuse, data init, freeze, mmap */
void ayac_map_close(struct ayac_map *map);           /* fd and mmap */
int ayac_maps_fill_slots(struct ayac_obj *obj);      /* after programs load */
void ayac_map_destroy(struct ayac_map *map);         /* close + free memory */

/* prog.c */
struct ayac_prog *ayac_prog_new(struct ayac_obj *obj, const char *name, const char *sec_name);
int ayac_prog_load_in_kernel(struct ayac_prog *prog);
void ayac_prog_close(struct ayac_prog *prog);
void ayac_prog_destroy(struct ayac_prog *prog);

/* ---- links (link.c) ------------------------------------------------------------------- */

enum ayac_link_kind {
	AYAC_LINK_BPF,         /* a bpf_link fd (BPF_LINK_CREATE, BPF_RAW_TRACEPOINT_OPEN) */
	AYAC_LINK_PERF_LINK,   /* bpf_link over a perf event: both fds */
	AYAC_LINK_PERF_IOCTL,  /* perf event with PERF_EVENT_IOC_SET_BPF: perf fd only */
	AYAC_LINK_KEPT,        /* the kernel keeps it without an fd (netlink XDP/TC,
				* BPF_PROG_ATTACH, a socket option): ops remove it */
};

struct ayac_link;

/* How an AYAC_LINK_KEPT attachment goes (attach/). */
struct ayac_link_ops {
	/* Remove the attachment from the kernel: 0, or -errno with the error set. Called
	 * once, in the process that attached. */
	int (*detach)(struct ayac_link *link);
	/* Free priv and the fds in it (after detach, or in a forked child without it). */
	void (*release)(struct ayac_link *link);
	/* Remove it at process exit too: the kernel would keep it past the process. */
	bool at_exit;
};

struct ayac_link {
	enum ayac_link_kind kind;
	const char *what;            /* "tracepoint", "raw_tp", "uprobe", ... */
	int fd;                      /* bpf link fd, or -1 */
	int perf_fd;                 /* perf event fd, or -1 */
	bool pinned;
	struct ayac_prog *prog;      /* NULL once its object is closed */
	struct ayac_link *next;      /* in prog->obj->links */
	struct ayac_link_desc desc;  /* what it is attached to, for info() */

	/* AYAC_LINK_KEPT only */
	const struct ayac_link_ops *ops;
	void *priv;
	bool kept;                   /* attached: ops->detach still to run */
	int owner_pid;               /* the process that attached (fork safety) */
	struct ayac_link *kept_next; /* in the process-wide list removed at exit */
};

/* A link for an attachment the kernel keeps without an fd; registered with the
 * program's object and, when ops->at_exit, with the list removed at process exit.
 * Takes priv (ops->release frees it on failure too). */
struct ayac_link *ayac_link_new_kept(struct ayac_prog *prog, const char *what,
				     const struct ayac_link_ops *ops, void *priv);
/* A kept link whose attachment is gone by other means (replaced): it is detached now,
 * without asking the kernel. */
void ayac_link_kept_gone(struct ayac_link *link);
/* Wraps fds into a link registered with the program's object. Takes ownership of the
 * fds (closes them on failure). */
struct ayac_link *ayac_link_new(struct ayac_prog *prog, enum ayac_link_kind kind,
				const char *what, int fd, int perf_fd);
/* Attach prog to an open perf event: bpf_link when the kernel has it, ioctl otherwise. */
struct ayac_link *ayac_attach_perf_event(struct ayac_prog *prog, int perf_fd, const char *what,
					 __u64 cookie);
/* obj close: detach every link that is not pinned and forget the object. */
void ayac_links_release_obj(struct ayac_obj *obj);
/* The loaded program's fd, or a negative error with a bare message ("the program is
 * not loaded") for the caller to put in context. */
int ayac_link_prog_fd(const struct ayac_prog *prog);
/* ayac_attach_perf_event naming the target in error messages ("attach tracepoint
 * 'syscalls:sys_enter_getpid' for program 'x': ..."); target may be NULL. Both take
 * ownership of perf_fd (it ends in the link or is closed). */
struct ayac_link *ayac_attach_perf_event_to(struct ayac_prog *prog, int perf_fd,
					    const char *what, const char *target, __u64 cookie);
/* attach_perf.c: open a kprobe/uprobe PMU event (pmu "kprobe" or "uprobe"): target is
 * the function name or the file path, offset the probe offset, pid -1 for every
 * process, ref_ctr_off the USDT semaphore offset (uprobe only, 0: none). Returns the
 * perf fd (O_CLOEXEC) or a negative error with a bare message. */
int ayac_probe_perf_open(const char *pmu, bool retprobe, const char *target, __u64 offset,
			 int pid, __u64 ref_ctr_off);

/* ---- small helpers (util.c) ----------------------------------------------------------- */

char *ayac_strdup(const char *s);           /* NULL on ENOMEM, after ayac_seterr */
void *ayac_calloc(size_t n, size_t size);   /* NULL on ENOMEM (overflow checked), after ayac_seterr */
void *ayac_reallocarray(void *p, size_t n, size_t size);
/* Read a whole file; NULL with error set. */
void *ayac_read_file(const char *path, size_t *size);
/* Copy name into a buffer of 16, keeping only characters the kernel accepts in object
 * names ([A-Za-z0-9_.]) and truncating as libbpf does. */
void ayac_kernel_obj_name(char out[AYAC_OBJ_NAME_LEN], const char *name);

#endif
