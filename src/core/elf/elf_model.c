/* The records the ELF reader builds: a program or map of the object model, in memory
 * only. They live here, below the object model, so that reading an object never calls
 * up into the code that talks to the kernel. */
#include <stdlib.h>

#include "elf.h"

struct ayac_prog *ayac_prog_new(struct ayac_obj *obj, const char *name, const char *sec_name)
{
	struct ayac_prog *prog = ayac_calloc(1, sizeof(*prog));

	if (!prog)
		return NULL;
	/* "?name": not loaded unless asked for; the definition is the rest's (as
	 * libbpf). The name is kept whole: .BTF.ext records go by it. */
	prog->autoload = sec_name[0] != '?';
	prog->obj = obj;
	prog->fd = -1;
	prog->attach_prog_fd = -1;
	prog->name = ayac_strdup(name);
	prog->sec_name = ayac_strdup(sec_name);
	if (!prog->name || !prog->sec_name) {
		free(prog->name);
		free(prog->sec_name);
		free(prog);
		return NULL;
	}
	prog->sec_def = ayac_sec_def_find(sec_name + (sec_name[0] == '?'));
	if (prog->sec_def) {
		prog->type = prog->sec_def->prog_type;
		prog->attach_type = prog->sec_def->attach_type;
		if (prog->sec_def->flags & AYAC_SEC_SLEEPABLE)
			prog->prog_flags |= BPF_F_SLEEPABLE;
		if (prog->sec_def->flags & AYAC_SEC_XDP_FRAGS)
			prog->prog_flags |= BPF_F_XDP_HAS_FRAGS;
	}
	return prog;
}

struct ayac_map *ayac_map_new(struct ayac_obj *obj, const char *name)
{
	struct ayac_map **maps, *map = ayac_calloc(1, sizeof(*map));

	if (!map)
		return NULL;
	map->fd = -1;
	map->obj = obj;
	map->name = ayac_strdup(name);
	if (!map->name)
		goto fail;
	map->def.name = map->name;
	if (obj) {
		maps = ayac_reallocarray(obj->maps, obj->nr_maps + 1, sizeof(*maps));
		if (!maps)
			goto fail;
		obj->maps = maps;
		obj->maps[obj->nr_maps++] = map;
	}
	return map;
fail:
	free(map->name);
	free(map);
	return NULL;
}
