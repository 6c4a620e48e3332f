# mk/apps.mk - extra build rules of the demo servers (included by the Makefile).
#
#   build/tapstack-kernel   the same servers built against the kernel's own sockets
#                           (apps/net.h with -DNET_KERNEL; see apps/kernel/main.c)
#   build/bytes-check       checks that stdin is exactly N bytes of the /bytes/N pattern
#   build/blocking-echo     a thread-per-connection echo server on the blocking facade
#   build/echo7             docs/library.md's smallest program (apps/examples/echo7.c)
#   build/tests/test_http   the unit test of apps/http_parse.c (apps/*.c are not in the library)
#   build/tests/test_apps   the servers on an in-process stack pair (links the apps' objects)
#   build/tests/test_cli    apps/cli/ (tapstack ss, stats) over an in-process stack pair

# The servers, without the tapstack program: everything in apps/ but apps/tapstack.c, and
# the one helper of the stack's they share (core/spares.c: the HTTP server's kept buffers,
# the same on both sides of the comparison).
KAPP_SRCS := $(filter-out apps/tapstack.c,$(APP_SRCS)) apps/kernel/main.c stack/core/spares.c
KAPP_OBJS := $(KAPP_SRCS:%.c=$(BUILD)/kernel/%.o)

all: $(BUILD)/tapstack-kernel $(BUILD)/bytes-check $(BUILD)/blocking-echo $(BUILD)/echo7

$(BUILD)/kernel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DNET_KERNEL -c $< -o $@

$(BUILD)/tapstack-kernel: $(KAPP_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bytes-check: $(BUILD)/tests/net/bytes_check.o $(BUILD)/apps/http_parse.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^

$(BUILD)/blocking-echo: $(BUILD)/apps/examples/blocking_echo.o $(LIB)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# docs/library.md's smallest program, on the tree's library.
$(BUILD)/echo7: $(BUILD)/apps/examples/echo7.o $(LIB)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/test_http: $(BUILD)/tests/unit/test_http.o $(BUILD)/apps/http_parse.o $(TEST_HELPER_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/apps/http_parse.o $(TEST_HELPER_OBJS) $(LIB) -lcmocka $(LDLIBS)

# The servers on a real in-process stack (no root): the apps' objects without the program.
TEST_APPS_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(filter-out apps/tapstack.c,$(APP_SRCS)))
$(BUILD)/tests/test_apps: $(BUILD)/tests/unit/test_apps.o $(TEST_APPS_OBJS) $(TEST_HELPER_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(TEST_APPS_OBJS) $(TEST_HELPER_OBJS) $(LIB) -lcmocka $(LDLIBS)

-include $(KAPP_OBJS:.o=.d) $(BUILD)/tests/net/bytes_check.d $(BUILD)/apps/examples/blocking_echo.d \
	$(BUILD)/apps/examples/echo7.d

# The program's control-socket commands (apps/cli/: ss, stats) without a device.
$(BUILD)/tests/test_cli: $(BUILD)/tests/unit/test_cli.o $(PROG_OBJS) $(TEST_HELPER_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(PROG_OBJS) $(TEST_HELPER_OBJS) $(LIB) -lcmocka $(LDLIBS)
