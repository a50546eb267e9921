# Soak, kill safety and concurrency (included by the Makefile; docs/reliability.md).
#
#   make soak   SOAK_CYCLES cycles (default 10000) of load/attach/fire/detach/close with
#               explicit cleanup and again relying only on __gc, KILL_RUNS (default 100)
#               SIGKILLs at random points of that loop, and the pin-by-name race spec
#   make tsan   threads using separate objects in one process, the core built with
#               ThreadSanitizer (build-tsan/): fails on any race report
#
# make test runs short versions of the soak and kill runs (spec/soak_spec.lua).
SOAK_CYCLES ?= 10000
KILL_RUNS   ?= 100
TSAN_BUILD  ?= build-tsan
TSAN_CFLAGS  = -O1 -g -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -Isrc/core -fsanitize=thread
TSAN_CORE_OBJ = $(CORE_SRC:%.c=$(TSAN_BUILD)/%.o)
TSAN_THREADS ?= 4
TSAN_ROUNDS  ?= 10

.PHONY: soak tsan
soak: all
	BUILD=$(BUILD) HOST=$(HOST) scripts/soak $(SOAK_CYCLES) $(KILL_RUNS)

$(TSAN_BUILD)/%.o: %.c $(CORE_HDR) include/ayac/ayac.h
	@mkdir -p $(dir $@)
	@echo "  CC/TSAN $<"
	@$(CLANG) $(TSAN_CFLAGS) -c -o $@ $<

$(TSAN_BUILD)/tsan_threads: spec/c/tsan_threads.c $(TSAN_CORE_OBJ) include/ayac/ayac.h
	@echo "  LD/TSAN $@"
	@$(CLANG) $(TSAN_CFLAGS) -o $@ spec/c/tsan_threads.c $(TSAN_CORE_OBJ) $(CORE_LIBS) -lpthread

tsan: $(TSAN_BUILD)/tsan_threads bpf
	TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
		$(TSAN_BUILD)/tsan_threads $(BUILD) $(TSAN_THREADS) $(TSAN_ROUNDS)
