/* Maps: creation in the kernel (with BTF, pinning and reuse, global-data images,
 * freezing and mmap), element access, and standalone maps that belong to no object. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model.h"
#include "elf/elf.h"
#include "features/features.h"

/* Pin-by-name races lost in a row before giving up (create_pinned). */
#define PIN_RACE_ROUNDS 8

static int check_global_data(const struct ayac_map *map);

#define ENOTSUPP_ 524 /* the kernel's "not supported", as user space sees it */

/* Read once, then cached; threads that race to the first read store the same number. */
int ayac_num_possible_cpus(void)
{
	static int cached;
	char buf[256];
	int n = __atomic_load_n(&cached, __ATOMIC_RELAXED), fd;
	ssize_t len;
	char *p;

	if (n > 0)
		return n;
	fd = open("/sys/devices/system/cpu/possible", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ayac_seterr(errno, "open /sys/devices/system/cpu/possible");
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return ayac_seterr(EIO, "read /sys/devices/system/cpu/possible");
	buf[len] = '\0';
	/* "0-3,5,7-8": ranges separated by commas. */
	for (p = buf; *p && *p != '\n';) {
		char *end;
		long a = strtol(p, &end, 10), b = a;
		if (end == p)
			break;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		n += (int)(b - a + 1);
		p = *end == ',' ? end + 1 : end;
	}
	if (n <= 0)
		return ayac_seterr(EINVAL, "cannot parse possible CPUs '%s'", buf);
	__atomic_store_n(&cached, n, __ATOMIC_RELAXED);
	return n;
}

bool ayac_map_is_percpu(const struct ayac_map *map)
{
	switch (map->def.type) {
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
		return true;
	default:
		return false;
	}
}

size_t ayac_map_value_buf_size(const struct ayac_map *map)
{
	int ncpu;

	if (!ayac_map_is_percpu(map))
		return map->def.value_size;
	ncpu = ayac_num_possible_cpus();
	return ((size_t)map->def.value_size + 7) / 8 * 8 * (size_t)(ncpu > 0 ? ncpu : 1);
}

/* Map types whose key/value the kernel will not describe with BTF. */
static bool btf_types_refused(enum bpf_map_type t)
{
	switch (t) {
	case BPF_MAP_TYPE_PERF_EVENT_ARRAY: case BPF_MAP_TYPE_CGROUP_ARRAY:
	case BPF_MAP_TYPE_STACK_TRACE: case BPF_MAP_TYPE_ARRAY_OF_MAPS:
	case BPF_MAP_TYPE_HASH_OF_MAPS: case BPF_MAP_TYPE_DEVMAP:
	case BPF_MAP_TYPE_DEVMAP_HASH: case BPF_MAP_TYPE_CPUMAP:
	case BPF_MAP_TYPE_XSKMAP: case BPF_MAP_TYPE_SOCKMAP: case BPF_MAP_TYPE_SOCKHASH:
	case BPF_MAP_TYPE_QUEUE: case BPF_MAP_TYPE_STACK: case BPF_MAP_TYPE_RINGBUF:
	case BPF_MAP_TYPE_USER_RINGBUF: case BPF_MAP_TYPE_PROG_ARRAY:
		return true;
	default:
		return false;
	}
}

static int sys_map_create(const struct ayac_map *map, int btf_fd, int inner_fd)
{
	union bpf_attr attr;
	const struct ayac_map_def *d = &map->def;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = d->type;
	attr.key_size = d->key_size;
	attr.value_size = d->value_size;
	attr.max_entries = d->max_entries;
	attr.map_flags = d->map_flags;
	attr.numa_node = d->numa_node;
	attr.map_extra = d->map_extra;
	attr.inner_map_fd = inner_fd > 0 ? (__u32)inner_fd : 0;
	if (map->st_ops) { /* the kernel wants some BTF fd with it: the object's */
		attr.btf_vmlinux_value_type_id = map->st_ops->kern_vtype_id;
		attr.btf_fd = btf_fd >= 0 ? (__u32)btf_fd : 0;
	}
	if (d->numa_node)
		attr.map_flags |= BPF_F_NUMA_NODE;
	ayac_kernel_obj_name(attr.map_name, map->name);
	if (btf_fd >= 0 && !btf_types_refused(d->type) &&
	    (map->btf_key_type_id || map->btf_value_type_id)) {
		attr.btf_fd = (__u32)btf_fd;
		attr.btf_key_type_id = map->btf_key_type_id;
		attr.btf_value_type_id = map->btf_value_type_id;
	}
	return sys_bpf_fd(BPF_MAP_CREATE, &attr, sizeof(attr));
}

static int map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return sys_obj_info(fd, info, &len);
}

