/* .note.stapsdt: one note per USDT probe site, owner "stapsdt", type 3, whose
 * descriptor is three addresses (probe, .stapsdt.base at link time, semaphore) then
 * "provider\0name\0args\0". A prelinked file has moved since: the probe address is
 * shifted by how far .stapsdt.base moved. Addresses become file offsets through the
 * PT_LOAD segment that holds them (uprobes and their reference counters are placed
 * by file offset). */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ayac/ayac.h>
#include "sys/sys.h"
#include "usdt.h"

#define NOTE_TYPE 3
#define NOTE_OWNER "stapsdt"
#define MAX_NOTES 65536

static Elf_Scn *section_named(Elf *elf, const char *want, GElf_Shdr *sh)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	const char *name;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh->sh_name);
		if (name && !strcmp(name, want))
			return scn;
	}
	return NULL;
}

/* File offset of vaddr through the PT_LOAD segment holding it (exec: executable
 * segments only, for probes; else any, for semaphores in .probes / .data). */
/* The file offset of vaddr, which must lie in the file bytes of a PT_LOAD segment
 * (executable for a probe): a uprobe and a semaphore's ref_ctr_offset both name bytes of
 * the file, and an address in a segment's zero-filled tail or past the end of the file
 * has none. */
static int vaddr_offset(Elf *elf, __u64 file_size, __u64 vaddr, bool exec, __u64 *off)
{
	GElf_Phdr ph;
	size_t i, n;

	if (elf_getphdrnum(elf, &n))
		return -ENOENT;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD ||
		    (exec && !(ph.p_flags & PF_X)))
			continue;
		if (vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_filesz &&
		    ph.p_offset < file_size && vaddr - ph.p_vaddr < file_size - ph.p_offset) {
			*off = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

/* provider\0name\0args\0 at desc + 24: three NUL-terminated strings inside len. */
static int note_strings(const char *s, size_t len, const char *out[3])
{
	size_t i, used = 0, n;

	for (i = 0; i < 3; i++) {
		n = used < len ? strnlen(s + used, len - used) : 0;
		if (used >= len || used + n >= len)
			return -EINVAL;
		out[i] = s + used;
		used += n + 1;
	}
	return 0;
}

/* base_addr: where .stapsdt.base is now (0: no such section); each note says where it
 * was when the note was written. */
static int add_note(Elf *elf, __u64 file_size, struct ayac_usdt_notes *out, const char *desc,
		    size_t len, __u64 base_addr)
{
	struct ayac_usdt_note *note, *grown;
	const char *str[3];
	__u64 addr[3];

	if (len < sizeof(addr) || note_strings(desc + sizeof(addr), len - sizeof(addr), str))
		return ayac_seterr(AYAC_EBADELF, "USDT note %zu: truncated", out->n);
	if (out->n >= MAX_NOTES)
		return ayac_seterr(E2BIG, "more than %d USDT notes", MAX_NOTES);
	memcpy(addr, desc, sizeof(addr));
	grown = ayac_reallocarray(out->notes, out->n + 1, sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	out->notes = grown;
	note = &out->notes[out->n];
	memset(note, 0, sizeof(*note));
	note->provider = str[0];
	note->name = str[1];
	note->args = str[2];
	note->loc_addr = base_addr && addr[1] ? addr[0] + (base_addr - addr[1]) : addr[0];
	note->sema_addr = addr[2];
	if (vaddr_offset(elf, file_size, note->loc_addr, true, &note->ip_off))
		return ayac_seterr(AYAC_EBADELF, "USDT %s:%s: address 0x%llx is in no executable "
				   "segment's file bytes", note->provider, note->name,
				   (unsigned long long)note->loc_addr);
	if (note->sema_addr && vaddr_offset(elf, file_size, note->sema_addr, false, &note->sema_off))
		return ayac_seterr(AYAC_EBADELF, "USDT %s:%s: semaphore 0x%llx is in no segment's file bytes",
				   note->provider, note->name, (unsigned long long)note->sema_addr);
	out->n++;
	return 0;
}

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Walks a copy of the note section (the strings must outlive the Elf handle): each
 * note is namesz, descsz, type (4 bytes each), the name and the descriptor, both
 * padded to 4 bytes. */
static int walk_notes(Elf *elf, __u64 file_size, struct ayac_usdt_notes *out, size_t size,
		      __u64 base_addr)
{
	const char *p = out->strings;
	size_t off = 0, name_at, desc_at;
	__u32 hdr[3];
	int err;

	while (size - off >= sizeof(hdr)) {
		memcpy(hdr, p + off, sizeof(hdr));
		name_at = off + sizeof(hdr);
		if (hdr[0] > size - name_at || align4(hdr[0]) > size - name_at)
			return ayac_seterr(AYAC_EBADELF, ".note.stapsdt: note at %zu overruns", off);
		desc_at = name_at + align4(hdr[0]);
		if (hdr[1] > size - desc_at)
			return ayac_seterr(AYAC_EBADELF, ".note.stapsdt: note at %zu overruns", off);
		off = desc_at + align4(hdr[1]) < size ? desc_at + align4(hdr[1]) : size;
		if (hdr[2] != NOTE_TYPE || hdr[0] != sizeof(NOTE_OWNER) ||
		    memcmp(p + name_at, NOTE_OWNER, sizeof(NOTE_OWNER)))
			continue;
		err = add_note(elf, file_size, out, p + desc_at, hdr[1], base_addr);
		if (err)
			return err;
	}
	return 0;
}

static int read_notes(Elf *elf, __u64 file_size, struct ayac_usdt_notes *out)
{
	GElf_Shdr sh, base_sh;
	Elf_Scn *scn;
	Elf_Data *data;

	scn = section_named(elf, ".note.stapsdt", &sh);
	if (!scn)
		return 0;
	if (sh.sh_type != SHT_NOTE || !(data = elf_rawdata(scn, NULL)) || !data->d_buf)
		return ayac_seterr(AYAC_EBADELF, ".note.stapsdt: not a readable note section");
	out->strings = malloc(data->d_size ? data->d_size : 1);
	if (!out->strings)
		return ayac_seterr(ENOMEM, "out of memory");
	memcpy(out->strings, data->d_buf, data->d_size);
	/* Prelinked files moved since linking: the notes say from where. */
	if (!section_named(elf, ".stapsdt.base", &base_sh))
		base_sh.sh_addr = 0;
	return walk_notes(elf, file_size, out, data->d_size, base_sh.sh_addr);
}

static int parse_elf(Elf *elf, __u64 file_size, struct ayac_usdt_notes *out)
{
	GElf_Ehdr eh;

	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh))
		return ayac_seterr(AYAC_EBADELF, "not an ELF file");
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return ayac_seterr(AYAC_EBADELF, "not an executable or shared library (ELF type %u)",
				   eh.e_type);
	out->exec = eh.e_type == ET_EXEC;
	return read_notes(elf, file_size, out);
}

