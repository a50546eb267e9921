# Benchmarks against libbpf and the libbpf conformance harness (bench/README.md).
# Included by the top-level Makefile; run on purpose, never from `make test`.
# libbpf (libbpf-dev) is linked only into these programs, never into ayac.

BENCH_CFLAGS = -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE
BENCH_LIBBPF = $(BUILD)/bench/libbpf_load
BENCH_BTF    = $(BUILD)/bench/btf_parse
BENCH_EVENTS = $(BUILD)/bench/events_libbpf
# make bench BENCH_ARGS="--rounds 11 --verbose"
BENCH_ARGS  ?=

.PHONY: bench conformance bench-tools
bench-tools: $(BENCH_LIBBPF) $(BENCH_BTF) $(BENCH_EVENTS)

$(BENCH_LIBBPF): bench/libbpf_load.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $< -lbpf

# libbpf and ayac's events C API on the same maps, in one process.
$(BENCH_EVENTS): bench/events_libbpf.c include/ayac/events.h $(BUILD)/libayac.a
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -Iinclude -o $@ $< $(BUILD)/libayac.a -lbpf $(CORE_LIBS)

# libbpf and ayac's core in one process: the ayac half in a file of its own, so the two
# libraries' headers never meet.
$(BUILD)/bench/btf_parse_ayac.o: bench/btf_parse_ayac.c bench/btf_parse.h $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -Iinclude -Isrc/core -c -o $@ $<
$(BENCH_BTF): bench/btf_parse.c bench/btf_parse.h $(BUILD)/bench/btf_parse_ayac.o $(BUILD)/libayac.a
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ bench/btf_parse.c $(BUILD)/bench/btf_parse_ayac.o \
		$(BUILD)/libayac.a -lbpf $(CORE_LIBS) -lpthread

bench: $(HOST) bench-tools corpus $(BUILD)/spec/bpf/events.bpf.o
	$(LUAJIT) bench/run.lua --build $(BUILD) --host ./$(HOST) $(BENCH_ARGS)

conformance:
	BUILD=$(BUILD) HOST=$(HOST) scripts/conformance
