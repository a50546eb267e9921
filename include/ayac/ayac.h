/* libayac: the public C API of ayac's core (#include <ayac/ayac.h>, pkg-config ayac),
 * also what the Lua binding and the host binary are built on.
 *
 * Conventions: functions that can fail return 0 (or a handle / fd) on success and a
 * negative errno (or NULL) on failure, after recording a message with context in the
 * per-thread last error (ayac_errmsg). Handles are opaque. Nothing here knows Lua.
 */
#ifndef AYAC_H
#define AYAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/bpf.h>
#include <linux/types.h>

struct ayac_obj;
struct ayac_prog;
struct ayac_map;
struct ayac_link;
struct ayac_btf;

/* ---- errors (error.c) ---------------------------------------------------------- */

/* ayac's own error numbers, beyond errno's range; reported by name like errno. */
enum {
	AYAC_EBADELF = 4096, /* not a valid BPF ELF object */
	AYAC_EBTF,           /* malformed or unusable BTF */
	AYAC_EVERIFIER,      /* the verifier rejected a program; the log is in the message */
	AYAC_ECORE,          /* a CO-RE relocation could not be satisfied */
};

/* Records the last error for this thread: err is an errno or AYAC_E* (sign ignored).
 * Returns -err so callers can `return ayac_seterr(...)`. */
