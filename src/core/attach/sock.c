/* Programs on sockets and socket maps, and on lirc devices:
 *
 *   socket_filter  SO_ATTACH_BPF on a socket (SO_DETACH_BPF to remove)
 *   sk_reuseport   SO_ATTACH_REUSEPORT_EBPF on a socket of the reuseport group
 *   sk_msg, sk_skb on a sockmap or sockhash: a bpf_link (Linux 6.10) or
 *                  BPF_PROG_ATTACH with the map as target
 *   lirc_mode2     BPF_PROG_ATTACH with the lirc device's fd as target
 *
 * A socket option lives as long as the socket: the link keeps a dup of the socket fd,
 * so it removes the filter from that socket and never from whatever a reused fd
 * number points at later. The socket stays open while the link is attached. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach_priv.h"
#include "features/features.h"

/* Kept: target fd (a socket, a map, a device) and program fd, dups of the caller's. */
struct fd_priv {
	int target_fd, prog_fd;
	__u32 attach_type;
	int opt;                       /* socket option to detach with; 0: BPF_PROG_DETACH */
};

static void fd_release(struct ayac_link *link)
{
	struct fd_priv *p = link->priv;

	if (!p)
		return;
	if (p->target_fd >= 0)
		close(p->target_fd);
	if (p->prog_fd >= 0)
		close(p->prog_fd);
	free(p);
	link->priv = NULL;
}

static int sockopt_detach(struct ayac_link *link)
{
	struct fd_priv *p = link->priv;
	int dummy = 0;

	if (setsockopt(p->target_fd, SOL_SOCKET, p->opt, &dummy, sizeof(dummy)) < 0 &&
	    errno != ENOENT)
		return ayac_seterr(errno, "detach %s from socket", link->what);
	return 0;
}

static int prog_detach(struct ayac_link *link)
{
	struct fd_priv *p = link->priv;
	int err = attach_prog_detach(p->target_fd, p->prog_fd, p->attach_type);

	if (err < 0 && err != -ENOENT)
		return ayac_seterr(err, "detach %s", link->what);
	return 0;
}

/* The socket closes with the process: nothing to do at exit. */
static const struct ayac_link_ops sockopt_ops = {
	.detach = sockopt_detach,
	.release = fd_release,
	.at_exit = false,
};

/* A sockmap or lirc device kept alive elsewhere (a pin, another process) keeps the
 * program: remove it at exit too. */
static const struct ayac_link_ops prog_attach_ops = {
	.detach = prog_detach,
	.release = fd_release,
	.at_exit = true,
};

static struct fd_priv *new_priv(int target_fd, int prog_fd, const char *what)
{
	struct fd_priv *p = ayac_calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->target_fd = attach_dup(target_fd, what);
	p->prog_fd = p->target_fd < 0 ? -1 : attach_dup(prog_fd, "program");
	if (p->prog_fd < 0) {
		fd_release(&(struct ayac_link){ .priv = p });
		return NULL;
	}
	return p;
}

struct ayac_link *ayac_attach_socket(struct ayac_prog *prog, int sock_fd)
{
	struct ayac_link_desc desc = { .via = "setsockopt" };
	bool reuseport = prog && prog->type == BPF_PROG_TYPE_SK_REUSEPORT;
	const char *what = reuseport ? "sk_reuseport" : "socket_filter";
	char target[48];
	struct fd_priv *p;
	struct stat st;
	int prog_fd;

	snprintf(target, sizeof(target), "to socket fd %d", sock_fd);
	prog_fd = ayac_link_prog_fd(prog);
	if (prog_fd < 0)
		return attach_fail(prog, what, target);
	if (!reuseport && prog->type != BPF_PROG_TYPE_SOCKET_FILTER) {
		ayac_seterr(EINVAL, "not a socket_filter or sk_reuseport program");
		return attach_fail(prog, what, target);
	}
	if (fstat(sock_fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		ayac_seterr(errno == EBADF ? EBADF : ENOTSOCK, "fd %d is not a socket", sock_fd);
		return attach_fail(prog, what, target);
	}
	p = new_priv(sock_fd, prog_fd, "socket");
	if (!p)
		return attach_fail(prog, what, target);
	p->opt = reuseport ? SO_DETACH_REUSEPORT_BPF : SO_DETACH_BPF;
	if (setsockopt(sock_fd, SOL_SOCKET, reuseport ? SO_ATTACH_REUSEPORT_EBPF : SO_ATTACH_BPF,
		       &prog_fd, sizeof(prog_fd)) < 0) {
		ayac_seterr(errno, reuseport ? "SO_ATTACH_REUSEPORT_EBPF" : "SO_ATTACH_BPF");
		fd_release(&(struct ayac_link){ .priv = p });
		return attach_fail(prog, what, target);
	}
	return attach_link_kept(prog, what, &sockopt_ops, p, &desc);
}

static struct ayac_link *sockmap_link(struct ayac_prog *prog, int map_fd, int prog_fd,
				      struct ayac_link_desc *desc)
{
	union attach_attr u;
	int fd;

