/* What the kernel says about a loaded program, map or link (BPF_OBJ_GET_INFO_BY_FD).
 * The Lua binding turns these into tables for prog:info(), map:info(), link:info(). */
#include <errno.h>
#include <string.h>

#include "model.h"

int ayac_prog_info(const struct ayac_prog *prog, struct bpf_prog_info *info)
{
	__u32 nr_map_ids = info->nr_map_ids;
	__u64 map_ids = info->map_ids;
	__u32 len = sizeof(*info);
	int err;

	memset(info, 0, sizeof(*info));
	if (prog->fd < 0)
		return ayac_seterr(EBADF, "program '%s': info: not loaded", prog->name);
	info->nr_map_ids = map_ids ? nr_map_ids : 0;
	info->map_ids = map_ids;
	err = sys_obj_info(prog->fd, info, &len);
	if (err < 0)
		return ayac_seterr(err, "program '%s': info", prog->name);
	return 0;
}

int ayac_map_info(const struct ayac_map *map, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);
	int err;

	memset(info, 0, sizeof(*info));
	if (map->fd < 0)
		return ayac_seterr(EBADF, "map '%s': info: not loaded", map->name);
	err = sys_obj_info(map->fd, info, &len);
	if (err < 0)
		return ayac_seterr(err, "map '%s': info", map->name);
	return 0;
}

int ayac_link_info(const struct ayac_link *link, struct bpf_link_info *info)
{
	__u32 len = sizeof(*info);
	int err;

	memset(info, 0, sizeof(*info));
	if (link->kind == AYAC_LINK_STRUCT_OPS)
		return ayac_seterr(EOPNOTSUPP, "%s link: info: a .struct_ops map registered "
				   "without a bpf_link (map:info() describes it)", link->what);
	if (link->fd < 0)
		return ayac_seterr(link->perf_fd >= 0 ? EOPNOTSUPP : EBADF,
				   "%s link: info: %s", link->what,
				   link->perf_fd >= 0 ? "no bpf_link (perf event ioctl)" : "detached");
	err = sys_obj_info(link->fd, info, &len);
	if (err < 0)
		return ayac_seterr(err, "%s link: info", link->what);
	return 0;
}
