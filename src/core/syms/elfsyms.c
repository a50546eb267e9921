/* Function symbols of one user-space ELF file, for turning addresses into names.
 *
 * Names come from .symtab (static functions too) and .dynsym (all that stripped files
 * keep). When the file has no .symtab, the separate debug file is looked for, as gdb
 * does: <root>/.build-id/xx/yyyy.debug by the NT_GNU_BUILD_ID note, then the
 * .gnu_debuglink name beside the file, in its .debug/ folder and under <root> (root:
 * /usr/lib/debug, or $AYAC_DEBUG_ROOT). Its .symtab is used with the main file's
 * segments (a debug file keeps the addresses of the file it was split from).
 *
 * Addresses here are the file's own virtual addresses (st_value, p_vaddr); usyms.c maps
 * a process address to them through the mapping's file offset and the PT_LOAD segment
 * that holds it. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "syms.h"

#define DEBUG_ROOT "/usr/lib/debug"
#define MAX_SYMS (16u << 20)     /* symbols kept from one file */
#define MAX_BUILD_ID 64          /* bytes */

/* A symbol as read, before sorting: its name as an offset into the growing arena. */
struct raw_sym {
	__u64 addr, size;
	size_t name_off;
	unsigned rank;           /* among aliases: global 0, weak 1, local 2; then read order */
	size_t order;
};

struct collect {
	struct raw_sym *v;
	size_t n, cap;
	char *strings;
	size_t slen, scap;
};

static int push_name(struct collect *c, const char *name, size_t *off)
{
	size_t len = strlen(name) + 1;

	if (c->slen + len > c->scap) {
		size_t cap = c->scap ? c->scap * 2 : 4096;
		char *s;

		while (cap < c->slen + len)
			cap *= 2;
		if (!(s = ayac_reallocarray(c->strings, cap, 1)))
			return -ENOMEM;
		c->strings = s;
		c->scap = cap;
	}
	memcpy(c->strings + c->slen, name, len);
	*off = c->slen;
	c->slen += len;
	return 0;
}

static int push_sym(struct collect *c, const GElf_Sym *sym, const char *name)
{
	struct raw_sym *r;
	int bind = GELF_ST_BIND(sym->st_info);

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;

		if (cap > MAX_SYMS)
			return ayac_seterr(E2BIG, "more than %u symbols", MAX_SYMS);
		if (!(r = ayac_reallocarray(c->v, cap, sizeof(*r))))
			return -ENOMEM;
		c->v = r;
		c->cap = cap;
	}
	r = &c->v[c->n];
	if (push_name(c, name, &r->name_off) < 0)
		return -ENOMEM;
	r->addr = sym->st_value;
	r->size = sym->st_size;
	r->rank = bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
	r->order = c->n++;
	return 0;
}

/* Every defined function symbol of one symbol table section. */
static int collect_section(Elf *elf, Elf_Scn *scn, struct collect *c)
{
	GElf_Shdr shdr;
	GElf_Sym sym;
	Elf_Data *data;
	size_t i, n;

	if (!gelf_getshdr(scn, &shdr) || !shdr.sh_entsize || !(data = elf_getdata(scn, NULL)))
		return 0;
	n = data->d_size / shdr.sh_entsize;
	for (i = 1; i < n; i++) {
		const char *name;
		int type;

		if (!gelf_getsym(data, (int)i, &sym))
			break;
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
		    sym.st_value == 0)
			continue;
		name = elf_strptr(elf, shdr.sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		if (push_sym(c, &sym, name) < 0)
			return -ayac_errnum();
	}
	return 0;
}

static Elf_Scn *find_section(Elf *elf, Elf64_Word type, const char *name)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, &shdr) || (type && shdr.sh_type != type))
			continue;
		n = elf_strptr(elf, shstrndx, shdr.sh_name);
		if (!name || (n && strcmp(n, name) == 0))
			return scn;
	}
	return NULL;
}

