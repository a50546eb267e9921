/* TEMPORARY weak placeholders so the tree links while the core is being written.
 * Each real definition overrides its placeholder; delete yours when you implement it. */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <errno.h>
#include "internal.h"

__attribute__((weak)) struct ayac_obj * ayac_obj_open_file(const char *a0, const struct ayac_open_opts *a1) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) struct ayac_obj * ayac_obj_open_mem(const void *a0, size_t a1, const char *a2, const struct ayac_open_opts *a3) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) int ayac_obj_load(struct ayac_obj *a0) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) void ayac_obj_close(struct ayac_obj *a0) {  }
__attribute__((weak)) void ayac_obj_free(struct ayac_obj *a0) {  }
__attribute__((weak)) const char * ayac_obj_name(const struct ayac_obj *a0) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) enum ayac_obj_state ayac_obj_state(const struct ayac_obj *a0) { return 0; }
__attribute__((weak)) struct ayac_btf * ayac_obj_btf(const struct ayac_obj *a0) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) size_t ayac_obj_prog_cnt(const struct ayac_obj *a0) { return 0; }
__attribute__((weak)) struct ayac_prog * ayac_obj_prog_at(const struct ayac_obj *a0, size_t a1) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) struct ayac_prog * ayac_obj_prog_by_name(const struct ayac_obj *a0, const char *a1) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) size_t ayac_obj_map_cnt(const struct ayac_obj *a0) { return 0; }
__attribute__((weak)) struct ayac_map * ayac_obj_map_at(const struct ayac_obj *a0, size_t a1) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) struct ayac_map * ayac_obj_map_by_name(const struct ayac_obj *a0, const char *a1) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) int ayac_obj_find_global(const struct ayac_obj *a0, const char *a1, struct ayac_global *a2) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) const char * ayac_prog_name(const struct ayac_prog *a0) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) const char * ayac_prog_section(const struct ayac_prog *a0) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) struct ayac_obj * ayac_prog_obj(const struct ayac_prog *a0) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) enum bpf_prog_type ayac_prog_type(const struct ayac_prog *a0) { return 0; }
__attribute__((weak)) enum bpf_attach_type ayac_prog_attach_type(const struct ayac_prog *a0) { return 0; }
__attribute__((weak)) int ayac_prog_fd(const struct ayac_prog *a0) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) const char * ayac_prog_log(const struct ayac_prog *a0) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) _Bool ayac_prog_autoload(const struct ayac_prog *a0) { return 0; }
__attribute__((weak)) int ayac_prog_set_autoload(struct ayac_prog *a0, _Bool a1) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) int ayac_prog_set_type(struct ayac_prog *a0, enum bpf_prog_type a1, enum bpf_attach_type a2) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) int ayac_prog_set_log_level(struct ayac_prog *a0, __u32 a1) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) int ayac_prog_pin(struct ayac_prog *a0, const char *a1) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) int ayac_prog_unpin(struct ayac_prog *a0, const char *a1) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) int ayac_prog_test_run(struct ayac_prog *a0, struct ayac_test_run *a1) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) const char * ayac_prog_type_name(enum bpf_prog_type a0) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) int ayac_prog_type_by_name(const char *a0) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) const char * ayac_attach_type_name(enum bpf_attach_type a0) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) int ayac_attach_type_by_name(const char *a0) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) const char * ayac_map_name(const struct ayac_map *a0) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) struct ayac_obj * ayac_map_obj(const struct ayac_map *a0) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) const struct ayac_map_def * ayac_map_def(const struct ayac_map *a0) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) int ayac_map_fd(const struct ayac_map *a0) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) struct ayac_btf * ayac_map_btf(const struct ayac_map *a0) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) __u32 ayac_map_btf_key_type_id(const struct ayac_map *a0) { return 0; }
__attribute__((weak)) __u32 ayac_map_btf_value_type_id(const struct ayac_map *a0) { return 0; }
__attribute__((weak)) _Bool ayac_map_is_percpu(const struct ayac_map *a0) { return 0; }
__attribute__((weak)) size_t ayac_map_value_buf_size(const struct ayac_map *a0) { return 0; }
__attribute__((weak)) int ayac_map_set_max_entries(struct ayac_map *a0, __u32 a1) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) void * ayac_map_data(struct ayac_map *a0, size_t *a1, _Bool *a2) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) int ayac_map_lookup(const struct ayac_map *a0, const void *a1, void *a2) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) int ayac_map_update(const struct ayac_map *a0, const void *a1, const void *a2, __u64 a3) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) int ayac_map_delete(const struct ayac_map *a0, const void *a1) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) int ayac_map_next_key(const struct ayac_map *a0, const void *a1, void *a2) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) int ayac_map_pin(struct ayac_map *a0, const char *a1) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) int ayac_map_unpin(struct ayac_map *a0, const char *a1) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) int ayac_map_freeze(struct ayac_map *a0) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) struct ayac_map * ayac_map_create(const struct ayac_map_def *a0) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) struct ayac_map * ayac_map_from_pin(const char *a0) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) struct ayac_map * ayac_map_from_id(__u32 a0) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) void ayac_map_free(struct ayac_map *a0) {  }
__attribute__((weak)) const char * ayac_map_type_name(enum bpf_map_type a0) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) int ayac_map_type_by_name(const char *a0) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) int ayac_num_possible_cpus(void) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) const struct ayac_sec_def * ayac_sec_def_find(const char *a0) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) int ayac_elf_open(struct ayac_obj *a0, const void *a1, size_t a2) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) void ayac_elf_free(struct ayac_elf *a0) {  }
__attribute__((weak)) int ayac_obj_relocate(struct ayac_obj *a0) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) struct ayac_map * ayac_map_new(struct ayac_obj *a0, const char *a1) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) int ayac_map_create_in_kernel(struct ayac_map *a0) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) void ayac_map_close(struct ayac_map *a0) {  }
__attribute__((weak)) void ayac_map_destroy(struct ayac_map *a0) {  }
__attribute__((weak)) struct ayac_prog * ayac_prog_new(struct ayac_obj *a0, const char *a1, const char *a2) { ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); return 0; }
__attribute__((weak)) int ayac_prog_load_in_kernel(struct ayac_prog *a0) { return ayac_seterr(ENOSYS, "%s: not implemented yet", __func__); }
__attribute__((weak)) void ayac_prog_close(struct ayac_prog *a0) {  }
__attribute__((weak)) void ayac_prog_destroy(struct ayac_prog *a0) {  }
