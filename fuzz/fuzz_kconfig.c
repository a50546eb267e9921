/* Fuzz target: kernel config text given to .kconfig externs — the lines of
 * /boot/config-* or /proc/config.gz, "CONFIG_X=value" with tristates, numbers (decimal,
 * hex, range-checked per size and sign) and quoted strings with escapes, written into
 * the .kconfig map's image at each extern's offset.
 *
 * The externs are the fourteen shapes an object can declare (bool, tristate of 4 or 8
 * bytes, char, signed and unsigned integers of 2, 4 and 8 bytes, char arrays of 1, 2, 7
 * and 64 bytes) under real config names; the first input byte rotates which name has
 * which shape, the rest is the config text. The image is allocated to its exact size,
 * so a write past an extern's bytes shows under ASan. Seeds: this kernel's config,
 * lines written for every shape, and fuzz/dict/kconfig.dict. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "internal.h"
#include "relo/externs.h"

struct shape {
	enum ayac_kcfg_type kcfg;
	__u32 size;
	bool is_signed;
};

static const struct shape shapes[] = {
	{ AYAC_KCFG_BOOL, 1, false },      { AYAC_KCFG_TRISTATE, 4, false },
	{ AYAC_KCFG_TRISTATE, 8, false },  { AYAC_KCFG_CHAR, 1, true },
	{ AYAC_KCFG_INT, 2, true },        { AYAC_KCFG_INT, 2, false },
	{ AYAC_KCFG_INT, 4, true },        { AYAC_KCFG_INT, 4, false },
	{ AYAC_KCFG_INT, 8, true },        { AYAC_KCFG_INT, 8, false },
	{ AYAC_KCFG_CHAR_ARR, 1, false },  { AYAC_KCFG_CHAR_ARR, 2, false },
	{ AYAC_KCFG_CHAR_ARR, 7, false },  { AYAC_KCFG_CHAR_ARR, 64, false },
};

#define NR_SHAPES (sizeof(shapes) / sizeof(shapes[0]))

static const char *const names[NR_SHAPES] = {
	"CONFIG_BPF",        "CONFIG_BPF_JIT",      "CONFIG_MODULES",   "CONFIG_X86_64",
	"CONFIG_HZ",         "CONFIG_NR_CPUS",      "CONFIG_LOG_BUF_SHIFT",
	"CONFIG_PANIC_TIMEOUT", "CONFIG_ARCH_MMAP_RND_BITS_MIN", "CONFIG_PGTABLE_LEVELS",
	"CONFIG_LOCALVERSION", "CONFIG_DEFAULT_HOSTNAME", "CONFIG_CC_VERSION_TEXT",
	"CONFIG_DEFAULT_INIT",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_forbid_kernel();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ayac_extern ev[NR_SHAPES];
	struct ayac_externs ext = { ev, NR_SHAPES, NULL, NULL, 0 };
	struct ayac_map kconfig;
	__u32 off = 0;
	size_t i;
	char *text;

	if (size < 1)
		return 0;
	memset(ev, 0, sizeof(ev));
	memset(&kconfig, 0, sizeof(kconfig));
	for (i = 0; i < NR_SHAPES; i++) {
		const struct shape *s = &shapes[(i + data[0]) % NR_SHAPES];

		ev[i] = (struct ayac_extern){ .name = names[i], .kind = AYAC_EXT_KCONFIG,
					      .kcfg = s->kcfg, .size = s->size,
					      .is_signed = s->is_signed, .weak = i % 2 };
		ev[i].align = s->kcfg == AYAC_KCFG_CHAR_ARR ? 1 : s->size;
		off = (off + ev[i].align - 1) / ev[i].align * ev[i].align;
		ev[i].data_off = off;
		off += s->size;
	}
	kconfig.def.value_size = off;
	kconfig.data = malloc(off);
	text = malloc(size);
	if (!kconfig.data || !text)
		goto out;
	memset(kconfig.data, 0, off);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	ext.kconfig = &kconfig;
	if (ayac_kconfig_apply(&ext, text, "fuzz"))
		fuzz_check_error("apply config");
out:
	free(text);
	free(kconfig.data);
	return 0;
}
