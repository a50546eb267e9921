# Fuzzing (included by the Makefile; docs/reliability.md).
#
#   make fuzz                        the libFuzzer targets: $(FUZZ_BUILD)/fuzz/<target>
#   make fuzz-run FUZZ_SECONDS=60    each target for that long; fails on any finding
#   make fuzz-seeds                  the seed corpora, from spec objects and libbpf-tools
#
# The targets are clang builds of the core with -fsanitize=fuzzer,address,undefined in
# $(FUZZ_BUILD)/ (a build of its own, like build-asan). Every target is also linked
# with fuzz/replay.c instead of libFuzzer, with the ordinary build's compiler and
# flags: $(BUILD)/fuzz/replay-<target>, which spec/fuzz_spec.lua runs over
# fuzz/regress/<target>/ on every make test (and under make asan).
FUZZ_BUILD   ?= build-fuzz
FUZZ_TARGETS  = object btf btf_ext core kconfig symbols usdt
FUZZ_SECONDS ?= 60
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS   = -O1 -g -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -Isrc/core -Ifuzz $(FUZZ_SAN)
FUZZ_CORE_OBJ = $(CORE_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_BINS     = $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz/%)
FUZZ_REPLAY   = $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay-%)

.PHONY: fuzz fuzz-run fuzz-seeds fuzz-replay
fuzz: $(FUZZ_BINS)
fuzz-replay: $(FUZZ_REPLAY)

$(FUZZ_BUILD)/%.o: %.c $(CORE_HDR) include/ayac/ayac.h fuzz/fuzz.h
	@mkdir -p $(dir $@)
	@echo "  CC/FUZZ $<"
	@$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BINS): $(FUZZ_BUILD)/fuzz/%: $(FUZZ_BUILD)/fuzz/fuzz_%.o $(FUZZ_BUILD)/fuzz/guard.o $(FUZZ_CORE_OBJ)
	@echo "  LD/FUZZ $@"
	@$(CLANG) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(CORE_LIBS) -lpthread

$(FUZZ_REPLAY): $(BUILD)/fuzz/replay-%: fuzz/fuzz_%.c fuzz/guard.c fuzz/replay.c fuzz/fuzz.h $(CORE_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -Ifuzz $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(CORE_LIBS) -lpthread

fuzz-seeds: bpf fixtures corpus
	BUILD=$(BUILD) scripts/fuzz-seeds $(FUZZ_BUILD)/seeds

fuzz-run: fuzz fuzz-seeds
	FUZZ_BUILD=$(FUZZ_BUILD) scripts/fuzz-run $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# make fuzz-coverage: the corpora replayed through a coverage build (build-cov/, clang
# source-based coverage, no sanitizers); line, function and branch coverage of the
# files each target is about (scripts/fuzz-coverage).
COV_BUILD    ?= build-cov
COV_CFLAGS    = -O1 -g -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -Isrc/core -Ifuzz \
                -fprofile-instr-generate -fcoverage-mapping
COV_CORE_OBJ  = $(CORE_SRC:%.c=$(COV_BUILD)/%.o)
COV_BINS      = $(FUZZ_TARGETS:%=$(COV_BUILD)/fuzz/replay-%)

.PHONY: fuzz-coverage
$(COV_BUILD)/%.o: %.c $(CORE_HDR) include/ayac/ayac.h fuzz/fuzz.h
	@mkdir -p $(dir $@)
	@echo "  CC/COV  $<"
	@$(CLANG) $(COV_CFLAGS) -c -o $@ $<

$(COV_BINS): $(COV_BUILD)/fuzz/replay-%: $(COV_BUILD)/fuzz/fuzz_%.o $(COV_BUILD)/fuzz/guard.o \
		$(COV_BUILD)/fuzz/replay.o $(COV_CORE_OBJ)
	@echo "  LD/COV  $@"
	@$(CLANG) -fprofile-instr-generate -o $@ $^ $(CORE_LIBS) -lpthread

fuzz-coverage: $(COV_BINS)
	FUZZ_BUILD=$(FUZZ_BUILD) COV_BUILD=$(COV_BUILD) scripts/fuzz-coverage $(FUZZ_TARGETS)
