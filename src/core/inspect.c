/* What an opened object holds, for `ayac inspect` and other tools: license, kernel
 * version, counts from .BTF.ext, externs, and per program and map the facts the rest
 * of the public API does not already give. Reads the parsed object only: nothing here
 * talks to the kernel, so it answers for objects this kernel could never load. */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "elf/elf_externs.h"

static size_t ext_count(const struct ayac_btf_ext_info *info, const char *sec_name)
{
	size_t n = 0;
	__u32 i;

	for (i = 0; i < info->nsecs; i++)
		if (!sec_name || strcmp(info->secs[i].sec_name, sec_name) == 0)
			n += info->secs[i].num;
	return n;
}

int ayac_obj_summary(const struct ayac_obj *obj, struct ayac_obj_summary *out)
{
	memset(out, 0, sizeof(*out));
	out->license = obj->license;
	out->kern_version = obj->kern_version;
	if (obj->btf_ext) {
		out->core_relos = ext_count(&obj->btf_ext->core_relo, NULL);
		out->func_infos = ext_count(&obj->btf_ext->func_info, NULL);
		out->line_infos = ext_count(&obj->btf_ext->line_info, NULL);
	}
	out->externs = obj->externs ? obj->externs->n : 0;
	return 0;
}

int ayac_obj_extern_at(const struct ayac_obj *obj, size_t i, struct ayac_extern_info *out)
{
	static const char *const kinds[] = {
		[AYAC_EXT_KCONFIG] = "kconfig", [AYAC_EXT_KSYM] = "ksym", [AYAC_EXT_KFUNC] = "kfunc",
	};
	const struct ayac_extern *e;

	if (!obj->externs || i >= obj->externs->n)
		return ayac_seterr(ENOENT, "object '%s': no extern #%zu", obj->name, i);
	e = &obj->externs->v[i];
	out->name = e->name;
	out->kind = (size_t)e->kind < sizeof(kinds) / sizeof(kinds[0]) ? kinds[e->kind] : "?";
	out->weak = e->weak;
	out->btf_type_id = e->type_id;
	return 0;
}

size_t ayac_prog_insn_cnt(const struct ayac_prog *prog)
{
	return prog->sec_insn_cnt;
}

size_t ayac_prog_core_relo_cnt(const struct ayac_prog *prog)
{
	const struct ayac_obj *obj = prog->obj;

	if (!obj || !obj->btf_ext)
		return 0;
	return ext_count(&obj->btf_ext->core_relo, prog->sec_name);
}

const char *ayac_prog_attach_target(const struct ayac_prog *prog)
{
	const char *prefix = prog->sec_def ? prog->sec_def->prefix : NULL;
	size_t n = prefix ? strlen(prefix) : 0;

	/* "name+" and "name/" definitions take a target after the slash; a plain "name"
	 * (cgroup/skb, sk_reuseport/migrate) is the whole section, with none. */
	if (!prog->sec_name || !n || (prefix[n - 1] != '+' && prefix[n - 1] != '/'))
		return "";
	return ayac_sec_target(prog->sec_name);
}

__u32 ayac_map_pinning(const struct ayac_map *map)
{
	return map->pinning;
}
