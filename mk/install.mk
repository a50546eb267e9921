# make install / make uninstall (included by the Makefile). PREFIX and DESTDIR as
# usual; the Lua paths follow what LuaJIT's package.path/package.cpath search for that
# prefix (Debian's luajit2: /usr/local/share/lua/5.1 and /usr/local/lib/lua/5.1 under
# /usr/local; /usr/share/lua/5.1 and /usr/lib/<multiarch>/lua/5.1 under /usr).
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
PCDIR      ?= $(LIBDIR)/pkgconfig
MULTIARCH  := $(shell $(CC) -print-multiarch 2>/dev/null)
LUA_LMOD   ?= $(PREFIX)/share/lua/5.1
ifeq ($(PREFIX),/usr)
LUA_CMOD   ?= $(PREFIX)/lib/$(MULTIARCH)/lua/5.1
else
LUA_CMOD   ?= $(PREFIX)/lib/lua/5.1
endif
BPF_INCLUDEDIR ?= $(INCLUDEDIR)/ayac

LUA_FILES  = $(wildcard lua/ayac/*.lua)
BPF_HEADERS = $(wildcard include/ayac/*.bpf.h)
PC_FILE    = $(BUILD)/ayac.pc

$(PC_FILE): mk/install.mk
	@mkdir -p $(dir $@)
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCLUDEDIR)' '' \
	  'Name: ayac' 'Description: eBPF host runtime: load, attach and read BPF objects' \
	  'Version: $(VERSION)' 'Libs: -L$${libdir} -layac' 'Libs.private: $(CORE_LIBS)' \
	  'Requires.private: libelf libmnl zlib' 'Cflags: -I$${includedir}' > $@

# What install puts in place, relative to DESTDIR; uninstall removes exactly these.
INSTALLED = $(BINDIR)/ayac \
	$(LIBDIR)/libayac.so.$(VERSION) $(LIBDIR)/libayac.so.$(SOVER) $(LIBDIR)/libayac.so \
	$(LIBDIR)/libayac.a $(INCLUDEDIR)/ayac/ayac.h $(INCLUDEDIR)/ayac/events.h \
	$(addprefix $(BPF_INCLUDEDIR)/,$(notdir $(BPF_HEADERS))) \
	$(PCDIR)/ayac.pc $(MANDIR)/man1/ayac.1 $(LUA_CMOD)/ayac/core.so \
	$(addprefix $(LUA_LMOD)/ayac/,$(notdir $(LUA_FILES)))

install: $(HOST) $(MODULE) lib $(PC_FILE)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/ayac \
	  $(DESTDIR)$(PCDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(LUA_CMOD)/ayac \
	  $(DESTDIR)$(LUA_LMOD)/ayac
	install -m 755 $(HOST) $(DESTDIR)$(BINDIR)/ayac
	install -m 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/libayac.so.$(VERSION)
	ln -sf libayac.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libayac.so.$(SOVER)
	ln -sf libayac.so.$(SOVER) $(DESTDIR)$(LIBDIR)/libayac.so
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/libayac.a
	install -m 644 include/ayac/ayac.h include/ayac/events.h $(BPF_HEADERS) $(DESTDIR)$(INCLUDEDIR)/ayac/
	install -m 644 $(PC_FILE) $(DESTDIR)$(PCDIR)/ayac.pc
	install -m 644 docs/ayac.1 $(DESTDIR)$(MANDIR)/man1/ayac.1
	install -m 755 $(MODULE) $(DESTDIR)$(LUA_CMOD)/ayac/core.so
	install -m 644 $(LUA_FILES) $(DESTDIR)$(LUA_LMOD)/ayac/

# Removes the files above, then the folders ayac made if they are left empty.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/ayac $(DESTDIR)$(LUA_CMOD)/ayac $(DESTDIR)$(LUA_LMOD)/ayac 2>/dev/null
	-for d in $(MANDIR)/man1 $(MANDIR) $(PCDIR) $(LUA_CMOD) $(LUA_LMOD) $(INCLUDEDIR) \
	  $(LIBDIR) $(BINDIR) $(PREFIX)/lib/$(MULTIARCH)/lua $(PREFIX)/lib/$(MULTIARCH) \
	  $(PREFIX)/lib/lua $(PREFIX)/share/lua $(PREFIX)/share $(PREFIX)/lib $(PREFIX); do \
	  [ -n "$(DESTDIR)" ] && rmdir $(DESTDIR)$$d 2>/dev/null; done; true

# LuaRocks (ayac-scm-1.rockspec, build type make): the module only, into the tree's
# LUADIR and LIBDIR, which luarocks passes as ROCK_LUADIR and ROCK_LIBDIR.
.PHONY: rock install-rock
rock: $(MODULE)
install-rock: $(MODULE)
	@test -n "$(ROCK_LUADIR)" -a -n "$(ROCK_LIBDIR)" || { echo "install-rock: run by luarocks" >&2; exit 2; }
	install -d $(ROCK_LUADIR)/ayac $(ROCK_LIBDIR)/ayac
	install -m 644 $(LUA_FILES) $(ROCK_LUADIR)/ayac/
	install -m 755 $(MODULE) $(ROCK_LIBDIR)/ayac/core.so
