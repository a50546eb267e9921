/* Attaching freplace extensions: BPF_LINK_CREATE with the target program's fd and the
 * replaced function's BTF id (Linux 5.10: any compatible target, not only the one
 * named at load). A deferred extension (the `extensions` load option) is loaded here
 * first, against this target. With no target, the one given before load is used
 * (BPF_RAW_TRACEPOINT_OPEN with no name, as for other BTF-typed tracing). */
#include <errno.h>
#include <string.h>

#include "attach.h"

static int ext_link(struct ayac_prog *prog, int target_fd, const char *func)
{
	union bpf_attr attr;
	int id, fd;

	id = ayac_prog_btf_func_id(target_fd, func);
	if (id < 0)
		return id;
	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = (__u32)prog->fd;
	attr.link_create.target_fd = (__u32)target_fd;
	attr.link_create.target_btf_id = (__u32)id;
	fd = sys_bpf_fd(BPF_LINK_CREATE, &attr, sizeof(attr));
	if (fd < 0)
		return ayac_seterr(-fd, "BPF_LINK_CREATE");
	return fd;
}

struct ayac_link *ayac_attach_freplace(struct ayac_prog *prog, int target_fd, const char *func)
{
	const char *slash = prog && prog->sec_name ? strchr(prog->sec_name, '/') : NULL;
	int fd = -1;

	if (!func)
		func = prog && prog->attach_func ? prog->attach_func : slash && slash[1] ? slash + 1 : NULL;
	if (!prog || prog->type != BPF_PROG_TYPE_EXT) {
		ayac_seterr(EINVAL, "not a freplace program");
		goto fail;
	}
	if (target_fd < 0 && prog->fd >= 0)
		return ayac_attach_raw_tp(prog, NULL);
	if (target_fd < 0) {
		ayac_seterr(EINVAL, "needs a target: prog:attach{ target_prog=, func= }");
		goto fail;
	}
	if (!func) {
		ayac_seterr(EINVAL, "needs the function to replace: func=");
		goto fail;
	}
	if (prog->fd < 0 && prog->ext_deferred && prog->obj->state == AYAC_OBJ_LOADED &&
	    (ayac_prog_set_attach_target(prog, target_fd, func) ||
	     ayac_prog_load_in_kernel(prog)))
		goto fail;
	if (ayac_link_prog_fd(prog) < 0 || (fd = ext_link(prog, target_fd, func)) < 0)
		goto fail;
	return ayac_link_new(prog, AYAC_LINK_BPF, "freplace", fd, -1);
fail:
	ayac_errctx("attach freplace '%s' for program '%s'", func ? func : "?",
		    prog ? prog->name : "?");
	return NULL;
}
