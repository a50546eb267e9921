/* Function symbols of executables and shared libraries, resolved to the file offsets
 * that uprobes take.
 *
 * The kernel places a uprobe at an offset in the file, so a symbol's address
 * (st_value, a virtual address) is mapped back through the executable PT_LOAD segment
 * that holds it: offset = st_value - p_vaddr + p_offset. That one rule covers non-PIE
 * executables (p_vaddr 0x400000...), PIE executables and shared libraries (p_vaddr
 * near 0).
 *
 * Names: .symtab is searched first (it has static functions too), then .dynsym (all
 * that stripped binaries keep). Symbol versions ("name@VER" for any version VER,
 * "name@@VER" for the default one) are read from the name itself in .symtab, and from
 * .gnu.version/.gnu.version_d in .dynsym. A plain name matches every version of it and
 * prefers the default one. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf.h"

#define VERDEF_MAX 65536 /* loop bound for malformed version chains */

struct sym_query {
	const char *base;     /* the name without its version */
	size_t base_len;
	const char *version;  /* NULL: any version */
	bool want_default;    /* "@@VER" */
};

/* The best match so far: higher score wins; equal scores at different addresses make
 * the name ambiguous. */
struct sym_best {
	int score;
	__u64 value;
	__u64 other;          /* a different address with the same score, when ambiguous */
	bool ambiguous;
};

/* Where the version of a .dynsym entry lives (sections may be absent). */
struct ver_info {
	Elf_Data *versym;
	Elf_Data *verdef;
	size_t verdef_strtab, verdef_cnt;
};

static int parse_query(const char *symbol, struct sym_query *q)
{
	const char *at = strchr(symbol, '@');

	memset(q, 0, sizeof(*q));
	q->base = symbol;
	q->base_len = at ? (size_t)(at - symbol) : strlen(symbol);
	if (at) {
		q->want_default = at[1] == '@';
		q->version = at + 1 + q->want_default;
	}
	if (!q->base_len || (q->version && (!*q->version || strchr(q->version, '@'))))
		return ayac_seterr(EINVAL, "bad symbol name '%s'", symbol);
	return 0;
}

/* 0: no match; 3: the version asked for; 2: a plain name, or its default version;
 * 1: a non-default version of a plain name asked for. */
static int match_score(const struct sym_query *q, const char *base, size_t base_len,
		       const char *version, bool hidden)
{
	if (base_len != q->base_len || memcmp(base, q->base, base_len) != 0)
		return 0;
	if (q->version) {
		if (!version || strcmp(version, q->version) != 0)
			return 0;
		return q->want_default && hidden ? 0 : 3;
	}
	return version && hidden ? 1 : 2;
}

static void consider(struct sym_best *best, int score, __u64 value)
{
	if (score <= 0)
		return;
	if (score > best->score) {
		best->score = score;
		best->value = value;
		best->ambiguous = false;
	} else if (score == best->score && value != best->value) {
		best->ambiguous = true;
		best->other = value;
	}
}

/* Name of version index ndx from .gnu.version_d (NULL: none). */
static const char *verdef_name(Elf *elf, const struct ver_info *vi, unsigned ndx)
{
	GElf_Verdef vd;
	GElf_Verdaux aux;
	size_t off = 0, i;

	if (!vi->verdef)
		return NULL;
	for (i = 0; i < vi->verdef_cnt && i < VERDEF_MAX; i++) {
		if (!gelf_getverdef(vi->verdef, (int)off, &vd))
			return NULL;
		if (vd.vd_ndx == ndx) {
			if (!gelf_getverdaux(vi->verdef, (int)(off + vd.vd_aux), &aux))
				return NULL;
			return elf_strptr(elf, vi->verdef_strtab, aux.vda_name);
		}
		if (!vd.vd_next || off + vd.vd_next > (size_t)vi->verdef->d_size)
			return NULL;
		off += vd.vd_next;
	}
	return NULL;
}

/* One symbol's name split into base, version and hidden ("@" rather than "@@"): from the
 * name in .symtab, from the version sections in .dynsym (vi non-NULL). */
static int sym_score(Elf *elf, const struct sym_query *q, const char *name, size_t idx,
		     const struct ver_info *vi)
{
	const char *at = strchr(name, '@'), *version = NULL;
	GElf_Versym vs;
	bool hidden = false;

	if (at) {
		hidden = at[1] != '@';
		version = at + 1 + !hidden;
	} else if (vi && vi->versym && gelf_getversym(vi->versym, (int)idx, &vs)) {
		hidden = vs & 0x8000;
		/* 0 and 1 are the local and the unversioned global "versions". */
		if ((vs & 0x7fff) > 1)
			version = verdef_name(elf, vi, vs & 0x7fff);
	}
	return match_score(q, name, at ? (size_t)(at - name) : strlen(name), version, hidden);
}

