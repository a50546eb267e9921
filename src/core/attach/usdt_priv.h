/* attach/usdt*.c: USDT attach (usdt.c) and libbpf's spec maps (usdt_spec.c). */
#ifndef AYAC_ATTACH_USDT_PRIV_H
#define AYAC_ATTACH_USDT_PRIV_H

#include "attach.h"
#include "elf/usdt.h"

/* The object's spec id bookkeeping (obj->usdt), created on first use from the layout
 * of specs' value type; NULL with the error set when the layout is not libbpf's. */
struct ayac_usdt_ids *usdt_ids_get(struct ayac_obj *obj, const struct ayac_map *specs);
size_t usdt_spec_size(const struct ayac_usdt_ids *ids);
/* Bytes of one spec value (usdt_spec_size bytes at out). */
int usdt_spec_encode(const struct ayac_usdt_ids *ids, const struct ayac_usdt_arg *args,
		     int cnt, __u64 cookie, unsigned char *out);
/* An id holding this spec: an existing one with the same bytes, or a new one (*fresh:
 * the caller writes the spec map). Negative error when all are taken. */
int usdt_id_get(struct ayac_usdt_ids *ids, const unsigned char *spec, bool *fresh);
void usdt_id_put(struct ayac_usdt_ids *ids, int id);

#endif
