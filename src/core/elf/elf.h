/* The parse state of one BPF ELF object, shared by elf_object.c (sections, functions),
 * elf_maps.c (map definitions), elf_btf.c (datasec fix-ups, globals) and elf_relocs.c
 * (relocation records). Freed once the object is loaded or closed. */
#ifndef AYAC_ELF_OBJECT_H
#define AYAC_ELF_OBJECT_H

#include <gelf.h>
#include <libelf.h>
#include <stdio.h>

#include "internal.h"

enum ayac_elf_sec_kind {
	AYAC_SEC_OTHER,
	AYAC_SEC_PROG,    /* executable: programs, or .text subprograms */
	AYAC_SEC_DATA,
	AYAC_SEC_RODATA,
	AYAC_SEC_BSS,
	AYAC_SEC_RELO,
	AYAC_SEC_STRUCT_OPS, /* .struct_ops, .struct_ops.link (and "?" variants) */
};

struct ayac_elf_sec {
	const char *name;
	GElf_Shdr shdr;
	Elf_Scn *scn;
	Elf_Data *data;
	enum ayac_elf_sec_kind kind;
};

struct ayac_elf_global {
	const char *name;
	size_t sec_idx;
	__u32 offset, size;
	__u32 btf_type_id;
	struct ayac_map *map;
};

struct ayac_elf {
	void *buf;               /* the object's bytes: our copy, or the file mapped */
	size_t size;
	bool mapped;             /* buf is a mapping (ayac_file_release either way) */
	Elf *elf;
	size_t nsecs, shstrndx;
	struct ayac_elf_sec *secs;
	Elf_Data *symtab;
	size_t symtab_idx, strtab_idx, nsyms;
	size_t text_idx, maps_idx, legacy_maps_idx, btf_idx, btf_ext_idx; /* 0: absent */
	struct ayac_elf_global *globals;
	size_t nr_globals;
};

const char *ayac_elf_sym_name(const struct ayac_elf *elf, const GElf_Sym *sym);
int ayac_elf_sym(const struct ayac_elf *elf, size_t idx, GElf_Sym *sym);
bool ayac_elf_sec_is_data(const struct ayac_elf *elf, size_t idx);
bool ayac_str_has_prefix(const char *s, const char *pfx);

/* elf_btf.c */
int ayac_elf_fixup_datasecs(struct ayac_obj *obj, struct ayac_elf *elf);
int ayac_elf_read_globals(struct ayac_obj *obj, struct ayac_elf *elf);
/* elf_maps.c */
int ayac_elf_read_maps(struct ayac_obj *obj, struct ayac_elf *elf);
/* A relocation section of the object: checked against the symbol table, then read
 * record by record (elf_relocs.c). */
int ayac_elf_rel_count(const struct ayac_elf *elf, size_t rel_idx, size_t *n);
int ayac_elf_rel_at(const struct ayac_elf *elf, size_t rel_idx, size_t i, GElf_Rel *rel);
int ayac_elf_read_map_slots(struct ayac_obj *obj, struct ayac_elf *elf, size_t rel_idx);
/* elf_struct_ops.c: each variable of a struct_ops section as a struct_ops map, and
 * the programs its relocations put in its function-pointer members. */
int ayac_elf_read_struct_ops(struct ayac_obj *obj, struct ayac_elf *elf);
int ayac_elf_read_struct_ops_relocs(struct ayac_obj *obj, struct ayac_elf *elf, size_t rel_idx);
/* elf_relocs.c */
int ayac_elf_read_relocs(struct ayac_obj *obj, struct ayac_elf *elf);

/* ---- what the ELF package offers the object model ---- */

/* elf_symbols.c: the function symbols of an executable or library whose names (without
 * a version) match a glob, with the file offsets uprobes take; each name once. */
struct ayac_elf_func {
	char *name;
	__u64 offset;
};
struct ayac_elf_func_list {
	struct ayac_elf_func *funcs;
	size_t n;
};
int ayac_elf_funcs_matching(const char *path, const char *pattern, struct ayac_elf_func_list *out);
void ayac_elf_func_list_free(struct ayac_elf_func_list *list);

/* elf_object.c: parse the ELF into obj (programs, maps, BTF, relocations): from a copy
 * of buf, or from bytes it takes over (released with ayac_file_release, also on error).
 * ayac_elf_check_ident: the ELF header's first bytes say a BPF object (ELF64,
 * little-endian, EM_BPF, ET_REL), before anything else is read. */
int ayac_elf_open(struct ayac_obj *obj, const void *buf, size_t size);
int ayac_elf_open_owned(struct ayac_obj *obj, void *buf, size_t size, bool mapped);
int ayac_elf_check_ident(const unsigned char *head, size_t len);
void ayac_elf_free(struct ayac_elf *elf);

/* elf_symbols.c: ayac_elf_symbol_offset over an ELF image in memory (libelf reads buf in
 * place; it must stay unchanged while this runs). */
int ayac_elf_symbol_offset_mem(void *buf, size_t size, const char *symbol, __u64 *offset);

/* elf_externs.c (issue 3): the object's extern symbols, read at open. */
int ayac_elf_read_externs(struct ayac_obj *obj, struct ayac_elf *elf);
/* elf_model.c: a new program or map record appended to obj (obj NULL: a standalone
 * map). Pure memory; nothing reaches the kernel. */
struct ayac_map *ayac_map_new(struct ayac_obj *obj, const char *name);
struct ayac_prog *ayac_prog_new(struct ayac_obj *obj, const char *name, const char *sec_name);

#endif
