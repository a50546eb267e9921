/* Where the object's BTF meets its ELF: clang leaves DATASEC sizes and global
 * variables' offsets for the loader to fill from the symbol table (the kernel refuses
 * them otherwise), and globals are found by name through the same two tables. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf.h"

static size_t find_section(const struct ayac_elf *elf, const char *name)
{
	size_t i;

	for (i = 1; i < elf->nsecs; i++)
		if (strcmp(elf->secs[i].name, name) == 0)
			return i;
	return 0;
}

/* A global (or weak) data symbol by name in section sec_idx. */
static int find_var_sym(const struct ayac_elf *elf, size_t sec_idx, const char *name, GElf_Sym *out)
{
	GElf_Sym sym;
	size_t i;

	for (i = 1; i < elf->nsyms; i++) {
		if (ayac_elf_sym(elf, i, &sym))
			return -ayac_errnum();
		if (sym.st_shndx != sec_idx || GELF_ST_TYPE(sym.st_info) != STT_OBJECT ||
		    (GELF_ST_BIND(sym.st_info) != STB_GLOBAL && GELF_ST_BIND(sym.st_info) != STB_WEAK))
			continue;
		if (strcmp(ayac_elf_sym_name(elf, &sym), name) == 0) {
			*out = sym;
			return 0;
		}
	}
	return -ENOENT;
}

