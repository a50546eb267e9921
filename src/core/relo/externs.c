/* Extern symbols at load: resolving them against the running kernel, then patching the
 * instructions that refer to them (as libbpf's bpf_object__resolve_externs and the
 * RELO_EXTERN_* relocations do).
 *
 *   .kconfig variable   ld_imm64 → BPF_PSEUDO_MAP_VALUE into the .kconfig map
 *   typed __ksym        ld_imm64 → BPF_PSEUDO_BTF_ID: the VAR's id in vmlinux (or a
 *                       module's BTF, whose fd goes in the second half)
 *   typeless __ksym     ld_imm64 of the address in /proc/kallsyms
 *   kfunc call          call → BPF_PSEUDO_KFUNC_CALL: imm the FUNC's BTF id, off the
 *                       module BTF's index in the program's fd_array (0: vmlinux)
 *   kfunc address       ld_imm64 → BPF_PSEUDO_BTF_ID of the FUNC (bpf_ksym_exists)
 *
 * A __weak extern the kernel lacks resolves to 0 (variables, addresses); a call to a
 * missing weak kfunc becomes an invalid helper call (imm = AYAC_POISON_KFUNC + extern
 * index) that the verifier only refuses if it can reach it, as libbpf does. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "relo.h"
#include "externs.h"

/* libbpf's POISON_CALL_KFUNC_BASE: the verifier reports "invalid func unknown#2002000xxx". */
#define AYAC_POISON_KFUNC 2002000000
#define COMPAT_DEPTH 32


/* "bpf_foo___v2" is looked up as "bpf_foo" (libbpf's flavors: "x___y", x and y not '_'). */
static size_t essential_len(const char *name)
{
	size_t n = strlen(name), i;

	for (i = n >= 5 ? n - 5 + 1 : 0; i-- > 0;)
		if (name[i] != '_' && strncmp(name + i + 1, "___", 3) == 0 && name[i + 4] != '_')
			return i + 1;
	return n;
}

static const struct btf_type *skip(const struct ayac_btf *btf, __u32 id, __u32 *out)
{
	static const struct btf_type void_type;

	*out = ayac_btf_skip_mods(btf, id);
	return *out ? ayac_btf_type(btf, *out) : &void_type;
}

static bool kinds_compat(const struct btf_type *a, const struct btf_type *b)
{
	__u16 ka = btf_kind_of(a), kb = btf_kind_of(b);

	if (ka == kb)
		return true;
	return (ka == BTF_KIND_ENUM || ka == BTF_KIND_ENUM64) &&
	       (kb == BTF_KIND_ENUM || kb == BTF_KIND_ENUM64);
}

/* libbpf's bpf_core_types_are_compat: the same kinds along pointers, arrays and
 * prototypes (same parameter count), any struct/union/enum/fwd of that kind, integers
 * of any size. 1 compatible, 0 not, -1 too deep. */
static int types_compat(const struct ayac_btf *lb, __u32 lid, const struct ayac_btf *tb,
			__u32 tid, int depth)
{
	const struct btf_type *l, *t;
	size_t i;
	int r;

	for (;;) {
		if (--depth < 0)
			return -1;
		l = skip(lb, lid, &lid);
		t = skip(tb, tid, &tid);
		if (!l || !t)
			return -1;
		if (!kinds_compat(l, t))
			return 0;
		switch (btf_kind_of(l)) {
		case BTF_KIND_INT:
			return !BTF_INT_OFFSET(btf_int_encoding_of(l)) &&
			       !BTF_INT_OFFSET(btf_int_encoding_of(t));
		case BTF_KIND_PTR:
			lid = l->type;
			tid = t->type;
			continue;
		case BTF_KIND_ARRAY:
			lid = btf_array_of(l)->type;
			tid = btf_array_of(t)->type;
			continue;
		case BTF_KIND_FUNC_PROTO:
			if (btf_vlen_of(l) != btf_vlen_of(t))
				return 0;
			for (i = 0; i < btf_vlen_of(l); i++) {
				r = types_compat(lb, btf_params_of(l)[i].type, tb,
						 btf_params_of(t)[i].type, depth);
				if (r <= 0)
					return r;
			}
			lid = l->type; /* then the return types */
			tid = t->type;
			continue;
		case BTF_KIND_UNKN: case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		case BTF_KIND_ENUM: case BTF_KIND_ENUM64: case BTF_KIND_FWD:
			return 1;
		default:
			return 0;
		}
	}
}

/* name in a kernel module's own BTF (modules are split BTF over vmlinux): only when
 * vmlinux lacks it, as the module BTFs are read on first need. With btf = path or
 * btf = false the object's targets are not the kernel's, so only vmlinux is searched. */
