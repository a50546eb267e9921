/* BTF from files (raw BTF, or an ELF's .BTF section), the shared vmlinux BTF, and
 * loading a BTF into the kernel. */
#include <byteswap.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "sys/sys.h"
#include "btf_priv.h"

#define VMLINUX_SYSFS "/sys/kernel/btf/vmlinux"

/* The kernel's own BTF files can be mapped read-only (6.16+): no copy, no read of 5 MB,
 * and, being the kernel's verified memory, no second validation (btf_check_types). Only
 * a file on sysfs qualifies, not whatever else may be mounted at that path. NULL when
 * the file cannot be mapped, so the caller reads it instead. */
static void *map_sysfs_btf(const struct ayac_file *f)
{
	struct statfs sfs;
	void *p;

	if (f->size == 0 || fstatfs(f->fd, &sfs) < 0 || sfs.f_type != SYSFS_MAGIC)
		return NULL;
	p = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, f->fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* Raw BTF starts with its magic, in either byte order (the parser names the wrong one). */
static bool is_raw_btf(const unsigned char *head, size_t len)
{
	__u16 magic;

	if (len < sizeof(magic))
		return false;
	memcpy(&magic, head, sizeof(magic));
	return magic == BTF_MAGIC || magic == bswap_16(BTF_MAGIC);
}

static int elf_find_btf(Elf *elf, const char *path, Elf_Data **out)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return ayac_seterr(AYAC_EBADELF, "'%s': no section name table: %s", path,
				   elf_errmsg(-1));
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			return ayac_seterr(AYAC_EBADELF, "'%s': bad section header: %s", path,
					   elf_errmsg(-1));
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".BTF") != 0)
			continue;
		if (sh.sh_type == SHT_NOBITS)
			break;
		*out = elf_getdata(scn, NULL);
		if (!*out || !(*out)->d_buf)
			return ayac_seterr(AYAC_EBADELF, "'%s': cannot read .BTF: %s", path,
					   elf_errmsg(-1));
		return 0;
	}
	return ayac_seterr(ENOENT, "'%s' has no .BTF section", path);
}

static struct ayac_btf *parse_elf(void *buf, size_t size, const char *path,
				  const struct ayac_btf *base)
{
	struct ayac_btf *btf = NULL;
	Elf_Data *data = NULL;
	Elf *elf;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		ayac_seterr(AYAC_EBADELF, "libelf: %s", elf_errmsg(-1));
		return NULL;
	}
	elf = elf_memory(buf, size);
	if (!elf) {
		ayac_seterr(AYAC_EBADELF, "'%s': %s", path, elf_errmsg(-1));
		return NULL;
	}
	if (elf_find_btf(elf, path, &data) == 0) {
		btf = ayac_btf_parse(data->d_buf, data->d_size, base);
		if (!btf)
			ayac_errctx("'%s' .BTF", path);
	}
	elf_end(elf);
	return btf;
}

/* What the first bytes of f say it is: 1 an ELF file, 0 raw BTF; < 0 neither (error set).
 * And whether its size is within the limit for that. */
static int btf_file_kind(const struct ayac_file *f)
{
	bool elf = f->head_len >= SELFMAG && memcmp(f->head, ELFMAG, SELFMAG) == 0;
	size_t max = elf ? AYAC_BTF_ELF_MAX_SIZE : AYAC_BTF_MAX_SIZE;

	if (!elf && !is_raw_btf(f->head, f->head_len))
		return ayac_seterr(AYAC_EBTF, "'%s' is neither raw BTF nor an ELF file", f->path);
	if (f->size > max)
		return ayac_seterr(EFBIG, "'%s' is %zu bytes: more than ayac reads as %s (at most "
				   "%zu MiB)", f->path, f->size, elf ? "an ELF file to search for .BTF"
				   : "raw BTF", max >> 20);
	return elf;
}

int ayac_btf_file_check(const char *path)
{
	struct ayac_file f;
	int err = ayac_file_open(&f, path);

	if (!err && (err = btf_file_kind(&f)) > 0)
		err = 0;
	ayac_file_close(&f);
	return err;
}

/* The header says which (raw BTF, or an ELF to search for .BTF) before anything else is
 * read, and the size is checked before the file is mapped. */
