/* <linux/errno.h> (included by libbpf's <bpf/usdt.bpf.h>) wants the arch's
 * <asm/errno.h>, which `clang -target bpf` does not look for under the host's
 * multiarch include directory; every arch's errno numbers are the generic ones. */
#include <asm-generic/errno.h>