/* A pinned map is reused only when it is the map this object describes. */
static int check_reuse(const struct ayac_map *map, int fd, const char *path)
{
	struct bpf_map_info info;
	int err = map_info(fd, &info);

	if (err)
		return ayac_seterr(err, "map '%s': inspect pinned map '%s'", map->name, path);
	if (info.type != map->def.type || info.key_size != map->def.key_size ||
	    info.value_size != map->def.value_size || info.max_entries != map->def.max_entries ||
	    info.map_flags != map->def.map_flags || info.map_extra != map->def.map_extra)
		return ayac_seterr(EINVAL, "map '%s': the map pinned at '%s' differs (type %u, key %u, "
				   "value %u, max_entries %u, flags 0x%x, map_extra %llu; this object "
				   "wants %u, %u, %u, %u, 0x%x, %llu)", map->name, path, info.type,
				   info.key_size, info.value_size, info.max_entries, info.map_flags,
				   (unsigned long long)info.map_extra, map->def.type,
				   map->def.key_size, map->def.value_size, map->def.max_entries,
				   map->def.map_flags, (unsigned long long)map->def.map_extra);
	return 0;
}

static int create_inner(struct ayac_map *map, int btf_fd)
{
	struct ayac_map *in = map->inner;

	if (!in)
		return 0;
	if (in->def.max_entries == 0)
		in->def.max_entries = 1;
	in->fd = sys_map_create(in, btf_fd, -1);
	if (in->fd < 0)
		return ayac_seterr(in->fd, "map '%s': create the inner map template", map->name);
	return 0;
}

/* .rodata and .kconfig: read-only to programs, frozen, mapped read-only. */
static bool map_is_readonly(const struct ayac_map *map)
{
	return map->kind == AYAC_MAP_RODATA || map->kind == AYAC_MAP_KCONFIG;
}

/* Data maps: the image goes in before load, .rodata is frozen (the verifier then
 * trusts its values), and the value is mmap-ed so globals read without syscalls. */
static int init_data_map(struct ayac_map *map)
{
	__u32 zero = 0;
	int prot = PROT_READ, err;
	long page = sysconf(_SC_PAGESIZE);

	err = ayac_fast_update(map->fd, &zero, map->data, 0);
	if (err)
		return ayac_seterr(err, "map '%s': write initial global data", map->name);
	if (map_is_readonly(map) && (err = sys_map_freeze(map->fd)))
		return ayac_seterr(err, "map '%s': freeze", map->name);
	if (!(map->def.map_flags & BPF_F_MMAPABLE))
		return 0;
	if (!map_is_readonly(map))
		prot |= PROT_WRITE;
	map->mmap_size = ((size_t)map->def.value_size + (size_t)page - 1) / (size_t)page * (size_t)page;
	map->mmaped = mmap(NULL, map->mmap_size, prot, MAP_SHARED, map->fd, 0);
	if (map->mmaped == MAP_FAILED) {
		int err = errno;
		map->mmaped = NULL;
		/* Values holding kernel-special fields (spin locks, timers, kptrs, list
		 * heads...) are never mapped: such globals are read and written through
		 * the map instead. */
		if (err == ENOTSUPP_ || err == EOPNOTSUPP || err == EACCES || err == EPERM)
			return 0;
		return ayac_seterr(err, "map '%s': mmap global data", map->name);
	}
	return 0;
}

