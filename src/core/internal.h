/* Shared inside src/core only: the structures behind the opaque handles, the syscall
 * wrappers and the section table. Nothing outside src/core includes this. */
#ifndef AYAC_INTERNAL_H
#define AYAC_INTERNAL_H

#include "sys/sys.h"
#include "btf/btf.h"
#include "elf/section.h"

/* ---- objects, programs, maps ------------------------------------------------------------ */

enum ayac_map_kind {
	AYAC_MAP_USER,    /* from .maps or legacy maps */
	AYAC_MAP_DATA,    /* .data, .data.* */
	AYAC_MAP_RODATA,  /* .rodata, .rodata.* */
	AYAC_MAP_BSS,     /* .bss, .bss.* */
	AYAC_MAP_KCONFIG, /* .kconfig externs, filled by the loader (externs.c) */
};

enum { AYAC_PIN_NONE = 0, AYAC_PIN_BY_NAME = 1 };

/* A variable of .struct_ops / .struct_ops.link: a BPF_MAP_TYPE_STRUCT_OPS map whose
 * value is the kernel's struct bpf_struct_ops_<tname>, built at attach from the
 * object's image and the programs in its function-pointer members (struct_ops.c). */
struct ayac_st_ops {
	void *data;                  /* the variable's bytes as the object has them */
	__u32 size;                  /* sizeof its struct in the object's BTF */
	__u32 type_id;               /* that struct in the object's BTF */
	char *tname;                 /* its name: "tcp_congestion_ops" */
	struct ayac_prog **progs;    /* per member of type_id: the program there, or NULL */
	__u32 nr_members;
	__u32 kern_type_id;          /* struct <tname> in vmlinux BTF (at load) */
	__u32 kern_vtype_id;         /* struct bpf_struct_ops_<tname> */
	__u32 kern_data_off;         /* offset of its `data` member */
	bool link;                   /* .struct_ops.link: registered through a bpf_link */
};

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
	struct ayac_st_ops *st_ops;  /* struct_ops maps (kind AYAC_MAP_USER), else NULL */
	bool no_create;              /* not created at load (?.struct_ops, set_autocreate) */
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
	/* freplace (EXT): the program whose function it replaces (an fd of ours, or -1)
	 * and that function's name (NULL: from the section, "freplace/<func>"). A deferred
	 * extension is relocated with the object but loaded at attach, against the target
	 * given then (the `extensions` load option, Aya's Extension). */
	int attach_prog_fd;
	char *attach_func;
	bool ext_deferred;
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
	struct ayac_usdt_ids *usdt;  /* USDT spec ids in use (attach/usdt_spec.c); one
				      * allocation, freed with the object */
	struct ayac_core_state *core; /* CO-RE: btf = path target, candidate cache (core_cands.c) */
};

/* ---- links (link.c) ------------------------------------------------------------------- */

enum ayac_link_kind {
	AYAC_LINK_BPF,         /* a bpf_link fd (BPF_LINK_CREATE, BPF_RAW_TRACEPOINT_OPEN) */
	AYAC_LINK_PERF_LINK,   /* bpf_link over a perf event: both fds */
	AYAC_LINK_PERF_IOCTL,  /* perf event with PERF_EVENT_IOC_SET_BPF: perf fd only */
	AYAC_LINK_KEPT,        /* the kernel keeps it without an fd (netlink XDP/TC,
				* BPF_PROG_ATTACH, a socket option): ops remove it */
	AYAC_LINK_STRUCT_OPS,  /* a registered .struct_ops map: fd is a copy of the map's fd,
				* release unregisters it (map delete of key 0) */
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

/* One more attachment of a link that holds several (a perf event per CPU, a uprobe per
 * USDT site, a kprobe per function where the kernel has no multi-kprobe link). */
struct ayac_link_part {
	int fd;                      /* bpf link fd, or -1 */
	int perf_fd;                 /* perf event fd, or -1 */
};

struct ayac_link {
	enum ayac_link_kind kind;
	const char *what;            /* "tracepoint", "raw_tp", "uprobe", ... */
	int fd;                      /* bpf link fd, or -1 */
	int perf_fd;                 /* perf event fd, or -1 */
	bool pinned;
	struct ayac_prog *prog;      /* NULL once its object is closed, or for struct_ops */
	struct ayac_obj *obj;        /* the object it is registered with; NULL once closed */
	struct ayac_link *next;      /* in obj->links */
	struct ayac_link_desc desc;  /* what it is attached to, for info() */
	struct ayac_link_part *parts; /* attachments beyond (fd, perf_fd); see above */
	size_t nr_parts;
	/* Called once when the link lets go of its attachments (detach, free, object
	 * close), before the fds close, with undo true: give back what the attach took
	 * (USDT spec ids, a registered struct_ops). With undo false when the object
	 * closes under a pinned link, which keeps running: only free priv. */
	void (*release)(struct ayac_link *link, void *priv, bool undo);
	/* Private data of what made the link: of release above, or of ops below (a link
	 * has one or the other, never both). */
	void *priv;

	int owner_pid;               /* the process that attached (fork safety) */

	/* AYAC_LINK_KEPT only */
	const struct ayac_link_ops *ops;
	bool kept;                   /* attached: ops->detach still to run */
	struct ayac_link *kept_next; /* in the process-wide list removed at exit */
};

#endif
