# tapstack - a userspace TCP/IP stack on a Linux TAP device.
#
#   make                 build/libtapstack.a and build/tapstack (gcc; `make CC=clang` works too)
#   make test-unit       cmocka unit and packet-level tests (no root, seconds)
#   make test-san        the unit tests again under ASan + UBSan
#   make check-layering  fail if an #include points upward (see docs/architecture.md)
#   make check-docs      every name in docs/ and README exists, every C sample builds (CONTRIBUTING.md)
#   make test-net        integration tests with real Linux clients in network namespaces (root)
#   make test            everything: deps, layering, docs, unit, sanitizer, integration, + $(TEST_EXTRA)
#   make demo            the story of a connection, in a namespace it creates (root)
#   make run [NETNS=NAME]  the stack and its servers on a TAP until Ctrl-C (root)
#   ADDR=A.B.C.D[/N] PEER=A.B.C.D  the stack's address and the TAP's kernel side for run, demo,
#                        test and bench (default 10.0.0.2/24 and 10.0.0.1)
#   make fuzz [FUZZ_SECONDS=60]  the libFuzzer targets (clang) with their seed corpora (mk/fuzz.mk)
#   make fuzz-cov        which stack/ functions the fuzz corpora reach, per target
#   make valgrind        the unit tests under valgrind (leaks are errors)
#   make deps            install missing Debian packages (scripts/deps.sh)
#   make drill           the packetdrill runner over the corpus (mk/drill.mk; part of `make test`)
#   make bench           tapstack beside the Linux kernel, one table (mk/bench.mk; root)
#   make bench-lossy     the same through an impaired path, the loss matrix (mk/lossy.mk; root)
#   make stress          floods and slow clients against tapstack, one table (mk/stress.mk; root)
#   make install [PREFIX=/usr/local] [DESTDIR=]  programs, libraries, headers, tapstack.pc,
#                        man pages (mk/install.mk, docs/library.md); make uninstall
#
# Sources are found by wildcard: a new .c file under stack/ or drivers/ joins the library,
# a new tests/unit/test_*.c becomes a test program. Feature areas may add rules in mk/*.mk.

CC      ?= gcc
BUILD   ?= build
CSTD    := -std=c11 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers
OPT     ?= -O2 -g
CFLAGS  += $(CSTD) $(WARN) $(OPT) -I stack -I . -MMD -MP
LDLIBS  += -luring -lpthread

LIB_SRCS  := $(shell find stack drivers -name '*.c' | sort)
APP_SRCS  := $(sort $(wildcard apps/*.c))
# The program's own parts (control socket clients: ss, stats), not servers: apps/cli/.
PROG_SRCS := $(sort $(wildcard apps/cli/*.c))
TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
TEST_HELPER_SRCS := $(sort $(wildcard tests/unit/helpers/*.c))

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
APP_OBJS  := $(APP_SRCS:%.c=$(BUILD)/%.o)
PROG_OBJS := $(PROG_SRCS:%.c=$(BUILD)/%.o)
TEST_HELPER_OBJS := $(TEST_HELPER_SRCS:%.c=$(BUILD)/%.o)
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
LIB       := $(BUILD)/libtapstack.a

# mk/*.mk files append make targets to TEST_EXTRA; `make test` runs them after the rest. Each
# must end its output with a line "... N passed, N failed" (scripts/test-all.sh sums them).
TEST_EXTRA ?=

.SECONDARY:
.PHONY: all lib tests test-unit test-san check-layering check-docs clean help test test-net deps demo run valgrind
all: lib $(BUILD)/tapstack tests

lib: $(LIB)

# Library objects are position-independent (they also make the shared library) and hidden unless
# declared TS_API (stack/core/api.h). This archive keeps every name for the tests and the
# program; mk/install.mk makes the installed libraries, where only the TS_API names remain.
$(LIB_OBJS): CFLAGS += -fPIC -fvisibility=hidden
# A build directory made before these flags (or with others) is rebuilt: the objects depend
# on a file holding the flags, rewritten only when they change.
LIB_FLAGS := $(BUILD)/lib-flags.txt
$(LIB_OBJS): $(LIB_FLAGS)
$(LIB_FLAGS): FORCE
	@mkdir -p $(dir $@)
	@echo '$(CC) $(CFLAGS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS)' >$@
.PHONY: FORCE

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# Objects depend on a stamp of the compiler and flags, so a change of flags (say, a merge that
# adds -fvisibility=hidden) rebuilds them instead of leaving old objects behind. The stamp is
# rewritten only when its text changes.
FLAGS_STAMP := $(BUILD)/.flags
$(shell mkdir -p $(BUILD) && printf '%s\n' '$(CC) $(CFLAGS) $(LDLIBS)' | cmp -s - $(FLAGS_STAMP) || \
	printf '%s\n' '$(CC) $(CFLAGS) $(LDLIBS)' > $(FLAGS_STAMP))

$(BUILD)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/tapstack: $(APP_OBJS) $(PROG_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(APP_OBJS) $(PROG_OBJS) $(LIB) $(LDLIBS)

tests: $(TEST_BINS)

# A test program may wrap a libc call to make it fail on demand (TEST_WRAP_<name>).
TEST_WRAP_test_tcp_nomem := -Wl,--wrap=calloc -Wl,--wrap=malloc

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TEST_HELPER_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(TEST_HELPER_OBJS) $(LIB) -lcmocka -lm $(LDLIBS) $(TEST_WRAP_$*)

# Runs every unit test program; cmocka prints its own summary per group, and the last line
# is the plain total that CI reads.
test-unit: $(TEST_BINS)
	@scripts/run-unit-tests.sh $(TEST_BINS)

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
test-san:
	$(MAKE) BUILD=build/san OPT="-O1 -g $(SAN_FLAGS)" LDLIBS="$(SAN_FLAGS) -luring -lpthread" test-unit

check-layering:
	@scripts/check-layering.sh

# Needs the build (C samples in docs/ link against the library, run blocks use the programs);
# ends "check-docs: N passed, N failed".
check-docs: all
	@CC="$(CC)" BUILD="$(BUILD)" LDLIBS="$(LDLIBS)" DRILL_CORPUS="$(DRILL_CORPUS)" python3 scripts/check-docs.py

deps:
	@scripts/deps.sh

# The addresses of the stack and of the TAP's kernel side (run, demo, test-net, bench).
ADDR ?= 10.0.0.2/24
PEER ?= 10.0.0.1
export TS_ADDR := $(ADDR)
export TS_PEER := $(PEER)

# Root: each tests/net/test_*.sh makes its own namespace and TAP and cleans up.
test-net: all
	@scripts/run-net-tests.sh $(sort $(wildcard tests/net/test_*.sh))

test:
	@scripts/test-all.sh deps check-layering check-docs test-unit test-san test-net $(TEST_EXTRA)

# On a fresh machine the packages come first (the build needs cmocka, the demo curl and ping).
demo:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

run:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@NETNS=$(NETNS) scripts/run.sh

VALGRIND := valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99
valgrind: $(TEST_BINS)
	@scripts/run-unit-tests.sh --wrap "$(VALGRIND)" $(TEST_BINS)

clean:
	rm -rf build

help:
	@sed -n '1,/^$$/p' Makefile

-include $(sort $(wildcard mk/*.mk))
-include $(LIB_OBJS:.o=.d) $(APP_OBJS:.o=.d) $(PROG_OBJS:.o=.d) $(TEST_HELPER_OBJS:.o=.d) $(TEST_SRCS:%.c=$(BUILD)/%.d)
