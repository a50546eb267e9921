/* .struct_ops and .struct_ops.link sections: each variable, a struct the kernel knows
 * (struct tcp_congestion_ops ...) whose function pointers are programs of this
 * object, becomes a struct_ops map. Its bytes are kept as the object has them; the
 * relocations of the section say which program sits in which member. A "?" before
 * the section name means the map is not created unless asked for (libbpf's
 * autocreate = false). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf.h"

static const struct btf_type *datasec_of(const struct ayac_obj *obj, const char *name)
{
	int id = obj->btf ? ayac_btf_find(obj->btf, name, BTF_KIND_DATASEC) : -1;

	return id > 0 ? ayac_btf_type(obj->btf, (__u32)id) : NULL;
}

static int add_map(struct ayac_obj *obj, const struct ayac_elf_sec *sec, size_t sec_idx,
		   const struct btf_var_secinfo *vsi)
{
	const struct btf_type *var = ayac_btf_type(obj->btf, vsi->type), *st;
	const char *name = var ? ayac_btf_str(obj->btf, var->name_off) : NULL;
	struct ayac_st_ops *so;
	struct ayac_map *map;
	__u32 type_id;

	if (!var || btf_kind_of(var) != BTF_KIND_VAR || !name || !*name)
		return ayac_seterr(AYAC_EBADELF, "section '%s': a member of its DATASEC is not a "
				   "named variable", sec->name);
	type_id = ayac_btf_skip_mods(obj->btf, var->type);
	st = ayac_btf_type(obj->btf, type_id);
	if (!st || btf_kind_of(st) != BTF_KIND_STRUCT || !st->size || vsi->size != st->size ||
	    vsi->offset > sec->shdr.sh_size || vsi->size > sec->shdr.sh_size - vsi->offset)
		return ayac_seterr(AYAC_EBADELF, "struct_ops '%s' in '%s': not a struct inside "
				   "the section", name, sec->name);
	map = ayac_map_new(obj, name);
	so = ayac_calloc(1, sizeof(*so));
	if (!map || !so) {
		free(so);
		return -ENOMEM;
	}
	map->st_ops = so;
	map->sec_idx = (int)sec_idx;
	map->sec_offset = vsi->offset;
	map->def.type = BPF_MAP_TYPE_STRUCT_OPS;
	map->def.key_size = sizeof(__u32);
	map->def.max_entries = 1;
	so->link = strstr(sec->name, ".link") != NULL;
	map->no_create = sec->name[0] == '?';
	if (so->link)
		map->def.map_flags = AYAC_BPF_F_LINK;
	so->type_id = type_id;
	so->size = st->size;
	so->nr_members = btf_vlen_of(st);
	so->tname = ayac_strdup(ayac_btf_str(obj->btf, st->name_off) ?: "");
	so->data = ayac_calloc(1, st->size);
	so->progs = ayac_calloc(so->nr_members ? so->nr_members : 1, sizeof(*so->progs));
	if (!so->tname || !so->data || !so->progs)
		return -ENOMEM;
	memcpy(so->data, (const char *)sec->data->d_buf + vsi->offset, st->size);
	return 0;
}

int ayac_elf_read_struct_ops(struct ayac_obj *obj, struct ayac_elf *elf)
{
	const struct btf_type *ds;
	size_t i, j;
	int err;

	for (i = 1; i < elf->nsecs; i++) {
		const struct ayac_elf_sec *sec = &elf->secs[i];
		if (sec->kind != AYAC_SEC_STRUCT_OPS)
			continue;
		ds = datasec_of(obj, sec->name);
		if (!ds || !sec->data)
			return ayac_seterr(AYAC_EBADELF, "section '%s': struct_ops need the object's "
					   "BTF (compile with -g)", sec->name);
		for (j = 0; j < btf_vlen_of(ds); j++)
			if ((err = add_map(obj, sec, i, &btf_secinfos_of(ds)[j])))
				return err;
	}
	return 0;
}

static struct ayac_map *map_at(const struct ayac_obj *obj, size_t sec_idx, size_t off)
{
	size_t i;

	for (i = 0; i < obj->nr_maps; i++) {
		struct ayac_map *m = obj->maps[i];
		if (m->st_ops && (size_t)m->sec_idx == sec_idx && off >= m->sec_offset &&
		    off - m->sec_offset < m->st_ops->size)
			return m;
	}
	return NULL;
}

static struct ayac_prog *prog_at(const struct ayac_obj *obj, const GElf_Sym *sym)
{
	size_t i;

	for (i = 0; i < obj->nr_progs; i++)
		if ((size_t)obj->progs[i]->sec_idx == sym->st_shndx &&
		    obj->progs[i]->sec_insn_off * BPF_INSN_SZ == sym->st_value)
			return obj->progs[i];
	return NULL;
}

/* The member of the map's struct at byte offset off. */
static int member_at(const struct ayac_obj *obj, const struct ayac_map *map, size_t off)
{
	const struct btf_type *st = ayac_btf_type(obj->btf, map->st_ops->type_id);
	const struct btf_member *m = btf_members_of(st);
	__u16 i;

	for (i = 0; i < btf_vlen_of(st); i++, m++) {
		__u32 bits = btf_kflag_of(st) ? BTF_MEMBER_BIT_OFFSET(m->offset) : m->offset;
		if (bits == off * 8)
			return i;
	}
	return -1;
}

static int read_one(struct ayac_obj *obj, struct ayac_elf *elf, size_t target,
		    const GElf_Rel *rel)
{
	struct ayac_map *map = map_at(obj, target, rel->r_offset);
	struct ayac_prog *prog;
	GElf_Sym sym;
	int idx;

	if (!map)
		return ayac_seterr(AYAC_EBADELF, "'%s' relocation at %lu is in no struct_ops "
				   "variable", elf->secs[target].name, (unsigned long)rel->r_offset);
	idx = member_at(obj, map, rel->r_offset - map->sec_offset);
	if (idx < 0 || ayac_elf_sym(elf, GELF_R_SYM(rel->r_info), &sym))
		return ayac_seterr(AYAC_EBADELF, "struct_ops '%s': relocation at offset %lu is "
				   "not at a member", map->name,
				   (unsigned long)(rel->r_offset - map->sec_offset));
	prog = sym.st_shndx < elf->nsecs ? prog_at(obj, &sym) : NULL;
	if (!prog || prog->type != BPF_PROG_TYPE_STRUCT_OPS)
		return ayac_seterr(EINVAL, "struct_ops '%s': '%s' in a function pointer is not a "
				   "SEC(\"struct_ops/...\") program of this object", map->name,
				   ayac_elf_sym_name(elf, &sym));
	map->st_ops->progs[idx] = prog;
	return 0;
}

int ayac_elf_read_struct_ops_relocs(struct ayac_obj *obj, struct ayac_elf *elf, size_t rel_idx)
{
	size_t target = elf->secs[rel_idx].shdr.sh_info, i, n;
	GElf_Rel rel;
	int err = ayac_elf_rel_count(elf, rel_idx, &n);

	for (i = 0; !err && i < n; i++)
		if (!(err = ayac_elf_rel_at(elf, rel_idx, i, &rel)))
			err = read_one(obj, elf, target, &rel);
	return err;
}
