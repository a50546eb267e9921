/* Map type probes: create the smallest map of the type that the kernel accepts, with
 * the parameters the type insists on (as libbpf_probe_bpf_map_type does), and close it. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "probe_priv.h"

struct map_probe {
	__u32 key_size, value_size, max_entries, flags;
	__u32 btf_fd, btf_key_type_id, btf_value_type_id;
	__u32 btf_vmlinux_value_type_id;
	__u32 inner_map_fd;
	__u64 map_extra;
};

static int map_create(enum bpf_map_type type, const struct map_probe *m)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = type;
	attr.key_size = m->key_size;
	attr.value_size = m->value_size;
	attr.max_entries = m->max_entries;
	attr.map_flags = m->flags;
	attr.inner_map_fd = m->inner_map_fd;
	attr.btf_fd = m->btf_fd;
	attr.btf_key_type_id = m->btf_key_type_id;
	attr.btf_value_type_id = m->btf_value_type_id;
	attr.btf_vmlinux_value_type_id = m->btf_vmlinux_value_type_id;
	attr.map_extra = m->map_extra;
	return sys_bpf_fd(BPF_MAP_CREATE, &attr, sizeof(attr));
}

int probe_map_create(enum bpf_map_type type, __u32 key_size, __u32 value_size,
		     __u32 max_entries, __u32 flags)
{
	struct map_probe m = { .key_size = key_size, .value_size = value_size,
			       .max_entries = max_entries, .flags = flags };

	return map_create(type, &m);
}

/* The parameters a type needs; false when the type is not one ayac knows. */
static bool map_params(enum bpf_map_type type, struct map_probe *m)
{
	memset(m, 0, sizeof(*m));
	m->key_size = sizeof(__u32);
	m->value_size = sizeof(__u32);
	m->max_entries = 1;
	switch ((int)type) {
	case BPF_MAP_TYPE_UNSPEC:
		return false;
	case BPF_MAP_TYPE_STACK_TRACE:
		m->value_size = sizeof(__u64);
		break;
	case BPF_MAP_TYPE_LPM_TRIE:
		m->key_size = sizeof(__u64); /* prefix length + 4 bytes of data */
		m->value_size = sizeof(__u64);
		m->flags = BPF_F_NO_PREALLOC;
		break;
	case BPF_MAP_TYPE_CGROUP_STORAGE:
	case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
		m->key_size = sizeof(struct bpf_cgroup_storage_key);
		m->value_size = sizeof(__u64);
		m->max_entries = 0;
		break;
	case BPF_MAP_TYPE_QUEUE:
	case BPF_MAP_TYPE_STACK:
	case BPF_MAP_TYPE_BLOOM_FILTER:
		m->key_size = 0;
		break;
	case BPF_MAP_TYPE_SK_STORAGE:
	case BPF_MAP_TYPE_INODE_STORAGE:
	case BPF_MAP_TYPE_TASK_STORAGE:
	case PROBE_MAP_TYPE_CGRP_STORAGE:
		/* Local storage wants BTF for key (int) and value, and no preallocation. */
		m->value_size = 8;
		m->max_entries = 0;
		m->flags = BPF_F_NO_PREALLOC;
		m->btf_key_type_id = 1;
		m->btf_value_type_id = 2;
		break;
	case BPF_MAP_TYPE_RINGBUF:
	case BPF_MAP_TYPE_USER_RINGBUF:
		m->key_size = m->value_size = 0;
		m->max_entries = (__u32)sysconf(_SC_PAGESIZE);
		break;
	case BPF_MAP_TYPE_STRUCT_OPS:
		/* No struct_ops type has vmlinux BTF id 1: ENOTSUPP when the map type exists. */
		m->btf_vmlinux_value_type_id = 1;
		break;
	case PROBE_MAP_TYPE_ARENA:
		m->key_size = m->value_size = 0;
		m->max_entries = 1; /* pages */
		m->flags = BPF_F_MMAPABLE;
		break;
	default:
		break;
	}
	return true;
}

int probe_map_type(enum bpf_map_type type)
{
	struct map_probe m;
	int fd, btf_fd = -1, inner_fd = -1;

	if (!map_params(type, &m))
		return 0;
	if (m.btf_value_type_id) {
		btf_fd = probe_btf_storage();
		if (btf_fd < 0) /* no BTF at all: no local storage either */
			return btf_fd == -EINVAL ? 0 : btf_fd;
		m.btf_fd = (__u32)btf_fd;
	}
	if (type == BPF_MAP_TYPE_ARRAY_OF_MAPS || type == BPF_MAP_TYPE_HASH_OF_MAPS) {
		inner_fd = probe_map_create(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
		if (inner_fd < 0)
			return probe_result(inner_fd, NULL);
		m.inner_map_fd = (__u32)inner_fd;
	}
	fd = map_create(type, &m);
	if (btf_fd >= 0)
		close(btf_fd);
	if (inner_fd >= 0)
		close(inner_fd);
	if (type == BPF_MAP_TYPE_STRUCT_OPS && fd == -ENOTSUPP)
		return 1;
	return probe_result(fd, NULL);
}

/* The batch commands: on an empty hash map a lookup batch ends at once with ENOENT;
 * kernels before 5.6 do not know the command (EINVAL). Which map types have which
 * batch operation is learnt per type by the callers, from ENOTSUPP. */
int probe_map_batch(void)
{
	__u32 key, value, token, count = 1;
	int fd = probe_map_create(BPF_MAP_TYPE_HASH, 4, 4, 1, 0), err;

	if (fd < 0)
		return probe_result(fd, NULL);
	err = ayac_fast_lookup_batch(fd, NULL, &token, &key, &value, &count, 0);
	close(fd);
	if (err == -ENOENT || err == 0)
		return 1;
	return err == -EINVAL ? 0 : err;
}
