/* Extern symbols at open: every undefined global or weak symbol of the object is an
 * extern, described by a VAR or FUNC with extern linkage in the object's BTF and listed
 * in the .kconfig or .ksyms DATASEC. Here they are classified (kconfig variable, ksym
 * variable, kfunc), the .kconfig variables laid out in a map of their own ("<obj>.kconfig",
 * read-only to programs), and the object's BTF rewritten into what the kernel accepts:
 * it refuses extern linkage, DATASECs holding FUNCs and VARs of type void. The values
 * themselves are resolved at load (kconfig.c, externs.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf.h"
#include "elf_externs.h"

#define KCONFIG_SEC ".kconfig"
#define KSYMS_SEC ".ksyms"
#define BTF_INFO(kind, kflag, vlen) (((__u32)(kflag) << 31) | ((__u32)(kind) << 24) | (vlen))

static bool sym_is_extern(const GElf_Sym *sym)
{
	int bind = GELF_ST_BIND(sym->st_info);

	return sym->st_shndx == SHN_UNDEF && GELF_ST_TYPE(sym->st_info) == STT_NOTYPE &&
	       (bind == STB_GLOBAL || bind == STB_WEAK);
}

/* The DATASEC id named sec (0: none), and whether it lists type id. */
static bool datasec_lists(const struct ayac_btf *btf, int sec, __u32 id)
{
	const struct btf_type *t = sec > 0 ? ayac_btf_type(btf, (__u32)sec) : NULL;
	const struct btf_var_secinfo *vsi;
	size_t i;

	if (!t)
		return false;
	vsi = btf_secinfos_of(t);
	for (i = 0; i < btf_vlen_of(t); i++)
		if (vsi[i].type == id)
			return true;
	return false;
}

static int datasec_id(const struct ayac_btf *btf, const char *name)
{
	int id = ayac_btf_find(btf, name, BTF_KIND_DATASEC);

	return id > 0 ? id : 0;
}

/* The VAR or FUNC with extern linkage that describes the symbol. */
static int extern_btf_id(const struct ayac_btf *btf, const char *name, bool *is_func)
{
	const struct btf_type *t;
	int id = ayac_btf_find(btf, name, BTF_KIND_VAR);

	*is_func = id <= 0;
	if (id <= 0)
		id = ayac_btf_find(btf, name, BTF_KIND_FUNC);
	if (id <= 0)
		return ayac_seterr(ENOENT, "extern '%s' has no VAR or FUNC in the object's BTF", name);
	t = ayac_btf_type(btf, (__u32)id);
	if (*is_func ? btf_vlen_of(t) != BTF_FUNC_EXTERN
		     : btf_var_of(t)->linkage != BTF_VAR_GLOBAL_EXTERN)
		return ayac_seterr(AYAC_EBTF, "extern '%s': its BTF %s is not declared extern", name,
				   *is_func ? "FUNC" : "VAR");
	return id;
}

/* What values a .kconfig variable of this type can hold (libbpf's rules). */
static enum ayac_kcfg_type kcfg_type_of(const struct ayac_btf *btf, __u32 id, bool *is_signed)
{
	const struct btf_type *t = ayac_btf_type(btf, ayac_btf_skip_mods(btf, id));
	const char *name = t ? ayac_btf_str(btf, t->name_off) : NULL;
	__u32 enc;

	*is_signed = false;
	if (!t)
		return AYAC_KCFG_UNKNOWN;
	switch (btf_kind_of(t)) {
	case BTF_KIND_INT:
		enc = btf_int_encoding_of(t);
		if (BTF_INT_OFFSET(enc) || BTF_INT_BITS(enc) != t->size * 8)
			return AYAC_KCFG_UNKNOWN;
		if (BTF_INT_ENCODING(enc) & BTF_INT_BOOL)
			return t->size == 1 ? AYAC_KCFG_BOOL : AYAC_KCFG_UNKNOWN;
		*is_signed = BTF_INT_ENCODING(enc) & BTF_INT_SIGNED;
		if (t->size == 1)
			return AYAC_KCFG_CHAR;
		return t->size == 2 || t->size == 4 || t->size == 8 ? AYAC_KCFG_INT : AYAC_KCFG_UNKNOWN;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		return name && strcmp(name, "libbpf_tristate") == 0 && (t->size == 4 || t->size == 8)
			       ? AYAC_KCFG_TRISTATE : AYAC_KCFG_UNKNOWN;
	case BTF_KIND_ARRAY: {
		bool sign;
		if (btf_array_of(t)->nelems == 0 ||
		    kcfg_type_of(btf, btf_array_of(t)->type, &sign) != AYAC_KCFG_CHAR)
			return AYAC_KCFG_UNKNOWN;
		return AYAC_KCFG_CHAR_ARR;
	}
	default:
		return AYAC_KCFG_UNKNOWN;
	}
}

