/* Shared by the fuzz targets (one file per parser, fuzz_*.c): the libFuzzer entry
 * points, the guard that keeps parsers away from the kernel, and input splitting.
 * A target is built twice: with libFuzzer (make fuzz, build-fuzz/fuzz/<target>) and
 * with replay.c as its main (build/fuzz/replay-<target>, used by spec/fuzz_spec.lua
 * to run the regression inputs in fuzz/regress/<target>/ on every make test). */
#ifndef AYAC_FUZZ_H
#define AYAC_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* From now on bpf(2) and perf_event_open(2) abort the process with a message naming the
 * call (seccomp, SECCOMP_RET_TRAP): a parser that reaches the kernel is a finding. */
void fuzz_forbid_kernel(void);

/* Split a length-prefixed part off the front of the input: a little-endian u32 n, then
 * n bytes (clamped to what is there). false when fewer than 4 bytes are left. */
bool fuzz_take(const uint8_t **data, size_t *size, const uint8_t **part, size_t *part_size);

/* A finding that is not a crash: an invariant of the parser's output broke. Prints the
 * message and aborts, so libFuzzer saves the input. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A failed call must leave an error number and a message (the error convention). */
void fuzz_check_error(const char *what);

#endif
