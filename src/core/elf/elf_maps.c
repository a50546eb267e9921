/* Map definitions: BTF-defined maps in .maps (struct members encoded by libbpf's
 * __uint/__type/__array macros) and the legacy "maps" section of struct bpf_map_def. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf.h"

/* __uint(name, N) is `int (*name)[N]`: N is the array's element count. */
static int member_uint(const struct ayac_btf *btf, const struct btf_member *m, const char *map,
		       const char *field, __u32 *out)
{
	const struct btf_type *ptr = ayac_btf_type(btf, m->type), *arr;

	if (!ptr || btf_kind_of(ptr) != BTF_KIND_PTR)
		return ayac_seterr(AYAC_EBTF, "map '%s': field '%s' is not __uint()", map, field);
	arr = ayac_btf_type(btf, ptr->type);
	if (!arr || btf_kind_of(arr) != BTF_KIND_ARRAY)
		return ayac_seterr(AYAC_EBTF, "map '%s': field '%s' is not __uint()", map, field);
	*out = btf_array_of(arr)->nelems;
	return 0;
}

/* __type(name, T) is `T *name`: the size of T and its id. */
static int member_type(const struct ayac_btf *btf, const struct btf_member *m, const char *map,
		       const char *field, __u32 *size, __u32 *type_id)
{
	const struct btf_type *ptr = ayac_btf_type(btf, m->type);
	__u64 sz;

	if (!ptr || btf_kind_of(ptr) != BTF_KIND_PTR)
		return ayac_seterr(AYAC_EBTF, "map '%s': field '%s' is not __type()", map, field);
	if (ayac_btf_resolve_size(btf, ptr->type, &sz) || sz > UINT32_MAX)
		return ayac_seterr(AYAC_EBTF, "map '%s': the type of '%s' has no size", map, field);
	if (*size && *size != sz)
		return ayac_seterr(AYAC_EBTF, "map '%s': %s size %u contradicts its type's size %lu",
				   map, field, *size, (unsigned long)sz);
	*size = (__u32)sz;
	*type_id = ptr->type;
	return 0;
}

static int parse_map_struct(struct ayac_obj *obj, struct ayac_map *map, __u32 type_id, bool inner);

/* __array(values, struct inner) on a map of maps: the inner map's template. */
static int member_inner(struct ayac_obj *obj, struct ayac_map *map, const struct btf_member *m)
{
	const struct btf_type *arr = ayac_btf_type(obj->btf, m->type), *ptr;
	__u32 inner_id;

	if (!arr || btf_kind_of(arr) != BTF_KIND_ARRAY)
		return ayac_seterr(AYAC_EBTF, "map '%s': 'values' is not __array()", map->name);
	ptr = ayac_btf_type(obj->btf, ayac_btf_skip_mods(obj->btf, btf_array_of(arr)->type));
	if (!ptr || btf_kind_of(ptr) != BTF_KIND_PTR)
		return ayac_seterr(AYAC_EBTF, "map '%s': 'values' is not an array of pointers", map->name);
	inner_id = ayac_btf_skip_mods(obj->btf, ptr->type);
	if (map->def.type != BPF_MAP_TYPE_ARRAY_OF_MAPS && map->def.type != BPF_MAP_TYPE_HASH_OF_MAPS)
		return 0; /* prog arrays: __array(values, int (void *)) names no template */
	if (map->inner)
		return ayac_seterr(AYAC_EBTF, "map '%s': two 'values' fields", map->name);
	map->inner = ayac_calloc(1, sizeof(*map->inner));
	if (!map->inner)
		return -ENOMEM;
	map->inner->fd = -1;
	if (asprintf(&map->inner->name, "%s.inner", map->name) < 0)
		return ayac_seterr(ENOMEM, "out of memory");
	map->inner->def.name = map->inner->name;
	return parse_map_struct(obj, map->inner, inner_id, true);
}

