/* Programs: the BPF_PROG_LOAD call with its verifier log, and the per-program state
 * the user may change between open and load. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "relo/relo.h"
#include "features/features.h"

#define LOG_BUF_START (64 * 1024)
#define LOG_BUF_MAX (UINT32_MAX >> 8) /* the kernel's own cap on log_size */

static inline __u64 ptr_to_u64(const void *p)
{
	return (__u64)(unsigned long)p;
}

/* tp_btf/x, fentry/x, lsm/x, iter/x: the target's id in vmlinux BTF. */
static int resolve_attach_btf_id(struct ayac_prog *prog)
{
	const struct ayac_sec_def *def = prog->sec_def;
	const char *target;
	struct ayac_btf *vmlinux;
	char name[256];
	int id;

	if (!def || !(def->flags & AYAC_SEC_BTF_ID) || prog->attach_btf_id ||
	    prog->type != def->prog_type)
		return 0;
	target = ayac_sec_target(prog->sec_name);
	if (!*target)
		return ayac_seterr(EINVAL, "program '%s': section '%s' names no attach target",
				   prog->name, prog->sec_name);
	vmlinux = ayac_btf_vmlinux();
	if (!vmlinux)
		return ayac_errctx("program '%s' (%s): vmlinux BTF", prog->name, prog->sec_name);
	snprintf(name, sizeof(name), "%s%s", def->btf_name_prefix, target);
	id = ayac_btf_find(vmlinux, name, def->attach_type == BPF_TRACE_RAW_TP ? BTF_KIND_TYPEDEF
									       : BTF_KIND_FUNC);
	if (id <= 0)
		return ayac_seterr(ENOENT, "program '%s' (%s): '%s' not found in vmlinux BTF",
				   prog->name, prog->sec_name, name);
	prog->attach_btf_id = (__u32)id;
	return 0;
}

static int sys_prog_load(struct ayac_prog *prog, __u32 log_level, char *log, __u32 log_size)
{
	struct ayac_obj *obj = prog->obj;
	int btf_fd = ayac_obj_btf_fd(obj);
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = prog->type;
	attr.expected_attach_type = prog->attach_type;
	attr.insns = ptr_to_u64(prog->insns);
	attr.insn_cnt = (__u32)prog->insn_cnt;
	attr.license = ptr_to_u64(obj->license);
	attr.kern_version = obj->kern_version;
	attr.prog_flags = prog->prog_flags;
	attr.attach_btf_id = prog->attach_btf_id;
	if (prog->attach_prog_fd >= 0)
		attr.attach_prog_fd = (__u32)prog->attach_prog_fd;
	ayac_kernel_obj_name(attr.prog_name, prog->name);
	if (prog->fd_array_cnt)
		attr.fd_array = ptr_to_u64(prog->fd_array);
	/* prog_btf_fd came with func_info: a kernel without BTF FUNC knows neither */
	if (btf_fd >= 0 && !obj->btf_drop_func_info) {
		attr.prog_btf_fd = (__u32)btf_fd;
		if (prog->func_info_cnt) {
			attr.func_info = ptr_to_u64(prog->func_info);
			attr.func_info_cnt = prog->func_info_cnt;
			attr.func_info_rec_size = sizeof(struct bpf_func_info);
		}
		if (prog->line_info_cnt) {
			attr.line_info = ptr_to_u64(prog->line_info);
			attr.line_info_cnt = prog->line_info_cnt;
			attr.line_info_rec_size = sizeof(struct bpf_line_info);
		}
	}
	if (log_level) {
		attr.log_level = log_level;
		attr.log_buf = ptr_to_u64(log);
		attr.log_size = log_size;
		log[0] = '\0';
	}
	return sys_bpf_fd(BPF_PROG_LOAD, &attr, sizeof(attr));
}

/* Loads, with the log the user asked for; on failure loads again at level 1 at least
 * so the error can carry the verifier's reasons. The buffer grows on ENOSPC. */
static int load_with_log(struct ayac_prog *prog, __u32 level)
{
	__u32 size = LOG_BUF_START;
	char *log = NULL;
	int fd;

	for (;;) {
		char *grown = level ? realloc(log, size) : log;
		if (level && !grown) {
			fd = -ENOMEM;
			break;
		}
		log = grown;
		fd = sys_prog_load(prog, level, log, size);
		if (fd == -ENOSPC && level && size < LOG_BUF_MAX) {
			size = size * 4 > LOG_BUF_MAX ? LOG_BUF_MAX : size * 4;
			continue;
		}
		if (fd < 0 && !level) {
			level = 1;
			continue;
		}
		break;
	}
	free(prog->log);
	prog->log = log;
	return fd;
}