int ayac_usdt_notes_parse(const void *buf, size_t size, struct ayac_usdt_notes *out)
{
	Elf *elf;
	int err;

	memset(out, 0, sizeof(*out));
	if (elf_version(EV_CURRENT) == EV_NONE)
		return ayac_seterr(AYAC_EBADELF, "libelf: %s", elf_errmsg(-1));
	elf = elf_memory((char *)buf, size);
	err = parse_elf(elf, size, out);
	if (elf)
		elf_end(elf);
	if (err)
		ayac_usdt_notes_free(out);
	return err;
}

int ayac_usdt_notes_read(const char *path, struct ayac_usdt_notes *out)
{
	Elf *elf = NULL;
	struct stat st;
	int fd, err;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ayac_seterr(errno, "open '%s'", path);
	if (fstat(fd, &st)) {
		err = ayac_seterr(errno, "stat '%s'", path);
	} else if (elf_version(EV_CURRENT) == EV_NONE) {
		err = ayac_seterr(AYAC_EBADELF, "libelf: %s", elf_errmsg(-1));
	} else {
		elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
		err = parse_elf(elf, (__u64)st.st_size, out);
	}
	if (elf)
		elf_end(elf);
	close(fd);
	if (err) {
		ayac_usdt_notes_free(out);
		ayac_errctx("USDT notes of '%s'", path);
	}
	return err;
}

void ayac_usdt_notes_free(struct ayac_usdt_notes *notes)
{
	if (!notes)
		return;
	free(notes->notes);
	free(notes->strings);
	memset(notes, 0, sizeof(*notes));
}