struct ayac_btf *ayac_btf_parse_file(const char *path, const struct ayac_btf *base)
{
	struct ayac_btf *btf = NULL;
	struct ayac_file f;
	int kind;
	bool mapped;
	size_t size;
	void *buf;

	if (ayac_file_open(&f, path))
		goto out;
	if ((buf = map_sysfs_btf(&f))) {
		btf = btf_parse_owned(buf, f.size, true, true, base);
		if (!btf)
			ayac_errctx("'%s'", path);
		goto out;
	}
	if ((kind = btf_file_kind(&f)) < 0 ||
	    ayac_file_map(&f, kind ? AYAC_BTF_ELF_MAX_SIZE : AYAC_BTF_MAX_SIZE, "BTF"))
		goto out;
	if (kind) {
		btf = parse_elf(f.data, f.size, path, base);
		goto out;
	}
	buf = ayac_file_take(&f, &size, &mapped);
	btf = btf_parse_owned(buf, size, mapped, false, base);
	if (!btf)
		ayac_errctx("'%s'", path);
out:
	ayac_file_close(&f);
	return btf;
}

/* ---- vmlinux ------------------------------------------------------------------------- */

static pthread_once_t vmlinux_once = PTHREAD_ONCE_INIT;
static struct ayac_btf *vmlinux_btf;
static int vmlinux_err;
static char *vmlinux_msg;

/* Where distributions keep an ELF vmlinux with BTF when sysfs has none (%1$s: release). */
static const char *const vmlinux_paths[] = {
	"/boot/vmlinux-%1$s",
	"/lib/modules/%1$s/vmlinux-%1$s",
	"/lib/modules/%1$s/build/vmlinux",
	"/usr/lib/modules/%1$s/kernel/vmlinux",
	"/usr/lib/debug/boot/vmlinux-%1$s",
};

static struct ayac_btf *vmlinux_fallback(void)
{
	struct utsname u;
	char path[512];
	size_t i;

	if (uname(&u))
		return NULL;
	for (i = 0; i < sizeof(vmlinux_paths) / sizeof(vmlinux_paths[0]); i++) {
		struct ayac_btf *btf;

		snprintf(path, sizeof(path), vmlinux_paths[i], u.release);
		if (access(path, R_OK))
			continue;
		btf = ayac_btf_parse_file(path, NULL);
		if (btf)
			return btf;
	}
	return NULL;
}

static void vmlinux_load(void)
{
	struct ayac_btf *btf = ayac_btf_parse_file(VMLINUX_SYSFS, NULL);

	if (!btf && ayac_errnum() == ENOENT) {
		/* Keep the sysfs failure: that is where vmlinux BTF is expected. */
		char *msg = strdup(ayac_errmsg());

		btf = vmlinux_fallback();
		if (!btf) {
			vmlinux_err = ENOENT;
			vmlinux_msg = msg;
			return;
		}
		free(msg);
	}
	if (btf) {
		btf->shared = true;
		vmlinux_btf = btf;
		return;
	}
	vmlinux_err = ayac_errnum();
	vmlinux_msg = strdup(ayac_errmsg());
}

/* Every caller gets the first attempt's error, as if it had just happened. */
static void vmlinux_replay(void)
{
	const char *msg = vmlinux_msg ? vmlinux_msg : "vmlinux BTF: out of memory";
	int err = vmlinux_err ? vmlinux_err : AYAC_EBTF;
	size_t len = strlen(msg);

	if (err < AYAC_EBADELF) {
		/* ayac_seterr appends the errno text, which the message already ends with. */
		const char *why = strerror(err);
		size_t wl = strlen(why);

		if (len >= wl + 2 && strcmp(msg + len - wl, why) == 0 && msg[len - wl - 2] == ':')
			len -= wl + 2;
	}
	ayac_seterr(err, "%.*s", (int)len, msg);
}

struct ayac_btf *ayac_btf_vmlinux(void)
{
	pthread_once(&vmlinux_once, vmlinux_load);
	if (!vmlinux_btf)
		vmlinux_replay();
	return vmlinux_btf;
}

/* ---- loading into the kernel ----------------------------------------------------------- */



void ayac_btf_close_fd(struct ayac_btf *btf)
{
	if (btf && btf->fd >= 0) {
		close(btf->fd);
		btf->fd = -1;
	}
}
