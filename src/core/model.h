/* The object model's functions that the packages above it (attach/, events/) and the
 * object model's own files call: map and program life cycle, links. The data
 * structures themselves are in internal.h. */
#ifndef AYAC_MODEL_H
#define AYAC_MODEL_H

#include "internal.h"

/* object.c: the object's BTF fd, or -1 when it has none or the kernel refused it. */
int ayac_obj_btf_fd(struct ayac_obj *obj);

/* map.c */
int ayac_map_create_in_kernel(struct ayac_map *map);  /* pins, reuse, data init, freeze, mmap */
void ayac_map_close(struct ayac_map *map);           /* fd and mmap */
int ayac_maps_fill_slots(struct ayac_obj *obj);      /* after programs load */
void ayac_map_destroy(struct ayac_map *map);         /* close + free memory */

/* prog.c */
int ayac_prog_load_in_kernel(struct ayac_prog *prog);
void ayac_prog_close(struct ayac_prog *prog);
void ayac_prog_destroy(struct ayac_prog *prog);

/* ---- links (link.c) ---- */

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
/* What a bpf_link fd is, asked of the kernel and named as ayac names its own links
 * ("tracepoint", "uprobe", "raw_tp", "fentry", …, "xdp", "cgroup", "tcx"; "link" when the
 * kernel does not say). link_kind.c */
const char *ayac_link_kind_of_fd(int fd);
/* The kind of a BTF-id attach: "tp_btf", "fentry", "fexit", "fmod_ret", "lsm",
 * "freplace", "tracing". link_kind.c */
const char *ayac_tracing_kind(enum bpf_prog_type type, enum bpf_attach_type attach_type);
/* obj close: detach every link that is not pinned and forget the object. */
void ayac_links_release_obj(struct ayac_obj *obj);
/* The loaded program's fd, or a negative error with a bare message ("the program is
 * not loaded") for the caller to put in context. */
int ayac_link_prog_fd(const struct ayac_prog *prog);
#endif
