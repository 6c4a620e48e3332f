# mk/install.mk - the library as it is installed, and `make install` / `make uninstall` (issue 12).
#
#   make install [PREFIX=/usr/local] [DESTDIR=]   the programs, the shared and static libraries,
#                                 the headers under include/tapstack/, tapstack.pc, man pages and
#                                 bash completion (scripts/install.sh does the copying)
#   make uninstall [PREFIX=...] [DESTDIR=]        removes exactly what install put there
#   make public-lib               build/lib/libtapstack.so.VERSION (+ soname link) and libtapstack.a
#
# The installed libraries export only the TS_API functions (ts_*, tapstack_*): the shared one
# through -fvisibility=hidden and mk/libtapstack.map; the static one is one relocatable object
# (ld -r of every library object) whose hidden names objcopy turned local, so a program's own
# timer_init or pbuf_alloc cannot collide with ours. build/libtapstack.a (the Makefile's $(LIB))
# keeps every name for the unit tests and the program.

TS_VERSION := $(shell sed -n 's/^\#define TAPSTACK_VERSION "\(.*\)"/\1/p' stack/core/api.h)
TS_SOMAJOR := $(firstword $(subst ., ,$(TS_VERSION)))
PUB_DIR    := $(BUILD)/lib
PUB_SO     := $(PUB_DIR)/libtapstack.so.$(TS_VERSION)
PUB_A      := $(PUB_DIR)/libtapstack.a
PREFIX     ?= /usr/local

.PHONY: public-lib install uninstall
public-lib: $(PUB_SO) $(PUB_A)

$(PUB_DIR)/tapstack.o: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	ld -r -o $@ $^
	objcopy --localize-hidden $@

$(PUB_A): $(PUB_DIR)/tapstack.o
	rm -f $@
	ar rcs $@ $<

$(PUB_SO): $(LIB_OBJS) mk/libtapstack.map
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libtapstack.so.$(TS_SOMAJOR) -Wl,--version-script=mk/libtapstack.map \
		-o $@ $(LIB_OBJS) $(LDLIBS)
	ln -sf $(notdir $@) $(PUB_DIR)/libtapstack.so.$(TS_SOMAJOR)
	ln -sf libtapstack.so.$(TS_SOMAJOR) $(PUB_DIR)/libtapstack.so

install: all public-lib
	@scripts/install.sh --build $(BUILD) --prefix $(PREFIX) --destdir "$(DESTDIR)" --version $(TS_VERSION)

uninstall:
	@scripts/install.sh --uninstall --prefix $(PREFIX) --destdir "$(DESTDIR)" --version $(TS_VERSION)
