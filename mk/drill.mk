# mk/drill.mk - the packetdrill runner (tests/drill, issue 4) and its targets.
#
#   make drill                 run every corpus script and tests/drill/scripts/*.pkt against
#                              tapstack, judged by tests/drill/expectations.txt
#   make drill DRILL_CORPUS=D  the corpus elsewhere (default ../shared/packetdrill, beside the clone)
#   make drill-update          the same, then rewrite expectations.txt: scripts that pass now are
#                              dropped, new failures added with a TODO (review the diff)
#   build/tapstack-drill [-v] script.pkt...   run chosen scripts (see docs/testing.md)
#
# The runner's objects are also linked into its unit tests (tests/unit/test_drill_*.c), which
# need more than the test helpers the generic rule links; the explicit rules below win.

DRILL_CORPUS ?= ../shared/packetdrill
DRILL_SRCS := $(sort $(wildcard tests/drill/*.c))
DRILL_OBJS := $(DRILL_SRCS:%.c=$(BUILD)/%.o)
DRILL_PARSE_OBJS := $(BUILD)/tests/drill/lex.o $(BUILD)/tests/drill/parse.o
DRILL_CODE_OBJS := $(BUILD)/tests/drill/code.o $(BUILD)/tests/drill/tcpinfo.o
DRILL_RUN_OBJS := $(filter-out $(BUILD)/tests/drill/main.o,$(DRILL_OBJS))

.PHONY: drill drill-update
all: $(BUILD)/tapstack-drill

$(BUILD)/tapstack-drill: $(DRILL_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(DRILL_OBJS) $(LIB) $(LDLIBS)

$(BUILD)/tests/test_drill_parser: $(BUILD)/tests/unit/test_drill_parser.o $(DRILL_PARSE_OBJS) $(TEST_HELPER_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(DRILL_PARSE_OBJS) $(TEST_HELPER_OBJS) $(LIB) -lcmocka $(LDLIBS)

$(BUILD)/tests/test_drill_code: $(BUILD)/tests/unit/test_drill_code.o $(DRILL_CODE_OBJS) $(TEST_HELPER_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(DRILL_CODE_OBJS) $(TEST_HELPER_OBJS) $(LIB) -lcmocka $(LDLIBS)

# Runs scripts from strings: every runner object but main.o.
$(BUILD)/tests/test_drill_runner: $(BUILD)/tests/unit/test_drill_runner.o $(DRILL_RUN_OBJS) $(TEST_HELPER_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(DRILL_RUN_OBJS) $(TEST_HELPER_OBJS) $(LIB) -lcmocka $(LDLIBS)

# Ends with "drill: N passed, N failed (...)", failures being regressions (scripts/test-all.sh sums it).
drill: $(BUILD)/tapstack-drill
	$(BUILD)/tapstack-drill --expect tests/drill/expectations.txt --corpus $(DRILL_CORPUS) \
		$(sort $(wildcard tests/drill/scripts/*.pkt))

drill-update: $(BUILD)/tapstack-drill
	-$(BUILD)/tapstack-drill --expect tests/drill/expectations.txt --update-expectations \
		--corpus $(DRILL_CORPUS) $(sort $(wildcard tests/drill/scripts/*.pkt))

TEST_EXTRA += drill

-include $(DRILL_OBJS:.o=.d)
