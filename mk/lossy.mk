# mk/lossy.mk - the lossy-path relay and `make bench-lossy` (issue 9 item 4).
#
#   build/tapstack-relay      user-space Ethernet relay with seeded loss, corruption,
#                             reordering, delay and a rate-limited bottleneck (tests/relay/)
#   build/tests/test_impair   the relay's model on a fake clock (links tests/relay/impair.o)
#   build/tests/test_resend   its count of TCP payload sent again (tests/relay/resend.o)
#   build/tests/test_tcp_path two stacks through that model in virtual time (impair.o)
#   sudo make bench-lossy     tapstack beside the kernel through the relay, the matrix of
#                             issue 9 item 4 (about 13 minutes, at most 15): table, build/bench-lossy/
#                             results.json and heatmap.png (scripts/bench/lossy.py)
#   sudo make bench-lossy-quick   three cells, one repetition (under a minute)
#
# tests/net/test_tcp_lossy.sh (part of `make test`) uses the relay for one short download
# from each stack.

RELAY := $(BUILD)/tapstack-relay
RELAY_OBJS := $(BUILD)/tests/relay/relay.o $(BUILD)/tests/relay/impair.o $(BUILD)/tests/relay/resend.o

all: $(RELAY)

$(RELAY): $(RELAY_OBJS) $(LIB)
	$(CC) $(CFLAGS) -o $@ $(RELAY_OBJS) $(LIB) $(LDLIBS)

$(BUILD)/tests/test_impair: $(BUILD)/tests/unit/test_impair.o $(BUILD)/tests/relay/impair.o $(TEST_HELPER_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/tests/relay/impair.o $(TEST_HELPER_OBJS) $(LIB) -lcmocka $(LDLIBS)

$(BUILD)/tests/test_tcp_path: $(BUILD)/tests/unit/test_tcp_path.o $(BUILD)/tests/relay/impair.o $(TEST_HELPER_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/tests/relay/impair.o $(TEST_HELPER_OBJS) $(LIB) -lcmocka $(LDLIBS)

$(BUILD)/tests/test_resend: $(BUILD)/tests/unit/test_resend.o $(BUILD)/tests/relay/resend.o $(TEST_HELPER_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/tests/relay/resend.o $(TEST_HELPER_OBJS) $(LIB) -lcmocka $(LDLIBS)

.PHONY: bench-lossy bench-lossy-quick
bench-lossy: $(BUILD)/tapstack $(BUILD)/tapstack-kernel $(RELAY) $(BUILD)/bytes-check
	/usr/bin/python3 scripts/bench/lossy.py --build $(BUILD) $(ARGS)

bench-lossy-quick:
	@$(MAKE) --no-print-directory bench-lossy ARGS="--quick $(ARGS)"

-include $(RELAY_OBJS:.o=.d)

# Checks of lossy.py's parsing, ratios, targets, table and heat-map input (no root, no
# network, no timing); part of `make test`.
.PHONY: bench-lossy-selftest
bench-lossy-selftest:
	@/usr/bin/python3 scripts/bench/lossy_selftest.py
TEST_EXTRA += bench-lossy-selftest