static int parse_member(struct ayac_obj *obj, struct ayac_map *map, const struct btf_member *m)
{
	const char *f = ayac_btf_str(obj->btf, m->name_off);
	struct ayac_map_def *d = &map->def;
	__u32 v = 0;

	if (!f)
		return ayac_seterr(AYAC_EBTF, "map '%s': field with a bad name", map->name);
	if (strcmp(f, "key") == 0)
		return member_type(obj->btf, m, map->name, f, &d->key_size, &map->btf_key_type_id);
	if (strcmp(f, "value") == 0)
		return member_type(obj->btf, m, map->name, f, &d->value_size, &map->btf_value_type_id);
	if (strcmp(f, "values") == 0) {
		if (m->offset % 64 || m->offset == 0)
			return ayac_seterr(AYAC_EBTF, "map '%s': 'values' at bit %u is not a pointer "
					   "slot", map->name, m->offset);
		map->values_off = m->offset / 8;
		/* Slots hold fds (of maps or programs): 4-byte values. */
		if (map->def.value_size && map->def.value_size != sizeof(__u32))
			return ayac_seterr(AYAC_EBTF, "map '%s': value size %u, but 'values' holds "
					   "4-byte fds", map->name, map->def.value_size);
		map->def.value_size = sizeof(__u32);
		return member_inner(obj, map, m);
	}
	if (member_uint(obj->btf, m, map->name, f, &v))
		return -ayac_errnum();
	if (strcmp(f, "type") == 0)
		d->type = v;
	else if (strcmp(f, "max_entries") == 0)
		d->max_entries = v;
	else if (strcmp(f, "map_flags") == 0)
		d->map_flags = v;
	else if (strcmp(f, "numa_node") == 0)
		d->numa_node = v;
	else if (strcmp(f, "map_extra") == 0)
		d->map_extra = v;
	else if (strcmp(f, "pinning") == 0) {
		if (v != AYAC_PIN_NONE && v != AYAC_PIN_BY_NAME)
			return ayac_seterr(EINVAL, "map '%s': unknown pinning %u", map->name, v);
		map->pinning = v;
	} else if (strcmp(f, "key_size") == 0 || strcmp(f, "value_size") == 0) {
		__u32 *sz = f[0] == 'k' ? &d->key_size : &d->value_size;
		if (*sz && *sz != v)
			return ayac_seterr(AYAC_EBTF, "map '%s': %s %u contradicts its type's size %u",
					   map->name, f, v, *sz);
		*sz = v;
	} else {
		return ayac_seterr(EOPNOTSUPP, "map '%s': unknown field '%s'", map->name, f);
	}
	return 0;
}

static int parse_map_struct(struct ayac_obj *obj, struct ayac_map *map, __u32 type_id, bool inner)
{
	const struct btf_type *t = ayac_btf_type(obj->btf, ayac_btf_skip_mods(obj->btf, type_id));
	const struct btf_member *m;
	size_t i;
	int err;

	if (!t || btf_kind_of(t) != BTF_KIND_STRUCT)
		return ayac_seterr(AYAC_EBTF, "map '%s': definition is not a struct", map->name);
	m = btf_members_of(t);
	for (i = 0; i < btf_vlen_of(t); i++)
		if ((err = parse_member(obj, map, &m[i])))
			return err;
	if (inner && map->pinning)
		return ayac_seterr(EINVAL, "map '%s': an inner map cannot be pinned", map->name);
	return 0;
}

static int read_btf_maps(struct ayac_obj *obj, struct ayac_elf *elf)
{
	const struct btf_type *sec;
	const struct btf_var_secinfo *vsi;
	int id;
	size_t i;

	if (!obj->btf)
		return ayac_seterr(AYAC_EBTF, "section '.maps' needs BTF, and the object has none "
				   "(compile with clang -g)");
	id = ayac_btf_find(obj->btf, ".maps", BTF_KIND_DATASEC);
	if (id <= 0)
		return ayac_seterr(AYAC_EBTF, "section '.maps' has no DATASEC in BTF");
	sec = ayac_btf_type(obj->btf, (__u32)id);
	vsi = btf_secinfos_of(sec);
	for (i = 0; i < btf_vlen_of(sec); i++) {
		const struct btf_type *var = ayac_btf_type(obj->btf, vsi[i].type);
		const char *name = var ? ayac_btf_str(obj->btf, var->name_off) : NULL;
		struct ayac_map *map;
		int err;

		if (!var || btf_kind_of(var) != BTF_KIND_VAR || !name)
			return ayac_seterr(AYAC_EBTF, "'.maps' entry %zu is not a named VAR", i);
		map = ayac_map_new(obj, name);
		if (!map)
			return -ENOMEM;
		map->sec_idx = (int)elf->maps_idx;
		map->sec_offset = vsi[i].offset;
		map->sec_size = vsi[i].size;
		map->btf_var_type_id = var->type;
		if ((err = parse_map_struct(obj, map, var->type, false)))
			return err;
	}
	return 0;
}

/* The first five u32 fields of libbpf's struct bpf_map_def. */
struct legacy_map_def {
	__u32 type, key_size, value_size, max_entries, map_flags;
};

