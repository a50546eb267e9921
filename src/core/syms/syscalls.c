/* The running kernel's system call numbers and names.
 *
 * The kernel keeps them in memory only: at boot, ftrace's init_ftrace_syscalls() walks
 * the syscall table and writes each number into the syscall's metadata
 * (struct syscall_metadata { const char *name; int syscall_nr; ... }), which the
 * syscalls:sys_enter_* trace events point to (trace_event_call.data). None of that is
 * in /proc/kallsyms unless CONFIG_KALLSYMS_ALL, so the walk starts from something we
 * own: a perf event opened on one syscall tracepoint. Through our task_struct
 * (bpf_get_current_task), its file table, that file's perf_event and its
 * trace_event_call, we reach the kernel's list of every trace event, and keep those of
 * the same class (syscall entries) with their metadata. Every layout comes from vmlinux
 * BTF; the memory is read with kmem.c's program. Needs CONFIG_FTRACE_SYSCALLS and root.
 *
 * Names: the kernel's are its function names ("newstat", "newuname"); the ABI names
 * users know ("stat", "uname") come from the installed kernel headers' asm/unistd_64.h
 * (generated from the kernel's syscall table by its build) for the numbers those
 * headers know. Where the kernel cannot be read (not root, before Linux 5.14), the
 * headers alone answer and ayac_syscall_source() says "headers". */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "syms.h"

#define MAX_SYSCALLS 4096
#define NAME_MAX_LEN 64
#define MAX_EVENTS 200000  /* bound on the walk of the trace event list */

/* names: the ABI names ("stat", as strace and the man pages say them), from the
 * headers where they know the number, else the kernel's. knames: the kernel's own
 * names ("newstat", the tracepoint is syscalls:sys_enter_newstat). */
struct table {
	char *names[MAX_SYSCALLS];
	char *knames[MAX_SYSCALLS];
	int count;             /* highest number + 1 */
	const char *source;    /* "kernel" or the header's path */
};