/* As libbpf: a global-data map is mmap-able when its section has a variable that is
 * not static (hidden ones count as static), i.e. one a user may read or set by name;
 * .kconfig always. Without BTF, never. */
static bool data_mmapable(const struct ayac_map *map)
{
	const struct ayac_btf *btf = map->obj ? map->obj->btf : NULL;
	const struct btf_type *sec, *var;
	__u16 i;

	if (map->kind == AYAC_MAP_KCONFIG)
		return true;
	sec = btf && map->btf_value_type_id ? ayac_btf_type(btf, map->btf_value_type_id) : NULL;
	if (!sec || btf_kind_of(sec) != BTF_KIND_DATASEC)
		return false;
	for (i = 0; i < btf_vlen_of(sec); i++) {
		var = ayac_btf_type(btf, btf_secinfos_of(sec)[i].type);
		if (var && btf_kind_of(var) == BTF_KIND_VAR &&
		    btf_var_of(var)->linkage != BTF_VAR_STATIC)
			return true;
	}
	return false;
}

static int resolve_pin_path(struct ayac_map *map)
{
	const char *root;

	if (map->pin_path || map->pinning != AYAC_PIN_BY_NAME)
		return 0;
	root = map->obj && map->obj->pin_root ? map->obj->pin_root : "/sys/fs/bpf";
	if (asprintf(&map->pin_path, "%s/%s", root, map->name) < 0) {
		map->pin_path = NULL;
		return ayac_seterr(ENOMEM, "out of memory");
	}
	return 0;
}

/* What loading the map's whole object needs, for an EPERM at its first map: the
 * user learns every capability at once, not one per attempt. */
static unsigned obj_needs(const struct ayac_map *map)
{
	unsigned needs = AYAC_NEED_BPF;
	size_t i;

	if (!map->obj)
		return needs;
	for (i = 0; i < map->obj->nr_progs; i++)
		if (map->obj->progs[i]->autoload)
			needs |= ayac_prog_type_needs(map->obj->progs[i]->type);
	return needs;
}

static int create_fresh(struct ayac_map *map, int btf_fd)
{
	int err = create_inner(map, btf_fd), fd, inner_fd;

	if (err)
		return err;
	if (map->kind != AYAC_MAP_USER) /* mmap-able unless the kernel surely refuses (< 5.5) */
		map->def.map_flags |= (ayac_feature(AYAC_FEAT_ARRAY_MMAP) && data_mmapable(map) ?
				       BPF_F_MMAPABLE : 0) |
				      (map_is_readonly(map) ? BPF_F_RDONLY_PROG : 0);
	inner_fd = map->inner ? map->inner->fd : map->def.inner_map_fd > 0 ? map->def.inner_map_fd : -1;
	fd = sys_map_create(map, btf_fd, inner_fd);
	/* Older kernels refuse some BTF descriptions (libbpf retries the same way). */
	if (fd < 0 && btf_fd >= 0 && !map->st_ops) /* struct_ops maps need the BTF */
		fd = sys_map_create(map, -1, inner_fd);
	if (map->inner && map->inner->fd >= 0) {
		close(map->inner->fd);
		map->inner->fd = -1;
	}
	if (fd < 0) {
		ayac_seterr(fd, "create map '%s' (%s, key %u, value %u, max_entries %u)",
			    map->name, ayac_map_type_name(map->def.type) ?: "unknown type",
			    map->def.key_size, map->def.value_size, map->def.max_entries);
		ayac_perm_explain(obj_needs(map));
		return fd;
	}
	map->fd = fd;
	return map->data ? init_data_map(map) : 0;
}

/* The map pinned at map->pin_path, if this object can use it: 1 with map->fd set (a map
 * this load created before is closed first), 0 when nothing is pinned there. */