static int cmp_secinfo(const void *a, const void *b)
{
	const struct btf_var_secinfo *x = a, *y = b;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int fixup_datasec(struct ayac_obj *obj, struct ayac_elf *elf, __u32 id, struct btf_type *t)
{
	const char *sec_name = ayac_btf_str(obj->btf, t->name_off);
	struct btf_var_secinfo *vsi = btf_secinfos_of(t);
	size_t sec_idx, i, vlen = btf_vlen_of(t);

	if (!sec_name)
		return ayac_seterr(AYAC_EBTF, "BTF DATASEC [%u] has a bad name", id);
	/* Externs live in datasecs with no ELF section behind them (CO-RE work). */
	if (strcmp(sec_name, ".kconfig") == 0 || strcmp(sec_name, ".ksyms") == 0)
		return 0;
	sec_idx = find_section(elf, sec_name);
	if (!sec_idx)
		return ayac_seterr(AYAC_EBTF, "BTF DATASEC '%s' has no ELF section", sec_name);
	if (t->size == 0) {
		if (elf->secs[sec_idx].shdr.sh_size > UINT32_MAX)
			return ayac_seterr(AYAC_EBADELF, "section '%s' too large", sec_name);
		t->size = (__u32)elf->secs[sec_idx].shdr.sh_size;
	}
	for (i = 0; i < vlen; i++) {
		struct btf_type *var = ayac_btf_type_mut(obj->btf, vsi[i].type);
		const char *var_name;
		GElf_Sym sym = { 0 };

		if (!var || btf_kind_of(var) != BTF_KIND_VAR)
			return ayac_seterr(AYAC_EBTF, "DATASEC '%s' entry %zu is not a VAR", sec_name, i);
		if (btf_var_of(var)->linkage == BTF_VAR_STATIC ||
		    btf_var_of(var)->linkage == BTF_VAR_GLOBAL_EXTERN)
			continue; /* clang already placed statics; externs have no storage */
		var_name = ayac_btf_str(obj->btf, var->name_off);
		if (!var_name || find_var_sym(elf, sec_idx, var_name, &sym))
			return ayac_seterr(AYAC_EBTF, "no symbol for variable '%s' of section '%s'",
					   var_name ? var_name : "?", sec_name);
		if (sym.st_value > t->size || vsi[i].size > t->size - sym.st_value)
			return ayac_seterr(AYAC_EBADELF, "variable '%s' lies outside section '%s'",
					   var_name, sec_name);
		vsi[i].offset = (__u32)sym.st_value;
		if (GELF_ST_VISIBILITY(sym.st_other) == STV_HIDDEN ||
		    GELF_ST_VISIBILITY(sym.st_other) == STV_INTERNAL)
			btf_var_of(var)->linkage = BTF_VAR_STATIC;
	}
	/* The kernel wants a datasec's variables in ascending offsets. */
	qsort(vsi, vlen, sizeof(*vsi), cmp_secinfo);
	return 0;
}

int ayac_elf_fixup_datasecs(struct ayac_obj *obj, struct ayac_elf *elf)
{
	__u32 id, n = ayac_btf_type_cnt(obj->btf);
	int err;

	for (id = 1; id < n; id++) {
		struct btf_type *t = ayac_btf_type_mut(obj->btf, id);
		if (t && btf_kind_of(t) == BTF_KIND_DATASEC && (err = fixup_datasec(obj, elf, id, t)))
			return err;
	}
	return 0;
}

static __u32 global_type_id(const struct ayac_obj *obj, const struct ayac_map *map, const char *name)
{
	const struct btf_type *sec = obj->btf ? ayac_btf_type(obj->btf, map->btf_value_type_id) : NULL;
	const struct btf_var_secinfo *vsi;
	size_t i;

	if (!sec || btf_kind_of(sec) != BTF_KIND_DATASEC)
		return 0;
	vsi = btf_secinfos_of(sec);
	for (i = 0; i < btf_vlen_of(sec); i++) {
		const struct btf_type *var = ayac_btf_type(obj->btf, vsi[i].type);
		const char *n = var ? ayac_btf_str(obj->btf, var->name_off) : NULL;
		if (n && strcmp(n, name) == 0)
			return var->type;
	}
	return 0;
}

static struct ayac_map *data_map_of(const struct ayac_obj *obj, size_t sec_idx)
{
	size_t i;

	for (i = 0; i < obj->nr_maps; i++)
		if (obj->maps[i]->kind != AYAC_MAP_USER && (size_t)obj->maps[i]->sec_idx == sec_idx)
			return obj->maps[i];
	return NULL;
}

/* A struct_ops variable is a global too: its map's image, before load. */
static void add_struct_ops_global(struct ayac_obj *obj, struct ayac_elf *elf,
				  const GElf_Sym *sym, struct ayac_elf_global *g)
{
	size_t i;

	for (i = 0; i < obj->nr_maps; i++) {
		struct ayac_map *m = obj->maps[i];
		if (m->st_ops && (size_t)m->sec_idx == sym->st_shndx &&
		    m->sec_offset == sym->st_value && m->st_ops->size == sym->st_size) {
			g->name = ayac_elf_sym_name(elf, sym);
			g->sec_idx = sym->st_shndx;
			g->offset = 0;
			g->size = m->st_ops->size;
			g->map = m;
			g->btf_type_id = m->st_ops->type_id;
			elf->nr_globals++;
			return;
		}
	}
}

/* Every named data symbol (global or static) is a global the user can read or set. */
int ayac_elf_read_globals(struct ayac_obj *obj, struct ayac_elf *elf)
{
	GElf_Sym sym;
	size_t i;

	elf->globals = ayac_calloc(elf->nsyms ? elf->nsyms : 1, sizeof(*elf->globals));
	if (!elf->globals)
		return -ENOMEM;
	for (i = 1; i < elf->nsyms; i++) {
		struct ayac_elf_global *g = &elf->globals[elf->nr_globals];
		const char *name;

		if (ayac_elf_sym(elf, i, &sym))
			return -ayac_errnum();
		if (GELF_ST_TYPE(sym.st_info) == STT_OBJECT && sym.st_shndx < elf->nsecs &&
		    elf->secs[sym.st_shndx].kind == AYAC_SEC_STRUCT_OPS) {
			add_struct_ops_global(obj, elf, &sym, g);
			continue;
		}
		if (GELF_ST_TYPE(sym.st_info) != STT_OBJECT || !ayac_elf_sec_is_data(elf, sym.st_shndx))
			continue;
		name = ayac_elf_sym_name(elf, &sym);
		if (name[0] == '.' || name[0] == '\0')
			continue; /* compiler-made labels such as .L.str */
		if (sym.st_value > elf->secs[sym.st_shndx].shdr.sh_size ||
		    sym.st_size > elf->secs[sym.st_shndx].shdr.sh_size - sym.st_value)
			return ayac_seterr(AYAC_EBADELF, "variable '%s' lies outside section '%s'",
					   name, elf->secs[sym.st_shndx].name);
		g->name = name;
		g->sec_idx = sym.st_shndx;
		g->offset = (__u32)sym.st_value;
		g->size = (__u32)sym.st_size;
		g->map = data_map_of(obj, sym.st_shndx);
		g->btf_type_id = g->map ? global_type_id(obj, g->map, name) : 0;
		elf->nr_globals++;
	}
	return 0;
}

int ayac_obj_find_global(const struct ayac_obj *obj, const char *name, struct ayac_global *out)
{
	const struct ayac_elf *elf = obj->elf;
	size_t i;

	if (!elf)
		return ayac_seterr(ENOENT, "object '%s' is closed", obj->name);
	for (i = 0; i < elf->nr_globals; i++) {
		const struct ayac_elf_global *g = &elf->globals[i];
		if (strcmp(g->name, name) == 0 && g->map) {
			out->name = g->name;
			out->map = g->map;
			out->offset = g->offset;
			out->size = g->size;
			out->btf_type_id = g->btf_type_id;
			return 0;
		}
	}
	return ayac_seterr(ENOENT, "object '%s' has no global variable '%s'", obj->name, name);
}
