/* Values of .kconfig externs, written into the .kconfig map's image before it is
 * created. LINUX_* names are computed here as libbpf computes them (the kernel's
 * version, whether it has BPF cookies and syscall wrappers); CONFIG_* come from the
 * running kernel's config: /boot/config-$(uname -r), else /proc/config.gz. Types and
 * values follow libbpf: bool takes y/n, enum libbpf_tristate n/y/m as 0/1/2, a char
 * y/n/m or a number, integers decimal or 0x hex (range-checked), char arrays quoted
 * strings (truncated). A strong extern left unset is an error naming it; a __weak one
 * stays 0. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include "externs.h"
#include "features/features.h"

#define KERNEL_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))
#define CONFIG_MAX_SIZE (64u << 20)

/* Ubuntu's uname -r keeps the upstream sublevel out ("5.15.0-91-generic"); the real one
 * is in /proc/version_signature ("Ubuntu 5.15.0-91.101-generic 5.15.131"). */
static __u32 ubuntu_version(void)
{
	unsigned a, b, c;
	FILE *f = fopen("/proc/version_signature", "re");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "%*s %*s %u.%u.%u", &a, &b, &c);
	fclose(f);
	return n == 3 ? KERNEL_VERSION(a, b, c) : 0;
}

/* Debian's uname -r says "6.1.0-18-amd64"; uname -v has "... Debian 6.1.76-1 (...)". */
static __u32 debian_version(const struct utsname *u)
{
	const char *p = strstr(u->version, " Debian ");
	unsigned a, b, c;

	if (!p || sscanf(p, " Debian %u.%u.%u", &a, &b, &c) != 3)
		return 0;
	return KERNEL_VERSION(a, b, c);
}

__u32 ayac_kernel_version(void)
{
	struct utsname u;
	unsigned a, b, c;
	__u32 v = ubuntu_version();

	if (v)
		return v;
	if (uname(&u))
		return 0;
	if ((v = debian_version(&u)))
		return v;
	if (sscanf(u.release, "%u.%u.%u", &a, &b, &c) != 3)
		return 0;
	return KERNEL_VERSION(a, b, c);
}

/* Can tracing programs call bpf_get_attach_cookie (Linux 5.15)? The feature probe
 * (libbpf's too); when it cannot tell, whether vmlinux BTF lists the helper. */
static bool has_bpf_cookie(void)
{
	const struct ayac_btf *btf;
	const struct btf_type *t;
	int id, probed = ayac_feature(AYAC_FEAT_BPF_COOKIE);
	size_t i;

	if (probed >= 0)
		return probed > 0;
	btf = ayac_btf_vmlinux();
	id = btf ? ayac_btf_find(btf, "bpf_func_id", BTF_KIND_ENUM) : -1;
	if (id <= 0 || !(t = ayac_btf_type(btf, (__u32)id)))
		return false;
	for (i = 0; i < btf_vlen_of(t); i++) {
		const char *n = ayac_btf_str(btf, btf_enums_of(t)[i].name_off);
		if (n && strcmp(n, "BPF_FUNC_get_attach_cookie") == 0)
			return true;
	}
	return false;
}

/* Are syscalls entered through arch wrappers (__x64_sys_bpf)? BPF_KSYSCALL reads the
 * arguments differently when they are. */
static bool has_syscall_wrapper(void)
{
#if defined(__x86_64__)
	const char *name = "__x64_sys_bpf";
#elif defined(__i386__)
	const char *name = "__ia32_sys_bpf";
#elif defined(__aarch64__)
	const char *name = "__arm64_sys_bpf";
#elif defined(__s390x__)
	const char *name = "__s390x_sys_bpf";
#elif defined(__riscv)
	const char *name = "__riscv_sys_bpf";
#elif defined(__loongarch__)
	const char *name = "__loongarch_sys_bpf";
#elif defined(__powerpc64__)
	const char *name = "sys_bpf"; /* powerpc has wrappers under the plain name */
#else
	const char *name = NULL;
#endif
	__u64 addr;

	return name && ayac_kallsyms_lookup(name, &addr) == 0;
}

static bool value_fits(const struct ayac_extern *e, __u64 v)
{
	unsigned bits = e->size * 8;

	if (e->size >= 8)
		return true;
	if (e->is_signed)
		return v + (1ull << (bits - 1)) < (1ull << bits);
	return (v >> bits) == 0;
}

