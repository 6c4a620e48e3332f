# tapstack - a userspace TCP/IP stack on a Linux TAP device.
#
#   make                 build/libtapstack.a and build/tapstack (gcc; `make CC=clang` works too)
#   make test-unit       cmocka unit and packet-level tests (no root, seconds)
#   make test-san        the unit tests again under ASan + UBSan
#   make check-layering  fail if an #include points upward (see docs/architecture.md)
#   make test            everything: layering, unit, sanitizer, integration (root; installs packages)
#   make demo / run      see README.md
#
# Sources are found by wildcard: a new .c file under stack/ or drivers/ joins the library,
# a new tests/unit/test_*.c becomes a test program. Feature areas may add rules in mk/*.mk.

CC      ?= gcc
BUILD   ?= build
CSTD    := -std=c11 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers
OPT     ?= -O2 -g
CFLAGS  += $(CSTD) $(WARN) $(OPT) -I stack -I . -MMD -MP
LDLIBS  += -lpthread

LIB_SRCS  := $(shell find stack drivers -name '*.c' | sort)
APP_SRCS  := $(sort $(wildcard apps/*.c))
TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
TEST_HELPER_SRCS := $(sort $(wildcard tests/unit/helpers/*.c))

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
APP_OBJS  := $(APP_SRCS:%.c=$(BUILD)/%.o)
TEST_HELPER_OBJS := $(TEST_HELPER_SRCS:%.c=$(BUILD)/%.o)
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
LIB       := $(BUILD)/libtapstack.a

.SECONDARY:
.PHONY: all lib tests test-unit test-san check-layering clean help
all: lib $(BUILD)/tapstack tests

lib: $(LIB)

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/tapstack: $(APP_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(APP_OBJS) $(LIB) $(LDLIBS)

tests: $(TEST_BINS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TEST_HELPER_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(TEST_HELPER_OBJS) $(LIB) -lcmocka $(LDLIBS)

# Runs every unit test program; cmocka prints its own summary per group, and the last line
# is the plain total that CI reads.
test-unit: $(TEST_BINS)
	@scripts/run-unit-tests.sh $(TEST_BINS)

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
test-san:
	$(MAKE) BUILD=build/san OPT="-O1 -g $(SAN_FLAGS)" LDLIBS="$(SAN_FLAGS) -lpthread" test-unit

check-layering:
	@scripts/check-layering.sh

clean:
	rm -rf build

help:
	@sed -n '1,/^$$/p' Makefile

-include $(sort $(wildcard mk/*.mk))
-include $(LIB_OBJS:.o=.d) $(APP_OBJS:.o=.d) $(TEST_HELPER_OBJS:.o=.d) $(TEST_SRCS:%.c=$(BUILD)/%.d)
