/* struct_ops maps at load: the kernel's types for each (struct <tname> and the value
 * type struct bpf_struct_ops_<tname> in vmlinux BTF), the value's size, and for each
 * program in a function-pointer member the attach ids the verifier wants: the
 * kernel struct (attach_btf_id) and the member's index in it (expected_attach_type).
 * Programs of struct_ops sections that no created map uses are not loaded: the
 * kernel would refuse them without a member to check them against. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

void ayac_st_ops_free(struct ayac_st_ops *st)
{
	if (!st)
		return;
	free(st->data);
	free(st->progs);
	free(st->tname);
	free(st);
}

static int kern_member(const struct ayac_btf *btf, __u32 type_id, const char *name,
		       __u32 *bit_off)
{
	const struct btf_type *t = ayac_btf_type(btf, type_id);
	const struct btf_member *m = t ? btf_members_of(t) : NULL;
	__u16 i;

	for (i = 0; t && i < btf_vlen_of(t); i++, m++) {
		const char *n = ayac_btf_str(btf, m->name_off);
		if (n && !strcmp(n, name)) {
			if (bit_off)
				*bit_off = btf_kflag_of(t) ? BTF_MEMBER_BIT_OFFSET(m->offset) : m->offset;
			return i;
		}
	}
	return -ENOENT;
}

static int resolve_types(struct ayac_map *map, const struct ayac_btf *vmlinux)
{
	struct ayac_st_ops *so = map->st_ops;
	char vname[256];
	int kid, vid;
	__u32 off;

	kid = ayac_btf_find(vmlinux, so->tname, BTF_KIND_STRUCT);
	if (kid <= 0)
		return ayac_seterr(ENOENT, "struct_ops '%s': this kernel has no struct %s",
				   map->name, so->tname);
	snprintf(vname, sizeof(vname), "bpf_struct_ops_%s", so->tname);
	vid = ayac_btf_find(vmlinux, vname, BTF_KIND_STRUCT);
	if (vid <= 0 || kern_member(vmlinux, (__u32)vid, "data", &off) < 0 || off % 8)
		return ayac_seterr(EOPNOTSUPP, "struct_ops '%s': vmlinux has no struct %s: the "
				   "kernel does not take struct %s as struct_ops (types of modules "
				   "are not supported)", map->name, vname, so->tname);
	so->kern_type_id = (__u32)kid;
	so->kern_vtype_id = (__u32)vid;
	so->kern_data_off = off / 8;
	map->def.value_size = ayac_btf_type(vmlinux, (__u32)vid)->size;
	return 0;
}

/* Each program in a member: the kernel struct and that member's index there. */
static int bind_progs(struct ayac_obj *obj, struct ayac_map *map, const struct ayac_btf *vmlinux)
{
	struct ayac_st_ops *so = map->st_ops;
	const struct btf_type *st = ayac_btf_type(obj->btf, so->type_id);
	__u32 i;
	int j;

	for (i = 0; i < so->nr_members; i++) {
		struct ayac_prog *prog = so->progs[i];
		const char *name = ayac_btf_str(obj->btf, btf_members_of(st)[i].name_off);
		if (!prog)
			continue;
		j = kern_member(vmlinux, so->kern_type_id, name ? name : "", NULL);
		if (j < 0)
			return ayac_seterr(ENOENT, "struct_ops '%s': the kernel's struct %s has no "
					   "member '%s' (for program '%s')", map->name, so->tname,
					   name ? name : "?", prog->name);
		if (prog->attach_btf_id && (prog->attach_btf_id != so->kern_type_id ||
					    prog->attach_type != (enum bpf_attach_type)j))
			return ayac_seterr(EINVAL, "program '%s' sits in two struct_ops members of "
					   "different kinds ('%s' of '%s' and another)", prog->name,
					   name, map->name);
		prog->attach_btf_id = so->kern_type_id;
		prog->attach_type = (enum bpf_attach_type)j;
	}
	return 0;
}

int ayac_struct_ops_prepare(struct ayac_obj *obj)
{
	const struct ayac_btf *vmlinux = NULL;
	size_t i;
	int err;

	for (i = 0; i < obj->nr_maps; i++) {
		struct ayac_map *map = obj->maps[i];
		if (!map->st_ops || map->no_create)
			continue;
		if (!vmlinux && !(vmlinux = ayac_btf_vmlinux()))
			return ayac_errctx("struct_ops '%s': vmlinux BTF", map->name);
		if ((err = resolve_types(map, vmlinux)) || (err = bind_progs(obj, map, vmlinux)))
			return err;
	}
	for (i = 0; i < obj->nr_progs; i++) {
		struct ayac_prog *prog = obj->progs[i];
		if (prog->type == BPF_PROG_TYPE_STRUCT_OPS && !prog->attach_btf_id)
			prog->autoload = false;
	}
	return 0;
}
