/* The BTF package's only calls into the kernel: loading a BTF blob (BPF_BTF_LOAD),
 * whose fd the blob keeps, and reading back what the kernel holds. Everything else in
 * btf/ works on bytes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sys/sys.h"
#include "btf_priv.h"

#define BTF_LOG_START (64u * 1024)
#define BTF_LOG_MAX (16u * 1024 * 1024)

static int btf_load(const void *raw, __u32 size, char *log, __u32 log_size)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.btf = (__u64)(unsigned long)raw;
	attr.btf_size = size;
	if (log) {
		log[0] = '\0';
		attr.btf_log_buf = (__u64)(unsigned long)log;
		attr.btf_log_size = log_size;
		attr.btf_log_level = 1;
	}
	return sys_bpf_fd(BPF_BTF_LOAD, &attr, sizeof(attr));
}

int ayac_btf_fd(struct ayac_btf *btf)
{
	__u32 size, cap = BTF_LOG_START;
	const void *raw;
	char *log = NULL;
	int fd, first;

	if (btf->fd >= 0)
		return btf->fd;
	raw = ayac_btf_raw(btf, &size);
	fd = first = btf_load(raw, size, NULL, 0);
	/* Only a failure pays for the log: load again with a buffer, larger while the
	 * kernel says the log did not fit. */
	while (fd < 0 && cap <= BTF_LOG_MAX) {
		char *p = realloc(log, cap);

		if (!p)
			break;
		log = p;
		fd = btf_load(raw, size, log, cap);
		if (fd != -ENOSPC)
			break;
		cap *= 4;
	}
	if (fd >= 0) {
		btf->fd = fd;
	} else {
		fd = ayac_seterr(first, "load BTF (%u bytes, %u types) into the kernel", size,
				 ayac_btf_type_cnt(btf) - 1);
		if (log && log[0])
			ayac_errappend(log);
	}
	free(log);
	return fd;
}

struct ayac_btf *ayac_btf_kernel_copy(const struct ayac_btf *btf)
{
	if (btf->fd < 0) {
		ayac_seterr(ENOENT, "BTF is not loaded into the kernel");
		return NULL;
	}
	return ayac_btf_from_kernel_fd(btf->fd);
}

struct ayac_btf *ayac_btf_from_kernel_fd(int fd)
{
	struct bpf_btf_info info;
	__u32 len = sizeof(info);
	struct ayac_btf *out;
	void *data;
	int err;

	memset(&info, 0, sizeof(info));
	if ((err = sys_obj_info(fd, &info, &len)) < 0) {
		ayac_seterr(-err, "BTF info of fd %d", fd);
		return NULL;
	}
	data = malloc(info.btf_size ? info.btf_size : 1);
	if (!data) {
		ayac_seterr(ENOMEM, "BTF from the kernel: %u bytes", info.btf_size);
		return NULL;
	}
	len = sizeof(info);
	info = (struct bpf_btf_info){ .btf = (__u64)(unsigned long)data, .btf_size = info.btf_size };
	if ((err = sys_obj_info(fd, &info, &len)) < 0) {
		free(data);
		ayac_seterr(-err, "BTF info of fd %d", fd);
		return NULL;
	}
	out = btf_parse_owned(data, info.btf_size, false, false, NULL);
	if (!out)
		ayac_errctx("BTF from the kernel");
	return out;
}

int ayac_btf_loaded_fd(const struct ayac_btf *btf)
{
	return btf->fd;
}

void ayac_btf_take_fd(struct ayac_btf *btf, struct ayac_btf *from)
{
	if (btf->fd >= 0)
		close(btf->fd);
	btf->fd = from->fd;
	from->fd = -1;
}
