/* `ayac btf dump [file]`: a C header from BTF, on stdout. The file is raw BTF or an ELF
 * with a .BTF section; default /sys/kernel/btf/vmlinux. A kernel module's BTF under
 * /sys/kernel/btf/ is split BTF over vmlinux, which is then its base. */
#include <stdio.h>
#include <string.h>

#include "btf/btf.h"
#include "host.h"

#define SYSFS_BTF "/sys/kernel/btf/"

static void btf_usage(void)
{
	fprintf(stderr, "usage: ayac btf dump [file]\n"
		"  C header of the types in file (raw BTF, or an ELF with .BTF);\n"
		"  default " SYSFS_BTF "vmlinux\n");
}

static struct ayac_btf *open_btf(const char *path)
{
	const char *rest = strncmp(path, SYSFS_BTF, strlen(SYSFS_BTF)) == 0
			   ? path + strlen(SYSFS_BTF) : NULL;
	struct ayac_btf *base = NULL;

	if (!rest || strcmp(rest, "vmlinux") == 0)
		return ayac_btf_parse_file(path, NULL);
	base = ayac_btf_vmlinux();
	return base ? ayac_btf_parse_file(path, base) : NULL;
}

int host_btf_command(int argc, char **argv)
{
	const char *path = SYSFS_BTF "vmlinux";
	struct ayac_btf *btf;
	int err;

	if (argc < 3 || strcmp(argv[2], "dump") != 0 || argc > 4) {
		btf_usage();
		return 2;
	}
	if (argc == 4)
		path = argv[3];
	btf = open_btf(path);
	if (!btf) {
		fprintf(stderr, "ayac: %s\n", ayac_errmsg());
		return 1;
	}
	err = ayac_btf_dump_c_file(btf, NULL, stdout);
	if (err)
		fprintf(stderr, "ayac: %s: %s\n", path, ayac_errmsg());
	ayac_btf_free(btf);
	return err ? 1 : 0;
}