static void scan_symbols(Elf *elf, Elf_Scn *scn, const struct sym_query *q,
			 const struct ver_info *vi, struct sym_best *best)
{
	GElf_Shdr shdr;
	GElf_Sym sym;
	Elf_Data *data;
	const char *name;
	size_t i, n;
	int type, score;

	if (!gelf_getshdr(scn, &shdr) || !shdr.sh_entsize)
		return;
	data = elf_getdata(scn, NULL);
	if (!data)
		return;
	n = shdr.sh_size / shdr.sh_entsize;
	for (i = 1; i < n; i++) {
		if (!gelf_getsym(data, (int)i, &sym))
			break;
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
		    !sym.st_value)
			continue;
		name = elf_strptr(elf, shdr.sh_link, sym.st_name);
		if (!name)
			continue;
		score = sym_score(elf, q, name, i, vi);
		/* Same score: a global definition beats a local one of the same name. */
		if (score)
			score = 2 * score + (GELF_ST_BIND(sym.st_info) != STB_LOCAL);
		consider(best, score, sym.st_value);
	}
}

static Elf_Scn *find_scn(Elf *elf, Elf64_Word type, GElf_Shdr *out)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		if (gelf_getshdr(scn, out) && out->sh_type == type)
			return scn;
	}
	return NULL;
}

static void ver_info_init(Elf *elf, struct ver_info *vi)
{
	GElf_Shdr shdr;
	Elf_Scn *scn;

	memset(vi, 0, sizeof(*vi));
	scn = find_scn(elf, SHT_GNU_versym, &shdr);
	if (scn)
		vi->versym = elf_getdata(scn, NULL);
	scn = find_scn(elf, SHT_GNU_verdef, &shdr);
	if (scn) {
		vi->verdef = elf_getdata(scn, NULL);
		vi->verdef_strtab = shdr.sh_link;
		vi->verdef_cnt = shdr.sh_info;
	}
}

/* The file offset of a virtual address inside an executable PT_LOAD segment: in the
 * part of it the file holds (the kernel refuses uprobes past the end of the file). */
static int vaddr_to_offset(Elf *elf, __u64 file_size, __u64 vaddr, __u64 *offset)
{
	GElf_Phdr ph;
	size_t i, n;

	if (elf_getphdrnum(elf, &n) != 0)
		return ayac_seterr(AYAC_EBADELF, "no program headers (%s)", elf_errmsg(-1));
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (vaddr < ph.p_vaddr || vaddr - ph.p_vaddr >= ph.p_memsz)
			continue;
		if (vaddr - ph.p_vaddr >= ph.p_filesz || ph.p_offset > file_size ||
		    vaddr - ph.p_vaddr >= file_size - ph.p_offset)
			return ayac_seterr(AYAC_EBADELF, "address 0x%llx maps past the end of the "
					   "file (segment at file offset 0x%llx, %llu bytes in the "
					   "file): corrupt program header", (unsigned long long)vaddr,
					   (unsigned long long)ph.p_offset,
					   (unsigned long long)ph.p_filesz);
		*offset = vaddr - ph.p_vaddr + ph.p_offset;
		return 0;
	}
	return ayac_seterr(ENOENT, "address 0x%llx is in no executable segment",
			   (unsigned long long)vaddr);
}

static int find_symbol(Elf *elf, const struct sym_query *q, struct sym_best *best)
{
	struct ver_info vi;
	GElf_Shdr shdr;
	Elf_Scn *symtab, *dynsym;

	memset(best, 0, sizeof(*best));
	symtab = find_scn(elf, SHT_SYMTAB, &shdr);
	if (symtab)
		scan_symbols(elf, symtab, q, NULL, best);
	if (best->score)
		return 0;
	dynsym = find_scn(elf, SHT_DYNSYM, &shdr);
	if (dynsym) {
		ver_info_init(elf, &vi);
		scan_symbols(elf, dynsym, q, &vi, best);
	}
	if (!best->score)
		return ayac_seterr(ENOENT, "no such function symbol%s",
				   symtab || dynsym ? "" : " (the file has no symbol table)");
	return 0;
}

static int elf_open_check(const char *path, int *fd, Elf **elf, __u64 *size)
{
	struct stat st;

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return ayac_seterr(errno, "open");
	if (fstat(*fd, &st))
		return ayac_seterr(errno, "stat");
	*size = (__u64)st.st_size;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return ayac_seterr(AYAC_EBADELF, "libelf: %s", elf_errmsg(-1));
	/* Read, not mapped: only the headers and symbol tables are fetched, and a mapping
	 * of the file would show the int3 of any uprobe already placed in those bytes
	 * (the kernel puts them into every private mapping of the file). */
	*elf = elf_begin(*fd, ELF_C_READ, NULL);
	if (!*elf || elf_kind(*elf) != ELF_K_ELF)
		return ayac_seterr(AYAC_EBADELF, "not an ELF file");
	return 0;
}

/* The file offset of symbol q in an opened ELF of file_size bytes. (Not elf_rawfile:
 * on an ELF_C_READ handle it reads the whole file, and libelf then no longer frees the
 * section data it had read.) */