static int read_legacy_maps(struct ayac_obj *obj, struct ayac_elf *elf)
{
	const struct ayac_elf_sec *sec = &elf->secs[elf->legacy_maps_idx];
	size_t i;

	for (i = 1; i < elf->nsyms; i++) {
		struct legacy_map_def def;
		struct ayac_map *map;
		GElf_Sym sym;

		if (ayac_elf_sym(elf, i, &sym))
			return -ayac_errnum();
		if (sym.st_shndx != elf->legacy_maps_idx || GELF_ST_TYPE(sym.st_info) == STT_SECTION)
			continue;
		if (!sec->data || sym.st_value > sec->data->d_size ||
		    sizeof(def) > sec->data->d_size - sym.st_value)
			return ayac_seterr(AYAC_EBADELF, "legacy map '%s': definition outside section 'maps'",
					   ayac_elf_sym_name(elf, &sym));
		memcpy(&def, (const char *)sec->data->d_buf + sym.st_value, sizeof(def));
		map = ayac_map_new(obj, ayac_elf_sym_name(elf, &sym));
		if (!map)
			return -ENOMEM;
		map->sec_idx = (int)elf->legacy_maps_idx;
		map->sec_offset = sym.st_value;
		map->def.type = def.type;
		map->def.key_size = def.key_size;
		map->def.value_size = def.value_size;
		map->def.max_entries = def.max_entries;
		map->def.map_flags = def.map_flags;
	}
	return 0;
}

static struct ayac_map *map_at(const struct ayac_obj *obj, size_t sec_idx, size_t off, bool exact)
{
	size_t i;

	for (i = 0; i < obj->nr_maps; i++) {
		struct ayac_map *m = obj->maps[i];
		if (m->kind != AYAC_MAP_USER || (size_t)m->sec_idx != sec_idx)
			continue;
		if (exact ? m->sec_offset == off
			  : off >= m->sec_offset && off - m->sec_offset < m->sec_size)
			return m;
	}
	return NULL;
}

static struct ayac_prog *entry_prog_at(const struct ayac_obj *obj, const GElf_Sym *sym)
{
	size_t i;

	for (i = 0; i < obj->nr_progs; i++)
		if ((size_t)obj->progs[i]->sec_idx == sym->st_shndx &&
		    obj->progs[i]->sec_insn_off * BPF_INSN_SZ == sym->st_value)
			return obj->progs[i];
	return NULL;
}

/* One relocation of .rel.maps: which slot of which map gets which map or program. */
static int read_slot(struct ayac_obj *obj, struct ayac_elf *elf, const GElf_Rel *rel)
{
	struct ayac_map_slot s = { 0 }, *slots;
	struct ayac_map *map = map_at(obj, elf->maps_idx, rel->r_offset, false);
	const char *name;
	GElf_Sym sym;
	size_t off;

	if (!map || !map->values_off || rel->r_offset < map->sec_offset + map->values_off ||
	    (rel->r_offset - map->sec_offset - map->values_off) % sizeof(__u64))
		return ayac_seterr(AYAC_EBADELF, "'.maps' relocation at offset %lu is in no map's "
				   "'values' slot", (unsigned long)rel->r_offset);
	off = rel->r_offset - map->sec_offset - map->values_off;
	s.slot = (__u32)(off / sizeof(__u64));
	if (ayac_elf_sym(elf, GELF_R_SYM(rel->r_info), &sym))
		return ayac_errctx("map '%s' slot %u", map->name, s.slot);
	name = ayac_elf_sym_name(elf, &sym);
	if (map->def.type == BPF_MAP_TYPE_PROG_ARRAY)
		s.prog = sym.st_shndx < elf->nsecs ? entry_prog_at(obj, &sym) : NULL;
	else if (map->inner && sym.st_shndx == elf->maps_idx)
		s.map = map_at(obj, elf->maps_idx, sym.st_value, true);
	if (!s.prog && !s.map)
		return ayac_seterr(EINVAL, "map '%s' slot %u: '%s' is not a %s", map->name, s.slot,
				   name, map->inner ? "map of this object" : "program of this object");
	slots = ayac_reallocarray(map->slots, map->nr_slots + 1, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	map->slots = slots;
	map->slots[map->nr_slots++] = s;
	return 0;
}

int ayac_elf_read_map_slots(struct ayac_obj *obj, struct ayac_elf *elf, size_t rel_idx)
{
	size_t i, n;
	GElf_Rel rel;
	int err = ayac_elf_rel_count(elf, rel_idx, &n);

	for (i = 0; !err && i < n; i++)
		if (!(err = ayac_elf_rel_at(elf, rel_idx, i, &rel)))
			err = read_slot(obj, elf, &rel);
	return err;
}

int ayac_elf_read_maps(struct ayac_obj *obj, struct ayac_elf *elf)
{
	int err = 0;

	if (elf->maps_idx)
		err = read_btf_maps(obj, elf);
	if (!err && elf->legacy_maps_idx)
		err = read_legacy_maps(obj, elf);
	return err;
}
