/* What libbpf says about section names (spec/sections_spec.lua): opens a BPF object
 * (never loads it) and prints one line per program:
 *     <program> <section> <type> <expected attach type> <sleepable 0|1> <autoload 0|1>
 * with numbers as the kernel's enums have them, type 0 where libbpf knows no such
 * section. Built against libbpf-dev's libbpf:  cc -o x bench/libbpf_sections.c -lbpf */
#include <stdio.h>

#include <bpf/libbpf.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OBJ\n", argv[0]);
		return 2;
	}
	libbpf_set_print(quiet);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "open %s failed\n", argv[1]);
		return 1;
	}
	bpf_object__for_each_program(prog, obj)
		printf("%s %s %d %d %d %d\n", bpf_program__name(prog),
		       bpf_program__section_name(prog), (int)bpf_program__type(prog),
		       (int)bpf_program__expected_attach_type(prog),
		       !!(bpf_program__flags(prog) & BPF_F_SLEEPABLE),
		       (int)bpf_program__autoload(prog));
	bpf_object__close(obj);
	return 0;
}
