// SPDX-License-Identifier: GPL-2.0
/* .kconfig externs for spec/externs_spec.lua: libbpf's virtual LINUX_* values and
 * CONFIG_* of every type libbpf supports (bool, tristate, int, hex, char, string),
 * copied into .bss by a syscall program so the spec can compare them with what it
 * computes itself from uname and the kernel's config. The __weak ones may be absent
 * from the config (they read 0); CONFIG_AYAC_NO_SUCH_OPTION always is. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool LINUX_HAS_BPF_COOKIE __kconfig;
extern bool LINUX_HAS_SYSCALL_WRAPPER __kconfig __weak;
extern int LINUX_AYAC_NO_SUCH_VALUE __kconfig __weak;

extern bool CONFIG_BPF_SYSCALL __kconfig;                       /* bool: y */
extern enum libbpf_tristate CONFIG_BPF_JIT __kconfig __weak;     /* tristate */
extern enum libbpf_tristate CONFIG_AYAC_NO_SUCH_OPTION __kconfig __weak;
extern bool CONFIG_KALLSYMS_ALL __kconfig __weak;                /* often "is not set" */
extern int CONFIG_HZ __kconfig __weak;                           /* int */
extern unsigned long long CONFIG_PHYSICAL_START __kconfig __weak; /* hex on x86 */
extern char CONFIG_DEBUG_INFO_BTF __kconfig __weak;               /* char: 'y' */
extern char CONFIG_DEFAULT_HOSTNAME[16] __kconfig __weak;         /* string */

struct kconfig_values {
	__u64 kernel_version;
	__u64 has_bpf_cookie;
	__u64 has_syscall_wrapper;
	__u64 no_such_value;
	__u64 bpf_syscall;
	__u64 bpf_jit;
	__u64 no_such_option;
	__u64 kallsyms_all;
	__s64 hz;
	__s64 hz_from_subprog;
	__u64 physical_start;
	__u64 debug_info_btf;
	char hostname[16];
};

struct kconfig_values values;

/* a .text subprogram: its relocations are applied where it lands in the program */
static __noinline int hz_of_subprog(void)
{
	return CONFIG_HZ;
}

SEC("syscall")
int read_kconfig(void *ctx)
{
	int i;

	values.kernel_version = LINUX_KERNEL_VERSION;
	values.has_bpf_cookie = LINUX_HAS_BPF_COOKIE;
	values.has_syscall_wrapper = LINUX_HAS_SYSCALL_WRAPPER;
	values.no_such_value = LINUX_AYAC_NO_SUCH_VALUE;
	values.bpf_syscall = CONFIG_BPF_SYSCALL;
	values.bpf_jit = CONFIG_BPF_JIT;
	values.no_such_option = CONFIG_AYAC_NO_SUCH_OPTION;
	values.kallsyms_all = CONFIG_KALLSYMS_ALL;
	values.hz = CONFIG_HZ;
	values.hz_from_subprog = hz_of_subprog();
	values.physical_start = CONFIG_PHYSICAL_START;
	values.debug_info_btf = CONFIG_DEBUG_INFO_BTF;
	for (i = 0; i < 16; i++)
		values.hostname[i] = CONFIG_DEFAULT_HOSTNAME[i];
	return 0;
}