static int resolve(Elf *elf, __u64 file_size, const struct sym_query *q, __u64 *offset)
{
	struct sym_best best;
	int err = find_symbol(elf, q, &best);

	if (!err && best.ambiguous)
		err = ayac_seterr(EINVAL, "symbol is ambiguous: defined at 0x%llx and 0x%llx "
				  "(give an offset instead)", (unsigned long long)best.value,
				  (unsigned long long)best.other);
	if (!err)
		err = vaddr_to_offset(elf, file_size, best.value, offset);
	return err;
}

int ayac_elf_symbol_offset(const char *path, const char *symbol, __u64 *offset)
{
	struct sym_query q;
	Elf *elf = NULL;
	__u64 size = 0;
	int fd = -1, err;

	if (!path || !*path || !symbol || !offset) {
		err = ayac_seterr(EINVAL, "no %s", !path || !*path ? "path" : "symbol");
		goto out;
	}
	err = parse_query(symbol, &q);
	if (!err)
		err = elf_open_check(path, &fd, &elf, &size);
	if (!err)
		err = resolve(elf, size, &q, offset);
out:
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
	if (err)
		ayac_errctx("resolve symbol '%s' in '%s'", symbol ? symbol : "",
			    path ? path : "");
	return err;
}

/* ---- every function matching a glob (uprobe.multi patterns) --------------------------- */

static int add_match(struct ayac_elf_func_list *out, const char *name, __u64 off)
{
	struct ayac_elf_func *grown;
	size_t i;

	for (i = 0; i < out->n; i++) /* once per name (.symtab and .dynsym both list it) */
		if (!strcmp(out->funcs[i].name, name))
			return 0;
	grown = ayac_reallocarray(out->funcs, out->n + 1, sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	out->funcs = grown;
	grown[out->n].name = ayac_strdup(name);
	if (!grown[out->n].name)
		return -ENOMEM;
	grown[out->n++].offset = off;
	return 0;
}

static int scan_glob(Elf *elf, __u64 file_size, Elf_Scn *scn, const char *pattern,
		     struct ayac_elf_func_list *out)
{
	GElf_Shdr shdr;
	GElf_Sym sym;
	Elf_Data *data;
	const char *name;
	char base[512];
	size_t i, n, len;
	__u64 off;
	int type, err;

	if (!gelf_getshdr(scn, &shdr) || !shdr.sh_entsize || !(data = elf_getdata(scn, NULL)))
		return 0;
	n = shdr.sh_size / shdr.sh_entsize;
	for (i = 1; i < n && gelf_getsym(data, (int)i, &sym); i++) {
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
		    !sym.st_value || !(name = elf_strptr(elf, shdr.sh_link, sym.st_name)))
			continue;
		len = strcspn(name, "@"); /* versions are not part of what patterns match */
		if (len >= sizeof(base))
			continue;
		memcpy(base, name, len);
		base[len] = '\0';
		if (!ayac_glob_match(pattern, base) || vaddr_to_offset(elf, file_size, sym.st_value, &off))
			continue;
		if ((err = add_match(out, base, off)))
			return err;
	}
	return 0;
}

int ayac_elf_funcs_matching(const char *path, const char *pattern, struct ayac_elf_func_list *out)
{
	GElf_Shdr shdr;
	Elf_Scn *scn;
	Elf *elf = NULL;
	__u64 size = 0;
	int fd = -1, err;

	memset(out, 0, sizeof(*out));
	err = elf_open_check(path, &fd, &elf, &size);
	if (!err && (scn = find_scn(elf, SHT_SYMTAB, &shdr)))
		err = scan_glob(elf, size, scn, pattern, out);
	if (!err && (scn = find_scn(elf, SHT_DYNSYM, &shdr)))
		err = scan_glob(elf, size, scn, pattern, out);
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
	if (err) {
		ayac_elf_func_list_free(out);
		return ayac_errctx("functions matching '%s' in '%s'", pattern, path);
	}
	return 0;
}

void ayac_elf_func_list_free(struct ayac_elf_func_list *list)
{
	size_t i;

	for (i = 0; list && i < list->n; i++)
		free(list->funcs[i].name);
	if (list)
		free(list->funcs);
	if (list)
		memset(list, 0, sizeof(*list));
}

int ayac_elf_symbol_offset_mem(void *buf, size_t size, const char *symbol, __u64 *offset)
{
	struct sym_query q;
	Elf *elf = NULL;
	int err = symbol && offset ? parse_query(symbol, &q) : ayac_seterr(EINVAL, "no symbol");

	if (!err && elf_version(EV_CURRENT) == EV_NONE)
		err = ayac_seterr(AYAC_EBADELF, "libelf: %s", elf_errmsg(-1));
	if (!err) {
		elf = elf_memory(buf, size);
		if (!elf || elf_kind(elf) != ELF_K_ELF)
			err = ayac_seterr(AYAC_EBADELF, "not an ELF file");
	}
	if (!err)
		err = resolve(elf, size, &q, offset);
	if (elf)
		elf_end(elf);
	if (err)
		ayac_errctx("resolve symbol '%s'", symbol ? symbol : "");
	return err;
}
