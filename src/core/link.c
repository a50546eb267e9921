/* Links: what an attach leaves behind (a bpf_link fd, a perf event fd, or both, or an
 * attachment the kernel keeps without an fd), and their life: detach, pin, and release
 * when the object that made them is closed.
 *
 * A link keeps a pointer to its program only while the program's object is open; once
 * the object is closed the link is unhooked (prog NULL), so a link freed later never
 * touches freed memory.
 *
 * Attachments the kernel keeps without an fd (netlink XDP and TC, BPF_PROG_ATTACH) would
 * outlive the process. They are also on a process-wide list that an atexit handler
 * walks: a script that ends with os.exit() or an embedding program that exits without
 * closing its objects still leaves nothing behind. Only SIGKILL (and other deaths
 * without exit handlers) can leave them; bpf_links go with their last fd even then. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "model.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int ayac_link_prog_fd(const struct ayac_prog *prog)
{
	if (!prog)
		return ayac_seterr(EINVAL, "no program");
	if (prog->fd < 0)
		return ayac_seterr(EBADF, "the program is not loaded");
	return prog->fd;
}

struct ayac_link *ayac_link_new_obj(struct ayac_obj *obj, enum ayac_link_kind kind,
				    const char *what, int fd, int perf_fd)
{
	struct ayac_link *link = NULL;

	if (!obj) {
		ayac_seterr(EINVAL, "the program belongs to no object");
		goto fail;
	}
	link = ayac_calloc(1, sizeof(*link));
	if (!link)
		goto fail;
	link->kind = kind;
	link->what = what;
	link->fd = fd;
	link->perf_fd = perf_fd;
	link->desc.via = kind == AYAC_LINK_PERF_IOCTL ? "perf_event" : "bpf_link";
	link->owner_pid = ayac_self_pid();
	link->obj = obj;
	link->next = obj->links;
	obj->links = link;
	return link;
fail:
	close_fd(&fd);
	close_fd(&perf_fd);
	return NULL;
}

struct ayac_link *ayac_link_new(struct ayac_prog *prog, enum ayac_link_kind kind,
				const char *what, int fd, int perf_fd)
{
	struct ayac_link *link = ayac_link_new_obj(prog ? prog->obj : NULL, kind, what, fd,
						   perf_fd);

	if (link)
		link->prog = prog;
	return link;
}

/* ---- attachments removed at exit ---------------------------------------------------- */

static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t kept_once = PTHREAD_ONCE_INIT;
static struct ayac_link *kept_head;

static void kept_remove(struct ayac_link *link)
{
	struct ayac_link **pp;

	pthread_mutex_lock(&kept_lock);
	for (pp = &kept_head; *pp; pp = &(*pp)->kept_next) {
		if (*pp == link) {
			*pp = link->kept_next;
			break;
		}
	}
	link->kept_next = NULL;
	pthread_mutex_unlock(&kept_lock);
}

/* Runs the kernel-side removal once, in the process that attached: a forked child that
 * frees its copy of the link must not take the parent's attachment away. */
static int kept_detach(struct ayac_link *link)
{
	int err = 0;

	if (!link->kept)
		return 0;
	if (link->owner_pid == ayac_self_pid())
		err = link->ops->detach(link);
	if (err == 0 || link->owner_pid != ayac_self_pid()) {
		link->kept = false;
		if (link->ops->at_exit)
			kept_remove(link);
		/* The fds it kept (a program, a cgroup, a socket) go now, not when the
		 * handle is collected: a closed object leaves nothing in the kernel. */
		if (link->ops->release)
			link->ops->release(link);
	}
	return err;
}

void ayac_link_kept_gone(struct ayac_link *link)
{
	if (!link || !link->kept)
		return;
	link->kept = false;
	if (link->ops->at_exit)
		kept_remove(link);
	if (link->ops->release)
		link->ops->release(link);
}

/* At exit (also when the library is unloaded): remove what is still attached. The
 * links stay allocated; their handles find them detached. */
static void kept_at_exit(void)
{
	struct ayac_link *link, *next;
	int pid = ayac_self_pid();

	pthread_mutex_lock(&kept_lock);
	link = kept_head;
	kept_head = NULL;
	pthread_mutex_unlock(&kept_lock);
	for (; link; link = next) {
		next = link->kept_next;
		link->kept_next = NULL;
		if (link->kept && link->owner_pid == pid)
			link->ops->detach(link);
		link->kept = false;
	}
}

static void kept_register_exit(void)
{
	atexit(kept_at_exit);
}