int ayac_seterr(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepends "context: " to the current message, keeping the error number. Returns -err. */
int ayac_errctx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Appends text (e.g. a verifier log) after the current message, on a new line. */
void ayac_errappend(const char *text);
/* Appends text right after the current message (a hint: ": needs CAP_BPF …"). */
void ayac_errsuffix(const char *text);
const char *ayac_errmsg(void);
int ayac_errnum(void);                 /* positive errno or AYAC_E*, 0 if none */
const char *ayac_errname(int err);     /* "ENOENT", "EVERIFIER"; sign ignored */

/* ---- objects (object.c) -------------------------------------------------------- */

struct ayac_open_opts {
	const char *name;        /* object name; default: file name without ".bpf.o"/".o" */
	const char *btf_path;    /* target BTF for CO-RE; NULL: vmlinux */
	bool no_btf;             /* btf = false: no target BTF at all */
	const char *pin_root;    /* for LIBBPF_PIN_BY_NAME maps; NULL: /sys/fs/bpf */
	__u32 log_level;         /* verifier log level for every program (0: log only on failure) */
	bool allow_unsupported_maps;
};

enum ayac_obj_state { AYAC_OBJ_OPENED, AYAC_OBJ_LOADED, AYAC_OBJ_CLOSED };

/* Parse only: nothing reaches the kernel. The bytes are copied. */
struct ayac_obj *ayac_obj_open_file(const char *path, const struct ayac_open_opts *opts);
struct ayac_obj *ayac_obj_open_mem(const void *buf, size_t size, const char *name,
				   const struct ayac_open_opts *opts);
/* Create maps, relocate and load programs. On failure nothing stays in the kernel. */
int ayac_obj_load(struct ayac_obj *obj);
/* Detach links that are not pinned and close every fd. Idempotent. Handles stay valid
 * (their fds read -1) until ayac_obj_free. */
void ayac_obj_close(struct ayac_obj *obj);
void ayac_obj_free(struct ayac_obj *obj);

const char *ayac_obj_name(const struct ayac_obj *obj);
enum ayac_obj_state ayac_obj_state(const struct ayac_obj *obj);
struct ayac_btf *ayac_obj_btf(const struct ayac_obj *obj); /* NULL: object has no BTF */
size_t ayac_obj_prog_cnt(const struct ayac_obj *obj);
struct ayac_prog *ayac_obj_prog_at(const struct ayac_obj *obj, size_t i);
struct ayac_prog *ayac_obj_prog_by_name(const struct ayac_obj *obj, const char *name);
size_t ayac_obj_map_cnt(const struct ayac_obj *obj);
struct ayac_map *ayac_obj_map_at(const struct ayac_obj *obj, size_t i);
struct ayac_map *ayac_obj_map_by_name(const struct ayac_obj *obj, const char *name);

/* A global variable of .data/.rodata/.bss (and their .xxx.* variants). */
struct ayac_global {
	const char *name;
	struct ayac_map *map;  /* the data map holding it */
	__u32 offset;          /* within the map's value */
	__u32 size;
	__u32 btf_type_id;     /* the variable's type in the object's BTF (0: none) */
};
int ayac_obj_find_global(const struct ayac_obj *obj, const char *name, struct ayac_global *out);

/* ---- programs (prog.c) ---------------------------------------------------------- */

const char *ayac_prog_name(const struct ayac_prog *prog);
const char *ayac_prog_section(const struct ayac_prog *prog);
struct ayac_obj *ayac_prog_obj(const struct ayac_prog *prog);
enum bpf_prog_type ayac_prog_type(const struct ayac_prog *prog);
enum bpf_attach_type ayac_prog_attach_type(const struct ayac_prog *prog);
int ayac_prog_fd(const struct ayac_prog *prog);                       /* -1 before load */
__u32 ayac_prog_flags(const struct ayac_prog *prog);  /* BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS, … */
/* The verifier log of the last load attempt ("" when none was asked for). */
const char *ayac_prog_log(const struct ayac_prog *prog);
bool ayac_prog_autoload(const struct ayac_prog *prog);
int ayac_prog_set_autoload(struct ayac_prog *prog, bool autoload);   /* before load */
int ayac_prog_set_type(struct ayac_prog *prog, enum bpf_prog_type type,
		       enum bpf_attach_type attach_type);             /* before load */
int ayac_prog_set_log_level(struct ayac_prog *prog, __u32 level);    /* before load */
/* freplace programs (prog_ext.c): the loaded program whose global function func
 * (NULL: the section's "freplace/<func>") this one replaces; before load. */
int ayac_prog_set_attach_target(struct ayac_prog *prog, int target_prog_fd, const char *func);
/* Not loaded with the object: loaded by ayac_attach_freplace against the target
 * given there (Aya's Extension; the `extensions` load option). Before load. */
int ayac_prog_set_extension(struct ayac_prog *prog);
int ayac_prog_pin(struct ayac_prog *prog, const char *path);
int ayac_prog_unpin(struct ayac_prog *prog, const char *path);

struct ayac_test_run {
	const void *data_in; __u32 data_size_in;
	void *data_out; __u32 data_size_out;     /* in: capacity, out: size written */
	const void *ctx_in; __u32 ctx_size_in;
	void *ctx_out; __u32 ctx_size_out;
	__u32 repeat, flags, cpu;
	__u32 retval, duration_ns;               /* out */
};
int ayac_prog_test_run(struct ayac_prog *prog, struct ayac_test_run *run);
/* BPF_OBJ_GET_INFO_BY_FD (info.c). info is overwritten, except that a caller who wants
 * the map ids sets info->map_ids (a __u32 array as u64) and info->nr_map_ids (its
 * capacity) first; nr_map_ids comes back as the program's real count. */
int ayac_prog_info(const struct ayac_prog *prog, struct bpf_prog_info *info);

/* Kernel names without BPF_PROG_TYPE_, lower case ("tracepoint", "xdp"). NULL: unknown. */
const char *ayac_prog_type_name(enum bpf_prog_type type);
int ayac_prog_type_by_name(const char *name);       /* -1: unknown */
const char *ayac_attach_type_name(enum bpf_attach_type type);
int ayac_attach_type_by_name(const char *name);     /* -1: unknown */

/* ---- maps (map.c) -------------------------------------------------------------- */

struct ayac_map_def {
	enum bpf_map_type type;
	__u32 key_size, value_size, max_entries, map_flags;
	__u32 numa_node;
	__u64 map_extra;
	const char *name;
	/* ayac_map_create of a map of maps: the inner map template's fd (0: none; an
	 * object's maps of maps take theirs from __array(values, ...)). */
	int inner_map_fd;
};

const char *ayac_map_name(const struct ayac_map *map);
struct ayac_obj *ayac_map_obj(const struct ayac_map *map);  /* NULL: standalone map */
const struct ayac_map_def *ayac_map_def(const struct ayac_map *map);
int ayac_map_fd(const struct ayac_map *map);                  /* -1 before load */
/* The BTF describing key/value (the object's BTF); ids 0 when absent. */
struct ayac_btf *ayac_map_btf(const struct ayac_map *map);
__u32 ayac_map_btf_key_type_id(const struct ayac_map *map);
__u32 ayac_map_btf_value_type_id(const struct ayac_map *map);
bool ayac_map_is_percpu(const struct ayac_map *map);
/* Bytes of one value as the syscalls move it: value_size, or for per-CPU maps
 * round_up(value_size, 8) * possible CPUs. */
size_t ayac_map_value_buf_size(const struct ayac_map *map);
int ayac_map_set_max_entries(struct ayac_map *map, __u32 n);  /* before load */
int ayac_map_set_value_size(struct ayac_map *map, __u32 size); /* before load; drops BTF value type */
/* Whether load creates the map (libbpf's autocreate; "?.struct_ops" maps start off).
 * A program that uses a map not created fails to load. Before load. */
int ayac_map_set_autocreate(struct ayac_map *map, bool create);
bool ayac_map_autocreate(const struct ayac_map *map);
/* Global-data maps: the initial image before load, the mmap-ed live data after
 * (NULL when not mmap-able). *size gets the length. *writable false for .rodata after load. */
void *ayac_map_data(struct ayac_map *map, size_t *size, bool *writable);
/* Arrays created with BPF_F_MMAPABLE and arenas: their memory mapped read-write
 * (once; the same mapping after), valid until the map is closed. NULL after
 * ayac_seterr for other maps. */
void *ayac_map_mmap(struct ayac_map *map, size_t *size);          /* map_mmap.c */

int ayac_map_lookup(const struct ayac_map *map, const void *key, void *value); /* -ENOENT absent */
int ayac_map_update(const struct ayac_map *map, const void *key, const void *value, __u64 flags);
int ayac_map_delete(const struct ayac_map *map, const void *key);
int ayac_map_next_key(const struct ayac_map *map, const void *key, void *next_key); /* key NULL: first */
int ayac_map_pin(struct ayac_map *map, const char *path);
int ayac_map_unpin(struct ayac_map *map, const char *path);
int ayac_map_freeze(struct ayac_map *map);
/* Before load: pin the map at this exact path, or reuse the map already pinned there
 * (opts map_pin_paths). */
int ayac_map_set_pin_path(struct ayac_map *map, const char *path);
int ayac_map_info(const struct ayac_map *map, struct bpf_map_info *info);  /* info.c */

struct ayac_map *ayac_map_create(const struct ayac_map_def *def);
struct ayac_map *ayac_map_from_pin(const char *path);
struct ayac_map *ayac_map_from_id(__u32 id);
void ayac_map_free(struct ayac_map *map);  /* standalone maps only; no-op for object maps */

const char *ayac_map_type_name(enum bpf_map_type type);
int ayac_map_type_by_name(const char *name);        /* -1: unknown */

int ayac_num_possible_cpus(void);

/* Plain C ABI for the hot path (called through LuaJIT's FFI): straight syscalls on an
 * fd, no error message, return 0 or -errno. */
int ayac_fast_lookup(int map_fd, const void *key, void *value);
int ayac_fast_update(int map_fd, const void *key, const void *value, __u64 flags);
int ayac_fast_delete(int map_fd, const void *key);
/* Queues and stacks (key NULL), and hash maps on kernels that support it. */
int ayac_fast_lookup_and_delete(int map_fd, const void *key, void *value);
int ayac_fast_next_key(int map_fd, const void *key, void *next_key);
/* Batch operations (Linux 5.6; hash and array types, per map type): count is in/out and
 * meaningful on failure too. in_batch NULL starts an iteration; out_batch receives the
 * position to pass as in_batch next (at least key_size bytes, 4 at least). A lookup
 * batch ends with -ENOENT, possibly with entries; -ENOSPC: a bucket holds more than
 * count entries; -ENOTSUPP (524) or -EINVAL: no batch operation for this map type. */
int ayac_fast_lookup_batch(int map_fd, void *in_batch, void *out_batch, void *keys,
			   void *values, __u32 *count, __u64 elem_flags);
int ayac_fast_lookup_and_delete_batch(int map_fd, void *in_batch, void *out_batch, void *keys,
				      void *values, __u32 *count, __u64 elem_flags);
int ayac_fast_update_batch(int map_fd, const void *keys, const void *values, __u32 *count,
			   __u64 elem_flags);
int ayac_fast_delete_batch(int map_fd, const void *keys, __u32 *count, __u64 elem_flags);

/* ---- links and attaching (link.c, attach_*.c) ----------------------------------- */

struct ayac_uprobe_opts {
	const char *path;      /* executable or shared library */
	const char *symbol;    /* NULL: offset alone is the file offset (0 too, as libbpf) */
	__u64 offset;          /* added to the symbol's offset, or the file offset itself */
	int pid;               /* -1: every process */
	bool retprobe;
	__u64 cookie;
};

/* Attach as the section name says (tracepoint/cat/name, raw_tp/x, tp_btf/x,
 * uprobe/path:sym, …). -EOPNOTSUPP-style error when the section says nothing usable. */
struct ayac_link *ayac_prog_attach_auto(struct ayac_prog *prog);
struct ayac_link *ayac_attach_tracepoint(struct ayac_prog *prog, const char *category,
					 const char *name);
/* raw_tp with a name; tp_btf (and other BTF-typed tracing) with name NULL. */
struct ayac_link *ayac_attach_raw_tp(struct ayac_prog *prog, const char *name);
struct ayac_link *ayac_attach_uprobe(struct ayac_prog *prog, const struct ayac_uprobe_opts *opts);

/* kprobe/kretprobe through the kprobe PMU (perf_event_open type from
 * /sys/bus/event_source/devices/kprobe/type). */
struct ayac_kprobe_opts {
	const char *func;      /* kernel function */
	__u64 offset;          /* within the function (kprobe only) */
	bool retprobe;
	__u64 cookie;
};
struct ayac_link *ayac_attach_kprobe(struct ayac_prog *prog, const struct ayac_kprobe_opts *opts);

/* perf_event programs on sampling perf events (attach/perf_event.c). */
struct ayac_perf_event_opts {
	__u32 type;            /* PERF_TYPE_SOFTWARE, _HARDWARE, _HW_CACHE, _RAW,
				* _TRACEPOINT, or a PMU's own type (sysfs) */
	__u64 config;          /* the event within the type (ayac_perf_event_config) */
	__u64 sample_period;   /* a sample every N events; or */
	__u64 sample_freq;     /* N samples a second (the kernel adjusts the period) */
	int pid;               /* -1: every process; else that thread (and no other) */
	int cpu;               /* -1: every online CPU with pid -1, any CPU with a pid */
	__u64 cookie;
};
/* One perf event (pid or cpu given) or one per online CPU (neither), each running the
 * program; the link owns them all (ayac_link_count). */
struct ayac_link *ayac_attach_perf_events(struct ayac_prog *prog,
					  const struct ayac_perf_event_opts *opts);
/* Names as perf(1) spells them: type "software", "hardware", "cache", "raw",
 * "tracepoint", "breakpoint" or a PMU under /sys/bus/event_source/devices; config
 * "cpu-clock", "cycles", "L1-dcache-load-misses", "category:name" (tracepoint). A
 * NULL config_name leaves *config alone (the caller passes a number). */
int ayac_perf_event_config(const char *type_name, const char *config_name, __u32 *type,
			   __u64 *config);

/* USDT probes (attach/usdt.c) for programs written against libbpf's <bpf/usdt.bpf.h>:
 * every site of provider:name in path. */
struct ayac_usdt_opts {
	const char *path;      /* executable or shared library */
	const char *provider, *name;
	int pid;               /* -1: every process */
	__u64 cookie;          /* what bpf_usdt_cookie() returns */
};
struct ayac_link *ayac_attach_usdt(struct ayac_prog *prog, const struct ayac_usdt_opts *opts);

/* struct_ops (attach/struct_ops.c): register a map of SEC(".struct_ops") or
 * SEC(".struct_ops.link"), its programs in their members. Detaching unregisters. */
struct ayac_link *ayac_map_attach_struct_ops(struct ayac_map *map);

/* freplace (attach/freplace.c): replace func of the program behind target_prog_fd.
 * A deferred extension is loaded here; target_prog_fd -1 attaches to the target
 * given before load. */
struct ayac_link *ayac_attach_freplace(struct ayac_prog *prog, int target_prog_fd,
				       const char *func);

/* Iterators (attach/iter.c): SEC("iter/<target>") programs. Parameters of the target,
 * all optional, at most one kind: */
struct ayac_iter_opts {
	int map_fd;            /* bpf_map_elem (and sk/task storage, sockmap): the map */
	int cgroup_fd;         /* cgroup: where the walk starts (or cgroup_id; neither: root) */
	__u64 cgroup_id;
	__u32 order;           /* enum bpf_cgroup_iter_order (BPF_CGROUP_ITER_*) */
	__u32 tid, pid;        /* task, task_file, task_vma: one thread, or one process */
	int pid_fd;            /* or the process of a pidfd */
};
struct ayac_link *ayac_attach_iter(struct ayac_prog *prog, const struct ayac_iter_opts *opts);
/* A new read of an iterator link: an fd (O_CLOEXEC) whose read() returns what the
 * program prints, 0 at the end. The caller closes it. */
int ayac_link_iter_open(struct ayac_link *link);

/* Many kernel functions under one link (kprobe.multi, Linux 5.18; kprobe.session,
 * 6.10): funcs (cnt names, optional cookies one each) or a glob over tracefs'
 * available_filter_functions. Without the multi link, one kprobe per function. */
struct ayac_kprobe_multi_opts {
	const char *const *funcs;
	size_t cnt;
	const __u64 *cookies;
	const char *pattern;
	bool retprobe;
	bool session;
};
struct ayac_link *ayac_attach_kprobe_multi(struct ayac_prog *prog,
					   const struct ayac_kprobe_multi_opts *opts);
/* Many functions of one file under one link (uprobe.multi, 6.6; uprobe.session,
 * 6.13): symbols or offsets (cnt, optional cookies) or a glob over its function
 * symbols. Without the multi link, one uprobe per function. */
struct ayac_uprobe_multi_opts {
	const char *path;
	const char *const *symbols;
	const __u64 *offsets;
	size_t cnt;
	const __u64 *cookies;
	const char *pattern;
	int pid;               /* <= 0: every process */
	bool retprobe;
	bool session;
};
struct ayac_link *ayac_attach_uprobe_multi(struct ayac_prog *prog,
					   const struct ayac_uprobe_multi_opts *opts);

int ayac_link_detach(struct ayac_link *link);   /* idempotent */
void ayac_link_free(struct ayac_link *link);    /* detaches unless pinned */
int ayac_link_fd(const struct ayac_link *link);
bool ayac_link_attached(const struct ayac_link *link);
const char *ayac_link_kind(const struct ayac_link *link); /* "perf_event", "raw_tp", … */
/* How many attachments the link holds: 1 for most, one per CPU for a perf_event link
 * opened on every CPU, one per site for USDT; 0 once detached. */
size_t ayac_link_count(const struct ayac_link *link);
int ayac_link_pin(struct ayac_link *link, const char *path);
/* Unpinned, the link is detached when it is freed (or its object closed). */
int ayac_link_unpin(struct ayac_link *link, const char *path);
/* A link pinned earlier (by this or another process); detach() cuts it off. */
struct ayac_link *ayac_link_from_pin(const char *path);
int ayac_link_info(const struct ayac_link *link, struct bpf_link_info *info); /* info.c */

/* What a link is attached to and through what, for link:info(). Strings are static. */
struct ayac_link_desc {
	const char *via;         /* "bpf_link", "perf_event", "netlink", "prog_attach",
				  * "setsockopt" */
	int ifindex;             /* xdp, tc, netkit: the interface; 0 otherwise */
	const char *mode;        /* xdp: "skb", "drv", "hw" (NULL: the kernel's choice);
				  * cgroup: "multi", "override", "single" */
	const char *direction;   /* tc: "ingress", "egress"; netkit: "primary", "peer" */
	__u32 handle, priority;  /* tc through netlink: the filter's */
	__u32 attach_type;
	bool has_attach_type;
};
const struct ayac_link_desc *ayac_link_desc(const struct ayac_link *link);

/* ---- network, cgroup and socket attachments (attach/) ------------------------------ */

/* The interface's index in the current network namespace; -ENODEV with the error set. */
int ayac_ifindex(const char *ifname);
/* A loaded program's name by id ("" and -ENOENT when there is none). */
int ayac_prog_name_by_id(__u32 id, char *name, size_t size);

enum ayac_xdp_mode { AYAC_XDP_AUTO, AYAC_XDP_SKB, AYAC_XDP_DRV, AYAC_XDP_HW };

/* XDP on an interface: a bpf_link (Linux 5.9) unless netlink is asked for or replace is
 * given, netlink IFLA_XDP otherwise. An occupied slot is refused (EBUSY, naming what
 * occupies it); replace swaps that program (XDP_FLAGS_REPLACE) atomically. */
struct ayac_xdp_opts {
	const char *ifname;              /* or ifindex */
	int ifindex;
	enum ayac_xdp_mode mode;
	const struct ayac_prog *replace; /* the program attached now (netlink) */
	bool netlink;                    /* force IFLA_XDP over netlink */
};
struct ayac_link *ayac_attach_xdp(struct ayac_prog *prog, const struct ayac_xdp_opts *opts);

/* Program ids attached to an interface by mode (0: none). */
struct ayac_xdp_query {
	int ifindex;
	char ifname[16];
	__u32 skb_id, drv_id, hw_id;
};
int ayac_xdp_query(const char *ifname, int ifindex, struct ayac_xdp_query *out);
/* Every interface of the namespace with an XDP program (a netlink dump): *out is a
 * malloc-ed array of *n entries. */
int ayac_xdp_query_all(struct ayac_xdp_query **out, size_t *n);

/* TC: a TCX link (Linux 6.6) unless netlink is asked for (or handle/priority given),
 * else a clsact qdisc (created when missing, removed again on detach when ayac created
 * it and no filter is left on it) and a cls_bpf filter in direct-action mode. */
enum ayac_tc_dir { AYAC_TC_FROM_PROG = -1, AYAC_TC_INGRESS, AYAC_TC_EGRESS };
enum ayac_rel { AYAC_REL_NONE, AYAC_REL_BEFORE, AYAC_REL_AFTER };
struct ayac_tc_opts {
	const char *ifname;              /* or ifindex */
	int ifindex;
	enum ayac_tc_dir direction;      /* AYAC_TC_FROM_PROG: tc/ingress, tcx/egress... */
	__u32 handle, priority;          /* netlink: 0 lets the kernel choose */
	enum ayac_rel where;             /* tcx: before/after relative (fd -1: first/last) */
	int relative_fd;
	bool relative_is_link;
	bool netlink;                    /* force netlink (also when handle or priority) */
};
struct ayac_link *ayac_attach_tc(struct ayac_prog *prog, const struct ayac_tc_opts *opts);
/* Netkit (Linux 6.7): peer false for the primary device's side. */
struct ayac_link *ayac_attach_netkit(struct ayac_prog *prog, const struct ayac_tc_opts *opts,
				     bool peer);

struct ayac_tc_entry {
	const char *via;                 /* "tcx" or "netlink" */
	__u32 prog_id, link_id;          /* link_id: tcx links only */
	__u32 handle, priority;          /* netlink filters only */
	bool direct_action;
	char name[64];                   /* the program's, or the filter's TCA_BPF_NAME */
};
/* What runs on an interface's ingress or egress: TCX programs in order, then cls_bpf
 * filters (a netlink dump). *out is malloc-ed. */
int ayac_tc_query(const char *ifname, int ifindex, enum ayac_tc_dir dir,
		  struct ayac_tc_entry **out, size_t *n);

enum ayac_cgroup_mode { AYAC_CGROUP_DEFAULT, AYAC_CGROUP_MULTI, AYAC_CGROUP_OVERRIDE,
			AYAC_CGROUP_SINGLE };
/* cgroup_* programs, sock_ops, lsm_cgroup on a cgroup v2 directory: a bpf_link (Linux
 * 5.7) for the default and "multi", BPF_PROG_ATTACH with the mode's flags otherwise. */
struct ayac_cgroup_opts {
	const char *path;                /* or fd (>= 0) */
	int fd;
	enum ayac_cgroup_mode mode;
	int attach_type;                 /* -1: the program's */
};
struct ayac_link *ayac_attach_cgroup(struct ayac_prog *prog, const struct ayac_cgroup_opts *opts);
/* Programs attached to a cgroup for one attach type (effective: also inherited ones). */
int ayac_cgroup_query(const char *path, int fd, enum bpf_attach_type type, bool effective,
		      __u32 *ids, __u32 *count, __u32 *attach_flags);

/* Removing, by place, what a process left attached without a link when it died before
 * its exit handlers ran (SIGKILL, a crash): netlink XDP, cls_bpf filters,
 * BPF_PROG_ATTACH on a cgroup. Each names the program expected there (from the
 * queries above) and refuses (ENOENT) when it is not; one held by a bpf_link cannot be
 * removed this way (EBUSY for XDP, ENOENT for cgroups): it goes with the link's last
 * fd. tc: prog_id 0 removes whatever filter has that handle and priority. */
int ayac_xdp_remove(const char *ifname, int ifindex, enum ayac_xdp_mode mode, __u32 prog_id);
int ayac_tc_remove(const char *ifname, int ifindex, enum ayac_tc_dir dir, __u32 handle,
		   __u32 priority, __u32 prog_id);
int ayac_cgroup_remove(const char *path, int fd, enum bpf_attach_type type, __u32 prog_id);

/* socket_filter (SO_ATTACH_BPF) and sk_reuseport (SO_ATTACH_REUSEPORT_EBPF) on a
 * socket; the link keeps a dup of the socket fd until detached. */
struct ayac_link *ayac_attach_socket(struct ayac_prog *prog, int sock_fd);
/* sk_msg and sk_skb programs on a sockmap or sockhash (bpf_link from Linux 6.10,
 * BPF_PROG_ATTACH before). */
struct ayac_link *ayac_attach_sockmap(struct ayac_prog *prog, const struct ayac_map *map);
/* lirc_mode2 on a lirc device (path, or fd >= 0). */
struct ayac_link *ayac_attach_lirc(struct ayac_prog *prog, const char *path, int fd);
/* sk_lookup and flow_dissector on a network namespace (path, or fd >= 0; NULL and -1:
 * the calling thread's). */
struct ayac_link *ayac_attach_netns(struct ayac_prog *prog, const char *path, int fd);
/* netfilter programs (Linux 6.4) on a hook of the current network namespace. */
struct ayac_netfilter_opts {
	__u32 pf;                        /* NFPROTO_IPV4 (2), NFPROTO_IPV6 (10) */
	__u32 hooknum;                   /* NF_INET_PRE_ROUTING (0) … POST_ROUTING (4) */
	__s32 priority;
	bool defrag;                     /* BPF_F_NETFILTER_IP_DEFRAG (Linux 6.6) */
};
struct ayac_link *ayac_attach_netfilter(struct ayac_prog *prog,
					const struct ayac_netfilter_opts *opts);

/* Resolve a symbol in an ELF executable or shared library to the file offset uprobes
 * take (symtab, then dynsym; "name@VERSION" accepted). */
int ayac_elf_symbol_offset(const char *path, const char *symbol, __u64 *offset);

/* ---- inspecting an object (inspect.c) ----------------------------------------------- */

/* What an opened object holds beyond its programs and maps; answers before load, for
 * objects this kernel cannot load too. Strings belong to the object. */
struct ayac_obj_summary {
	const char *license;     /* "" when the object has no license section */
	__u32 kern_version;      /* the "version" section, 0 when absent */
	size_t core_relos;       /* CO-RE relocation records (.BTF.ext) */
	size_t func_infos, line_infos;
	size_t externs;          /* __kconfig and __ksym externs */
};
int ayac_obj_summary(const struct ayac_obj *obj, struct ayac_obj_summary *out);

struct ayac_extern_info {
	const char *name;
	const char *kind;        /* "kconfig", "ksym" or "kfunc" */
	bool weak;
	__u32 btf_type_id;       /* in the object's BTF; 0 for a typeless ksym */
};
int ayac_obj_extern_at(const struct ayac_obj *obj, size_t i, struct ayac_extern_info *out);

size_t ayac_prog_insn_cnt(const struct ayac_prog *prog);      /* its own, as in the ELF */
size_t ayac_prog_core_relo_cnt(const struct ayac_prog *prog); /* records for its section */
/* The section name after its kind: "syscalls/sys_enter_read" for
 * "tracepoint/syscalls/sys_enter_read"; "" when the section names no target. */
const char *ayac_prog_attach_target(const struct ayac_prog *prog);
__u32 ayac_map_pinning(const struct ayac_map *map);          /* 0 none, 1 by name */

/* ---- symbols (syms/) ------------------------------------------------------------ */

/* What is at an address. Strings belong to ayac's symbol caches: kernel ones live as
 * long as the process, user ones until ayac_usyms_forget(pid) or until the cache
 * makes room for other processes; copy them before the next call. */
struct ayac_sym {
	const char *name;      /* NULL: no symbol covers the address (user space) */
	const char *module;    /* kernel: the module, NULL for vmlinux; user: mapping path */
	__u64 offset;          /* addr - sym_addr */
	__u64 sym_addr;        /* where the symbol starts (kernel) / its ELF address (user) */
};

/* /proc/kallsyms, read once per process, sorted, binary search. 0, or -ENOENT below
 * every symbol, -EPERM when the kernel hides addresses (kptr_restrict). */
int ayac_ksym(__u64 addr, struct ayac_sym *out);
/* A kernel symbol's address; "module:name" names one module (or "vmlinux:name"). */
int ayac_kaddr(const char *name, __u64 *addr);
/* Read /proc/kallsyms again at the next lookup (modules and BPF programs loaded since).
 * Names handed out before stay valid. */
void ayac_ksyms_refresh(void);
/* A user-space address of process pid: its mapping from /proc/PID/maps (read at first
 * sight and kept, so a process that has exited since still resolves), the ELF
 * .symtab/.dynsym of the mapped file (cached per device, inode and mtime), or the debug
 * file named by its build-id under /usr/lib/debug (AYAC_DEBUG_ROOT overrides). 0 with
 * out->name NULL when the mapping is known but no symbol covers the address; -ESRCH
 * when the process was never seen and is gone; -ENOENT when no mapping holds addr. */
int ayac_usym(int pid, __u64 addr, struct ayac_sym *out);
/* Drop what is cached about a process (its mappings); the next ayac_usym reads them
 * again. pid 0: every process and every ELF file. */
void ayac_usyms_forget(int pid);

/* The running kernel's system call table (this architecture's native one), read from
 * the kernel's own syscall metadata (see syms/syscalls.c). Count of entries (the
 * highest number + 1), or a negative errno. */
int ayac_syscall_count(void);
/* The ABI name ("stat"; the kernel headers' name where they know the number). NULL:
 * no such system call. */
const char *ayac_syscall_name(int nr);
/* The kernel's own name ("newstat": syscalls:sys_enter_newstat). */
const char *ayac_syscall_kernel_name(int nr);
int ayac_syscall_nr(const char *name);   /* either name; -ENOENT: no such system call */
/* "kernel", or "headers" when the kernel's memory could not be read (not root, before
 * Linux 5.14) and asm/unistd_64.h alone answered. */
const char *ayac_syscall_source(void);

/* A 64-bit hash of bytes (not cryptographic): cache keys for compiled objects. */
__u64 ayac_hash64(const void *data, size_t len, __u64 seed);
/* A file's identity (device, inode, size, mtime; through symlinks) as a 64-bit stamp. */
int ayac_file_stamp(const char *path, __u64 *stamp);

/* ---- kernel features (features/) ------------------------------------------------ */

/* What this kernel can do, probed lazily, at most once per process per feature, and
 * cached. Every answer is 1 (supported), 0 (not supported) or a negative errno when
 * the probe itself failed for another reason (EPERM, ENOMEM…): unknown, never
 * reported as "unsupported". AYAC_FEATURES="name=0,…" in the environment overrides
 * answers (to test fallbacks). */
enum ayac_feature {
	/* BTF kinds and layouts the kernel's BTF loader accepts */
	AYAC_FEAT_BTF,             /* BTF_LOAD at all */
	AYAC_FEAT_BTF_FUNC,        /* FUNC / FUNC_PROTO */
	AYAC_FEAT_BTF_GLOBAL_FUNC, /* FUNC with BTF_FUNC_GLOBAL linkage */
	AYAC_FEAT_BTF_DATASEC,     /* VAR / DATASEC */
	AYAC_FEAT_BTF_ZERO_DATASEC,/* DATASEC with no variables / zero size */
	AYAC_FEAT_BTF_FLOAT,
	AYAC_FEAT_BTF_DECL_TAG,
	AYAC_FEAT_BTF_TYPE_TAG,
	AYAC_FEAT_BTF_ENUM64,
	/* programs, maps, helpers */
	AYAC_FEAT_PROG_NAME,         /* prog_name / map_name attributes */
	AYAC_FEAT_GLOBAL_DATA,       /* BPF_PSEUDO_MAP_VALUE (.data/.rodata/.bss) */
	AYAC_FEAT_ARRAY_MMAP,        /* BPF_F_MMAPABLE arrays */
	AYAC_FEAT_PROBE_READ_KERNEL, /* bpf_probe_read_{kernel,user} */
	AYAC_FEAT_BPF_COOKIE,        /* bpf_get_attach_cookie */
	AYAC_FEAT_BOUNDED_LOOPS,
	AYAC_FEAT_BPF_LOOP,          /* bpf_loop helper */
	AYAC_FEAT_RINGBUF,
	AYAC_FEAT_MEMCG_ACCOUNT,     /* 1: memory is charged to memcg, RLIMIT_MEMLOCK unneeded */
	AYAC_FEAT_CPUMAP_PROG_ID,
	AYAC_FEAT_DEVMAP_PROG_ID,
	AYAC_FEAT_JIT,               /* net.core.bpf_jit_enable */
	AYAC_FEAT_UNPRIV_BPF,        /* kernel.unprivileged_bpf_disabled == 0 */
	/* attach paths */
	AYAC_FEAT_PERF_LINK,         /* BPF_LINK_CREATE with BPF_PERF_EVENT */
	AYAC_FEAT_KPROBE_MULTI,
	AYAC_FEAT_UPROBE_MULTI,
	AYAC_FEAT_TCX,
	AYAC_FEAT_NETKIT,
	AYAC_FEAT_CGROUP_LINK,
	AYAC_FEAT_XDP_LINK,          /* BPF_LINK_CREATE with BPF_XDP (Linux 5.9) */
	AYAC_FEAT_SOCKMAP_LINK,      /* BPF_LINK_CREATE for sk_msg/sk_skb (Linux 6.10) */
	/* Added after 0.1.0: kept at the end so that the values above do not change. */
	AYAC_FEAT_BTF_QMARK_DATASEC, /* DATASEC named "?..." (?.struct_ops; Linux 6.7) */
	AYAC_FEAT_MAP_BATCH,         /* BPF_MAP_*_BATCH commands (Linux 5.6) */
	AYAC_FEAT__COUNT
};

int ayac_feature(enum ayac_feature f);
const char *ayac_feature_name(enum ayac_feature f);
/* Why an answer is unknown (the errno text), or NULL. */
const char *ayac_feature_why(enum ayac_feature f);
int ayac_feature_prog_type(enum bpf_prog_type type);
int ayac_feature_map_type(enum bpf_map_type type);
/* helper_id usable from programs of this type (as bpftool feature probe decides). */
int ayac_feature_helper(enum bpf_prog_type type, int helper_id);

/* ---- privileges (caps.c) ----------------------------------------------------------- */

/* What creating maps and loading programs needs (Linux 5.8+; CAP_SYS_ADMIN grants all
 * three, and is what kernels before 5.8 ask for instead). */
enum {
	AYAC_NEED_BPF = 1,       /* CAP_BPF: maps, BTF, any program */
	AYAC_NEED_PERFMON = 2,   /* CAP_PERFMON: tracing programs, perf events */
	AYAC_NEED_NET_ADMIN = 4, /* CAP_NET_ADMIN: networking programs, netlink attach */
};

/* The calling thread's effective capabilities that matter for BPF. */
struct ayac_caps {
	__u32 uid, euid;
	bool cap_bpf, cap_perfmon, cap_net_admin, cap_sys_admin, cap_dac_override;
	/* What the kernel's own checks will say (bpf_capable(), perfmon_capable(), …). */
	bool bpf, tracing, networking;
	int unprivileged_bpf_disabled; /* the sysctl; -1 when unreadable */
};

int ayac_caps_get(struct ayac_caps *caps);
/* AYAC_NEED_* for loading a program of this type. */
unsigned ayac_prog_type_needs(enum bpf_prog_type type);
/* When the current error is EPERM (or EACCES), appends what is needed, what this
 * process lacks and where the docs are: ": needs CAP_BPF and CAP_PERFMON, or root …". */
void ayac_perm_explain(unsigned needs);

/* ---- file systems (fs_mount.c) --------------------------------------------------- */

/* tracefs root ("/sys/kernel/tracing" or ".../debug/tracing"), mounting it if absent. */
const char *ayac_tracefs(void);
/* Make sure bpffs is mounted at /sys/fs/bpf. */
int ayac_ensure_bpffs(void);

/* ---- events: ring buffer, perf buffer, user ring buffer (events/) ---------------- */
#include <ayac/events.h>

#endif