/* NT_GNU_BUILD_ID from the notes; its length, 0 when absent. */
static size_t build_id(Elf *elf, unsigned char *id)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_NOTE ||
		    !(data = elf_getdata(scn, NULL)))
			continue;
		while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    memcmp((char *)data->d_buf + name_off, "GNU", 4) == 0 &&
			    nh.n_descsz > 0 && nh.n_descsz <= MAX_BUILD_ID) {
				memcpy(id, (char *)data->d_buf + desc_off, nh.n_descsz);
				return nh.n_descsz;
			}
		}
	}
	return 0;
}

static const char *debug_root(void)
{
	const char *r = getenv("AYAC_DEBUG_ROOT");

	return r && *r ? r : DEBUG_ROOT;
}

static int open_build_id_file(const unsigned char *id, size_t len, char *path, size_t cap)
{
	char hex[2 * MAX_BUILD_ID + 1];
	size_t i;

	if (len < 2)
		return -1;
	for (i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	if (snprintf(path, cap, "%s/.build-id/%.2s/%s.debug", debug_root(), hex, hex + 2) >= (int)cap)
		return -1;
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* .gnu_debuglink: a file name (and a CRC we do not check: the build-id, when both files
 * have one, is compared instead). */
static int open_debuglink_file(Elf *elf, const char *path, char *out, size_t cap)
{
	Elf_Scn *scn = find_section(elf, 0, ".gnu_debuglink");
	Elf_Data *data = scn ? elf_getdata(scn, NULL) : NULL;
	char dir[PATH_MAX];
	const char *name, *slash;
	int fd = -1, i;

	if (!data || !data->d_size || !memchr(data->d_buf, '\0', data->d_size))
		return -1;
	name = data->d_buf;
	if (!*name || strchr(name, '/'))
		return -1;
	slash = strrchr(path, '/');
	if (!slash || (size_t)(slash - path) >= sizeof(dir))
		return -1;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	for (i = 0; i < 3 && fd < 0; i++) {
		const char *fmt = i == 0 ? "%s%s/%s" : i == 1 ? "%s%s/.debug/%s" : "%s/%s/%s";
		const char *pre = i == 2 ? debug_root() : "";

		if (snprintf(out, cap, fmt, pre, dir, name) >= (int)cap)
			continue;
		if (strcmp(out, path) != 0)
			fd = open(out, O_RDONLY | O_CLOEXEC);
	}
	return fd;
}

/* Symbols from the separate debug file, when one is found and matches. */
static void collect_debug_file(Elf *elf, const char *path, struct collect *c, char **debug_path)
{
	unsigned char id[MAX_BUILD_ID], id2[MAX_BUILD_ID];
	size_t id_len = build_id(elf, id);
	char dpath[PATH_MAX];
	Elf *delf = NULL;
	Elf_Scn *scn;
	int fd = open_build_id_file(id, id_len, dpath, sizeof(dpath));

	if (fd < 0)
		fd = open_debuglink_file(elf, path, dpath, sizeof(dpath));
	if (fd < 0)
		return;
	delf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!delf || elf_kind(delf) != ELF_K_ELF)
		goto out;
	if (id_len && (build_id(delf, id2) != id_len || memcmp(id, id2, id_len) != 0))
		goto out; /* a debug file for another build */
	scn = find_section(delf, SHT_SYMTAB, NULL);
	if (scn && collect_section(delf, scn, c) == 0)
		*debug_path = strdup(dpath);
out:
	if (delf)
		elf_end(delf);
	close(fd);
}

static int read_segments(Elf *elf, struct ayac_elfsyms *es)
{
	size_t i, n;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &n) != 0)
		return ayac_seterr(AYAC_EBADELF, "no program headers: %s", elf_errmsg(-1));
	if (!(es->segs = ayac_calloc(n ? n : 1, sizeof(*es->segs))))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		es->segs[es->nsegs].vaddr = ph.p_vaddr;
		es->segs[es->nsegs].offset = ph.p_offset;
		es->segs[es->nsegs].filesz = ph.p_filesz;
		es->nsegs++;
	}
	return 0;
}