struct ayac_link *ayac_link_new_kept(struct ayac_prog *prog, const char *what,
				     const struct ayac_link_ops *ops, void *priv)
{
	struct ayac_link *link = NULL;

	if (!prog || !prog->obj || !ops) {
		ayac_seterr(EINVAL, "the program belongs to no object");
		goto fail;
	}
	link = ayac_calloc(1, sizeof(*link));
	if (!link)
		goto fail;
	link->kind = AYAC_LINK_KEPT;
	link->what = what;
	link->fd = -1;
	link->perf_fd = -1;
	link->ops = ops;
	link->priv = priv;
	link->kept = true;
	link->owner_pid = ayac_self_pid();
	link->prog = prog;
	link->obj = prog->obj;
	link->next = prog->obj->links;
	prog->obj->links = link;
	if (ops->at_exit) {
		pthread_once(&kept_once, kept_register_exit);
		pthread_mutex_lock(&kept_lock);
		link->kept_next = kept_head;
		kept_head = link;
		pthread_mutex_unlock(&kept_lock);
	}
	return link;
fail:
	if (ops && ops->release) {
		struct ayac_link tmp = { .priv = priv };
		ops->release(&tmp);
	}
	return NULL;
}

/* Whether this process made the link. A forked child (an nginx worker) shares the
 * parent's open files: what it does to them beyond closing its own fds (disable a perf
 * event, BPF_LINK_DETACH) would take the parent's attachment away. */
static bool link_owned(const struct ayac_link *link)
{
	return link->owner_pid == 0 || link->owner_pid == ayac_self_pid();
}

/* Closing the fds is what detaches: the kernel drops a bpf_link when its last fd goes
 * and a perf event (with the program set on it) when its fd goes. A perf event is
 * disabled first so that no more samples run the program while it is torn down — by
 * the process that made it only: a forked child's disable would stop the parent's. */
static void close_pair(int *fd, int *perf_fd, bool owned)
{
	if (*perf_fd >= 0 && owned)
		ioctl(*perf_fd, PERF_EVENT_IOC_DISABLE, 0);
	close_fd(fd);
	close_fd(perf_fd);
}

static void link_release(struct ayac_link *link, bool undo)
{
	void (*release)(struct ayac_link *, void *, bool) = link->release;

	/* priv is the ops' of a kept link, which has no release: not ours to drop. */
	if (!release)
		return;
	link->release = NULL;
	release(link, link->priv, undo);
	link->priv = NULL;
}

static void link_close_fds(struct ayac_link *link)
{
	size_t i;

	/* A forked child only lets go: giving back what the attach took (a struct_ops
	 * registration, USDT spec ids) would take it from the parent. */
	link_release(link, link_owned(link));
	close_pair(&link->fd, &link->perf_fd, link_owned(link));
	for (i = 0; i < link->nr_parts; i++)
		close_pair(&link->parts[i].fd, &link->parts[i].perf_fd, link_owned(link));
	free(link->parts);
	link->parts = NULL;
	link->nr_parts = 0;
}

int ayac_link_absorb(struct ayac_link *into, struct ayac_link *from)
{
	struct ayac_link_part *parts;
	size_t n = 1 + from->nr_parts, i;

	parts = ayac_reallocarray(into->parts, into->nr_parts + n, sizeof(*parts));
	if (!parts) {
		ayac_link_free(from);
		return -ENOMEM;
	}
	into->parts = parts;
	parts[into->nr_parts].fd = from->fd;
	parts[into->nr_parts].perf_fd = from->perf_fd;
	for (i = 0; i < from->nr_parts; i++)
		parts[into->nr_parts + 1 + i] = from->parts[i];
	into->nr_parts += n;
	/* Its fds now belong to into: free the shell only. */
	from->fd = from->perf_fd = -1;
	free(from->parts);
	from->parts = NULL;
	from->nr_parts = 0;
	ayac_link_free(from);
	return 0;
}

size_t ayac_link_count(const struct ayac_link *link)
{
	if (!ayac_link_attached(link))
		return 0;
	return 1 + link->nr_parts;
}

/* A pinned link outlives its fds. An explicit detach asks the kernel to cut it off
 * (BPF_LINK_DETACH, for the link types that support it); where the kernel cannot,
 * the link stays attached until its pin file is removed. */
static void link_force_detach(struct ayac_link *link)
{
	union bpf_attr attr;

	if (link->fd < 0)
		return;
	memset(&attr, 0, sizeof(attr));
	attr.link_detach.link_fd = link->fd;
	sys_bpf(BPF_LINK_DETACH, &attr, sizeof(attr));
}

int ayac_link_detach(struct ayac_link *link)
{
	if (!link)
		return 0;
	if (link->kind == AYAC_LINK_KEPT)
		return kept_detach(link);
	if (link->pinned && link_owned(link))
		link_force_detach(link);
	link_close_fds(link);
	return 0;
}

static void link_unhook(struct ayac_link *link)
{
	struct ayac_link **pp;

	if (!link->obj)
		return;
	for (pp = &link->obj->links; *pp; pp = &(*pp)->next) {
		if (*pp == link) {
			*pp = link->next;
			break;
		}
	}
	link->next = NULL;
	link->prog = NULL;
	link->obj = NULL;
}