static int set_num(const struct ayac_extern *e, char *dst, __u64 v)
{
	if (e->kcfg != AYAC_KCFG_INT && e->kcfg != AYAC_KCFG_CHAR && e->kcfg != AYAC_KCFG_BOOL)
		return ayac_seterr(EINVAL, "extern '%s' (.kconfig): the value %llu needs an integer, "
				   "char or bool type", e->name, (unsigned long long)v);
	if (e->kcfg == AYAC_KCFG_BOOL)
		v = v != 0;
	if (!value_fits(e, v))
		return ayac_seterr(ERANGE, "extern '%s' (.kconfig): the value %llu does not fit in "
				   "%u bytes", e->name, (unsigned long long)v, e->size);
	switch (e->size) {
	case 1: { __u8 x = (__u8)v; memcpy(dst, &x, 1); break; }
	case 2: { __u16 x = (__u16)v; memcpy(dst, &x, 2); break; }
	case 4: { __u32 x = (__u32)v; memcpy(dst, &x, 4); break; }
	default: memcpy(dst, &v, 8); break;
	}
	return 0;
}

static int set_tristate(const struct ayac_extern *e, char *dst, char c)
{
	switch (e->kcfg) {
	case AYAC_KCFG_BOOL:
		if (c == 'm')
			return ayac_seterr(EINVAL, "extern '%s' (.kconfig): the kernel says 'm' (a "
					   "module): declare it enum libbpf_tristate or char", e->name);
		return set_num(e, dst, c == 'y');
	case AYAC_KCFG_TRISTATE: {
		__u64 v = c == 'y' ? 1 : c == 'm' ? 2 : 0;
		memcpy(dst, &v, e->size); /* little-endian: the low bytes */
		return 0;
	}
	case AYAC_KCFG_CHAR:
		*dst = c;
		return 0;
	default:
		return ayac_seterr(EINVAL, "extern '%s' (.kconfig): the value '%c' needs a bool, "
				   "tristate or char type", e->name, c);
	}
}

/* "quoted \"string\"" with Kconfig's \" and \\ escapes, into char[size]. */
static int set_str(const struct ayac_extern *e, char *dst, const char *v)
{
	size_t len = strlen(v), i, n = 0;

	if (e->kcfg != AYAC_KCFG_CHAR_ARR)
		return ayac_seterr(EINVAL, "extern '%s' (.kconfig): the value %s needs a char array",
				   e->name, v);
	if (len < 2 || v[len - 1] != '"')
		return ayac_seterr(EINVAL, "extern '%s' (.kconfig): bad string value %s", e->name, v);
	for (i = 1; i < len - 1 && n + 1 < e->size; i++) {
		if (v[i] == '\\' && i + 1 < len - 1)
			i++;
		dst[n++] = v[i];
	}
	memset(dst + n, 0, e->size - n);
	return 0;
}

static int set_from_text(const struct ayac_extern *e, char *dst, const char *v)
{
	unsigned long long num;
	char *end;

	if ((v[0] == 'y' || v[0] == 'n' || v[0] == 'm') && v[1] == '\0')
		return set_tristate(e, dst, v[0]);
	if (v[0] == '"')
		return set_str(e, dst, v);
	errno = 0;
	num = strtoull(v, &end, 0);
	if (errno || end == v || *end)
		return ayac_seterr(EINVAL, "extern '%s' (.kconfig): the value '%s' is not an "
				   "integer", e->name, v);
	return set_num(e, dst, num);
}

static struct ayac_extern *unset_kconfig(struct ayac_externs *ext, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < ext->n; i++) {
		struct ayac_extern *e = &ext->v[i];
		if (e->kind == AYAC_EXT_KCONFIG && !e->is_set && strncmp(e->name, name, len) == 0 &&
		    e->name[len] == '\0')
			return e;
	}
	return NULL;
}

