# ayac: `make deps && make`, then `make test`. See README.md.
CC      ?= cc
CLANG   ?= clang
LUAJIT  ?= luajit
BUILD   ?= build

LUAJIT_CFLAGS := $(shell pkg-config --cflags luajit)
LUAJIT_LIBS   := $(shell pkg-config --libs luajit)
EDIT_LIBS     := $(shell pkg-config --libs libedit 2>/dev/null || echo -ledit)

WARN     = -Wall -Wextra -Werror -Wno-missing-field-initializers
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 $(WARN) -fPIC -D_GNU_SOURCE -Iinclude -Isrc/core $(LUAJIT_CFLAGS) $(SANITIZE)
LDFLAGS += $(SANITIZE)
CORE_LIBS = -lelf -lmnl -lz

# Every package folder of the core is built: no list of files to keep by hand.
CORE_SRC = $(sort $(shell find src/core -name "*.c"))
LUA_SRC  = $(wildcard src/lua/*.c)
HOST_SRC = $(wildcard src/host/*.c)
CORE_OBJ = $(CORE_SRC:%.c=$(BUILD)/%.o)
LUA_OBJ  = $(LUA_SRC:%.c=$(BUILD)/%.o)
HOST_OBJ = $(HOST_SRC:%.c=$(BUILD)/%.o)

BPF_SRC  = $(wildcard spec/bpf/*.bpf.c) $(wildcard examples/*.bpf.c examples/nginx/*.bpf.c)
BPF_OBJ  = $(patsubst spec/bpf/%.bpf.c,$(BUILD)/spec/bpf/%.bpf.o,$(filter spec/bpf/%,$(BPF_SRC))) \
           $(patsubst %.bpf.c,%.bpf.o,$(filter examples/%,$(BPF_SRC)))
VMLINUX_H = $(BUILD)/include/vmlinux.h
BPF_CFLAGS = -target bpf -g -O2 -Wall -Werror -D__TARGET_ARCH_x86 -I$(BUILD)/include -Iinclude -Ispec/bpf
BPF_HDR    = $(wildcard include/ayac/*.bpf.h)

MODULE = $(BUILD)/lib/ayac/core.so
HOST   = ayac

VERSION  = 0.1.0
SOVER    = 0
LIB_A    = $(BUILD)/libayac.a
LIB_SO   = $(BUILD)/libayac.so.$(VERSION)
EXAMPLE_C = $(BUILD)/examples/c/getpid_count

.PHONY: all deps deps-vm deps-corpus test asan clean bpf fixtures corpus lib install uninstall
all: $(HOST) $(MODULE) lib bpf fixtures $(EXAMPLE_C) fuzz-replay
lib: $(LIB_A) $(LIB_SO)

# deps: what building and `make test` need; deps-vm and deps-corpus: what only the kernel
# matrix and the libbpf-tools corpus need (their targets install them themselves).
deps:
	scripts/deps
deps-vm:
	scripts/deps vm
deps-corpus:
	scripts/deps corpus

CORE_HDR = $(shell find src/core -name "*.h")
$(BUILD)/%.o: %.c $(CORE_HDR) $(wildcard include/ayac/*.h) $(wildcard src/lua/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

$(LIB_A): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	@echo "  AR      $@"
	@rm -f $@ && ar rcs $@ $^

# The shared library: soname libayac.so.$(SOVER); the Lua module and the host binary
# link the core statically instead (one copy per process either way: the host never
# loads core.so, and a stock luajit loads only core.so).
$(LIB_SO): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) -shared $(LDFLAGS) -Wl,-soname,libayac.so.$(SOVER) -o $@ $(CORE_OBJ) $(CORE_LIBS)
	@ln -sf libayac.so.$(VERSION) $(BUILD)/libayac.so.$(SOVER)
	@ln -sf libayac.so.$(SOVER) $(BUILD)/libayac.so

# The C example, built against the library the way a user would (header + -layac).
$(EXAMPLE_C): examples/c/getpid_count.c include/ayac/ayac.h $(LIB_SO)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) -O2 -g $(SANITIZE) -Iinclude -o $@ $< -L$(BUILD) -layac -Wl,-rpath,$(abspath $(BUILD))

$(MODULE): $(LUA_OBJ) $(CORE_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) -shared $(LDFLAGS) -o $@ $(LUA_OBJ) $(CORE_OBJ) $(CORE_LIBS)

# The host exports its symbols (-E) so that LuaJIT's ffi.C sees the fast C ABI.
$(HOST): $(HOST_OBJ) $(LUA_OBJ) $(CORE_OBJ)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -Wl,-E -o $@ $(HOST_OBJ) $(LUA_OBJ) $(CORE_OBJ) $(LUAJIT_LIBS) $(CORE_LIBS) $(EDIT_LIBS) -ldl -lm

# vmlinux.h from ayac's own BTF-to-C dumper: made again when the dumper changes, not
# every time the host binary is relinked.
$(VMLINUX_H): $(wildcard src/core/btf/btf_dump*.c src/core/btf/btf_dump*.h) | $(HOST)
	@mkdir -p $(dir $@)
	./$(HOST) btf dump > $@.tmp && mv $@.tmp $@

bpf: $(BPF_OBJ)
$(BUILD)/spec/bpf/%.bpf.o: spec/bpf/%.bpf.c $(VMLINUX_H) $(wildcard spec/bpf/*.h) $(BPF_HDR)
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -c -o $@ $<
examples/%.bpf.o: examples/%.bpf.c $(VMLINUX_H) $(BPF_HDR)
	$(CLANG) $(BPF_CFLAGS) -c -o $@ $<

-include spec/fixtures/fixtures.mk

# The BPF objects embedded in Debian's libbpf-tools: real-world objects for the specs.
corpus: deps-corpus $(BUILD)/libbpf-tools/.stamp
$(BUILD)/libbpf-tools/.stamp: scripts/extract-libbpf-tools $(wildcard /var/lib/dpkg/info/libbpf-tools.list)
	scripts/extract-libbpf-tools $(BUILD)/libbpf-tools

test: all deps-corpus
	scripts/run-specs

# The specs again on stock Debian kernels booted in qemu (scripts/vmtest, docs/vmtest.md).
.PHONY: vmtest
VMTEST_KERNELS ?= 6.1 6.12
vmtest: all deps-vm
	BUILD=$(BUILD) HOST=$(HOST) scripts/vmtest $(VMTEST_KERNELS)

# `make bench` and `make conformance`: side by side with libbpf (bench/README.md).
-include bench/bench.mk

# The whole suite with AddressSanitizer and UBSan in the core, binding and host.
asan:
	$(MAKE) BUILD=build-asan HOST=ayac-asan SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" all
	AYAC=./ayac-asan scripts/run-specs

-include mk/install.mk
include mk/fuzz.mk
include mk/soak.mk

clean:
	rm -rf build build-asan build-fuzz build-tsan build-cov ayac ayac-asan examples/*.bpf.o examples/nginx/*.bpf.o