void ayac_link_free(struct ayac_link *link)
{
	if (!link)
		return;
	/* Pinned or not, only the fds go: a pin keeps the kernel's link alive by itself. */
	link_close_fds(link);
	if (link->kind == AYAC_LINK_KEPT) {
		if (kept_detach(link) < 0) {
			/* Nothing more can be done for it; keep the exit list consistent. */
			link->kept = false;
			if (link->ops->at_exit)
				kept_remove(link);
		}
		if (link->ops->release)
			link->ops->release(link);
	}
	link_unhook(link);
	free(link);
}

int ayac_link_fd(const struct ayac_link *link)
{
	if (!link)
		return -1;
	return link->fd >= 0 ? link->fd : link->perf_fd;
}

bool ayac_link_attached(const struct ayac_link *link)
{
	return link && (link->fd >= 0 || link->perf_fd >= 0 || link->kept);
}

const struct ayac_link_desc *ayac_link_desc(const struct ayac_link *link)
{
	return link ? &link->desc : NULL;
}

const char *ayac_link_kind(const struct ayac_link *link)
{
	if (!link)
		return NULL;
	return link->what ? link->what : "link";
}

int ayac_link_pin(struct ayac_link *link, const char *path)
{
	int err;

	if (!link || !path || !*path)
		return ayac_seterr(EINVAL, "pin link: no path");
	if (!ayac_link_attached(link))
		return ayac_seterr(EBADF, "pin %s link at '%s': the link is detached",
				   ayac_link_kind(link), path);
	if (link->kind == AYAC_LINK_KEPT)
		return ayac_seterr(EOPNOTSUPP,
				   "pin %s link at '%s': attached through %s, which leaves no "
				   "bpf_link to pin (the attachment stays until detached)",
				   ayac_link_kind(link), path, link->desc.via);
	if (link->nr_parts || link->kind == AYAC_LINK_STRUCT_OPS)
		return ayac_seterr(EOPNOTSUPP, "pin %s link at '%s': %s", ayac_link_kind(link), path,
				   link->nr_parts ? "it holds several attachments, and a pin holds "
				   "one bpf_link" : "a .struct_ops map registered without a link; "
				   "declare it in SEC(\".struct_ops.link\") to get one");
	if (link->fd < 0)
		/* PERF_EVENT_IOC_SET_BPF leaves no bpf_link to pin (kernel before 5.15). */
		return ayac_seterr(EOPNOTSUPP,
				   "pin %s link at '%s': attached through a perf event ioctl, "
				   "which has no bpf_link to pin on this kernel",
				   ayac_link_kind(link), path);
	/* Pins under the usual root need bpffs there; elsewhere the caller chose a mount. */
	if (!strncmp(path, "/sys/fs/bpf/", 12)) {
		err = ayac_ensure_bpffs();
		if (err < 0)
			return ayac_errctx("pin %s link at '%s'", ayac_link_kind(link), path);
	}
	err = sys_obj_pin(link->fd, path);
	if (err < 0)
		return ayac_seterr(-err, "pin %s link at '%s'", ayac_link_kind(link), path);
	link->pinned = true;
	return 0;
}

struct ayac_link *ayac_link_from_pin(const char *path)
{
	struct ayac_link *link;
	int fd = sys_obj_get(path);

	if (fd < 0) {
		ayac_seterr(fd, "open pinned link '%s'", path);
		return NULL;
	}
	link = ayac_calloc(1, sizeof(*link));
	if (!link) {
		close(fd);
		return NULL;
	}
	/* Belongs to no object here; the pin is what keeps it attached. */
	link->kind = AYAC_LINK_BPF;
	link->what = ayac_link_kind_of_fd(fd);
	link->fd = fd;
	link->perf_fd = -1;
	link->pinned = true;
	return link;
}

int ayac_link_unpin(struct ayac_link *link, const char *path)
{
	if (unlink(path) < 0)
		return ayac_seterr(errno, "unpin %s link '%s'", ayac_link_kind(link), path);
	link->pinned = false;
	return 0;
}

void ayac_links_release_obj(struct ayac_obj *obj)
{
	struct ayac_link *link, *next;

	if (!obj)
		return;
	for (link = obj->links; link; link = next) {
		next = link->next;
		/* A pinned link keeps its fd: it belongs to the link handle, not to the
		 * object, and the handle may still pin, unpin or read it. */
		if (!link->pinned)
			link_close_fds(link);
		else
			link_release(link, false);
		if (link->kind == AYAC_LINK_KEPT && kept_detach(link) < 0) {
			link->kept = false; /* the object is going: no later chance */
			if (link->ops->at_exit)
				kept_remove(link);
		}
		link->next = NULL;
		link->prog = NULL;
		link->obj = NULL;
	}
	obj->links = NULL;
}
