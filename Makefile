# weightkit — build, test, demo, bench.
#
#   make            the C core (static + shared), the Lua module weightkit.core, the weightkit command
#   make test       installs missing Debian packages, builds, runs C tests + busted specs
#   make check-asan the same tests against an ASan+UBSan build (build/asan/)
#   make demo       the main job on a shipped sample
#   make install PREFIX=/usr/local
#
# Every output goes under $(BUILD). Sources: src/wk_*.c is the core (no Lua), src/lweightkit.c and
# src/lwk_*.c the Lua binding, src/cli_main.c the command (a host embedding Lua 5.4).

BUILD    ?= build
PREFIX   ?= /usr/local
LUA_VER  := 5.4

PKGS     := lua$(LUA_VER) hdf5 libzip snappy
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LUA_LIBS   := $(shell pkg-config --libs lua$(LUA_VER) 2>/dev/null)
DEP_LIBS  := $(shell pkg-config --libs hdf5 libzip snappy 2>/dev/null)

SANITIZE ?=
CC       ?= cc
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith
CFLAGS   ?= -O2 -g
ALL_CFLAGS := -std=c99 -D_POSIX_C_SOURCE=200809L -fPIC $(WARN) $(CFLAGS) $(SANITIZE) $(PKG_CFLAGS) -Isrc
LDLIBS   := $(DEP_LIBS) -lm

CORE_SRC := $(sort $(wildcard src/wk_*.c))
BIND_SRC := src/lweightkit.c $(sort $(wildcard src/lwk_*.c))
CLI_SRC  := src/cli_main.c
CTEST_SRC := $(sort $(wildcard spec/c/test_*.c))

CORE_OBJ := $(CORE_SRC:src/%.c=$(BUILD)/obj/%.o)
BIND_OBJ := $(BIND_SRC:src/%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:src/%.c=$(BUILD)/obj/%.o)
CTESTS   := $(CTEST_SRC:spec/c/%.c=$(BUILD)/tests/%)

LIB_A    := $(BUILD)/libweightkit.a
LIB_SO   := $(BUILD)/libweightkit.so
LUA_MOD  := $(BUILD)/lua/weightkit/core.so
CLI      := $(BUILD)/weightkit
HOST     := $(BUILD)/examples/host

.PHONY: all test check-asan deps demo bench install clean
all: $(LIB_A) $(LIB_SO) $(LUA_MOD) $(CLI) $(CTESTS) $(HOST)

$(BUILD)/obj/%.o: src/%.c src/weightkit.h $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DWK_BUILDING_SHARED -fvisibility=hidden -c $< -o $@

# The command falls back on the Lua sources of the tree it was built from.
$(BUILD)/obj/cli_main.o: ALL_CFLAGS += -DWK_SOURCE_LUA_DIR='"$(CURDIR)/lua"'

$(LIB_A): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIB_SO): $(CORE_OBJ)
	$(CC) -shared $(SANITIZE) -o $@ $^ $(LDLIBS)

# The module links the core statically and leaves Lua's symbols to the interpreter that loads it.
$(LUA_MOD): $(BIND_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) -shared $(SANITIZE) -o $@ $(BIND_OBJ) $(LIB_A) $(LDLIBS)

$(CLI): $(CLI_OBJ) $(BIND_OBJ) $(LIB_A)
	$(CC) $(SANITIZE) -Wl,-E -o $@ $(CLI_OBJ) $(BIND_OBJ) $(LIB_A) $(LUA_LIBS) $(LDLIBS)

$(BUILD)/tests/%: spec/c/%.c spec/c/wk_test.h $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ispec/c -o $@ $< $(LIB_A) $(LDLIBS)

$(HOST): examples/host/host.c $(BIND_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DWK_SOURCE_LUA_DIR='"$(CURDIR)/lua"' -o $@ $< $(BIND_OBJ) $(LIB_A) $(LUA_LIBS) $(LDLIBS)

# ---- tests ------------------------------------------------------------------------------------

deps:
	@sh spec/install_deps.sh

test: deps
	@$(MAKE) --no-print-directory all
	@sh spec/run_tests.sh $(BUILD)

# The sanitizer build: the same sources and tests in $(BUILD)/asan. The Lua interpreter is not
# instrumented, so busted runs with the ASan runtime preloaded.
check-asan: deps
	@$(MAKE) --no-print-directory all BUILD=$(BUILD)/asan CFLAGS="-O1 -g" \
	  SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
	@WK_ASAN=1 sh spec/run_tests.sh $(BUILD)/asan

demo: all
	$(CLI) run --unsafe examples/demo.lua

bench: all
	@sh bench/run.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin \
	  $(DESTDIR)$(PREFIX)/lib/lua/$(LUA_VER)/weightkit $(DESTDIR)$(PREFIX)/share/lua/$(LUA_VER)/weightkit
	install -m 644 $(LIB_A) $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 src/weightkit.h $(DESTDIR)$(PREFIX)/include/
	install -m 755 $(LUA_MOD) $(DESTDIR)$(PREFIX)/lib/lua/$(LUA_VER)/weightkit/
	cp -R lua/weightkit/. $(DESTDIR)$(PREFIX)/share/lua/$(LUA_VER)/weightkit/
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf $(BUILD)
