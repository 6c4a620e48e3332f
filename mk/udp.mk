# mk/udp.mk - build rules of the UDP integration test's client (included by the Makefile).
#
#   build/udp-check    a UDP echo client that checks every echoed byte (tests/net/udp_check.c)

all: $(BUILD)/udp-check

$(BUILD)/udp-check: $(BUILD)/tests/net/udp_check.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^
