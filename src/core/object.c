/* The object's life: open (parse, nothing in the kernel), load (maps, relocation,
 * programs; all or nothing), close (kernel resources released, handles still valid)
 * and free. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "elf/elf.h"
#include "elf/elf_externs.h"
#include "relo/relo.h"
#include "features/features.h"

static char *default_name(const char *path)
{
	const char *base = strrchr(path, '/');
	char *name;
	size_t len;

	base = base ? base + 1 : path;
	len = strlen(base);
	if (len > 6 && strcmp(base + len - 6, ".bpf.o") == 0)
		len -= 6;
	else if (len > 2 && strcmp(base + len - 2, ".o") == 0)
		len -= 2;
	name = strndup(base, len);
	if (!name)
		ayac_seterr(ENOMEM, "out of memory");
	return name;
}

static struct ayac_obj *obj_new(const char *name, const struct ayac_open_opts *opts)
{
	struct ayac_obj *obj = ayac_calloc(1, sizeof(*obj));

	if (!obj)
		return NULL;
	if (opts)
		obj->opts = *opts;
	obj->opts.name = obj->opts.btf_path = obj->opts.pin_root = NULL;
	obj->name = opts && opts->name ? ayac_strdup(opts->name) : ayac_strdup(name);
	obj->btf_path = opts && opts->btf_path ? ayac_strdup(opts->btf_path) : NULL;
	obj->pin_root = opts && opts->pin_root ? ayac_strdup(opts->pin_root) : NULL;
	if (!obj->name || (opts && opts->btf_path && !obj->btf_path) ||
	    (opts && opts->pin_root && !obj->pin_root)) {
		ayac_obj_free(obj);
		return NULL;
	}
	obj->opts.name = obj->name;
	obj->opts.btf_path = obj->btf_path;
	obj->opts.pin_root = obj->pin_root;
	return obj;
}

struct ayac_obj *ayac_obj_open_mem(const void *buf, size_t size, const char *name,
				   const struct ayac_open_opts *opts)
{
	struct ayac_obj *obj = obj_new(name ? name : "obj", opts);

	if (!obj)
		return NULL;
	if (ayac_elf_open(obj, buf, size)) {
		ayac_errctx("open object '%s'", obj->name);
		ayac_obj_free(obj);
		return NULL;
	}
	return obj;
}

/* The header is checked before the size, and the size before anything is mapped: a
 * file that is not a BPF object, or is too large to be one, costs one read of 64 bytes. */
struct ayac_obj *ayac_obj_open_file(const char *path, const struct ayac_open_opts *opts)
{
	struct ayac_obj *obj = NULL;
	struct ayac_file f;
	char *name = default_name(path);
	size_t size;
	bool mapped;
	void *buf;

	if (!name)
		return NULL;
	if (ayac_file_open(&f, path))
		goto out;
	if (ayac_elf_check_ident(f.head, f.head_len)) {
		ayac_errctx("open '%s'", path);
		goto out;
	}
	if (ayac_file_map(&f, AYAC_OBJ_MAX_SIZE, "a BPF object"))
		goto out;
	obj = obj_new(name, opts);
	if (!obj)
		goto out;
	buf = ayac_file_take(&f, &size, &mapped);
	if (ayac_elf_open_owned(obj, buf, size, mapped)) {
		ayac_errctx("open '%s'", path);
		ayac_obj_free(obj);
		obj = NULL;
	}
out:
	ayac_file_close(&f);
	free(name);
	return obj;
}

/* allow_unsupported_maps (as Aya's): a map whose type this kernel lacks is left
 * uncreated; a program that uses it fails to load naming it (reloc.c). */
static int load_maps(struct ayac_obj *obj)
{
	size_t i;
	int err;

	for (i = 0; i < obj->nr_maps; i++) {
		struct ayac_map *map = obj->maps[i];

		if (map->no_create)
			continue;
		err = ayac_map_create_in_kernel(map);
		if (err && obj->opts.allow_unsupported_maps &&
		    ayac_feature_map_type(map->def.type) == 0)
			continue;
		if (err)
			return err;
	}
	return 0;
}

static int load_progs(struct ayac_obj *obj)
{
	size_t i;
	int err;

	for (i = 0; i < obj->nr_progs; i++)
		if (obj->progs[i]->autoload && (err = ayac_prog_load_in_kernel(obj->progs[i])))
			return err;
	return 0;
}

static void release_kernel(struct ayac_obj *obj)
{
	size_t i;

	ayac_links_release_obj(obj);
	for (i = 0; i < obj->nr_all_progs; i++)
		ayac_prog_close(obj->progs[i]);
	for (i = 0; i < obj->nr_maps; i++)
		ayac_map_close(obj->maps[i]);
	if (obj->btf)
		ayac_btf_close_fd(obj->btf);
}

/* btf = path names a file the caller wants used: one that is missing or is not BTF is
 * an error even when nothing needs it (an object without CO-RE relocations). */
