/* User-space symbols per process: ayac_usym(pid, addr).
 *
 * A process's mappings are read from /proc/PID/maps the first time it is asked about
 * and kept, so samples of a process that has exited since still resolve (its files are
 * then opened by path). An address outside every known mapping reads the maps again
 * while the process lives (a library loaded since); a pid whose start time changed is a
 * new process (checked at most once a second per pid).
 *
 * Files: the mapped file is opened through /proc/PID/map_files (the very file mapped,
 * even deleted or in another mount namespace), else /proc/PID/root/PATH, else PATH (a
 * file that must still have the mapped inode). Its symbols are read once per device,
 * inode and mtime and shared by every process mapping it.
 *
 * Address to name: file offset = addr - start + pgoff; the PT_LOAD segment holding that
 * offset gives the ELF address (offset - p_offset + p_vaddr), which covers PIE
 * executables, shared libraries and fixed-address executables alike. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "syms.h"

#define MAX_PROCS 256
#define MAX_FILES 512
#define RECHECK_NS 1000000000ull

struct file_entry {
	struct ayac_elfsyms *es;
	unsigned refs;
};

struct vma_state {
	bool tried;
	struct file_entry *file; /* NULL: no symbols for this mapping */
};

struct proc_entry {
	int pid;
	unsigned long long starttime;
	struct ayac_vma *vmas;
	struct vma_state *state;
	size_t nvmas;
	__u64 checked_ns, used;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct proc_entry procs[MAX_PROCS];
static size_t nprocs;
static struct file_entry *files[MAX_FILES];
static size_t nfiles;
static __u64 use_clock;

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* Field 22 of /proc/PID/stat (after the parenthesised comm, which may hold anything). */
static int read_starttime(int pid, unsigned long long *out)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -ESRCH;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	if (!(p = strrchr(buf, ')')))
		return -EINVAL;
	for (field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	*out = strtoull(p, NULL, 10);
	return 0;
}

static void file_put(struct file_entry *f)
{
	if (f && f->refs)
		f->refs--;
}

static void proc_clear(struct proc_entry *p)
{
	size_t i;

	for (i = 0; i < p->nvmas; i++)
		file_put(p->state[i].file);
	ayac_procmaps_free(p->vmas, p->nvmas);
	free(p->state);
	memset(p, 0, sizeof(*p));
}

static int proc_fill(struct proc_entry *p, int pid)
{
	struct ayac_vma *v;
	size_t n;
	unsigned long long st = 0;
	int err;

	if (read_starttime(pid, &st) < 0)
		return ayac_seterr(ESRCH, "process %d: not running, and never seen before", pid);
	if ((err = ayac_procmaps_read(pid, &v, &n)) < 0)
		return err;
	if (!(p->state = ayac_calloc(n, sizeof(*p->state)))) {
		ayac_procmaps_free(v, n);
		return -ENOMEM;
	}
	p->pid = pid;
	p->starttime = st;
	p->vmas = v;
	p->nvmas = n;
	p->checked_ns = now_ns();
	return 0;
}

static struct proc_entry *proc_slot(void)
{
	size_t i, victim = 0;

	if (nprocs < MAX_PROCS)
		return &procs[nprocs++];
	for (i = 1; i < nprocs; i++)
		if (procs[i].used < procs[victim].used)
			victim = i;
	proc_clear(&procs[victim]);
	return &procs[victim];
}

static struct proc_entry *proc_find(int pid)
{
	size_t i;

	for (i = 0; i < nprocs; i++)
		if (procs[i].pid == pid && procs[i].vmas)
			return &procs[i];
	return NULL;
}

/* The cached process, refreshed when its pid now belongs to another process. */
static struct proc_entry *proc_get(int pid)
{
	struct proc_entry *p = proc_find(pid);
	unsigned long long st;
	__u64 now;