static int reuse_pinned(struct ayac_map *map)
{
	int fd = sys_obj_get(map->pin_path), err;

	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return ayac_seterr(fd, "map '%s': open pin '%s'", map->name, map->pin_path);
	if ((err = check_reuse(map, fd, map->pin_path))) {
		close(fd);
		return err;
	}
	ayac_map_close(map);
	map->fd = fd;
	map->reused = true;
	return 1;
}

/* Processes loading the same object at once race to pin: the first BPF_OBJ_PIN wins and
 * the others get EEXIST. As libbpf does, a loser drops the map it made and takes the
 * winner's, after the same compatibility check; when that pin is gone again by the
 * time we look (ENOENT: unpinned in between), we pin ours once more. A bounded number
 * of rounds: only a pin removed and remade in a loop by someone else runs out. */
static int create_pinned(struct ayac_map *map, int btf_fd)
{
	int err, round;

	for (round = 0; round < PIN_RACE_ROUNDS; round++) {
		if ((err = reuse_pinned(map)))
			return err < 0 ? err : 0;
		if (map->fd < 0 && ((err = check_global_data(map)) ||
				    (err = create_fresh(map, btf_fd))))
			return err;
		if ((err = ayac_ensure_bpffs()))
			return err;
		err = sys_obj_pin(map->fd, map->pin_path);
		if (err != -EEXIST)
			return err ? ayac_seterr(err, "map '%s': pin at '%s'", map->name,
						 map->pin_path) : 0;
	}
	return ayac_seterr(EEXIST, "map '%s': pin at '%s': the pin kept appearing and vanishing "
			   "over %d attempts (another process pins and removes it in a loop?)",
			   map->name, map->pin_path, PIN_RACE_ROUNDS);
}

/* Sizes as libbpf gives them, before a pinned map is compared or a new one created:
 * ring buffers round up to a page-size multiple that is a power of two (objects
 * declare `max_entries 8` and mean "small"); a perf event array gets one slot per
 * possible CPU, keyed and valued by an int (an fd). */
static void apply_size_rules(struct ayac_map *map)
{
	struct ayac_map_def *d = &map->def;
	__u64 page = (__u64)sysconf(_SC_PAGESIZE), n;
	int ncpu;

	if ((d->type == BPF_MAP_TYPE_RINGBUF || d->type == BPF_MAP_TYPE_USER_RINGBUF) &&
	    d->max_entries) {
		for (n = page; n < d->max_entries; n *= 2)
			;
		if (n <= 1u << 31) /* larger: leave it for the kernel to refuse */
			d->max_entries = (__u32)n;
	} else if (d->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
		if (d->max_entries == 0 && (ncpu = ayac_num_possible_cpus()) > 0)
			d->max_entries = (__u32)ncpu;
		if (d->key_size == 0)
			d->key_size = sizeof(int);
		if (d->value_size == 0)
			d->value_size = sizeof(int);
	}
}

int ayac_map_create_in_kernel(struct ayac_map *map)
{
	int btf_fd, err;

	if (map->fd >= 0)
		return 0;
	apply_size_rules(map);
	if ((err = resolve_pin_path(map)))
		return err;
	btf_fd = ayac_obj_btf_fd(map->obj);
	if (btf_fd < 0)
		btf_fd = -1;
	if (map->pin_path)
		err = create_pinned(map, btf_fd);
	else if (!(err = check_global_data(map)))
		err = create_fresh(map, btf_fd);
	if (err)
		ayac_map_close(map);
	return err;
}

void ayac_map_close(struct ayac_map *map)
{
	if (map->mmaped)
		munmap(map->mmaped, map->mmap_size);
	map->mmaped = NULL;
	if (map->fd >= 0)
		close(map->fd);
	map->fd = -1;
}

/* .values initializers: programs into program arrays, maps into maps of maps. Slots of
 * programs that were not loaded (autoload off) stay empty. */