static int check_btf_path(const struct ayac_obj *obj)
{
	if (obj->btf_path && ayac_btf_file_check(obj->btf_path))
		return ayac_errctx("target BTF (btf = '%s')", obj->btf_path);
	return 0;
}

int ayac_obj_load(struct ayac_obj *obj)
{
	int err;

	if (obj->state != AYAC_OBJ_OPENED)
		return ayac_seterr(EBUSY, "object '%s' is already %s", obj->name,
				   obj->state == AYAC_OBJ_LOADED ? "loaded" : "closed");
	ayac_feature_memlock(); /* kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK */
	ayac_self_pid(); /* asked now, so that attaching makes no getpid() a program sees */
	/* BTF the kernel refuses costs maps their key/value types and programs their
	 * line info, not the load itself (libbpf behaves the same way). */
	if (obj->btf && (ayac_btf_sanitize(obj) || ayac_btf_fd(obj->btf) < 0))
		obj->btf_load_error = ayac_strdup(ayac_errmsg());
	err = check_btf_path(obj);
	if (!err)
		err = ayac_externs_resolve(obj);
	if (!err)
		err = ayac_struct_ops_prepare(obj);
	if (!err)
		err = load_maps(obj);
	if (!err)
		err = ayac_obj_relocate(obj);
	if (!err)
		err = load_progs(obj);
	if (!err)
		err = ayac_maps_fill_slots(obj);
	if (err) {
		ayac_errctx("load object '%s'", obj->name);
		release_kernel(obj);
		return err;
	}
	obj->state = AYAC_OBJ_LOADED;
	return 0;
}

void ayac_obj_close(struct ayac_obj *obj)
{
	if (!obj || obj->state == AYAC_OBJ_CLOSED)
		return;
	release_kernel(obj);
	obj->state = AYAC_OBJ_CLOSED;
}

void ayac_obj_free(struct ayac_obj *obj)
{
	size_t i;

	if (!obj)
		return;
	ayac_obj_close(obj);
	for (i = 0; i < obj->nr_all_progs; i++)
		ayac_prog_destroy(obj->progs[i]);
	for (i = 0; i < obj->nr_maps; i++)
		ayac_map_destroy(obj->maps[i]);
	free(obj->progs);
	free(obj->maps);
	ayac_btf_ext_free(obj->btf_ext);
	ayac_core_obj_free(obj);
	ayac_externs_free(obj->externs);
	ayac_btf_free(obj->btf);
	ayac_elf_free(obj->elf);
	free(obj->btf_load_error);
	free(obj->usdt);
	free(obj->btf_path);
	free(obj->pin_root);
	free(obj->name);
	free(obj);
}

int ayac_obj_btf_fd(struct ayac_obj *obj)
{
	if (!obj || !obj->btf || obj->btf_load_error)
		return -1;
	return ayac_btf_fd(obj->btf);
}

const char *ayac_obj_name(const struct ayac_obj *obj) { return obj->name; }
enum ayac_obj_state ayac_obj_state(const struct ayac_obj *obj) { return obj->state; }
struct ayac_btf *ayac_obj_btf(const struct ayac_obj *obj) { return obj->btf; }
size_t ayac_obj_prog_cnt(const struct ayac_obj *obj) { return obj->nr_progs; }
size_t ayac_obj_map_cnt(const struct ayac_obj *obj) { return obj->nr_maps; }

struct ayac_prog *ayac_obj_prog_at(const struct ayac_obj *obj, size_t i)
{
	return i < obj->nr_progs ? obj->progs[i] : NULL;
}

struct ayac_map *ayac_obj_map_at(const struct ayac_obj *obj, size_t i)
{
	return i < obj->nr_maps ? obj->maps[i] : NULL;
}

struct ayac_prog *ayac_obj_prog_by_name(const struct ayac_obj *obj, const char *name)
{
	size_t i;

	for (i = 0; i < obj->nr_progs; i++)
		if (strcmp(obj->progs[i]->name, name) == 0)
			return obj->progs[i];
	ayac_seterr(ENOENT, "object '%s' has no program '%s'", obj->name, name);
	return NULL;
}

struct ayac_map *ayac_obj_map_by_name(const struct ayac_obj *obj, const char *name)
{
	size_t i;

	for (i = 0; i < obj->nr_maps; i++)
		if (strcmp(obj->maps[i]->name, name) == 0)
			return obj->maps[i];
	/* Data maps also answer to their section name (".rodata"), as in Aya. */
	for (i = 0; i < obj->nr_maps; i++) {
		const struct ayac_map *m = obj->maps[i];
		const char *sec = m->kind == AYAC_MAP_KCONFIG ? ".kconfig" :
				  obj->elf ? obj->elf->secs[m->sec_idx].name : NULL;
		if (m->kind != AYAC_MAP_USER && sec && strcmp(sec, name) == 0)
			return obj->maps[i];
	}
	ayac_seterr(ENOENT, "object '%s' has no map '%s'", obj->name, name);
	return NULL;
}
