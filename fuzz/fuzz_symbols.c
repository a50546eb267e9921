/* Fuzz target: the symbol tables of executables and shared libraries that uprobes are
 * resolved in — .symtab then .dynsym, names with "@VER"/"@@VER", the .gnu.version and
 * .gnu.version_d chains for dynamic symbols, and the mapping of the address through the
 * executable PT_LOAD segments to a file offset.
 *
 * Input: one byte n, n bytes of the symbol asked for, then the ELF image. Seeds: the
 * spec fixtures (a PIE and a non-PIE executable, a versioned stripped library) and
 * small system binaries, each asked for symbols it has. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "elf/elf.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_forbid_kernel();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char symbol[256];
	size_t n;
	void *image;
	__u64 off;

	if (size < 1 || (n = data[0]) > size - 1)
		return 0;
	memcpy(symbol, data + 1, n);
	symbol[n] = '\0';
	data += 1 + n;
	size -= 1 + n;
	/* libelf reads the image in place: an aligned copy of exactly its size */
	image = malloc(size ? size : 1);
	if (!image)
		return 0;
	memcpy(image, data, size);
	if (ayac_elf_symbol_offset_mem(image, size, symbol, &off) == 0 && off >= size)
		/* the file offset of code must lie inside the file */
		fuzz_fail("symbol '%s': offset 0x%llx past the end of a %zu-byte file", symbol,
			  (unsigned long long)off, size);
	free(image);
	return 0;
}
