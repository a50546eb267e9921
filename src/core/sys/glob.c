/* Shell-style globs for kprobe.multi and uprobe.multi patterns, as libbpf matches
 * them: '*' any run of characters, '?' one character, everything else itself. */
#include <stdbool.h>

#include "sys.h"

bool ayac_glob_match(const char *pat, const char *s)
{
	const char *star = NULL, *retry = NULL;

	while (*s) {
		if (*pat == '*') {
			star = ++pat; /* remember where to resume if what follows fails */
			retry = s;
		} else if (*pat == '?' || *pat == *s) {
			pat++;
			s++;
		} else if (star) {
			pat = star;
			s = ++retry;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return !*pat;
}