static int describe_kconfig(const struct ayac_btf *btf, struct ayac_extern *e,
			    const struct btf_type *var)
{
	__u64 size;

	e->kcfg = kcfg_type_of(btf, var->type, &e->is_signed);
	if (e->kcfg == AYAC_KCFG_UNKNOWN)
		return ayac_seterr(EOPNOTSUPP, "extern '%s' (.kconfig): its type is not bool, enum "
				   "libbpf_tristate, an integer or a char array", e->name);
	if (ayac_btf_resolve_size(btf, var->type, &size) || size == 0 || size > (1u << 20))
		return ayac_seterr(AYAC_EBTF, "extern '%s' (.kconfig): bad size", e->name);
	e->size = (__u32)size;
	e->align = e->kcfg == AYAC_KCFG_CHAR_ARR ? 1 : e->size;
	return 0;
}

/* One extern symbol: its BTF, its kind from the DATASEC that lists it. */
static int describe(const struct ayac_btf *btf, struct ayac_extern *e, int kcfg_sec, int ksym_sec)
{
	const struct btf_type *t;
	bool is_func;
	int id = extern_btf_id(btf, e->name, &is_func);

	if (id < 0)
		return id;
	e->btf_id = (__u32)id;
	t = ayac_btf_type(btf, e->btf_id);
	e->type_id = ayac_btf_skip_mods(btf, t->type);
	if (datasec_lists(btf, kcfg_sec, e->btf_id)) {
		if (is_func)
			return ayac_seterr(EOPNOTSUPP, "extern function '%s' in .kconfig", e->name);
		e->kind = AYAC_EXT_KCONFIG;
		return describe_kconfig(btf, e, t);
	}
	if (!datasec_lists(btf, ksym_sec, e->btf_id))
		return ayac_seterr(EOPNOTSUPP, "extern '%s' is neither __kconfig nor __ksym (ayac "
				   "does not link objects together)", e->name);
	e->kind = is_func ? AYAC_EXT_KFUNC : AYAC_EXT_KSYM;
	return 0;
}

