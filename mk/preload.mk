# mk/preload.mk - the LD_PRELOAD library and its launcher (issue 8, docs/preload.md).
#
#   build/libtapstack-preload.so   the stack (every stack/ and drivers/ file, built with
#                                  -fPIC) plus preload/{state,calls,wait}.c
#   build/tapstack-run             sets TAPSTACK_* and LD_PRELOAD, then execs the program

PIC_BUILD := $(BUILD)/pic
PRELOAD_SRCS := preload/state.c preload/calls.c preload/wait.c
PRELOAD_OBJS := $(LIB_SRCS:%.c=$(PIC_BUILD)/%.o) $(PRELOAD_SRCS:%.c=$(PIC_BUILD)/%.o)

all: $(BUILD)/libtapstack-preload.so $(BUILD)/tapstack-run

$(PIC_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

# Only the interposed calls are exported (they are declared by system headers, which give
# them default visibility); the stack's own symbols stay hidden inside the library.
$(BUILD)/libtapstack-preload.so: $(PRELOAD_OBJS)
	$(CC) $(CFLAGS) -shared -o $@ $^ -ldl $(LDLIBS)

$(BUILD)/tapstack-run: preload/run.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $<

-include $(PRELOAD_OBJS:.o=.d)
