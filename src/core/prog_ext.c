/* freplace extensions (BPF_PROG_TYPE_EXT): a program that replaces a global function
 * of another loaded program. The kernel checks it against that function, so the
 * load names the target: attach_prog_fd, and attach_btf_id, the function's id in the
 * target's own BTF (read back from the kernel). The function is the one the caller
 * names, or the section's ("freplace/<func>"). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"

static const char *ext_func(const struct ayac_prog *prog)
{
	const char *slash;

	if (prog->attach_func)
		return prog->attach_func;
	slash = prog->sec_name ? strchr(prog->sec_name, '/') : NULL;
	return slash && slash[1] ? slash + 1 : NULL;
}

/* The BTF id of func in the BTF of the program behind target_fd. */
int ayac_prog_btf_func_id(int target_fd, const char *func)
{
	struct bpf_prog_info info;
	union bpf_attr attr;
	struct ayac_btf *btf;
	__u32 len = sizeof(info);
	int err, fd, id;

	memset(&info, 0, sizeof(info));
	if ((err = sys_obj_info(target_fd, &info, &len)) < 0)
		return ayac_seterr(-err, "target program (fd %d): info", target_fd);
	if (!info.btf_id)
		return ayac_seterr(EINVAL, "target program '%s' has no BTF (build it with -g)",
				   info.name);
	memset(&attr, 0, sizeof(attr));
	attr.btf_id = info.btf_id;
	fd = sys_bpf_fd(BPF_BTF_GET_FD_BY_ID, &attr, sizeof(attr));
	if (fd < 0)
		return ayac_seterr(-fd, "target program '%s': its BTF", info.name);
	btf = ayac_btf_from_kernel_fd(fd);
	close(fd);
	if (!btf)
		return ayac_errctx("target program '%s'", info.name);
	id = ayac_btf_find(btf, func, BTF_KIND_FUNC);
	ayac_btf_free(btf);
	if (id <= 0)
		return ayac_seterr(ENOENT, "target program '%s' has no function '%s' (only global "
				   "functions, in its BTF, can be replaced)", info.name, func);
	return id;
}

int ayac_prog_ext_resolve(struct ayac_prog *prog)
{
	const char *func = ext_func(prog);
	int id;

	if (prog->type != BPF_PROG_TYPE_EXT)
		return 0;
	if (prog->attach_prog_fd < 0)
		return ayac_seterr(EINVAL, "program '%s' (%s) replaces a function of another "
				   "program, and none was given: prog:set_attach_target(target, "
				   "func) before load, or the load option extensions = { '%s' } "
				   "and prog:attach{ target_prog=, func= }", prog->name,
				   prog->sec_name, prog->name);
	if (!func)
		return ayac_seterr(EINVAL, "program '%s': no function to replace: name it "
				   "(freplace/<func>, or func=)", prog->name);
	id = ayac_prog_btf_func_id(prog->attach_prog_fd, func);
	if (id < 0)
		return ayac_errctx("program '%s'", prog->name);
	prog->attach_btf_id = (__u32)id;
	return 0;
}

int ayac_prog_set_attach_target(struct ayac_prog *prog, int target_fd, const char *func)
{
	char *copy = NULL;
	int fd;

	if (prog->fd >= 0)
		return ayac_seterr(EBUSY, "program '%s': the target is set before load",
				   prog->name);
	if (target_fd < 0)
		return ayac_seterr(EBADF, "program '%s': the target program is not loaded",
				   prog->name);
	fd = fcntl(target_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return ayac_seterr(errno, "program '%s': dup the target's fd", prog->name);
	if (func && !(copy = ayac_strdup(func))) {
		close(fd);
		return -ENOMEM;
	}
	if (prog->attach_prog_fd >= 0)
		close(prog->attach_prog_fd);
	free(prog->attach_func);
	prog->attach_prog_fd = fd;
	prog->attach_func = copy;
	return 0;
}

int ayac_prog_set_extension(struct ayac_prog *prog)
{
	if (prog->obj->state != AYAC_OBJ_OPENED)
		return ayac_seterr(EBUSY, "program '%s': extensions are named before load",
				   prog->name);
	if (prog->type != BPF_PROG_TYPE_EXT && prog->type != BPF_PROG_TYPE_UNSPEC &&
	    prog->sec_def)
		return ayac_seterr(EINVAL, "program '%s' (%s) is not a freplace program",
				   prog->name, prog->sec_name);
	prog->type = BPF_PROG_TYPE_EXT;
	prog->attach_type = 0;
	prog->autoload = false;
	prog->ext_deferred = true;
	return 0;
}
