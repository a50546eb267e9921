/* Maps whose memory user space maps: arrays created with BPF_F_MMAPABLE and arenas.
 * (Global-data maps are mapped at load, map.c; m:mmap() hands out the same mapping.) */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model.h"

#ifndef BPF_F_MMAPABLE
#define BPF_F_MMAPABLE (1U << 10)
#endif
#define MAP_TYPE_ARENA 33 /* BPF_MAP_TYPE_ARENA, newer than some uapi headers */

static size_t page_size(void)
{
	long page = sysconf(_SC_PAGESIZE);

	return page > 0 ? (size_t)page : 4096;
}

/* The bytes the kernel lets user space map: an array's elements (8-byte aligned each),
 * an arena's pages; 0 for a map that cannot be mapped. */
static size_t mmap_bytes(const struct ayac_map *map)
{
	size_t page = page_size(), n;
	const struct ayac_map_def *d = &map->def;

	if ((int)d->type == MAP_TYPE_ARENA)
		return (size_t)d->max_entries * page;
	if (d->type != BPF_MAP_TYPE_ARRAY || !(d->map_flags & BPF_F_MMAPABLE))
		return 0;
	n = ((size_t)d->value_size + 7) / 8 * 8 * (size_t)d->max_entries;
	return (n + page - 1) / page * page;
}

void *ayac_map_mmap(struct ayac_map *map, size_t *size)
{
	size_t bytes;
	void *p, *want;
	int flags = MAP_SHARED;

	*size = 0;
	if (map->fd < 0)
		return ayac_seterr(EBADF, "map '%s': mmap: not loaded (or closed)", map->name), NULL;
	if (map->mmaped) {
		*size = map->mmap_size;
		return map->mmaped;
	}
	bytes = mmap_bytes(map);
	if (!bytes)
		return ayac_seterr(EINVAL, "map '%s': mmap: only arrays created with "
				   "BPF_F_MMAPABLE (flags = 1024) and arenas can be mapped",
				   map->name), NULL;
	/* An arena created with map_extra lives at that user address (as libbpf maps it). */
	want = (int)map->def.type == MAP_TYPE_ARENA && map->def.map_extra ?
		       (void *)(unsigned long)map->def.map_extra : NULL;
	if (want)
		flags |= MAP_FIXED_NOREPLACE;
	p = mmap(want, bytes, PROT_READ | PROT_WRITE, flags, map->fd, 0);
	if (p == MAP_FAILED)
		return ayac_seterr(errno, "map '%s': mmap %zu bytes", map->name, bytes), NULL;
	map->mmaped = p;
	map->mmap_size = bytes;
	*size = bytes;
	return p;
}
