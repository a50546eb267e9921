/* bench/btf_parse.c's view of the ayac side (bench/btf_parse_ayac.c). 0 or -1. */
#ifndef BENCH_BTF_PARSE_H
#define BENCH_BTF_PARSE_H

int ayac_side_parse_file(const char *path, const char *find);
int ayac_side_parse_bytes(const char *path);
const char *ayac_side_error(void);

#endif