	if (p) {
		now = now_ns();
		if (now - p->checked_ns < RECHECK_NS)
			goto found;
		p->checked_ns = now;
		if (read_starttime(pid, &st) < 0 || st == p->starttime)
			goto found; /* exited (keep what we saw), or the same process */
		proc_clear(p);
	} else {
		p = proc_slot();
	}
	if (proc_fill(p, pid) < 0) {
		memset(p, 0, sizeof(*p));
		return NULL;
	}
found:
	p->used = ++use_clock;
	return p;
}

static struct ayac_vma *vma_find(struct proc_entry *p, __u64 addr, size_t *idx)
{
	size_t lo = 0, hi = p->nvmas;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->vmas[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == p->nvmas || addr < p->vmas[lo].start)
		return NULL;
	*idx = lo;
	return &p->vmas[lo];
}

/* Read the maps again for an address they did not hold, while the process lives. */
static int proc_reread(struct proc_entry *p)
{
	int pid = p->pid;
	unsigned long long st;

	if (read_starttime(pid, &st) < 0 || st != p->starttime)
		return -ESRCH;
	proc_clear(p);
	return proc_fill(p, pid);
}

static bool is_file_path(const char *path)
{
	return path[0] == '/';
}

/* Open the file behind a mapping; -1 when it is gone or was replaced. */
static int open_mapped(int pid, const struct ayac_vma *v)
{
	char path[4200];
	const char *name = v->path;
	size_t len = strlen(name);
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", pid,
		 (unsigned long long)v->start, (unsigned long long)v->end);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0)
		return fd;
	if (len > 10 && strcmp(name + len - 10, " (deleted)") == 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/root%s", pid, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_ino != v->ino)) {
		close(fd); /* another file by that name now */
		fd = -1;
	}
	return fd;
}

static void files_trim(void)
{
	size_t i, out = 0;

	for (i = 0; i < nfiles; i++) {
		if (files[i]->refs) {
			files[out++] = files[i];
			continue;
		}
		ayac_elfsyms_free(files[i]->es);
		free(files[i]);
	}
	nfiles = out;
}

static struct file_entry *file_get(int fd, const char *path)
{
	struct file_entry *f;
	struct stat st;
	size_t i;

	if (fstat(fd, &st) < 0)
		return NULL;
	for (i = 0; i < nfiles; i++) {
		const struct ayac_elfsyms *es = files[i]->es;

		if (es->dev == st.st_dev && es->ino == st.st_ino &&
		    es->mtime.tv_sec == st.st_mtim.tv_sec && es->mtime.tv_nsec == st.st_mtim.tv_nsec)
			return files[i];
	}
	if (nfiles == MAX_FILES)
		files_trim();
	if (nfiles == MAX_FILES || !(f = ayac_calloc(1, sizeof(*f))))
		return NULL;
	if (!(f->es = ayac_elfsyms_read(fd, path))) {
		free(f);
		return NULL;
	}
	files[nfiles++] = f;
	return f;
}

static struct file_entry *vma_file(struct proc_entry *p, size_t idx)
{
	struct vma_state *s = &p->state[idx];
	int fd;

	if (s->tried)
		return s->file;
	s->tried = true;
	if (!is_file_path(p->vmas[idx].path) || (fd = open_mapped(p->pid, &p->vmas[idx])) < 0)
		return NULL;
	s->file = file_get(fd, p->vmas[idx].path);
	close(fd);
	if (s->file)
		s->file->refs++;
	return s->file;
}

static int resolve(struct proc_entry *p, __u64 addr, struct ayac_sym *out)
{
	struct file_entry *f;
	const struct ayac_elf_sym *sym;
	struct ayac_vma *v;
	size_t idx;
	__u64 vaddr;

	if (!(v = vma_find(p, addr, &idx))) {
		if (proc_reread(p) < 0 || !(v = vma_find(p, addr, &idx)))
			return ayac_seterr(ENOENT, "process %d: no mapping holds 0x%llx", p->pid,
					   (unsigned long long)addr);
	}
	out->module = v->path[0] ? v->path : "[anon]";
	if (!(f = vma_file(p, idx)) ||
	    !ayac_elfsyms_vaddr(f->es, addr - v->start + v->pgoff, &vaddr) ||
	    !(sym = ayac_elfsyms_find(f->es, vaddr)))
		return 0;
	out->name = sym->name;
	out->sym_addr = sym->addr;
	out->offset = vaddr - sym->addr;
	return 0;
}

int ayac_usym(int pid, __u64 addr, struct ayac_sym *out)
{
	struct proc_entry *p;
	int err;

	memset(out, 0, sizeof(*out));
	if (pid <= 0)
		return ayac_seterr(EINVAL, "usym: bad pid %d", pid);
	pthread_mutex_lock(&lock);
	p = proc_get(pid);
	err = p ? resolve(p, addr, out) : -ayac_errnum();
	pthread_mutex_unlock(&lock);
	return err;
}

void ayac_usyms_forget(int pid)
{
	size_t i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < nprocs; i++)
		if (pid == 0 || procs[i].pid == pid)
			proc_clear(&procs[i]);
	if (pid == 0) {
		nprocs = 0;
		files_trim();
	}
	pthread_mutex_unlock(&lock);
}
