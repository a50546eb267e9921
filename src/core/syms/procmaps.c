/* /proc/PID/maps, one mapping a line:
 *   55d0c1a00000-55d0c1a02000 r-xp 00001000 fe:01 1835012    /usr/bin/cat
 * start-end, permissions, file offset, device major:minor (hex), inode, path (may hold
 * spaces, may end in " (deleted)"; "[vdso]", "[heap]"; empty for anonymous memory). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "syms.h"

#define MAPS_MAX_LINES (1u << 20)

static bool parse_maps_line(char *line, struct ayac_vma *v)
{
	unsigned long long start, end, pgoff, ino;
	unsigned int maj, min;
	char perms[5];
	int path_at = 0;

	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end, perms, &pgoff, &maj,
		   &min, &ino, &path_at) < 7 || end < start)
		return false;
	v->start = start;
	v->end = end;
	v->pgoff = pgoff;
	v->dev = makedev(maj, min);
	v->ino = (ino_t)ino;
	v->exec = perms[2] == 'x';
	v->path = strdup(path_at ? line + path_at : "");
	return v->path != NULL;
}

int ayac_procmaps_read(int pid, struct ayac_vma **out, size_t *count)
{
	char path[64], *line = NULL;
	size_t cap = 0, n = 0, vcap = 0;
	struct ayac_vma *v = NULL, *grown;
	ssize_t len;
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	if (!(f = fopen(path, "re")))
		return ayac_seterr(errno == ENOENT ? ESRCH : errno, "open %s", path);
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (n == vcap) {
			vcap = vcap ? vcap * 2 : 64;
			if (vcap > MAPS_MAX_LINES || !(grown = ayac_reallocarray(v, vcap, sizeof(*v)))) {
				err = ayac_seterr(ENOMEM, "%s: too many mappings", path);
				break;
			}
			v = grown;
		}
		if (parse_maps_line(line, &v[n]))
			n++;
	}
	if (!err && ferror(f))
		err = ayac_seterr(errno ? errno : EIO, "read %s", path);
	free(line);
	fclose(f);
	if (!err && n == 0) /* a zombie or a kernel thread: nothing mapped */
		err = ayac_seterr(ESRCH, "process %d has no mappings (exited, or a kernel thread)", pid);
	if (err) {
		ayac_procmaps_free(v, n);
		return err;
	}
	*out = v;
	*count = n;
	return 0;
}

void ayac_procmaps_free(struct ayac_vma *v, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		free(v[i].path);
	free(v);
}