/* kprobe.multi / uprobe.multi on a kernel without the multi link: load a plain
 * kprobe, which attach/multi.c puts on one perf probe per function. */
static void multi_fallback(struct ayac_prog *prog)
{
	if ((prog->attach_type == BPF_TRACE_KPROBE_MULTI &&
	     ayac_feature(AYAC_FEAT_KPROBE_MULTI) == 0) ||
	    (prog->attach_type == (enum bpf_attach_type)AYAC_BPF_TRACE_UPROBE_MULTI &&
	     ayac_feature(AYAC_FEAT_UPROBE_MULTI) == 0))
		prog->attach_type = 0;
}

static int check_loadable(struct ayac_prog *prog)
{
	if (prog->type == BPF_PROG_TYPE_UNSPEC)
		return ayac_seterr(EINVAL, "program '%s': section name '%s' says nothing about the "
				   "program type; set it with prog:set_type() before load",
				   prog->name, prog->sec_name);
	if (!prog->insns || !prog->insn_cnt)
		return ayac_seterr(EINVAL, "program '%s': no instructions", prog->name);
	if (ayac_prog_fixups(prog) || ayac_prog_ext_resolve(prog))
		return -ayac_errnum();
	if (prog->type == BPF_PROG_TYPE_KPROBE)
		multi_fallback(prog);
	return resolve_attach_btf_id(prog);
}

/* "unknown func bpf_x#N" means the helper exists but not for this program type (or
 * not in this kernel): say so, and for the one helper ayac's own logger calls, how to
 * build a packet program that runs on kernels before 6.10. Empty when no hint applies. */
static void unknown_helper_hint(const struct ayac_prog *prog, char *buf, size_t size)
{
	const char *at = strstr(prog->log, "unknown func ");
	size_t n;

	buf[0] = '\0';
	if (!at)
		return;
	at += strlen("unknown func ");
	n = strcspn(at, "#\n ");
	if (n == 0 || n > 64)
		return;
	snprintf(buf, size,
		 ": this kernel does not offer %.*s to %s programs (helpers differ by program "
		 "type and kernel version)%s",
		 (int)n, at, prog->sec_name,
		 strncmp(at, "bpf_get_current_pid_tgid#", n + 1) == 0 ?
			 "; before Linux 6.10 only tracing-like programs may read the current "
			 "task: for <ayac/log.bpf.h> in XDP, TC or socket programs define "
			 "AYAC_LOG_PACKET_SAFE (or AYAC_LOG_NO_TASK) before the include" :
			 "");
}

int ayac_prog_load_in_kernel(struct ayac_prog *prog)
{
	int err = check_loadable(prog), fd;
	__u32 level = prog->log_level ? prog->log_level : prog->obj->opts.log_level;

	if (err)
		return err;
	fd = load_with_log(prog, level);
	if (fd >= 0) {
		prog->fd = fd;
		return 0;
	}
	if (fd == -ENOMEM)
		return ayac_seterr(ENOMEM, "load program '%s': out of memory for the log", prog->name);
	ayac_seterr(fd, "load program '%s' (%s)", prog->name, prog->sec_name);
	if (fd == -EPERM) {
		/* Privileges, not the program: the verifier never ran (or logged why). */
		ayac_perm_explain(ayac_prog_type_needs(prog->type));
		if (prog->type == BPF_PROG_TYPE_LSM)
			ayac_errsuffix(" (LSM programs also need \"bpf\" among the kernel's active "
				       "security modules: /sys/kernel/security/lsm, boot option lsm=)");
	}
	if (prog->log && prog->log[0]) {
		/* The verifier said why: that is the error the user needs, with its log. */
		int saved = ayac_errnum();
		if (!ayac_core_explain_reject(prog)) {
			char hint[512];

			unknown_helper_hint(prog, hint, sizeof(hint));
			ayac_seterr(AYAC_EVERIFIER,
				    "load program '%s' (%s): the verifier refused it (%s)%s",
				    prog->name, prog->sec_name, ayac_errname(saved), hint);
		}
		ayac_errappend(prog->log);
	}
	return -ayac_errnum();
}

void ayac_prog_close(struct ayac_prog *prog)
{
	if (prog->fd >= 0)
		close(prog->fd);
	prog->fd = -1;
}

