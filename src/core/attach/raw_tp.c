/* Raw tracepoints and BTF-typed tracing programs, both through BPF_RAW_TRACEPOINT_OPEN:
 * a raw_tp names its tracepoint; tp_btf, fentry/fexit/fmod_ret and lsm programs pass no
 * name, since the kernel already knows their target from the attach_btf_id the
 * program was loaded with. */
#include <errno.h>
#include <string.h>

#include "attach.h"

#define RAW_TP_NAME_MAX 512

/* For messages: the BTF target as the section names it ("sys_enter" of tp_btf/sys_enter). */
static const char *btf_target(const struct ayac_prog *prog)
{
	const char *slash = prog && prog->sec_name ? strchr(prog->sec_name, '/') : NULL;

	return slash ? slash + 1 : "?";
}

static bool is_raw_tp_type(enum bpf_prog_type type)
{
	return type == BPF_PROG_TYPE_RAW_TRACEPOINT ||
	       type == BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE;
}

static int raw_tp_open(int prog_fd, const char *name)
{
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.raw_tracepoint.name = (__u64)(unsigned long)name;
	attr.raw_tracepoint.prog_fd = (__u32)prog_fd;
	fd = sys_bpf_fd(BPF_RAW_TRACEPOINT_OPEN, &attr, sizeof(attr));
	if (fd == -ENOENT && name)
		return ayac_seterr(ENOENT, "no such raw tracepoint");
	if (fd < 0)
		return ayac_seterr(-fd, "BPF_RAW_TRACEPOINT_OPEN");
	return fd;
}

struct ayac_link *ayac_attach_raw_tp(struct ayac_prog *prog, const char *name)
{
	const char *what = "raw_tp";
	struct ayac_link *link = NULL;
	int prog_fd, fd;

	prog_fd = ayac_link_prog_fd(prog);
	if (prog_fd < 0)
		goto fail;
	if (!name)
		what = ayac_tracing_kind(prog->type, prog->attach_type);
	if (name && (!*name || strlen(name) >= RAW_TP_NAME_MAX)) {
		ayac_seterr(EINVAL, "bad raw tracepoint name");
		goto fail;
	}
	if (!name && is_raw_tp_type(prog->type)) {
		ayac_seterr(EINVAL, "a raw_tp program needs a tracepoint name");
		goto fail;
	}
	fd = raw_tp_open(prog_fd, name);
	if (fd < 0)
		goto fail;
	link = ayac_link_new(prog, AYAC_LINK_BPF, what, fd, -1);
	if (link)
		return link;
fail:
	if (name)
		ayac_errctx("attach raw_tp '%s' for program '%s'", name, prog ? prog->name : "?");
	else
		ayac_errctx("attach %s '%s' for program '%s'", what, btf_target(prog),
			    prog ? prog->name : "?");
	return NULL;
}