/* Offsets (bytes) of the fields on the way, from vmlinux BTF. */
struct layout {
	__u32 task_files, files_fdt, fdt_fd, file_private, event_tp_event;
	__u32 call_list, call_class, call_data, meta_name, meta_nr;
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct table *table;
static int table_err;

/* A member's byte offset, looking into anonymous structs and unions on the way. */
static int find_member(const struct ayac_btf *btf, __u32 id, const char *name, __u32 *off,
		       int depth)
{
	const struct btf_type *t = ayac_btf_type(btf, ayac_btf_skip_mods(btf, id));
	const struct btf_member *m;
	__u16 i;

	if (!t || depth > 8 || (btf_kind_of(t) != BTF_KIND_STRUCT && btf_kind_of(t) != BTF_KIND_UNION))
		return -ENOENT;
	m = btf_members_of(t);
	for (i = 0; i < btf_vlen_of(t); i++) {
		const char *n = ayac_btf_str(btf, m[i].name_off);
		__u32 bits = btf_kflag_of(t) ? BTF_MEMBER_BIT_OFFSET(m[i].offset) : m[i].offset, inner;

		if (n && *n && strcmp(n, name) == 0) {
			*off = bits / 8;
			return 0;
		}
		if ((!n || !*n) && find_member(btf, m[i].type, name, &inner, depth + 1) == 0) {
			*off = bits / 8 + inner;
			return 0;
		}
	}
	return -ENOENT;
}

static int member(const struct ayac_btf *btf, const char *type, const char *name, __u32 *off)
{
	int id = ayac_btf_find(btf, type, BTF_KIND_STRUCT);

	if (id < 0 || find_member(btf, (__u32)id, name, off, 0) < 0)
		return ayac_seterr(ENOENT, "vmlinux BTF: no struct %s.%s", type, name);
	return 0;
}

static int read_layout(struct layout *l)
{
	const struct ayac_btf *btf = ayac_btf_vmlinux();

	if (!btf)
		return -ayac_errnum();
	if (member(btf, "task_struct", "files", &l->task_files) ||
	    member(btf, "files_struct", "fdt", &l->files_fdt) ||
	    member(btf, "fdtable", "fd", &l->fdt_fd) ||
	    member(btf, "file", "private_data", &l->file_private) ||
	    member(btf, "perf_event", "tp_event", &l->event_tp_event) ||
	    member(btf, "trace_event_call", "list", &l->call_list) ||
	    member(btf, "trace_event_call", "class", &l->call_class) ||
	    member(btf, "trace_event_call", "data", &l->call_data) ||
	    member(btf, "syscall_metadata", "name", &l->meta_name) ||
	    member(btf, "syscall_metadata", "syscall_nr", &l->meta_nr))
		return -ayac_errnum();
	return 0;
}

static int add(struct table *t, char **names, int nr, const char *name)
{
	if (nr < 0 || nr >= MAX_SYSCALLS || names[nr])
		return 0;
	if (!(names[nr] = ayac_strdup(name)))
		return -ENOMEM;
	if (nr >= t->count)
		t->count = nr + 1;
	return 0;
}

static int read_u64(__u64 addr, __u64 *v)
{
	return ayac_kmem_read(addr, v, sizeof(*v), false);
}

/* A perf event on one syscall tracepoint: its fd, or a negative errno. */
static int open_syscall_event(void)
{
	static const char *const events[] = { "sys_enter_getpid", "sys_enter_read", "sys_enter_close" };
	const char *tracefs = ayac_tracefs();
	struct perf_event_attr attr;
	char path[512], buf[32];
	size_t i;

	for (i = 0; tracefs && i < sizeof(events) / sizeof(events[0]); i++) {
		ssize_t n;
		int fd;

		snprintf(path, sizeof(path), "%s/events/syscalls/%s/id", tracefs, events[i]);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		memset(&attr, 0, sizeof(attr));
		attr.type = PERF_TYPE_TRACEPOINT;
		attr.size = sizeof(attr);
		attr.config = strtoull(buf, NULL, 10);
		attr.disabled = 1;
		return sys_perf_event_open(&attr, 0, -1, -1, 0);
	}
	return ayac_seterr(ENOENT, "no syscalls:sys_enter_* tracepoint in tracefs "
			   "(CONFIG_FTRACE_SYSCALLS)");
}

/* From our task to the trace_event_call of the perf event open at fd. */
static int event_call(const struct layout *l, int fd, __u64 *call)
{
	__u64 task, files, fdt, fdarr, file, event;
	int err;

	if ((err = ayac_kmem_current_task(&task)) ||
	    (err = read_u64(task + l->task_files, &files)) ||
	    (err = read_u64(files + l->files_fdt, &fdt)) ||
	    (err = read_u64(fdt + l->fdt_fd, &fdarr)) ||
	    (err = read_u64(fdarr + 8 * (__u64)fd, &file)) ||
	    (err = read_u64(file + l->file_private, &event)) ||
	    (err = read_u64(event + l->event_tp_event, call)))
		return ayac_errctx("find the trace event of our perf event");
	return 0;
}

/* One syscall's metadata: its number and name ("sys_read" → "read"). */
static int read_meta(const struct layout *l, struct table *t, __u64 meta)
{
	char name[NAME_MAX_LEN];
	__u64 name_ptr;
	__s32 nr;
	int err;

	if ((err = ayac_kmem_read(meta + l->meta_nr, &nr, sizeof(nr), false)) ||
	    (err = read_u64(meta + l->meta_name, &name_ptr)))
		return err;
	if (nr < 0) /* not in this architecture's table */
		return 0;
	memset(name, 0, sizeof(name));
	if ((err = ayac_kmem_read(name_ptr, name, sizeof(name) - 1, true)))
		return err;
	return add(t, t->knames, nr, strncmp(name, "sys_", 4) == 0 ? name + 4 : name);
}

/* Walk the list of every trace event from ours; keep the ones of our class. */
static int walk_events(const struct layout *l, struct table *t, __u64 call0)
{
	__u64 class0, head = call0 + l->call_list, node = head, class, data;
	size_t i;
	int err;

	if ((err = read_u64(call0 + l->call_class, &class0)) ||
	    (err = read_u64(call0 + l->call_data, &data)) || (err = read_meta(l, t, data)))
		return err;
	for (i = 0; i < MAX_EVENTS; i++) {
		__u64 call;

		if ((err = read_u64(node, &node))) /* list_head.next is its first member */
			return err;
		if (node == head)
			return 0;
		call = node - l->call_list;
		if (read_u64(call + l->call_class, &class) || class != class0 ||
		    read_u64(call + l->call_data, &data) || !data)
			continue; /* the list's head, or an event of another kind */
		if ((err = read_meta(l, t, data)))
			return err;
	}
	return ayac_seterr(ELOOP, "the trace event list did not come back to its start");
}

static int from_kernel(struct table *t)
{
	struct layout l;
	__u64 call;
	int fd, err;

	if ((err = read_layout(&l)))
		return err;
	if ((fd = open_syscall_event()) < 0)
		return ayac_errctx("open a syscall tracepoint");
	err = event_call(&l, fd, &call);
	if (!err)
		err = walk_events(&l, t, call);
	close(fd);
	if (!err && !t->count)
		err = ayac_seterr(ENOENT, "no syscall trace event has a number");
	return err;
}

static const char *const headers[] = {
#if defined(__x86_64__)
	"/usr/include/x86_64-linux-gnu/asm/unistd_64.h",
#endif
	"/usr/include/asm/unistd_64.h",
};

static int from_headers(struct table *t)
{
	char line[256], name[NAME_MAX_LEN];
	size_t i;
	int nr;

	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		FILE *f = fopen(headers[i], "re");

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "#define __NR_%63s %d", name, &nr) == 2 &&
			    add(t, t->names, nr, name) < 0)
				break;
		fclose(f);
		if (t->count)
			return 0;
	}
	return ayac_seterr(ENOENT, "no asm/unistd_64.h (linux-libc-dev) to fall back on");
}