static int cmp_raw(const void *a, const void *b)
{
	const struct raw_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Sorted by address, one name per address (the best ranked alias, which also takes an
 * alias's size when it has none). */
static int settle(struct collect *c, struct ayac_elfsyms *es)
{
	size_t i, out = 0;

	if (c->n > 1)
		qsort(c->v, c->n, sizeof(*c->v), cmp_raw);
	if (!(es->syms = ayac_calloc(c->n ? c->n : 1, sizeof(*es->syms))))
		return -ENOMEM;
	for (i = 0; i < c->n; i++) {
		struct ayac_elf_sym *prev = out ? &es->syms[out - 1] : NULL;

		if (prev && prev->addr == c->v[i].addr) {
			if (!prev->size)
				prev->size = c->v[i].size;
			continue;
		}
		es->syms[out].addr = c->v[i].addr;
		es->syms[out].size = c->v[i].size;
		es->syms[out].name = c->strings + c->v[i].name_off;
		out++;
	}
	es->nsyms = out;
	es->strings = c->strings;
	c->strings = NULL;
	return 0;
}

static int read_symbols(Elf *elf, const char *path, struct ayac_elfsyms *es)
{
	struct collect c = { 0 };
	Elf_Scn *symtab = find_section(elf, SHT_SYMTAB, NULL);
	Elf_Scn *dynsym = find_section(elf, SHT_DYNSYM, NULL);
	int err = 0;

	if (symtab)
		err = collect_section(elf, symtab, &c);
	else
		collect_debug_file(elf, path, &c, &es->debug_path);
	if (!err && dynsym)
		err = collect_section(elf, dynsym, &c);
	if (!err)
		err = settle(&c, es);
	free(c.v);
	free(c.strings);
	return err;
}

struct ayac_elfsyms *ayac_elfsyms_read(int fd, const char *path)
{
	struct ayac_elfsyms *es = ayac_calloc(1, sizeof(*es));
	struct stat st;
	Elf *elf = NULL;

	if (!es)
		return NULL;
	if (fstat(fd, &st) < 0) {
		ayac_seterr(errno, "stat '%s'", path);
		goto fail;
	}
	es->dev = st.st_dev;
	es->ino = st.st_ino;
	es->mtime = st.st_mtim;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		ayac_seterr(AYAC_EBADELF, "'%s' is not an ELF file", path);
		goto fail;
	}
	if (read_segments(elf, es) < 0 || read_symbols(elf, path, es) < 0) {
		ayac_errctx("symbols of '%s'", path);
		goto fail;
	}
	elf_end(elf);
	return es;
fail:
	if (elf)
		elf_end(elf);
	ayac_elfsyms_free(es);
	return NULL;
}

void ayac_elfsyms_free(struct ayac_elfsyms *es)
{
	if (!es)
		return;
	free(es->segs);
	free(es->syms);
	free(es->strings);
	free(es->debug_path);
	free(es);
}

bool ayac_elfsyms_vaddr(const struct ayac_elfsyms *es, __u64 file_off, __u64 *vaddr)
{
	size_t i;

	for (i = 0; i < es->nsegs; i++) {
		const struct ayac_elf_seg *s = &es->segs[i];

		if (file_off >= s->offset && file_off - s->offset < s->filesz) {
			*vaddr = file_off - s->offset + s->vaddr;
			return true;
		}
	}
	return false;
}

const struct ayac_elf_sym *ayac_elfsyms_find(const struct ayac_elfsyms *es, __u64 vaddr)
{
	size_t lo = 0, hi = es->nsyms, i, back;

	while (lo < hi) { /* the first symbol above vaddr */
		size_t mid = lo + (hi - lo) / 2;
		if (es->syms[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* The nearest symbol below that covers vaddr; a symbol of size 0 (hand-written
	 * assembly) covers up to the next one. */
	for (i = lo, back = 0; i > 0 && back < 8; i--, back++) {
		const struct ayac_elf_sym *s = &es->syms[i - 1];

		if (!s->size ? i == lo : vaddr - s->addr < s->size)
			return s;
	}
	return NULL;
}
