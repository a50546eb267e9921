/* BTF to C: layout. BTF records where each member is, not why; the header must make
 * clang put every member at the same offset and every type at the same size. Natural
 * alignment explains most of it; what it does not is written out:
 *
 * - __attribute__((packed)) when a member sits off its natural alignment, a bitfield
 *   straddles its type's storage unit, or the size is not a multiple of the alignment;
 * - __attribute__((aligned(N))) when the size is its members' rounded up to a larger
 *   power of two than their alignment: the record was declared aligned(N)
 *   (____cacheline_aligned, ...), which globals and arrays of it keep;
 * - unnamed bitfields ("long: 40;") for holes natural alignment would not leave (a
 *   member declared aligned(N), an unnamed bitfield in the source) and for tail padding
 *   nothing else explains. Unnamed bitfields occupy space without raising the record's
 *   alignment, so they never move what follows;
 * - for unions larger than that, an unnamed bitfield or an anonymous struct of them,
 *   which every member overlaps.
 *
 * Alignments here are those of the types as the header declares them for clang's BPF
 * target (pointers and longs 8, __int128 16), not of the original compiler. */
#include <errno.h>

#include "sys/sys.h"
#include "btf_dump_priv.h"

static unsigned record_align(struct btf_dumper *d, __u32 id, const struct btf_type *t);

static unsigned int_align(__u32 size)
{
	/* 1, 2, 4, 8, 16 (validated sizes); anything else by its lowest set bit */
	return size ? (size & -size) : 1;
}

unsigned dump_align_of(struct btf_dumper *d, __u32 id)
{
	int hops;

	for (hops = 0; hops < DUMP_MAX_CHAIN && id; hops++) {
		const struct btf_type *t = dump_type(d, id);

		switch (btf_kind_of(t)) {
		case BTF_KIND_INT: case BTF_KIND_FLOAT: case BTF_KIND_ENUM: case BTF_KIND_ENUM64:
			return int_align(t->size);
		case BTF_KIND_PTR:
			return 8;
		case BTF_KIND_ARRAY:
			id = btf_array_of(t)->type;
			break;
		case BTF_KIND_STRUCT: case BTF_KIND_UNION:
			return record_align(d, id, t);
		case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT: case BTF_KIND_TYPE_TAG:
			id = t->type;
			break;
		default: /* void, fwd, function: never a member's type in valid C */
			return 1;
		}
	}
	return 1;
}

__u64 dump_size_of(const struct btf_dumper *d, __u32 id)
{
	__u64 size = 0;

	if (ayac_btf_resolve_size(d->btf, id, &size) < 0)
		return 0;
	return size;
}

__u32 dump_member_bits(const struct btf_dumper *d, const struct btf_type *t, __u32 i,
		       __u32 *bit_off)
{
	const struct btf_member *m = btf_members_of(t) + i;
	const struct btf_type *mt;
	__u32 enc;

	if (btf_kflag_of(t)) {
		*bit_off = BTF_MEMBER_BIT_OFFSET(m->offset);
		return BTF_MEMBER_BITFIELD_SIZE(m->offset);
	}
	*bit_off = m->offset;
	/* Before kind_flag, a bitfield was an int type narrower than its size. */
	mt = m->type ? dump_type(d, m->type) : NULL;
	if (!mt || btf_kind_of(mt) != BTF_KIND_INT)
		return 0;
	enc = btf_int_encoding_of(mt);
	if (BTF_INT_BITS(enc) == mt->size * 8 && BTF_INT_OFFSET(enc) == 0)
		return 0;
	*bit_off += BTF_INT_OFFSET(enc);
	return BTF_INT_BITS(enc);
}

/* A bitfield that crosses a boundary of its type's alignment is only where it is
 * because the record is packed. */
static bool straddles(struct btf_dumper *d, __u32 type, __u32 off, __u32 bits)
{
	__u32 unit = dump_align_of(d, type) * 8;

	return unit && off / unit != (off + bits - 1) / unit;
}

/* Bits up to the end of the last member (the widest, for a union). */
static __u64 members_end(struct btf_dumper *d, const struct btf_type *t)
{
	__u32 i, vlen = btf_vlen_of(t);
	__u64 end = 0;

	for (i = 0; i < vlen; i++) {
		__u32 off, bits = dump_member_bits(d, t, i, &off);
		__u64 e = off + (bits ? bits : dump_size_of(d, btf_members_of(t)[i].type) * 8);

		if (e > end)
			end = e;
	}
	return end;
}

/* A record larger than its members rounded up to their alignment was declared with
 * __attribute__((aligned(N))) (____cacheline_aligned and the like): the smallest such
 * N that explains the size, 0 if none does. */
