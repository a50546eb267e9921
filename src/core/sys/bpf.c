/* Thin wrappers over bpf(2) and perf_event_open(2): every kernel call of the core goes
 * through here, so fd hygiene (CLOEXEC, never 0..2) and errno capture live in one place. */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sys.h"

static inline __u64 ptr_to_u64(const void *p)
{
	return (__u64)(unsigned long)p;
}

int sys_bpf(enum bpf_cmd cmd, union bpf_attr *attr, unsigned int size)
{
	long ret = syscall(__NR_bpf, cmd, attr, size);
	return ret < 0 ? -errno : (int)ret;
}

int sys_fd_above_stdio(int fd)
{
	int nfd, saved;

	if (fd < 0 || fd > 2)
		return fd;
	/* A BPF fd in 0..2 would be clobbered by whoever reopens stdio. */
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	saved = errno;
	close(fd);
	return nfd < 0 ? -saved : nfd;
}

int sys_bpf_fd(enum bpf_cmd cmd, union bpf_attr *attr, unsigned int size)
{
	int fd = sys_bpf(cmd, attr, size);
	return fd < 0 ? fd : sys_fd_above_stdio(fd);
}

int sys_perf_event_open(struct perf_event_attr *attr, int pid, int cpu, int group_fd,
			unsigned long flags)
{
	long fd = syscall(__NR_perf_event_open, attr, pid, cpu, group_fd,
			  flags | PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : sys_fd_above_stdio((int)fd);
}

int sys_obj_pin(int fd, const char *path)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.bpf_fd = fd;
	attr.pathname = ptr_to_u64(path);
	return sys_bpf(BPF_OBJ_PIN, &attr, sizeof(attr));
}

int sys_obj_get(const char *path)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.pathname = ptr_to_u64(path);
	return sys_bpf_fd(BPF_OBJ_GET, &attr, sizeof(attr));
}

int sys_obj_info(int fd, void *info, __u32 *info_len)
{
	union bpf_attr attr;
	int err;

	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = fd;
	attr.info.info_len = *info_len;
	attr.info.info = ptr_to_u64(info);
	err = sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr));
	if (!err)
		*info_len = attr.info.info_len;
	return err;
}

int sys_map_freeze(int fd)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = fd;
	return sys_bpf(BPF_MAP_FREEZE, &attr, sizeof(attr));
}

/* The plain C ABI of ayac.h: LuaJIT calls these through the FFI on the hot path. They
 * hand the kernel only the attribute bytes the command reads (as libbpf does): with the
 * whole union it would copy and zero-check some 100 bytes more on every element. */
#define ATTR_SIZE(field) (offsetof(union bpf_attr, field) + sizeof(((union bpf_attr *)0)->field))

static int map_elem(enum bpf_cmd cmd, int fd, const void *key, void *value, __u64 flags)
{
	union bpf_attr attr;

	memset(&attr, 0, ATTR_SIZE(flags));
	attr.map_fd = fd;
	attr.key = ptr_to_u64(key);
	attr.value = ptr_to_u64(value);
	attr.flags = flags;
	return sys_bpf(cmd, &attr, ATTR_SIZE(flags));
}

int ayac_fast_lookup(int map_fd, const void *key, void *value)
{
	return map_elem(BPF_MAP_LOOKUP_ELEM, map_fd, key, value, 0);
}

int ayac_fast_update(int map_fd, const void *key, const void *value, __u64 flags)
{
	return map_elem(BPF_MAP_UPDATE_ELEM, map_fd, key, (void *)value, flags);
}

int ayac_fast_lookup_and_delete(int map_fd, const void *key, void *value)
{
	return map_elem(BPF_MAP_LOOKUP_AND_DELETE_ELEM, map_fd, key, value, 0);
}

int ayac_fast_delete(int map_fd, const void *key)
{
	return map_elem(BPF_MAP_DELETE_ELEM, map_fd, key, NULL, 0);
}

int ayac_fast_next_key(int map_fd, const void *key, void *next_key)
{
	union bpf_attr attr;

	memset(&attr, 0, ATTR_SIZE(next_key));
	attr.map_fd = map_fd;
	attr.key = ptr_to_u64(key);
	attr.next_key = ptr_to_u64(next_key);
	return sys_bpf(BPF_MAP_GET_NEXT_KEY, &attr, ATTR_SIZE(next_key));
}

/* Batch calls: count is in/out (entries asked for, entries done), and is meaningful on
 * failure too (-ENOENT at the end of a lookup batch still delivers entries; a failed
 * update or delete batch says how many went in before the failing one). */
static int map_batch(enum bpf_cmd cmd, int fd, void *in_batch, void *out_batch, void *keys,
		     void *values, __u32 *count, __u64 elem_flags)
{
	union bpf_attr attr;
	int err;

	memset(&attr, 0, ATTR_SIZE(batch));
	attr.batch.map_fd = fd;
	attr.batch.in_batch = ptr_to_u64(in_batch);
	attr.batch.out_batch = ptr_to_u64(out_batch);
	attr.batch.keys = ptr_to_u64(keys);
	attr.batch.values = ptr_to_u64(values);
	attr.batch.count = *count;
	attr.batch.elem_flags = elem_flags;
	err = sys_bpf(cmd, &attr, ATTR_SIZE(batch));
	*count = attr.batch.count;
	return err;
}

int ayac_fast_lookup_batch(int map_fd, void *in_batch, void *out_batch, void *keys,
			   void *values, __u32 *count, __u64 elem_flags)
{
	return map_batch(BPF_MAP_LOOKUP_BATCH, map_fd, in_batch, out_batch, keys, values, count,
			 elem_flags);
}

int ayac_fast_lookup_and_delete_batch(int map_fd, void *in_batch, void *out_batch, void *keys,
				      void *values, __u32 *count, __u64 elem_flags)
{
	return map_batch(BPF_MAP_LOOKUP_AND_DELETE_BATCH, map_fd, in_batch, out_batch, keys,
			 values, count, elem_flags);
}

int ayac_fast_update_batch(int map_fd, const void *keys, const void *values, __u32 *count,
			   __u64 elem_flags)
{
	return map_batch(BPF_MAP_UPDATE_BATCH, map_fd, NULL, NULL, (void *)keys, (void *)values,
			 count, elem_flags);
}

int ayac_fast_delete_batch(int map_fd, const void *keys, __u32 *count, __u64 elem_flags)
{
	return map_batch(BPF_MAP_DELETE_BATCH, map_fd, NULL, NULL, (void *)keys, NULL, count,
			 elem_flags);
}
