/* What this kernel can do, probed lazily, at most once per process per feature, and
 * cached (kfeatures.c). Every answer is 1 (supported), 0 (not supported) or a negative
 * errno when the probe itself failed for another reason (EPERM, ENOMEM…): unknown,
 * never reported as "unsupported". */
#ifndef AYAC_KFEATURES_H
#define AYAC_KFEATURES_H

#include <ayac/ayac.h>

/* The feature enum and the main questions are public (ayac/ayac.h); here the rest. */

int ayac_feature_by_name(const char *name);   /* -1: no such feature */
/* Why ayac_feature_helper is not 1 ("not available to xdp programs (verifier: …)",
 * "EPERM: …"); NULL when it is 1. Valid until the thread's next call. */
const char *ayac_feature_helper_why(enum bpf_prog_type type, int helper_id);
/* Helper names in enum bpf_func_id order, without "bpf_" ("map_lookup_elem"). */
int ayac_helper_count(void);                  /* ids are 1 .. count - 1 */
const char *ayac_helper_name(int helper_id);  /* NULL: not a helper ayac knows */
int ayac_helper_by_name(const char *name);    /* "bpf_" prefix optional; -1: unknown */
/* Before the first map or program: raise RLIMIT_MEMLOCK when the kernel charges BPF
 * memory to it (before 5.11: no memcg accounting). Once per process; 0 or -errno,
 * never sets the last error (loading goes on either way). */
int ayac_feature_memlock(void);

#endif
