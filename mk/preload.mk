# mk/preload.mk - the LD_PRELOAD library and its launcher (issue 8, docs/preload.md).
#
#   build/libtapstack-preload.so   the library's objects (already -fPIC, names hidden unless
#                                  TS_API) plus preload/{state,calls,wait,arena,procs}.c
#   build/tapstack-run             sets TAPSTACK_* and LD_PRELOAD, then execs the program
#   make demo-nginx                Debian's nginx on tapstack, strace beside the trace (root)

PRELOAD_SRCS := preload/state.c preload/calls.c preload/wait.c preload/arena.c preload/procs.c
PRELOAD_OBJS := $(PRELOAD_SRCS:%.c=$(BUILD)/%.o)
# The control socket's server side (apps/cli/), built once more position-independent.
PRELOAD_CLI_OBJS := $(PROG_SRCS:%.c=$(BUILD)/pic/%.o)

all: $(BUILD)/libtapstack-preload.so $(BUILD)/tapstack-run

$(PRELOAD_OBJS): CFLAGS += -fPIC -fvisibility=hidden

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

# The interposed calls are exported (calls.c and wait.c switch default visibility on for
# their definitions); everything else of the preload files stays inside the library.
# --wrap: every malloc, calloc, realloc and free of these objects goes to preload/state.c,
# which puts them in the shared arena once the stack starts (the stack a forked child shares).
PRELOAD_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free
$(BUILD)/libtapstack-preload.so: $(PRELOAD_OBJS) $(PRELOAD_CLI_OBJS) $(LIB_OBJS)
	$(CC) $(CFLAGS) -shared -o $@ $^ $(PRELOAD_WRAP) -ldl $(LDLIBS)

# The unit tests of the arena and the process table link those two files.
PRELOAD_SHARE_OBJS := $(BUILD)/preload/arena.o $(BUILD)/preload/procs.o
$(BUILD)/tests/test_preload_share: $(PRELOAD_SHARE_OBJS)
$(BUILD)/tests/test_preload_share: TEST_HELPER_OBJS += $(PRELOAD_SHARE_OBJS)

$(BUILD)/tapstack-run: preload/run.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $<

-include $(PRELOAD_OBJS:.o=.d) $(PRELOAD_CLI_OBJS:.o=.d)

# The probe tests/net/test_preload_calls.sh runs under tapstack-run: plain Linux calls.
all: $(BUILD)/preload-probe
$(BUILD)/preload-probe: tests/net/preload_probe.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -lpthread

.PHONY: demo-nginx
demo-nginx:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@scripts/demo-nginx.sh