static int collect(struct ayac_obj *obj, struct ayac_elf *elf, struct ayac_externs *ext)
{
	int kcfg_sec = obj->btf ? datasec_id(obj->btf, KCONFIG_SEC) : 0;
	int ksym_sec = obj->btf ? datasec_id(obj->btf, KSYMS_SEC) : 0;
	struct ayac_extern *e;
	GElf_Sym sym;
	size_t i;
	int err;

	for (i = 1; i < elf->nsyms; i++) {
		if ((err = ayac_elf_sym(elf, i, &sym)))
			return err;
		if (!sym_is_extern(&sym) || !ayac_elf_sym_name(elf, &sym)[0])
			continue;
		e = ayac_reallocarray(ext->v, ext->n + 1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		ext->v = e;
		e = &ext->v[ext->n++];
		memset(e, 0, sizeof(*e));
		e->name = ayac_elf_sym_name(elf, &sym);
		e->sym_idx = (int)i;
		e->weak = GELF_ST_BIND(sym.st_info) == STB_WEAK;
		if (!obj->btf)
			return ayac_seterr(AYAC_EBTF, "extern '%s': the object has no BTF to describe "
					   "it (compile with -g)", e->name);
		if ((err = describe(obj->btf, e, kcfg_sec, ksym_sec)))
			return err;
	}
	return 0;
}

static struct ayac_extern *find_by_name(struct ayac_externs *ext, const char *name)
{
	size_t i;

	for (i = 0; name && i < ext->n; i++)
		if (strcmp(ext->v[i].name, name) == 0)
			return &ext->v[i];
	return NULL;
}

/* libbpf's layout: by alignment (largest first), then size, then name. */
static int cmp_kconfig(const void *a, const void *b)
{
	const struct ayac_extern *x = *(struct ayac_extern *const *)a;
	const struct ayac_extern *y = *(struct ayac_extern *const *)b;

	if (x->align != y->align)
		return x->align > y->align ? -1 : 1;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_secinfo_off(const void *a, const void *b)
{
	const struct btf_var_secinfo *x = a, *y = b;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Offsets of the .kconfig variables in their map; returns the map's value size. */
static int layout_kconfig(struct ayac_externs *ext, __u32 *total)
{
	struct ayac_extern **order;
	size_t i, n = 0;
	__u64 off = 0;

	order = ayac_calloc(ext->n, sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (i = 0; i < ext->n; i++)
		if (ext->v[i].kind == AYAC_EXT_KCONFIG)
			order[n++] = &ext->v[i];
	qsort(order, n, sizeof(*order), cmp_kconfig);
	for (i = 0; i < n; i++) {
		off = (off + order[i]->align - 1) / order[i]->align * order[i]->align;
		order[i]->data_off = (__u32)off;
		off += order[i]->size;
	}
	free(order);
	if (off > (1u << 24))
		return ayac_seterr(E2BIG, ".kconfig externs take %llu bytes", (unsigned long long)off);
	*total = (__u32)off;
	return 0;
}

/* .kconfig: VARs become allocated variables at their offsets in the map. */
static int fixup_kconfig_btf(struct ayac_btf *btf, struct ayac_externs *ext, int sec, __u32 total)
{
	struct btf_type *t = ayac_btf_type_mut(btf, (__u32)sec);
	struct btf_var_secinfo *vsi = btf_secinfos_of(t);
	size_t i, vlen = btf_vlen_of(t);

	for (i = 0; i < vlen; i++) {
		struct btf_type *var = ayac_btf_type_mut(btf, vsi[i].type);
		const char *name = var ? ayac_btf_str(btf, var->name_off) : NULL;
		struct ayac_extern *e = find_by_name(ext, name);

		if (!var || btf_kind_of(var) != BTF_KIND_VAR || !e || e->kind != AYAC_EXT_KCONFIG)
			return ayac_seterr(AYAC_EBTF, ".kconfig entry %zu ('%s') is no extern variable "
					   "of the object", i, name ? name : "?");
		btf_var_of(var)->linkage = BTF_VAR_GLOBAL_ALLOCATED;
		vsi[i].offset = e->data_off;
		vsi[i].size = e->size;
	}
	t->size = total;
	qsort(vsi, vlen, sizeof(*vsi), cmp_secinfo_off);
	return 0;
}

/* A BTF INT to stand in for extern types: a 4-byte one if there is one. */
static __u32 stand_in_int(const struct ayac_btf *btf)
{
	__u32 id, n = ayac_btf_type_cnt(btf), any = 0;

	for (id = 1; id < n; id++) {
		const struct btf_type *t = ayac_btf_type(btf, id);
		if (!t || btf_kind_of(t) != BTF_KIND_INT || BTF_INT_OFFSET(btf_int_encoding_of(t)))
			continue;
		if (t->size == 4)
			return id;
		if (!any && t->size && t->size <= 8)
			any = id;
	}
	return any;
}

/* A kfunc's FUNC: global linkage, every parameter named (the kernel wants both). */
static int fixup_kfunc(struct ayac_btf *btf, struct btf_type *fn, const char *name)
{
	struct btf_type *proto = ayac_btf_type_mut(btf, fn->type);
	struct btf_param *p;
	size_t i;

	if (!proto || btf_kind_of(proto) != BTF_KIND_FUNC_PROTO)
		return ayac_seterr(AYAC_EBTF, "extern function '%s' has no FUNC_PROTO", name);
	fn->info = BTF_INFO(BTF_KIND_FUNC, 0, BTF_FUNC_GLOBAL);
	p = btf_params_of(proto);
	for (i = 0; i < btf_vlen_of(proto); i++)
		if (p[i].type && !p[i].name_off)
			p[i].name_off = fn->name_off;
	return 0;
}

/* .ksyms: extern VARs become allocated ints, extern FUNCs global functions, and the
 * DATASEC (which may list FUNCs, and has no storage behind it) an anonymous struct of
 * ints, one per entry: libbpf makes the same datasec of ints with a dummy variable it
 * appends to the BTF; rewriting in place needs no new types. */
static int fixup_ksyms_btf(struct ayac_btf *btf, int sec)
{
	struct btf_type *t = ayac_btf_type_mut(btf, (__u32)sec);
	struct btf_var_secinfo *vsi = btf_secinfos_of(t);
	__u32 i, vlen = btf_vlen_of(t), int_id = stand_in_int(btf), int_size;
	int err;

	if (!int_id)
		return ayac_seterr(AYAC_EBTF, ".ksyms: the object's BTF has no integer type");
	int_size = ayac_btf_type(btf, int_id)->size;
	for (i = 0; i < vlen; i++) {
		struct btf_type *vt = ayac_btf_type_mut(btf, vsi[i].type);
		struct btf_member *m = (struct btf_member *)&vsi[i];
		const char *name = vt ? ayac_btf_str(btf, vt->name_off) : NULL;

		if (vt && btf_kind_of(vt) == BTF_KIND_VAR) {
			btf_var_of(vt)->linkage = BTF_VAR_GLOBAL_ALLOCATED;
			vt->type = int_id;
		} else if (!vt || btf_kind_of(vt) != BTF_KIND_FUNC) {
			return ayac_seterr(AYAC_EBTF, ".ksyms entry %u is neither VAR nor FUNC", i);
		} else if ((err = fixup_kfunc(btf, vt, name ? name : "?"))) {
			return err;
		}
		/* btf_member and btf_var_secinfo are both three __u32: rewrite in place. */
		m->name_off = vt->name_off;
		m->type = int_id;
		m->offset = i * int_size * 8;
	}
	t->name_off = 0;
	t->info = BTF_INFO(BTF_KIND_STRUCT, 0, vlen);
	t->size = vlen * int_size;
	return 0;
}

static int add_kconfig_map(struct ayac_obj *obj, struct ayac_externs *ext, __u32 size, int sec)
{
	char name[AYAC_OBJ_NAME_LEN];
	size_t pfx = strlen(obj->name);
	struct ayac_map *map;

	/* libbpf's name: as much of the object's name as fits before ".kconfig". */
	if (pfx > AYAC_OBJ_NAME_LEN - 1 - strlen(KCONFIG_SEC))
		pfx = AYAC_OBJ_NAME_LEN - 1 - strlen(KCONFIG_SEC);
	snprintf(name, sizeof(name), "%.*s%s", (int)pfx, obj->name, KCONFIG_SEC);
	map = ayac_map_new(obj, name);
	if (!map)
		return -ENOMEM;
	ext->kconfig = map;
	map->kind = AYAC_MAP_KCONFIG;
	map->sec_idx = 0; /* no ELF section behind it */
	map->def.type = BPF_MAP_TYPE_ARRAY;
	map->def.key_size = sizeof(__u32);
	map->def.value_size = size;
	map->def.max_entries = 1;
	map->btf_value_type_id = (__u32)sec;
	map->data = ayac_calloc(1, size);
	return map->data ? 0 : -ENOMEM;
}

/* .kconfig variables read like globals (obj:global("CONFIG_HZ") after load). */
static int add_kconfig_globals(struct ayac_elf *elf, struct ayac_externs *ext)
{
	size_t i;

	for (i = 0; i < ext->n; i++) {
		const struct ayac_extern *e = &ext->v[i];
		struct ayac_elf_global *g;

		if (e->kind != AYAC_EXT_KCONFIG)
			continue;
		if (elf->nr_globals >= elf->nsyms)
			return ayac_seterr(AYAC_EBADELF, "more globals than symbols");
		g = &elf->globals[elf->nr_globals++];
		g->name = e->name;
		g->sec_idx = 0;
		g->offset = e->data_off;
		g->size = e->size;
		g->btf_type_id = e->type_id;
		g->map = ext->kconfig;
	}
	return 0;
}

static int read_externs(struct ayac_obj *obj, struct ayac_elf *elf, struct ayac_externs *ext)
{
	int kcfg_sec, ksym_sec, err;
	__u32 total = 0;

	if ((err = collect(obj, elf, ext)) || !obj->btf)
		return err;
	kcfg_sec = datasec_id(obj->btf, KCONFIG_SEC);
	ksym_sec = datasec_id(obj->btf, KSYMS_SEC);
	if (kcfg_sec) {
		if ((err = layout_kconfig(ext, &total)) ||
		    (err = fixup_kconfig_btf(obj->btf, ext, kcfg_sec, total)))
			return err;
		if (total && ((err = add_kconfig_map(obj, ext, total, kcfg_sec)) ||
			      (err = add_kconfig_globals(elf, ext))))
			return err;
	}
	if (ksym_sec && (err = fixup_ksyms_btf(obj->btf, ksym_sec)))
		return err;
	return 0;
}

int ayac_elf_read_externs(struct ayac_obj *obj, struct ayac_elf *elf)
{
	struct ayac_externs *ext = ayac_calloc(1, sizeof(*ext));
	int err;

	if (!ext)
		return -ENOMEM;
	obj->externs = ext;
	if ((err = read_externs(obj, elf, ext)))
		return err;
	if (ext->n == 0 && !ext->kconfig) {
		ayac_externs_free(ext);
		obj->externs = NULL;
	}
	return 0;
}

void ayac_externs_free(struct ayac_externs *ext)
{
	if (!ext)
		return;
	free(ext->v);
	free(ext->fd_array);
	free(ext);
}