	memset(&u, 0, sizeof(u));
	u.lc.prog_fd = (__u32)prog_fd;
	u.lc.target = (__u32)map_fd;
	u.lc.attach_type = prog->attach_type;
	fd = attach_link_create(&u);
	if (fd < 0) {
		ayac_seterr(-fd, "BPF_LINK_CREATE");
		return NULL;
	}
	return attach_link_fd(prog, prog->type == BPF_PROG_TYPE_SK_MSG ? "sk_msg" : "sk_skb",
			      fd, desc);
}

static struct ayac_link *prog_attach_kept(struct ayac_prog *prog, int target_fd, int prog_fd,
					  const char *what, const char *target_what,
					  struct ayac_link_desc *desc)
{
	struct fd_priv *p = new_priv(target_fd, prog_fd, target_what);
	int err;

	if (!p)
		return NULL;
	p->attach_type = prog->attach_type;
	err = attach_prog_attach(target_fd, prog_fd, prog->attach_type, 0);
	if (err < 0) {
		ayac_seterr(err, "BPF_PROG_ATTACH");
		fd_release(&(struct ayac_link){ .priv = p });
		return NULL;
	}
	desc->via = "prog_attach";
	return attach_link_kept(prog, what, &prog_attach_ops, p, desc);
}

struct ayac_link *ayac_attach_sockmap(struct ayac_prog *prog, const struct ayac_map *map)
{
	struct ayac_link_desc desc = { .via = "bpf_link", .has_attach_type = true };
	const char *what = prog && prog->type == BPF_PROG_TYPE_SK_MSG ? "sk_msg" : "sk_skb";
	struct ayac_link *link = NULL;
	char target[64] = "";
	int prog_fd, map_fd, have_link;

	if (map)
		snprintf(target, sizeof(target), "to map '%s'", map->name);
	prog_fd = ayac_link_prog_fd(prog);
	if (prog_fd < 0)
		return attach_fail(prog, what, target);
	desc.attach_type = prog->attach_type;
	map_fd = map ? map->fd : -1;
	if (prog->type != BPF_PROG_TYPE_SK_MSG && prog->type != BPF_PROG_TYPE_SK_SKB)
		ayac_seterr(EINVAL, "not an sk_msg or sk_skb program");
	else if (!map || (map->def.type != BPF_MAP_TYPE_SOCKMAP &&
			  map->def.type != BPF_MAP_TYPE_SOCKHASH))
		ayac_seterr(EINVAL, "the target must be a sockmap or sockhash");
	else if (map_fd < 0)
		ayac_seterr(EBADF, "the map is not loaded");
	else if (prog->type == BPF_PROG_TYPE_SK_SKB && prog->attach_type == 0)
		ayac_seterr(EINVAL, "an sk_skb program needs its kind in the section: "
			    "sk_skb/stream_parser, sk_skb/stream_verdict or sk_skb/verdict");
	else {
		have_link = ayac_feature(AYAC_FEAT_SOCKMAP_LINK);
		if (have_link != 0)
			link = sockmap_link(prog, map_fd, prog_fd, &desc);
		if (!link && (have_link == 0 || (have_link < 0 && ayac_errnum() == EINVAL)))
			link = prog_attach_kept(prog, map_fd, prog_fd, what, "map", &desc);
	}
	return link ? link : attach_fail(prog, what, target);
}

struct ayac_link *ayac_attach_lirc(struct ayac_prog *prog, const char *path, int fd)
{
	struct ayac_link_desc desc = { .via = "prog_attach", .attach_type = BPF_LIRC_MODE2,
				       .has_attach_type = true };
	struct ayac_link *link = NULL;
	char target[300];
	int dev = fd, prog_fd;

	if (path)
		snprintf(target, sizeof(target), "to '%s'", path);
	else
		snprintf(target, sizeof(target), "to fd %d", fd);
	/* The device first: without one (the usual case) that is the error worth seeing. */
	if (path && (dev = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		ayac_seterr(errno, "open lirc device");
		return attach_fail(prog, "lirc_mode2", target);
	}
	prog_fd = ayac_link_prog_fd(prog);
	if (dev < 0)
		ayac_seterr(EINVAL, "no lirc device: pass device = \"/dev/lircN\" or an fd");
	else if (prog_fd >= 0 && prog->type != BPF_PROG_TYPE_LIRC_MODE2)
		ayac_seterr(EINVAL, "not a lirc_mode2 program");
	else if (prog_fd >= 0)
		link = prog_attach_kept(prog, dev, prog_fd, "lirc_mode2", "lirc device", &desc);
	if (path && dev >= 0)
		close(dev);
	return link ? link : attach_fail(prog, "lirc_mode2", target);
}
