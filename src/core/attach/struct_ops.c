/* Registering a struct_ops map (map:attach): the kernel's value, struct
 * bpf_struct_ops_<tname>, is built from the object's image member by member by name
 * (programs' fds in the function-pointer members, other members copied when the
 * kernel's has the same size), written at key 0, which registers it. A map of
 * .struct_ops.link is only initialized by that write; BPF_LINK_CREATE then registers
 * it through a bpf_link (pinnable; closing it unregisters). A plain .struct_ops map
 * stays registered until its key 0 is deleted, which detach does. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"

/* Size (bytes) and whether it is a function pointer, of a member's type. */
static int member_kind(const struct ayac_btf *btf, __u32 type_id, __u64 *size, bool *func_ptr)
{
	const struct btf_type *t = ayac_btf_type(btf, ayac_btf_skip_mods(btf, type_id));
	const struct btf_type *to;

	*func_ptr = false;
	if (t && btf_kind_of(t) == BTF_KIND_PTR) {
		to = ayac_btf_type(btf, ayac_btf_skip_mods(btf, t->type));
		*func_ptr = to && btf_kind_of(to) == BTF_KIND_FUNC_PROTO;
	}
	return ayac_btf_resolve_size(btf, type_id, size);
}

static bool all_zero(const unsigned char *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static const struct btf_member *kern_member(const struct ayac_btf *btf, __u32 type_id,
					    const char *name)
{
	const struct btf_type *t = ayac_btf_type(btf, type_id);
	const struct btf_member *m = btf_members_of(t);
	__u16 i;

	for (i = 0; i < btf_vlen_of(t); i++, m++) {
		const char *n = ayac_btf_str(btf, m->name_off);
		if (n && !strcmp(n, name))
			return btf_kflag_of(t) && BTF_MEMBER_BITFIELD_SIZE(m->offset) ? NULL : m;
	}
	return NULL;
}

/* One member of the object's struct into the kernel's value at kdata. */
static int put_member(const struct ayac_map *map, __u32 i, const struct ayac_btf *vmlinux,
		      unsigned char *kdata, size_t kdata_size)
{
	const struct ayac_st_ops *so = map->st_ops;
	const struct ayac_btf *btf = map->obj->btf;
	const struct btf_type *st = ayac_btf_type(btf, so->type_id);
	const struct btf_member *m = &btf_members_of(st)[i], *km;
	const char *name = ayac_btf_str(btf, m->name_off);
	__u32 off = btf_kflag_of(st) ? BTF_MEMBER_BIT_OFFSET(m->offset) : m->offset;
	__u64 size, ksize;
	bool fptr, kfptr;
	__u64 fd;

	if (!name || !*name || off % 8 || (btf_kflag_of(st) && BTF_MEMBER_BITFIELD_SIZE(m->offset)) ||
	    member_kind(btf, m->type, &size, &fptr) || off / 8 + size > so->size)
		return ayac_seterr(EOPNOTSUPP, "member #%u: bitfields and unnamed members are not "
				   "supported", i);
	km = kern_member(vmlinux, so->kern_type_id, name);
	if (!km) {
		if (!so->progs[i] && all_zero((unsigned char *)so->data + off / 8, size))
			return 0; /* nothing set: fine if the kernel lacks it */
		return ayac_seterr(EINVAL, "member '%s' is set, and this kernel's struct %s has "
				   "no such member", name, so->tname);
	}
	if (member_kind(vmlinux, km->type, &ksize, &kfptr) || km->offset % 8 ||
	    km->offset / 8 + ksize > kdata_size || (fptr && !kfptr) || (!fptr && ksize != size))
		return ayac_seterr(EINVAL, "member '%s': %llu bytes here, %llu in the kernel's "
				   "struct %s", name, (unsigned long long)size,
				   (unsigned long long)ksize, so->tname);
	if (fptr) {
		if (!so->progs[i])
			return 0;
		if (so->progs[i]->fd < 0)
			return ayac_seterr(EBADF, "member '%s': program '%s' is not loaded", name,
					   so->progs[i]->name);
		fd = (__u64)so->progs[i]->fd;
		memcpy(kdata + km->offset / 8, &fd, sizeof(fd));
		return 0;
	}
	memcpy(kdata + km->offset / 8, (unsigned char *)so->data + off / 8, size);
	return 0;
}

static int build_value(const struct ayac_map *map, unsigned char *value)
{
	const struct ayac_st_ops *so = map->st_ops;
	const struct ayac_btf *vmlinux = ayac_btf_vmlinux();
	size_t kdata_size;
	__u32 i;
	int err;

	if (!vmlinux)
		return -ayac_errnum();
	kdata_size = ayac_btf_type(vmlinux, so->kern_type_id)->size;
	if (so->kern_data_off + kdata_size > map->def.value_size)
		return ayac_seterr(EINVAL, "struct bpf_struct_ops_%s is smaller than its data",
				   so->tname);
	for (i = 0; i < so->nr_members; i++)
		if ((err = put_member(map, i, vmlinux, value + so->kern_data_off, kdata_size)))
			return err;
	return 0;
}

static void unregister(struct ayac_link *link, void *priv, bool undo)
{
	__u32 zero = 0;

	(void)priv;
	if (undo && link->fd >= 0)
		ayac_fast_delete(link->fd, &zero);
}

static struct ayac_link *make_link(struct ayac_map *map)
{
	union bpf_attr attr;
	struct ayac_link *link;
	int fd;

	if (map->st_ops->link) {
		memset(&attr, 0, sizeof(attr));
		attr.link_create.prog_fd = (__u32)map->fd; /* map_fd: the same field */
		attr.link_create.attach_type = AYAC_BPF_STRUCT_OPS;
		fd = sys_bpf_fd(BPF_LINK_CREATE, &attr, sizeof(attr));
		if (fd < 0) {
			ayac_seterr(-fd, "BPF_LINK_CREATE");
			return NULL;
		}
		return ayac_link_new_obj(map->obj, AYAC_LINK_BPF, "struct_ops", fd, -1);
	}
	/* Its own fd on the map, so that detach can unregister after the object closed
	 * the map's. */
	fd = fcntl(map->fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0) {
		ayac_seterr(errno, "dup the map's fd");
		return NULL;
	}
	link = ayac_link_new_obj(map->obj, AYAC_LINK_STRUCT_OPS, "struct_ops", fd, -1);
	if (link)
		link->release = unregister;
	else
		unregister(&(struct ayac_link){ .fd = fd }, NULL, true);
	return link;
}

struct ayac_link *ayac_map_attach_struct_ops(struct ayac_map *map)
{
	struct ayac_link *link = NULL;
	unsigned char *value = NULL;
	__u32 zero = 0;
	int err = 0;

	if (!map || !map->st_ops)
		err = ayac_seterr(EINVAL, "not a struct_ops map (only maps of SEC(\".struct_ops\") "
				  "and SEC(\".struct_ops.link\") variables attach)");
	else if (map->fd < 0)
		err = ayac_seterr(EBADF, "not created (not loaded, closed, or declared in a "
				  "\"?.struct_ops\" section)");
	if (!err && !(value = ayac_calloc(1, map->def.value_size)))
		err = -ENOMEM;
	if (!err)
		err = build_value(map, value);
	if (!err && (err = ayac_fast_update(map->fd, &zero, value, 0))) {
		/* a .link map is written once; later attaches make more links */
		if (!(map->st_ops->link && err == -EBUSY))
			ayac_seterr(-err, "register (update key 0)%s", err == -EBUSY ?
				    ": registered already, or once before (a .struct_ops map registers "
				    "once; maps of .struct_ops.link attach again after detach)" :
				    err == -EEXIST ? ": the kernel already has one of that name" : "");
		else
			err = 0;
	}
	free(value);
	if (!err)
		link = make_link(map);
	if (!link)
		ayac_errctx("attach struct_ops '%s'", map ? map->name : "?");
	return link;
}