/* One "CONFIG_X=value" line (comments and other lines are skipped). */
static int config_line(struct ayac_externs *ext, char *line, const char *path)
{
	char *eq = strchr(line, '='), *end = line + strlen(line);
	struct ayac_extern *e;
	int err;

	while (end > line && (end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	if (strncmp(line, "CONFIG_", 7) != 0)
		return 0;
	if (!eq || !eq[1])
		return 0; /* not an assignment: nothing an extern can take */
	e = unset_kconfig(ext, line, (size_t)(eq - line));
	if (!e)
		return 0;
	if ((err = set_from_text(e, (char *)ext->kconfig->data + e->data_off, eq + 1)))
		return ayac_errctx("%s", path);
	e->is_set = true;
	return 0;
}

/* The decompressed config (zlib reads plain files too). NULL with the error set. */
static char *read_config(const char *path)
{
	gzFile f = gzopen(path, "rb");
	size_t cap = 256 * 1024, len = 0;
	char *buf = NULL, *grown;
	int n;

	if (!f) {
		ayac_seterr(errno ? errno : EIO, "open %s", path);
		return NULL;
	}
	for (;;) {
		if (len + 1 >= cap || !buf) {
			if (buf && cap >= CONFIG_MAX_SIZE) {
				ayac_seterr(EFBIG, "%s: larger than %u bytes", path, CONFIG_MAX_SIZE);
				break;
			}
			cap = buf ? cap * 2 : cap;
			if (!(grown = realloc(buf, cap))) {
				ayac_seterr(ENOMEM, "out of memory reading %s", path);
				break;
			}
			buf = grown;
		}
		n = gzread(f, buf + len, (unsigned)(cap - 1 - len));
		if (n < 0) {
			ayac_seterr(EIO, "read %s: %s", path, gzerror(f, &n));
			break;
		}
		if (n == 0) {
			gzclose(f);
			buf[len] = '\0';
			return buf;
		}
		len += (size_t)n;
	}
	gzclose(f);
	free(buf);
	return NULL;
}

static int config_path(char *path, size_t size)
{
	struct utsname u;

	if (uname(&u) == 0) {
		snprintf(path, size, "/boot/config-%s", u.release);
		if (access(path, R_OK) == 0)
			return 0;
	}
	snprintf(path, size, "/proc/config.gz");
	return access(path, R_OK) == 0 ? 0 : -ENOENT;
}

int ayac_kconfig_apply(struct ayac_externs *ext, char *text, const char *origin)
{
	char *line, *next;
	int err = 0;

	for (line = text; !err && line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		err = config_line(ext, line, origin);
	}
	return err;
}

static int apply_config(struct ayac_externs *ext, bool *read_ok, char *path, size_t size)
{
	char *text;
	int err;

	*read_ok = false;
	if (config_path(path, size))
		return 0; /* no config: strong CONFIG_ externs are reported unset */
	if (!(text = read_config(path)))
		return -ayac_errnum();
	*read_ok = true;
	err = ayac_kconfig_apply(ext, text, path);
	free(text);
	return err;
}

/* LINUX_* values. Unknown ones are errors unless __weak (then 0), as in libbpf. */
static int set_virtual(struct ayac_externs *ext, struct ayac_extern *e)
{
	char *dst = (char *)ext->kconfig->data + e->data_off;
	__u64 v;
	int err;

	if (strcmp(e->name, "LINUX_KERNEL_VERSION") == 0)
		v = ayac_kernel_version();
	else if (strcmp(e->name, "LINUX_HAS_BPF_COOKIE") == 0)
		v = has_bpf_cookie();
	else if (strcmp(e->name, "LINUX_HAS_SYSCALL_WRAPPER") == 0)
		v = has_syscall_wrapper();
	else if (e->weak)
		return 0;
	else
		return ayac_seterr(ENOENT, "extern '%s' (.kconfig): unknown LINUX_ value (ayac "
				   "knows LINUX_KERNEL_VERSION, LINUX_HAS_BPF_COOKIE, "
				   "LINUX_HAS_SYSCALL_WRAPPER)", e->name);
	if ((err = set_num(e, dst, v)))
		return err;
	e->is_set = true;
	return 0;
}

int ayac_kconfig_fill(struct ayac_externs *ext)
{
	bool need_config = false, read_ok = false;
	char path[PATH_MAX] = "";
	size_t i;
	int err;

	if (!ext->kconfig)
		return 0;
	memset(ext->kconfig->data, 0, ext->kconfig->def.value_size);
	for (i = 0; i < ext->n; i++) {
		struct ayac_extern *e = &ext->v[i];
		if (e->kind != AYAC_EXT_KCONFIG)
			continue;
		e->is_set = false;
		if (strncmp(e->name, "LINUX_", 6) == 0) {
			if ((err = set_virtual(ext, e)))
				return err;
		} else if (strncmp(e->name, "CONFIG_", 7) == 0) {
			need_config = true;
		} else {
			return ayac_seterr(EINVAL, "extern '%s' (.kconfig): neither CONFIG_ nor "
					   "LINUX_", e->name);
		}
	}
	if (need_config && (err = apply_config(ext, &read_ok, path, sizeof(path))))
		return err;
	for (i = 0; i < ext->n; i++) {
		const struct ayac_extern *e = &ext->v[i];
		if (e->kind != AYAC_EXT_KCONFIG || e->is_set || e->weak)
			continue;
		if (!read_ok)
			return ayac_seterr(ENOENT, "extern '%s' (.kconfig): no kernel config to read "
					   "it from (/boot/config-$(uname -r), /proc/config.gz); "
					   "declare it __weak to default to 0", e->name);
		return ayac_seterr(ENOENT, "extern '%s' (.kconfig): not set in %s (declare it "
				   "__weak to default to 0)", e->name, path);
	}
	return 0;
}
