/* Maps that belong to no object: created from a definition, opened from a pin or an
 * id. They carry no BTF, so Lua reads them raw unless given a codec. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "elf/elf.h"
#include "features/features.h"

struct ayac_map *ayac_map_create(const struct ayac_map_def *def)
{
	struct ayac_map *map = ayac_map_new(NULL, def->name ? def->name : "");

	if (!map)
		return NULL;
	ayac_feature_memlock(); /* kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK */
	map->def = *def;
	map->def.name = map->name;
	if (ayac_map_create_in_kernel(map)) {
		ayac_map_destroy(map);
		return NULL;
	}
	return map;
}

static struct ayac_map *wrap_fd(int fd, const char *what)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	struct ayac_map *map;
	int err;

	memset(&info, 0, sizeof(info));
	if ((err = sys_obj_info(fd, &info, &len))) {
		close(fd);
		ayac_seterr(err, "%s: get map info", what);
		return NULL;
	}
	map = ayac_map_new(NULL, info.name);
	if (!map) {
		close(fd);
		return NULL;
	}
	map->fd = fd;
	map->def.type = info.type;
	map->def.key_size = info.key_size;
	map->def.value_size = info.value_size;
	map->def.max_entries = info.max_entries;
	map->def.map_flags = info.map_flags;
	map->def.map_extra = info.map_extra;
	return map;
}

struct ayac_map *ayac_map_from_pin(const char *path)
{
	int fd = sys_obj_get(path);
	char what[512];

	if (fd < 0) {
		ayac_seterr(fd, "open pinned map '%s'", path);
		return NULL;
	}
	snprintf(what, sizeof(what), "pinned map '%s'", path);
	return wrap_fd(fd, what);
}

struct ayac_map *ayac_map_from_id(__u32 id)
{
	union bpf_attr attr;
	char what[64];
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.map_id = id;
	fd = sys_bpf_fd(BPF_MAP_GET_FD_BY_ID, &attr, sizeof(attr));
	if (fd < 0) {
		ayac_seterr(fd, "open map id %u", id);
		return NULL;
	}
	snprintf(what, sizeof(what), "map id %u", id);
	return wrap_fd(fd, what);
}

void ayac_map_free(struct ayac_map *map)
{
	if (map && !map->obj)
		ayac_map_destroy(map);
}