static void clear(struct table *t)
{
	int i;

	for (i = 0; i < MAX_SYSCALLS; i++) {
		free(t->names[i]);
		free(t->knames[i]);
	}
	memset(t, 0, sizeof(*t));
}

/* Kernel names where the headers have no number (newer syscalls), and the kernel
 * name for each number the kernel did not give one (the header route alone). */
static int merge(struct table *t)
{
	int i;

	for (i = 0; i < t->count; i++) {
		if (!t->names[i] && t->knames[i] && !(t->names[i] = ayac_strdup(t->knames[i])))
			return -ENOMEM;
		if (!t->knames[i] && t->names[i] && !(t->knames[i] = ayac_strdup(t->names[i])))
			return -ENOMEM;
	}
	return 0;
}

static void build(void)
{
	struct table *t = calloc(1, sizeof(*t));
	int err, kerr, i;

	if (!t) {
		table_err = ayac_seterr(ENOMEM, "syscall table: out of memory");
		return;
	}
	kerr = from_kernel(t);
	if (kerr < 0) {
		for (i = 0; i < MAX_SYSCALLS; i++) {
			free(t->knames[i]);
			t->knames[i] = NULL;
		}
		t->count = 0;
	}
	err = from_headers(t);
	if (kerr == 0 || err == 0)
		err = merge(t);
	else
		err = kerr;
	if (err < 0) {
		table_err = err;
		clear(t);
		free(t);
		return;
	}
	t->source = kerr == 0 ? "kernel" : "headers";
	table = t;
}

static const struct table *get(void)
{
	pthread_once(&once, build);
	if (!table)
		ayac_seterr(-table_err, "the system call table could not be read");
	return table;
}

int ayac_syscall_count(void)
{
	const struct table *t = get();

	return t ? t->count : table_err;
}

const char *ayac_syscall_name(int nr)
{
	const struct table *t = get();

	if (!t || nr < 0 || nr >= t->count)
		return NULL;
	return t->names[nr];
}

int ayac_syscall_nr(const char *name)
{
	const struct table *t = get();
	int i;

	if (!t)
		return table_err;
	if (name && strncmp(name, "sys_", 4) == 0)
		name += 4;
	for (i = 0; name && i < t->count; i++)
		if (t->names[i] && strcmp(t->names[i], name) == 0)
			return i;
	for (i = 0; name && i < t->count; i++)
		if (t->knames[i] && strcmp(t->knames[i], name) == 0)
			return i;
	return ayac_seterr(ENOENT, "no system call named '%s'", name ? name : "");
}

const char *ayac_syscall_kernel_name(int nr)
{
	const struct table *t = get();

	if (!t || nr < 0 || nr >= t->count)
		return NULL;
	return t->knames[nr];
}

const char *ayac_syscall_source(void)
{
	const struct table *t = get();

	return t ? t->source : NULL;
}