static int module_btf_find(struct ayac_obj *obj, const char *name, int kind,
			   const struct ayac_btf **btf, int *fd)
{
	const struct ayac_btf_target *t;
	size_t n, i;
	int id;

	if (obj->opts.no_btf || obj->btf_path)
		return -ENOENT;
	if (ayac_btf_targets(obj, &t, &n))
		return -ayac_errnum();
	for (i = 0; i < n; i++) {
		if (!t[i].module || t[i].kernel_fd < 0)
			continue;
		id = ayac_btf_find(t[i].btf, name, kind);
		if (id > 0 && (__u32)id >= ayac_btf_type_cnt(ayac_btf_vmlinux())) {
			*btf = t[i].btf;
			*fd = t[i].kernel_fd;
			return id;
		}
	}
	return -ENOENT;
}

/* The BTF of kind `kind` named name[0..len) in the kernel: vmlinux first, then module
 * BTFs. *fd: 0 for vmlinux, the module BTF's fd otherwise. -ENOENT when absent. */
static int kernel_btf_find(struct ayac_obj *obj, const char *name, size_t len, int kind,
			   const struct ayac_btf **btf, int *fd)
{
	char buf[256];
	int id;

	if (len >= sizeof(buf))
		return -ENOENT;
	memcpy(buf, name, len);
	buf[len] = '\0';
	*btf = ayac_btf_vmlinux();
	if (!*btf)
		return ayac_errctx("kernel BTF for extern '%s'", name);
	*fd = 0;
	id = ayac_btf_find(*btf, buf, kind);
	if (id > 0)
		return id;
	id = module_btf_find(obj, buf, kind, btf, fd);
	if (id < 0 && id != -ENOENT)
		return ayac_errctx("kernel module BTF for extern '%s'", name);
	return id;
}

static const char *kind_word(const struct ayac_extern *e)
{
	return e->kind == AYAC_EXT_KFUNC ? "kfunc" : "__ksym";
}

/* A typed ksym or a kfunc: its id in kernel BTF, its prototype/type checked. */
static int resolve_btf(struct ayac_obj *obj, struct ayac_extern *e)
{
	bool func = e->kind == AYAC_EXT_KFUNC;
	const struct ayac_btf *kbtf;
	const struct btf_type *kt;
	int fd, id, r;

	id = kernel_btf_find(obj, e->name, func ? essential_len(e->name) : strlen(e->name),
			     func ? BTF_KIND_FUNC : BTF_KIND_VAR, &kbtf, &fd);
	if (id == -ENOENT && e->weak)
		return 0;
	if (id == -ENOENT)
		return ayac_seterr(ENOENT, "extern '%s' (%s): the kernel has no %s of that name in "
				   "its BTF (declare it __weak if it is optional)", e->name,
				   kind_word(e), func ? "function" : "variable");
	if (id < 0)
		return id;
	kt = ayac_btf_type(kbtf, (__u32)id);
	r = types_compat(obj->btf, e->type_id, kbtf, kt->type, COMPAT_DEPTH);
	if (r <= 0 && e->weak && func)
		return 0;
	if (r <= 0)
		return ayac_seterr(EINVAL, "extern '%s' (%s): its %s does not match the kernel's "
				   "(BTF [%u] in the object, [%d] in the kernel)", e->name,
				   kind_word(e), func ? "prototype" : "type", e->type_id, id);
	e->is_set = true;
	e->kernel_btf_id = (__u32)id;
	e->kernel_btf_fd = fd;
	return 0;
}

/* A kfunc in a module: its BTF fd gets a slot in fd_array (never slot 0, which the
 * kernel reads as vmlinux). */
static int add_fd_slot(struct ayac_externs *ext, struct ayac_extern *e)
{
	__u32 i;
	int *v;

	if (e->kind != AYAC_EXT_KFUNC || !e->is_set || !e->kernel_btf_fd)
		return 0;
	for (i = 1; i < ext->fd_array_cnt; i++)
		if (ext->fd_array[i] == e->kernel_btf_fd) {
			e->fd_idx = (__s16)i;
			return 0;
		}
	if (ext->fd_array_cnt >= INT16_MAX)
		return ayac_seterr(E2BIG, "kfunc '%s': too many module BTFs for fd_array", e->name);
	v = ayac_reallocarray(ext->fd_array, ext->fd_array_cnt ? ext->fd_array_cnt + 1 : 2,
			      sizeof(*v));
	if (!v)
		return -ENOMEM;
	ext->fd_array = v;
	if (!ext->fd_array_cnt)
		ext->fd_array[ext->fd_array_cnt++] = 0; /* as libbpf: slot 0 is never read */
	ext->fd_array[ext->fd_array_cnt] = e->kernel_btf_fd;
	e->fd_idx = (__s16)ext->fd_array_cnt++;
	return 0;
}

