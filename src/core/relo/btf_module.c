/* Target BTFs for CO-RE and kfuncs: vmlinux and every kernel module's BTF
 * (/sys/kernel/btf/<module>, split BTF over vmlinux), read lazily once per process and
 * shared by every object, with each module's BTF fd in the kernel (found by walking
 * the kernel's BTF objects) for the fd_array of kfunc calls. An object opened with
 * btf = "/path" targets that BTF alone (parsed once per object); btf = false, none. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core_priv.h"

#define SYSFS_BTF "/sys/kernel/btf"

/* The process-wide set: [0] vmlinux, then modules sorted by name. */
static pthread_once_t set_once = PTHREAD_ONCE_INIT;
static struct ayac_btf_target *set;
static struct core_name_index **set_idx;
static size_t set_n;

static int by_module_name(const void *a, const void *b)
{
	return strcmp(((const struct ayac_btf_target *)a)->module,
		      ((const struct ayac_btf_target *)b)->module);
}

/* Modules whose BTF cannot be read are left out: they cannot hold candidates, and one
 * odd module should not stop every CO-RE object from loading. AYAC_MODULE_BTF_DIR
 * names another directory of module BTF files (split over this kernel's vmlinux): the
 * specs' stand-in for kernel modules on a kernel without any. */
static size_t read_modules(struct ayac_btf *vmlinux, struct ayac_btf_target **out)
{
	const char *root = secure_getenv("AYAC_MODULE_BTF_DIR");
	struct ayac_btf_target *mods = NULL, *grown;
	struct dirent *de;
	size_t n = 0;
	DIR *dir = opendir(root && *root ? root : SYSFS_BTF);
	char path[4096];

	while (dir && (de = readdir(dir))) {
		struct ayac_btf *btf;
		char *name;

		if (de->d_name[0] == '.' || strcmp(de->d_name, "vmlinux") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", root && *root ? root : SYSFS_BTF, de->d_name);
		if (!(btf = ayac_btf_parse_file(path, vmlinux)))
			continue;
		grown = realloc(mods, (n + 1) * sizeof(*mods));
		name = strdup(de->d_name);
		if (!grown || !name) {
			mods = grown ? grown : mods;
			free(name);
			ayac_btf_free(btf);
			break;
		}
		mods = grown;
		mods[n++] = (struct ayac_btf_target){ btf, name, -1 };
	}
	if (dir)
		closedir(dir);
	if (n)
		qsort(mods, n, sizeof(*mods), by_module_name);
	*out = mods;
	return n;
}

static struct ayac_btf_target *module_named(const char *name)
{
	size_t i;

	for (i = 1; i < set_n; i++)
		if (strcmp(set[i].module, name) == 0)
			return &set[i];
	return NULL;
}

/* BPF_BTF_GET_NEXT_ID over every BTF in the kernel; keep an fd to each module's. */
static void find_module_fds(void)
{
	union bpf_attr attr;
	__u32 id = 0;

	for (;;) {
		struct bpf_btf_info info;
		struct ayac_btf_target *mod;
		__u32 len = sizeof(info);
		char name[64];
		int fd;

		memset(&attr, 0, sizeof(attr));
		attr.start_id = id;
		if (sys_bpf(BPF_BTF_GET_NEXT_ID, &attr, sizeof(attr)))
			return; /* ENOENT: the end; EPERM: not allowed to look */
		id = attr.next_id;
		memset(&attr, 0, sizeof(attr));
		attr.btf_id = id;
		if ((fd = sys_bpf_fd(BPF_BTF_GET_FD_BY_ID, &attr, sizeof(attr))) < 0)
			continue; /* gone meanwhile */
		memset(&info, 0, sizeof(info));
		memset(name, 0, sizeof(name));
		info.name = (__u64)(unsigned long)name;
		info.name_len = sizeof(name) - 1;
		mod = NULL;
		if (sys_obj_info(fd, &info, &len) == 0 && info.kernel_btf)
			mod = module_named(name);
		if (mod && mod->kernel_fd < 0)
			mod->kernel_fd = fd;
		else
			close(fd);
	}
}

static void load_set(void)
{
	struct ayac_btf *vmlinux = ayac_btf_vmlinux();
	struct ayac_btf_target *mods = NULL;
	size_t n;

	if (!vmlinux)
		return;
	n = read_modules(vmlinux, &mods);
	set = calloc(n + 1, sizeof(*set));
	set_idx = calloc(n + 1, sizeof(*set_idx));
	if (!set || !set_idx) {
		free(set);
		free(set_idx);
		set = NULL;
		for (size_t i = 0; i < n; i++) {
			ayac_btf_free(mods[i].btf);
			free((char *)mods[i].module);
		}
		free(mods);
		return;
	}
	set[0] = (struct ayac_btf_target){ vmlinux, NULL, -1 };
	if (n)
		memcpy(set + 1, mods, n * sizeof(*mods));
	free(mods);
	set_n = n + 1;
	if (n)
		find_module_fds();
}

static int override_get(struct ayac_obj *obj, struct core_targets *out)
{
	struct ayac_core_state *st = core_state(obj);

	if (!st)
		return -ayac_errnum();
	if (!st->override_btf) {
		st->override_btf = ayac_btf_parse_file(obj->btf_path, NULL);
		if (!st->override_btf)
			return ayac_errctx("target BTF (btf = '%s')", obj->btf_path);
		st->override = (struct ayac_btf_target){ st->override_btf, NULL, -1 };
	}
	out->t = &st->override;
	out->n = 1;
	out->idx = &st->override_idx;
	out->override = true;
	out->label = obj->btf_path;
	return 0;
}

int core_targets_get(struct ayac_obj *obj, struct core_targets *out)
{
	memset(out, 0, sizeof(*out));
	out->label = "none (btf = false)";
	if (obj->opts.no_btf)
		return 0;
	if (obj->btf_path)
		return override_get(obj, out);
	/* vmlinux first: its failure is replayed to every caller with its own message */
	if (!ayac_btf_vmlinux())
		return ayac_errctx("target BTF");
	pthread_once(&set_once, load_set);
	if (!set)
		return ayac_seterr(ENOMEM, "target BTF: out of memory");
	out->t = set;
	out->n = set_n;
	out->idx = set_idx;
	out->label = set_n > 1 ? "vmlinux and module" : "vmlinux";
	return 0;
}

__u32 core_target_start_id(const struct core_targets *tg, size_t i)
{
	/* modules (i > 0 of the shared set) are split BTF: their own ids follow vmlinux's */
	return i > 0 && !tg->override ? ayac_btf_type_cnt(tg->t[0].btf) : 1;
}

int ayac_btf_targets(struct ayac_obj *obj, const struct ayac_btf_target **out, size_t *n)
{
	struct core_targets tg;
	int err = core_targets_get(obj, &tg);

	if (err)
		return err;
	*out = tg.t;
	*n = tg.n;
	return 0;
}
