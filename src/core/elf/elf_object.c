/* Reading a clang-compiled BPF ELF object: sections, symbols, programs, BTF, data maps
 * and the relocation records, every offset and index checked against the file before
 * use. Maps declared in .maps are decoded in maps_elf.c; turning relocation records
 * into instructions happens in reloc.c at load time. */
#include <errno.h>
#include <gelf.h>
#include <stddef.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

#include "elf.h"

#define DATA_SEC_MAX (512u << 20)

static bool str_has_prefix(const char *s, const char *pfx)
{
	return strncmp(s, pfx, strlen(pfx)) == 0;
}

static bool sec_name_is(const char *name, const char *base)
{
	size_t n = strlen(base);
	return strncmp(name, base, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

const char *ayac_elf_sym_name(const struct ayac_elf *elf, const GElf_Sym *sym)
{
	const char *name;

	if (sym->st_name == 0 && GELF_ST_TYPE(sym->st_info) == STT_SECTION &&
	    sym->st_shndx < elf->nsecs)
		return elf->secs[sym->st_shndx].name;
	name = elf_strptr(elf->elf, elf->strtab_idx, sym->st_name);
	return name ? name : "<bad name>";
}

int ayac_elf_sym(const struct ayac_elf *elf, size_t idx, GElf_Sym *sym)
{
	if (idx >= elf->nsyms || !gelf_getsym(elf->symtab, (int)idx, sym))
		return ayac_seterr(AYAC_EBADELF, "symbol index %zu out of range (%zu symbols)",
				   idx, elf->nsyms);
	return 0;
}

int ayac_elf_check_ident(const unsigned char *head, size_t len)
{
	__u16 type, machine;

	if (len < EI_NIDENT || memcmp(head, ELFMAG, SELFMAG) != 0)
		return ayac_seterr(AYAC_EBADELF, "not an ELF file");
	if (head[EI_CLASS] != ELFCLASS64)
		return ayac_seterr(AYAC_EBADELF, "not a 64-bit ELF (BPF objects are ELF64)");
	if (head[EI_DATA] != ELFDATA2LSB)
		return ayac_seterr(AYAC_EBADELF, "big-endian ELF: this host is little-endian");
	if (len < sizeof(Elf64_Ehdr))
		return ayac_seterr(AYAC_EBADELF, "truncated ELF header (%zu bytes)", len);
	memcpy(&type, head + offsetof(Elf64_Ehdr, e_type), sizeof(type));
	memcpy(&machine, head + offsetof(Elf64_Ehdr, e_machine), sizeof(machine));
	if (machine != EM_BPF)
		return ayac_seterr(AYAC_EBADELF, "ELF machine is %u, not EM_BPF (%u): not a BPF object",
				   machine, EM_BPF);
	if (type != ET_REL)
		return ayac_seterr(AYAC_EBADELF, "ELF type is %u, not ET_REL (a relocatable object)",
				   type);
	return 0;
}

static int check_header(struct ayac_elf *elf)
{
	GElf_Ehdr eh;
	int err = ayac_elf_check_ident(elf->buf, elf->size);

	if (err)
		return err;
	elf->elf = elf_memory(elf->buf, elf->size);
	if (!elf->elf || elf_kind(elf->elf) != ELF_K_ELF || !gelf_getehdr(elf->elf, &eh))
		return ayac_seterr(AYAC_EBADELF, "corrupt ELF header: %s", elf_errmsg(-1));
	if (elf_getshdrnum(elf->elf, &elf->nsecs) || elf_getshdrstrndx(elf->elf, &elf->shstrndx))
		return ayac_seterr(AYAC_EBADELF, "corrupt section table: %s", elf_errmsg(-1));
	if (elf->nsecs == 0 || elf->nsecs > 65535 || elf->shstrndx >= elf->nsecs)
		return ayac_seterr(AYAC_EBADELF, "corrupt section table (%zu sections)", elf->nsecs);
	return 0;
}

/* Bounds of a section's bytes in the file, checked before libelf hands out data. */
static int load_section(struct ayac_elf *elf, size_t idx)
{
	struct ayac_elf_sec *sec = &elf->secs[idx];
	Elf_Scn *scn = elf_getscn(elf->elf, idx);

	if (!scn || !gelf_getshdr(scn, &sec->shdr))
		return ayac_seterr(AYAC_EBADELF, "section %zu: bad header: %s", idx, elf_errmsg(-1));
	sec->scn = scn;
	sec->name = elf_strptr(elf->elf, elf->shstrndx, sec->shdr.sh_name);
	if (!sec->name)
		return ayac_seterr(AYAC_EBADELF, "section %zu: name offset %u out of range",
				   idx, sec->shdr.sh_name);
	if (sec->shdr.sh_type != SHT_NOBITS && sec->shdr.sh_type != SHT_NULL &&
	    (sec->shdr.sh_offset > elf->size || sec->shdr.sh_size > elf->size - sec->shdr.sh_offset))
		return ayac_seterr(AYAC_EBADELF, "section '%s': %lu bytes at offset %lu lie past "
				   "the end of the file (%zu bytes): truncated object?", sec->name,
				   (unsigned long)sec->shdr.sh_size,
				   (unsigned long)sec->shdr.sh_offset, elf->size);
	if (idx == 0 || sec->shdr.sh_type == SHT_NULL)
		return 0;
	sec->data = elf_getdata(scn, NULL);
	if (!sec->data && sec->shdr.sh_size && sec->shdr.sh_type != SHT_NOBITS)
		return ayac_seterr(AYAC_EBADELF, "section '%s': unreadable: %s", sec->name,
				   elf_errmsg(-1));
	if (sec->data && sec->shdr.sh_type != SHT_NOBITS && sec->data->d_size != sec->shdr.sh_size)
		return ayac_seterr(AYAC_EBADELF, "section '%s': size mismatch", sec->name);
	return 0;
}

static int read_license_version(struct ayac_obj *obj, const struct ayac_elf_sec *sec)
{
	size_t n;

	if (strcmp(sec->name, "license") == 0) {
		const char *s = sec->data ? sec->data->d_buf : NULL;
		n = s ? strnlen(s, sec->data->d_size) : 0;
		if (!s || n == sec->data->d_size || n >= sizeof(obj->license))
			return ayac_seterr(AYAC_EBADELF, "section 'license': not a NUL-terminated "
					   "string of at most %zu bytes", sizeof(obj->license) - 1);
		memcpy(obj->license, s, n + 1);
	} else {
		if (!sec->data || sec->data->d_size != sizeof(__u32))
			return ayac_seterr(AYAC_EBADELF, "section 'version': size %zu, expected 4",
					   sec->data ? sec->data->d_size : 0);
		memcpy(&obj->kern_version, sec->data->d_buf, sizeof(__u32));
	}
	return 0;
}

static int classify_section(struct ayac_obj *obj, struct ayac_elf *elf, size_t idx)
{
	struct ayac_elf_sec *sec = &elf->secs[idx];
	const GElf_Shdr *sh = &sec->shdr;

	if (sh->sh_type == SHT_SYMTAB) {
		if (elf->symtab)
			return ayac_seterr(AYAC_EBADELF, "more than one symbol table");
		if (sh->sh_entsize != sizeof(Elf64_Sym) || sh->sh_link >= elf->nsecs || !sec->data)
			return ayac_seterr(AYAC_EBADELF, "corrupt symbol table '%s'", sec->name);
		elf->symtab = sec->data;
		elf->symtab_idx = idx;
		elf->strtab_idx = sh->sh_link;
		elf->nsyms = sec->data->d_size / sizeof(Elf64_Sym);
	} else if (strcmp(sec->name, "license") == 0 || strcmp(sec->name, "version") == 0) {
		return read_license_version(obj, sec);
	} else if (strcmp(sec->name, ".maps") == 0) {
		elf->maps_idx = idx;
	} else if (strcmp(sec->name, "maps") == 0) {
		elf->legacy_maps_idx = idx;
	} else if (strcmp(sec->name, ".BTF") == 0) {
		elf->btf_idx = idx;
	} else if (strcmp(sec->name, ".BTF.ext") == 0) {
		elf->btf_ext_idx = idx;
	} else if (sh->sh_type == SHT_REL) {
		sec->kind = AYAC_SEC_RELO;
	} else if (sh->sh_type == SHT_PROGBITS && (sh->sh_flags & SHF_EXECINSTR) && sh->sh_size) {
		if (sh->sh_size % BPF_INSN_SZ)
			return ayac_seterr(AYAC_EBADELF, "program section '%s': size %lu is not a "
					   "multiple of 8", sec->name, (unsigned long)sh->sh_size);
		sec->kind = AYAC_SEC_PROG;
		if (strcmp(sec->name, ".text") == 0)
			elf->text_idx = idx;
	} else if (sh->sh_type == SHT_PROGBITS && sh->sh_size &&
		   (!strcmp(sec->name, ".struct_ops") || !strcmp(sec->name, ".struct_ops.link") ||
		    !strcmp(sec->name, "?.struct_ops") || !strcmp(sec->name, "?.struct_ops.link"))) {
		sec->kind = AYAC_SEC_STRUCT_OPS;
	} else if (sh->sh_type == SHT_PROGBITS && sh->sh_size &&
		   (sec_name_is(sec->name, ".data") || sec_name_is(sec->name, ".rodata"))) {
		sec->kind = sec_name_is(sec->name, ".data") ? AYAC_SEC_DATA : AYAC_SEC_RODATA;
	} else if (sh->sh_type == SHT_NOBITS && sh->sh_size && sec_name_is(sec->name, ".bss")) {
		sec->kind = AYAC_SEC_BSS;
	}
	return 0;
}

static int read_sections(struct ayac_obj *obj, struct ayac_elf *elf)
{
	size_t i;
	int err;

	elf->secs = ayac_calloc(elf->nsecs, sizeof(*elf->secs));
	if (!elf->secs)
		return -ENOMEM;
	for (i = 0; i < elf->nsecs; i++) {
		err = load_section(elf, i);
		if (!err && i)
			err = classify_section(obj, elf, i);
		if (err)
			return err;
	}
	if (!elf->symtab)
		return ayac_seterr(AYAC_EBADELF, "no symbol table: not a clang-compiled BPF object?");
	if (elf->secs[elf->strtab_idx].shdr.sh_type != SHT_STRTAB)
		return ayac_seterr(AYAC_EBADELF, "symbol table's string table is not SHT_STRTAB");
	return 0;
}

static int cmp_func_off(const void *a, const void *b)
{
	const struct ayac_prog *pa = *(struct ayac_prog *const *)a, *pb = *(struct ayac_prog *const *)b;

	if (pa->is_subprog != pb->is_subprog)
		return pa->is_subprog ? 1 : -1;
	if (pa->sec_idx != pb->sec_idx)
		return pa->sec_idx < pb->sec_idx ? -1 : 1;
	return pa->sec_insn_off < pb->sec_insn_off ? -1 : pa->sec_insn_off > pb->sec_insn_off;
}

static int add_function(struct ayac_obj *obj, struct ayac_elf *elf, const GElf_Sym *sym)
{
	const struct ayac_elf_sec *sec = &elf->secs[sym->st_shndx];
	const char *name = ayac_elf_sym_name(elf, sym);
	struct ayac_prog *prog, **progs;

	if (sym->st_value % BPF_INSN_SZ || sym->st_size % BPF_INSN_SZ || sym->st_size == 0 ||
	    sym->st_value > sec->shdr.sh_size || sym->st_size > sec->shdr.sh_size - sym->st_value)
		return ayac_seterr(AYAC_EBADELF, "function '%s' in section '%s': offset %lu size %lu "
				   "outside the section or not instruction-aligned", name, sec->name,
				   (unsigned long)sym->st_value, (unsigned long)sym->st_size);
	progs = ayac_reallocarray(obj->progs, obj->nr_all_progs + 1, sizeof(*progs));
	if (!progs)
		return -ENOMEM;
	obj->progs = progs;
	prog = ayac_prog_new(obj, name, sec->name);
	if (!prog)
		return -ENOMEM;
	obj->progs[obj->nr_all_progs++] = prog;
	prog->sec_idx = (int)sym->st_shndx;
	prog->sec_insn_off = sym->st_value / BPF_INSN_SZ;
	prog->sec_insn_cnt = sym->st_size / BPF_INSN_SZ;
	prog->is_subprog = (size_t)sym->st_shndx == elf->text_idx;
	prog->global_func = GELF_ST_BIND(sym->st_info) == STB_GLOBAL;
	/* __hidden global functions (usdt.bpf.h's bpf_usdt_arg) are verified as static
	 * ones, with their caller's context, as libbpf does (hidden_funcs_static). */
	prog->global_func = prog->global_func &&
			    GELF_ST_VISIBILITY(sym->st_other) != STV_HIDDEN &&
			    GELF_ST_VISIBILITY(sym->st_other) != STV_INTERNAL;
	if (!prog->is_subprog)
		obj->nr_progs++;
	return 0;
}

/* A global function with hidden (or internal) visibility cannot be called from
 * outside the object, so its BTF FUNC gets static linkage: the verifier then checks it
 * inline with each caller's argument types instead of on its own. */
static void hidden_funcs_static(struct ayac_obj *obj, struct ayac_elf *elf)
{
	GElf_Sym sym;
	struct btf_type *t;
	size_t i;
	int id;

	for (i = 1; obj->btf && i < elf->nsyms; i++) {
		if (ayac_elf_sym(elf, i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    GELF_ST_BIND(sym.st_info) == STB_LOCAL || sym.st_shndx == SHN_UNDEF ||
		    (GELF_ST_VISIBILITY(sym.st_other) != STV_HIDDEN &&
		     GELF_ST_VISIBILITY(sym.st_other) != STV_INTERNAL))
			continue;
		id = ayac_btf_find(obj->btf, ayac_elf_sym_name(elf, &sym), BTF_KIND_FUNC);
		t = id > 0 ? ayac_btf_type_mut(obj->btf, (__u32)id) : NULL;
		if (t)
			t->info = (t->info & ~0xffffU) | BTF_FUNC_STATIC;
	}
}

/* Every STT_FUNC in an executable section is a function: an entry program outside
 * .text, a subprogram inside it. */
static int read_functions(struct ayac_obj *obj, struct ayac_elf *elf)
{
	GElf_Sym sym;
	size_t i;
	int err;

	for (i = 1; i < elf->nsyms; i++) {
		if ((err = ayac_elf_sym(elf, i, &sym)))
			return err;
		if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF ||
		    sym.st_shndx >= elf->nsecs || elf->secs[sym.st_shndx].kind != AYAC_SEC_PROG)
			continue;
		if ((err = add_function(obj, elf, &sym)))
			return err;
	}
	if (obj->nr_all_progs > 1)
		qsort(obj->progs, obj->nr_all_progs, sizeof(*obj->progs), cmp_func_off);
	hidden_funcs_static(obj, elf);
	for (i = 1; i < obj->nr_all_progs; i++) {
		struct ayac_prog *a = obj->progs[i - 1], *b = obj->progs[i];
		if (a->sec_idx == b->sec_idx && a->sec_insn_off + a->sec_insn_cnt > b->sec_insn_off)
			return ayac_seterr(AYAC_EBADELF, "functions '%s' and '%s' overlap in section '%s'",
					   a->name, b->name, a->sec_name);
	}
	return 0;
}

/* Data sections become array maps named like libbpf's: up to 8 characters of the
 * object's name, then the section name ("getpid_c.rodata"). */
static int add_data_map(struct ayac_obj *obj, struct ayac_elf *elf, size_t idx)
{
	const struct ayac_elf_sec *sec = &elf->secs[idx];
	char name[AYAC_OBJ_NAME_LEN + 64];
	struct ayac_map *map;
	size_t pfx = strlen(obj->name) < 8 ? strlen(obj->name) : 8;

	snprintf(name, sizeof(name), "%.*s%.*s", (int)pfx, obj->name,
		 (int)(AYAC_OBJ_NAME_LEN - 1 - pfx), sec->name);
	/* .bss has no bytes in the file to bound its size: what an array map's value can
	 * be on any kernel (KMALLOC_MAX_SIZE: 4 MiB on x86-64, 512 MiB at most) does. */
	if (sec->shdr.sh_size > DATA_SEC_MAX)
		return ayac_seterr(AYAC_EBADELF, "data section '%s' is %llu bytes: no kernel takes "
				   "a global data map larger than %u MiB", sec->name,
				   (unsigned long long)sec->shdr.sh_size, DATA_SEC_MAX >> 20);
	map = ayac_map_new(obj, name);
	if (!map)
		return -ENOMEM;
	map->kind = sec->kind == AYAC_SEC_DATA ? AYAC_MAP_DATA :
		    sec->kind == AYAC_SEC_RODATA ? AYAC_MAP_RODATA : AYAC_MAP_BSS;
	map->sec_idx = (int)idx;
	map->def.type = BPF_MAP_TYPE_ARRAY;
	map->def.key_size = sizeof(__u32);
	map->def.value_size = (__u32)sec->shdr.sh_size;
	map->def.max_entries = 1;
	map->data = ayac_calloc(1, sec->shdr.sh_size);
	if (!map->data)
		return -ENOMEM;
	if (sec->kind != AYAC_SEC_BSS)
		memcpy(map->data, sec->data->d_buf, sec->shdr.sh_size);
	/* The value type is the section's DATASEC, so bpftool and the codec see the vars. */
	if (obj->btf) {
		int id = ayac_btf_find(obj->btf, sec->name, BTF_KIND_DATASEC);
		map->btf_value_type_id = id > 0 ? (__u32)id : 0;
	}
	return 0;
}

static int read_data_maps(struct ayac_obj *obj, struct ayac_elf *elf)
{
	size_t i;
	int err;

	for (i = 1; i < elf->nsecs; i++) {
		enum ayac_elf_sec_kind k = elf->secs[i].kind;
		if ((k == AYAC_SEC_DATA || k == AYAC_SEC_RODATA || k == AYAC_SEC_BSS) &&
		    (err = add_data_map(obj, elf, i)))
			return err;
	}
	return 0;
}

static int read_btf(struct ayac_obj *obj, struct ayac_elf *elf)
{
	const struct ayac_elf_sec *sec;

	if (!elf->btf_idx)
		return 0;
	sec = &elf->secs[elf->btf_idx];
	if (!sec->data)
		return ayac_seterr(AYAC_EBTF, "empty .BTF section");
	obj->btf = ayac_btf_parse(sec->data->d_buf, sec->data->d_size, NULL);
	if (!obj->btf)
		return ayac_errctx(".BTF");
	if (ayac_elf_fixup_datasecs(obj, elf))
		return -ayac_errnum();
	if (elf->btf_ext_idx) {
		sec = &elf->secs[elf->btf_ext_idx];
		obj->btf_ext = sec->data ? ayac_btf_ext_parse(sec->data->d_buf, sec->data->d_size,
							      obj->btf) : NULL;
		if (!obj->btf_ext)
			return ayac_errctx(".BTF.ext");
	}
	return 0;
}

int ayac_elf_open_owned(struct ayac_obj *obj, void *buf, size_t size, bool mapped)
{
	struct ayac_elf *elf;
	int err;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		ayac_file_release(buf, size, mapped);
		return ayac_seterr(AYAC_EBADELF, "libelf: %s", elf_errmsg(-1));
	}
	elf = ayac_calloc(1, sizeof(*elf));
	if (!elf) {
		ayac_file_release(buf, size, mapped);
		return -ENOMEM;
	}
	obj->elf = elf;
	elf->buf = buf;
	elf->size = size;
	elf->mapped = mapped;
	err = check_header(elf);
	if (!err)
		err = read_sections(obj, elf);
	if (!err)
		err = read_btf(obj, elf);
	if (!err)
		err = read_functions(obj, elf);
	if (!err)
		err = ayac_elf_read_maps(obj, elf);
	if (!err)
		err = read_data_maps(obj, elf);
	if (!err)
		err = ayac_elf_read_struct_ops(obj, elf);
	if (!err)
		err = ayac_elf_read_globals(obj, elf);
	if (!err)
		err = ayac_elf_read_externs(obj, elf);
	if (!err)
		err = ayac_elf_read_relocs(obj, elf);
	return err;
}

int ayac_elf_open(struct ayac_obj *obj, const void *buf, size_t size)
{
	void *copy;
	int err = ayac_elf_check_ident(buf, size);

	if (err)
		return err;
	if (size > AYAC_OBJ_MAX_SIZE)
		return ayac_seterr(EFBIG, "%zu bytes: more than ayac reads as a BPF object (at "
				   "most %zu MiB)", size, AYAC_OBJ_MAX_SIZE >> 20);
	copy = malloc(size);
	if (!copy)
		return ayac_seterr(ENOMEM, "out of memory for a %zu-byte object", size);
	memcpy(copy, buf, size);
	return ayac_elf_open_owned(obj, copy, size, false);
}

void ayac_elf_free(struct ayac_elf *elf)
{
	if (!elf)
		return;
	free(elf->globals);
	free(elf->secs);
	if (elf->elf)
		elf_end(elf->elf);
	ayac_file_release(elf->buf, elf->size, elf->mapped);
	free(elf);
}

bool ayac_elf_sec_is_data(const struct ayac_elf *elf, size_t idx)
{
	enum ayac_elf_sec_kind k;

	if (idx == 0 || idx >= elf->nsecs)
		return false;
	k = elf->secs[idx].kind;
	return k == AYAC_SEC_DATA || k == AYAC_SEC_RODATA || k == AYAC_SEC_BSS;
}

bool ayac_str_has_prefix(const char *s, const char *pfx)
{
	return str_has_prefix(s, pfx);
}