int ayac_maps_fill_slots(struct ayac_obj *obj)
{
	size_t i, j;
	int err;

	for (i = 0; i < obj->nr_maps; i++) {
		const struct ayac_map *map = obj->maps[i];
		for (j = 0; j < map->nr_slots; j++) {
			const struct ayac_map_slot *s = &map->slots[j];
			int fd = s->prog ? s->prog->fd : s->map->fd;
			const char *what = s->prog ? s->prog->name : s->map->name;

			if (fd < 0 && s->prog && !s->prog->autoload)
				continue;
			if (s->slot >= map->def.max_entries)
				return ayac_seterr(EINVAL, "map '%s': slot %u of '%s' is past max_entries %u",
						   map->name, s->slot, what, map->def.max_entries);
			if ((err = ayac_fast_update(map->fd, &s->slot, &fd, 0)))
				return ayac_seterr(err, "map '%s': put '%s' in slot %u", map->name, what,
						   s->slot);
		}
	}
	return 0;
}

void ayac_map_destroy(struct ayac_map *map)
{
	if (!map)
		return;
	ayac_map_close(map);
	free(map->slots);
	ayac_st_ops_free(map->st_ops);
	if (map->inner)
		ayac_map_destroy(map->inner);
	free(map->data);
	free(map->pin_path);
	free(map->name);
	free(map);
}

/* ---- accessors ----------------------------------------------------------------------- */

const char *ayac_map_name(const struct ayac_map *map) { return map->name; }
struct ayac_obj *ayac_map_obj(const struct ayac_map *map) { return map->obj; }
const struct ayac_map_def *ayac_map_def(const struct ayac_map *map) { return &map->def; }
int ayac_map_fd(const struct ayac_map *map) { return map->fd; }
struct ayac_btf *ayac_map_btf(const struct ayac_map *map) { return map->obj ? map->obj->btf : NULL; }
__u32 ayac_map_btf_key_type_id(const struct ayac_map *map) { return map->btf_key_type_id; }
__u32 ayac_map_btf_value_type_id(const struct ayac_map *map) { return map->btf_value_type_id; }

int ayac_map_set_max_entries(struct ayac_map *map, __u32 n)
{
	if (map->fd >= 0 || (map->obj && map->obj->state != AYAC_OBJ_OPENED))
		return ayac_seterr(EBUSY, "map '%s': max_entries can only change before load", map->name);
	if (map->kind != AYAC_MAP_USER)
		return ayac_seterr(EINVAL, "map '%s': a global-data map has exactly one entry", map->name);
	map->def.max_entries = n;
	return 0;
}

int ayac_map_set_autocreate(struct ayac_map *map, bool create)
{
	if (map->fd >= 0 || !map->obj || map->obj->state != AYAC_OBJ_OPENED)
		return ayac_seterr(EBUSY, "map '%s': autocreate is set before load", map->name);
	map->no_create = !create;
	return 0;
}

bool ayac_map_autocreate(const struct ayac_map *map)
{
	return !map->no_create;
}

int ayac_map_set_value_size(struct ayac_map *map, __u32 size)
{
	if (map->fd >= 0 || (map->obj && map->obj->state != AYAC_OBJ_OPENED))
		return ayac_seterr(EBUSY, "map '%s': value_size can only change before load", map->name);
	if (map->kind != AYAC_MAP_USER)
		return ayac_seterr(EINVAL, "map '%s': a global-data map's size is its section's", map->name);
	/* The BTF value type no longer describes the value (libbpf drops it too). */
	if (size != map->def.value_size)
		map->btf_value_type_id = 0;
	map->def.value_size = size;
	return 0;
}

void *ayac_map_data(struct ayac_map *map, size_t *size, bool *writable)
{
	if (map->st_ops) { /* the object's image: the kernel's value is built at attach */
		*size = map->st_ops->size;
		*writable = !map->obj || map->obj->state == AYAC_OBJ_OPENED;
		return map->st_ops->data;
	}
	*size = map->def.value_size;
	if (map->fd < 0 && (!map->obj || map->obj->state == AYAC_OBJ_OPENED)) {
		/* .kconfig values are the kernel's, written at load */
		*writable = map->data != NULL && map->kind != AYAC_MAP_KCONFIG;
		return map->data;
	}
	/* Not mapped (no public variable, or special fields): NULL, but still writable
	 * through the map unless read-only. */
	*writable = map->fd >= 0 && !map_is_readonly(map);
	return map->mmaped;
}

