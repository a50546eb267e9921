/* Fuzz target: USDT probes — the .note.stapsdt notes of an executable or library (note
 * headers, name/desc sizes and padding, the three addresses, the NUL-terminated
 * provider, name and argument strings, .stapsdt.base for prelinked files, the mapping of
 * addresses to file offsets) and the x86-64 argument specifications of each note.
 *
 * Input: one byte that picks the part, then its bytes. Even: the rest is an ELF image,
 * whose notes are read and every note's arguments parsed. Odd: the rest is one argument
 * specification ("-4@%eax 8@-16(%rbp)"). Seeds: the USDT fixtures of the specs (-O2 PIE
 * and -O0 fixed-address builds) and the argument strings they carry. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "elf/usdt.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_forbid_kernel();
	return 0;
}

static void check_args(const char *spec)
{
	struct ayac_usdt_arg args[AYAC_USDT_MAX_ARGS];
	int cnt = -1, i;

	if (ayac_usdt_parse_args(spec, args, AYAC_USDT_MAX_ARGS, &cnt)) {
		fuzz_check_error("usdt arguments");
		return;
	}
	if (cnt < 0 || cnt > AYAC_USDT_MAX_ARGS)
		fuzz_fail("'%s': %d arguments (at most %d)", spec, cnt, AYAC_USDT_MAX_ARGS);
	for (i = 0; i < cnt; i++) {
		const struct ayac_usdt_arg *a = &args[i];

		if (a->size != 1 && a->size != 2 && a->size != 4 && a->size != 8)
			fuzz_fail("'%s': argument %d of %u bytes", spec, i, a->size);
		if (a->kind == AYAC_USDT_ARG_SIB && a->scale_shift > 3)
			fuzz_fail("'%s': argument %d scaled by 1 << %u", spec, i, a->scale_shift);
		/* register offsets index struct pt_regs (21 u64 on x86-64) */
		if (a->kind != AYAC_USDT_ARG_CONST && a->reg_off > 20 * 8)
			fuzz_fail("'%s': argument %d at pt_regs offset %u", spec, i, a->reg_off);
	}
}

static void check_notes(const uint8_t *data, size_t size)
{
	struct ayac_usdt_notes notes;
	void *image;
	size_t i;

	/* libelf reads the image in place: an aligned copy of exactly its size */
	image = malloc(size ? size : 1);
	if (!image)
		return;
	memcpy(image, data, size);
	if (ayac_usdt_notes_parse(image, size, &notes)) {
		fuzz_check_error("usdt notes");
		free(image);
		return;
	}
	for (i = 0; i < notes.n; i++) {
		const struct ayac_usdt_note *n = &notes.notes[i];

		if (!n->provider || !n->name || !n->args)
			fuzz_fail("note %zu: a NULL string", i);
		if (n->ip_off >= size)
			fuzz_fail("note %zu (%s:%s): probe at file offset 0x%llx past a %zu-byte file",
				  i, n->provider, n->name, (unsigned long long)n->ip_off, size);
		if (n->sema_addr && n->sema_off >= size)
			fuzz_fail("note %zu (%s:%s): semaphore at file offset 0x%llx past a %zu-byte file",
				  i, n->provider, n->name, (unsigned long long)n->sema_off, size);
		check_args(n->args);
	}
	ayac_usdt_notes_free(&notes);
	free(image);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec;

	if (size < 1)
		return 0;
	if (!(data[0] & 1)) {
		check_notes(data + 1, size - 1);
		return 0;
	}
	spec = malloc(size);
	if (!spec)
		return 0;
	memcpy(spec, data + 1, size - 1);
	spec[size - 1] = '\0';
	check_args(spec);
	free(spec);
	return 0;
}