void ayac_prog_destroy(struct ayac_prog *prog)
{
	if (!prog)
		return;
	ayac_prog_close(prog);
	if (prog->attach_prog_fd >= 0)
		close(prog->attach_prog_fd);
	free(prog->attach_func);
	ayac_core_prog_free(prog);
	free(prog->insns);
	free(prog->relocs);
	free(prog->func_info);
	free(prog->line_info);
	free(prog->log);
	free(prog->name);
	free(prog->sec_name);
	free(prog);
}

/* ---- accessors and settings --------------------------------------------------------- */

const char *ayac_prog_name(const struct ayac_prog *prog) { return prog->name; }
const char *ayac_prog_section(const struct ayac_prog *prog) { return prog->sec_name; }
struct ayac_obj *ayac_prog_obj(const struct ayac_prog *prog) { return prog->obj; }
enum bpf_prog_type ayac_prog_type(const struct ayac_prog *prog) { return prog->type; }
enum bpf_attach_type ayac_prog_attach_type(const struct ayac_prog *prog) { return prog->attach_type; }
int ayac_prog_fd(const struct ayac_prog *prog) { return prog->fd; }
__u32 ayac_prog_flags(const struct ayac_prog *prog) { return prog->prog_flags; }
const char *ayac_prog_log(const struct ayac_prog *prog) { return prog->log ? prog->log : ""; }
bool ayac_prog_autoload(const struct ayac_prog *prog) { return prog->autoload; }

static int before_load(const struct ayac_prog *prog, const char *what)
{
	if (prog->obj->state != AYAC_OBJ_OPENED)
		return ayac_seterr(EBUSY, "program '%s': %s only before load", prog->name, what);
	return 0;
}

int ayac_prog_set_autoload(struct ayac_prog *prog, bool autoload)
{
	int err = before_load(prog, "set autoload");

	if (!err)
		prog->autoload = autoload;
	return err;
}

int ayac_prog_set_type(struct ayac_prog *prog, enum bpf_prog_type type,
		       enum bpf_attach_type attach_type)
{
	int err = before_load(prog, "set the type");

	if (err)
		return err;
	prog->type = type;
	prog->attach_type = attach_type;
	return 0;
}

int ayac_prog_set_log_level(struct ayac_prog *prog, __u32 level)
{
	int err = before_load(prog, "set the log level");

	if (!err)
		prog->log_level = level;
	return err;
}

int ayac_prog_pin(struct ayac_prog *prog, const char *path)
{
	int err;

	if (prog->fd < 0)
		return ayac_seterr(EBADF, "program '%s': pin: not loaded", prog->name);
	if ((err = ayac_ensure_bpffs()))
		return err;
	if ((err = sys_obj_pin(prog->fd, path)))
		return ayac_seterr(err, "program '%s': pin at '%s'", prog->name, path);
	return 0;
}

int ayac_prog_unpin(struct ayac_prog *prog, const char *path)
{
	if (unlink(path) < 0)
		return ayac_seterr(errno, "program '%s': unpin '%s'", prog->name, path);
	return 0;
}

int ayac_prog_test_run(struct ayac_prog *prog, struct ayac_test_run *run)
{
	union bpf_attr attr;
	int err;

	if (prog->fd < 0)
		return ayac_seterr(EBADF, "program '%s': test_run: not loaded", prog->name);
	memset(&attr, 0, sizeof(attr));
	attr.test.prog_fd = (__u32)prog->fd;
	attr.test.data_in = ptr_to_u64(run->data_in);
	attr.test.data_size_in = run->data_size_in;
	attr.test.data_out = ptr_to_u64(run->data_out);
	attr.test.data_size_out = run->data_out ? run->data_size_out : 0;
	attr.test.ctx_in = ptr_to_u64(run->ctx_in);
	attr.test.ctx_size_in = run->ctx_size_in;
	attr.test.ctx_out = ptr_to_u64(run->ctx_out);
	attr.test.ctx_size_out = run->ctx_out ? run->ctx_size_out : 0;
	attr.test.repeat = run->repeat;
	attr.test.flags = run->flags;
	attr.test.cpu = run->cpu;
	err = sys_bpf(BPF_PROG_TEST_RUN, &attr, sizeof(attr));
	if (err)
		return ayac_seterr(err, "program '%s': test_run", prog->name);
	run->retval = attr.test.retval;
	run->duration_ns = attr.test.duration;
	run->data_size_out = attr.test.data_size_out;
	run->ctx_size_out = attr.test.ctx_size_out;
	return 0;
}