static int need_fd(const struct ayac_map *map, const char *op)
{
	if (map->fd < 0)
		return ayac_seterr(EBADF, "map '%s': %s: not loaded (or closed)", map->name, op);
	return 0;
}

int ayac_map_lookup(const struct ayac_map *map, const void *key, void *value)
{
	int err = need_fd(map, "lookup");

	if (!err && (err = ayac_fast_lookup(map->fd, key, value)))
		ayac_seterr(err, "map '%s': lookup", map->name);
	return err;
}

int ayac_map_update(const struct ayac_map *map, const void *key, const void *value, __u64 flags)
{
	int err = need_fd(map, "update");

	if (!err && (err = ayac_fast_update(map->fd, key, value, flags)))
		ayac_seterr(err, "map '%s': update", map->name);
	return err;
}

int ayac_map_delete(const struct ayac_map *map, const void *key)
{
	int err = need_fd(map, "delete");

	if (!err && (err = ayac_fast_delete(map->fd, key)))
		ayac_seterr(err, "map '%s': delete", map->name);
	return err;
}

int ayac_map_next_key(const struct ayac_map *map, const void *key, void *next_key)
{
	int err = need_fd(map, "next key");

	if (!err && (err = ayac_fast_next_key(map->fd, key, next_key)) && err != -ENOENT)
		ayac_seterr(err, "map '%s': next key", map->name);
	return err;
}

int ayac_map_pin(struct ayac_map *map, const char *path)
{
	int err = need_fd(map, "pin");

	if (err)
		return err;
	if ((err = ayac_ensure_bpffs()))
		return err;
	if ((err = sys_obj_pin(map->fd, path)))
		return ayac_seterr(err, "map '%s': pin at '%s'", map->name, path);
	return 0;
}

int ayac_map_unpin(struct ayac_map *map, const char *path)
{
	if (!path)
		path = map->pin_path;
	if (!path)
		return ayac_seterr(EINVAL, "map '%s': unpin: no path given and none pinned", map->name);
	if (unlink(path) < 0)
		return ayac_seterr(errno, "map '%s': unpin '%s'", map->name, path);
	return 0;
}

int ayac_map_freeze(struct ayac_map *map)
{
	int err = need_fd(map, "freeze");

	if (!err && (err = sys_map_freeze(map->fd)))
		ayac_seterr(err, "map '%s': freeze", map->name);
	return err;
}

int ayac_map_set_pin_path(struct ayac_map *map, const char *path)
{
	char *copy;

	if (map->fd >= 0)
		return ayac_seterr(EBUSY, "map '%s': the pin path can only change before load", map->name);
	copy = path ? ayac_strdup(path) : NULL;
	if (path && !copy)
		return -ENOMEM;
	free(map->pin_path);
	map->pin_path = copy;
	return 0;
}

/* Global data needs the kernel to support it; say which section when it does not. */
static int check_global_data(const struct ayac_map *map)
{
	const struct ayac_obj *obj = map->obj;
	const char *sec = map->name;

	if (map->kind == AYAC_MAP_USER || ayac_feature(AYAC_FEAT_GLOBAL_DATA) != 0)
		return 0;
	if (map->kind != AYAC_MAP_KCONFIG && obj && obj->elf && (size_t)map->sec_idx < obj->elf->nsecs)
		sec = obj->elf->secs[map->sec_idx].name;
	else if (map->kind == AYAC_MAP_KCONFIG)
		sec = ".kconfig";
	return ayac_seterr(EOPNOTSUPP, "map '%s': section '%s' holds global variables, and this "
			   "kernel has no global data (BPF_PSEUDO_MAP_VALUE, Linux 5.2); build "
			   "the program without globals for it", map->name, sec);
}