static int resolve_typeless(struct ayac_extern *e)
{
	int err = ayac_kallsyms_lookup(e->name, &e->addr);

	if (err == -ENOENT && e->weak)
		return 0;
	if (err == -ENOENT)
		return ayac_seterr(ENOENT, "extern '%s' (__ksym): not in /proc/kallsyms (declare it "
				   "__weak if it is optional)", e->name);
	if (err)
		return ayac_errctx("extern '%s' (__ksym)", e->name);
	if (!e->addr && !e->weak)
		return ayac_seterr(EPERM, "extern '%s' (__ksym): /proc/kallsyms shows address 0 "
				   "(kernel.kptr_restrict; run as root)", e->name);
	e->is_set = true;
	return 0;
}

static int resolve_one(struct ayac_obj *obj, struct ayac_extern *e)
{
	e->is_set = false;
	e->addr = 0;
	e->kernel_btf_id = 0;
	e->kernel_btf_fd = 0;
	e->fd_idx = 0;
	if (e->kind == AYAC_EXT_KCONFIG)
		return 0;
	if (e->kind == AYAC_EXT_KSYM && !e->type_id)
		return resolve_typeless(e);
	return resolve_btf(obj, e);
}

int ayac_externs_resolve(struct ayac_obj *obj)
{
	struct ayac_externs *ext = obj->externs;
	size_t i;
	int err;

	if (!ext)
		return 0;
	ext->fd_array_cnt = 0;
	if ((err = ayac_kconfig_fill(ext)))
		return err;
	for (i = 0; i < ext->n; i++) {
		if ((err = resolve_one(obj, &ext->v[i])) || (err = add_fd_slot(ext, &ext->v[i])))
			return err;
	}
	return 0;
}

static struct ayac_extern *extern_of(struct ayac_externs *ext, int sym_idx, size_t *idx)
{
	size_t i;

	for (i = 0; ext && i < ext->n; i++)
		if (ext->v[i].sym_idx == sym_idx) {
			*idx = i;
			return &ext->v[i];
		}
	return NULL;
}

static void set_ldimm64(struct bpf_insn *insn, __u8 src_reg, __u64 lo, __u64 hi)
{
	insn[0].src_reg = src_reg;
	insn[0].imm = (__s32)(__u32)lo;
	insn[1].imm = (__s32)(__u32)hi;
}

static int relocate_ldimm64(struct ayac_obj *obj, struct ayac_prog *main, struct bpf_insn *insn,
			    const struct ayac_extern *e)
{
	struct ayac_map *kc = obj->externs->kconfig;

	if (e->kind == AYAC_EXT_KCONFIG) {
		if (!kc || kc->fd < 0)
			return ayac_seterr(EINVAL, "program '%s': extern '%s': the .kconfig map was "
					   "not created", main->name, e->name);
		/* clang leaves any addend (&CONFIG_X[2]) in imm, as for globals */
		set_ldimm64(insn, BPF_PSEUDO_MAP_VALUE, (__u32)kc->fd,
			    (__u32)((__s64)e->data_off + insn[0].imm));
	} else if (e->is_set && (e->kind == AYAC_EXT_KFUNC || e->type_id)) {
		set_ldimm64(insn, BPF_PSEUDO_BTF_ID, e->kernel_btf_id, (__u32)e->kernel_btf_fd);
	} else {
		/* typeless ksym, or a weak one the kernel lacks: the address (0) */
		set_ldimm64(insn, 0, e->addr & 0xffffffffu, e->addr >> 32);
	}
	return 0;
}

static int relocate_call(struct ayac_prog *main, struct bpf_insn *insn, const struct ayac_extern *e,
			 size_t idx)
{
	if (e->kind != AYAC_EXT_KFUNC)
		return ayac_seterr(EINVAL, "program '%s': call to extern '%s', which is a variable",
				   main->name, e->name);
	if (!e->is_set) {
		/* a missing weak kfunc: an invalid helper call, refused only if reachable */
		insn->dst_reg = 0;
		insn->src_reg = 0;
		insn->off = 0;
		insn->imm = (__s32)(AYAC_POISON_KFUNC + idx);
		return 0;
	}
	insn->src_reg = BPF_PSEUDO_KFUNC_CALL;
	insn->imm = (__s32)e->kernel_btf_id;
	insn->off = e->fd_idx;
	return 0;
}

int ayac_extern_relocate(struct ayac_obj *obj, struct ayac_prog *main, struct bpf_insn *insn,
			 const struct ayac_reloc *r)
{
	struct ayac_externs *ext = obj->externs;
	const struct ayac_extern *e;
	size_t idx = 0;
	int err;

	e = extern_of(ext, r->sym_idx, &idx);
	if (!e)
		return ayac_seterr(AYAC_EBADELF, "program '%s': relocation against symbol #%d, "
				   "which is no __kconfig or __ksym extern", main->name, r->sym_idx);
	if (insn->code == (BPF_JMP | BPF_CALL))
		err = relocate_call(main, insn, e, idx);
	else
		err = relocate_ldimm64(obj, main, insn, e);
	if (err)
		return err;
	if (e->fd_idx && ext->fd_array_cnt) {
		main->fd_array = ext->fd_array;
		main->fd_array_cnt = ext->fd_array_cnt;
	}
	return 0;
}