static unsigned inferred_align(struct btf_dumper *d, const struct btf_type *t, unsigned align)
{
	__u64 end = members_end(d, t), size = (__u64)t->size * 8, a;

	if ((end + align * 8 - 1) / (align * 8) * (align * 8) == size)
		return 0;
	for (a = align * 2; a <= MAX_INFERRED_ALIGN; a *= 2)
		if (t->size % a == 0 && (end + a * 8 - 1) / (a * 8) * (a * 8) == size)
			return (unsigned)a;
	return 0;
}

/* Alignment of the record as written, and its LAYOUT_* flags. */
static __u8 compute_layout(struct btf_dumper *d, const struct btf_type *t, unsigned *align_out)
{
	const struct btf_member *m = btf_members_of(t);
	bool is_struct = btf_kind_of(t) == BTF_KIND_STRUCT, packed = false;
	__u32 i, vlen = btf_vlen_of(t);
	unsigned max_align = 1, wider;

	for (i = 0; i < vlen; i++, m++) {
		unsigned a = dump_align_of(d, m->type);
		__u32 off, bits = dump_member_bits(d, t, i, &off);

		if (a > max_align)
			max_align = a;
		if (!is_struct)
			continue;
		if (bits ? straddles(d, m->type, off, bits) : off % (a * 8) != 0)
			packed = true;
	}
	if (t->size % max_align)
		packed = true;
	*align_out = packed ? 1 : max_align;
	wider = inferred_align(d, t, *align_out);
	if (wider)
		*align_out = wider;
	return (packed ? LAYOUT_PACKED : 0) | (wider ? LAYOUT_ALIGNED : 0);
}

static unsigned record_align(struct btf_dumper *d, __u32 id, const struct btf_type *t)
{
	unsigned align, lg = 0;
	__u8 flags;

	if (d->layout[id])
		return 1u << ((d->layout[id] & LAYOUT_LOG2) - 1);
	if (d->depth >= DUMP_MAX_DEPTH) {
		dump_fail(d, -ELOOP, "BTF type [%u]: records nested deeper than %d", id,
			  DUMP_MAX_DEPTH);
		return 1;
	}
	d->depth++;
	flags = compute_layout(d, t, &align);
	d->depth--;
	while ((1u << lg) < align && lg < 30)
		lg++;
	d->layout[id] = (__u8)((lg + 1) | flags);
	return align;
}

__u8 dump_record_layout(struct btf_dumper *d, __u32 id, const struct btf_type *t)
{
	record_align(d, id, t);
	return d->layout[id];
}

/* ---- padding ---------------------------------------------------------------------------- */

static const struct { const char *name; unsigned bits; } pad_types[] = {
	{ "char", 8 }, { "short", 16 }, { "int", 32 }, { "long", 64 },
};

/* "<type>: <bits>;" for the smallest type whose storage unit at bit `at` holds the
 * piece, so the compiler puts it exactly there. */
static void pad_piece(struct btf_dumper *d, __u64 at, __u32 bits, int lvl)
{
	size_t i;

	for (i = 0; i + 1 < sizeof(pad_types) / sizeof(pad_types[0]); i++)
		if (at % pad_types[i].bits + bits <= pad_types[i].bits)
			break;
	sb_putc(&d->out, '\n');
	dump_indent(d, lvl);
	sb_puts(&d->out, pad_types[i].name);
	sb_put(&d->out, ": ", 2);
	sb_u64(&d->out, bits);
	sb_putc(&d->out, ';');
}

/* Fill a struct's bits [cur, next) with unnamed bitfields, none crossing a 64-bit
 * boundary (so none moves). */
void dump_padding(struct btf_dumper *d, __u64 cur, __u64 next, int lvl)
{
	/* a line per 64 bits, ~10 bytes each: refuse gaps the header cannot hold at once */
	if (cur < next && (next - cur) / 8 >= SB_LIMIT - d->out.len) {
		d->out.too_big = d->out.oom = true;
		return;
	}
	while (cur < next && !d->err && !d->out.oom) {
		__u64 room = 64 - cur % 64, bits = next - cur < room ? next - cur : room;

		pad_piece(d, cur, (__u32)bits, lvl);
		cur += bits;
	}
}

/* A union's members all start at 0: one unnamed bitfield covers up to 64 bits, more
 * takes an anonymous struct of them. */
void dump_union_padding(struct btf_dumper *d, __u64 have, __u64 want, int lvl)
{
	if (want <= have)
		return;
	if (want <= 64) {
		pad_piece(d, 0, (__u32)want, lvl);
		return;
	}
	sb_putc(&d->out, '\n');
	dump_indent(d, lvl);
	sb_puts(&d->out, "struct {");
	dump_padding(d, 0, want, lvl + 1);
	sb_putc(&d->out, '\n');
	dump_indent(d, lvl);
	sb_puts(&d->out, "};");
}
