# mk/bench.mk - `make bench` (issue 5): tapstack beside the Linux kernel in one run.
#
#   sudo make bench                 full run (a few minutes): table, build/bench/results.json,
#                                   build/bench/ratios.png
#   sudo make bench ARGS=--quick    smoke run, under a minute (also: make bench-quick)
#   sudo make bench ARGS='--only rtt,keepalive --profile'
#   make bench-selftest             checks of the driver itself (no root, no timing)
#   sudo make bench ADDR=10.9.0.2/24 PEER=10.9.0.1   other addresses for the tapstack side
#
# The driver is scripts/bench/bench.py (python3 standard library); the small client it needs
# (1-byte RTT, upload to discard, holding idle connections) is scripts/bench/benchcli.c.
# tapstack and tapstack-kernel are built when they can be; a missing or broken build leaves
# "n/a" rows with the reason instead of stopping the kernel-side measurements.

BENCH_OUT := $(BUILD)/bench
BENCH_CLI := $(BENCH_OUT)/benchcli
# The TAP's ceiling with a kernel TCP endpoint behind it (1448-byte segments in and out).
BENCH_CEIL := $(BENCH_OUT)/tapceil

.PHONY: bench bench-quick bench-tools
bench-tools: $(BENCH_CLI) $(BENCH_CEIL)

$(BENCH_CLI): scripts/bench/benchcli.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -g -o $@ $<

$(BENCH_CEIL): scripts/bench/tapceil.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -g -o $@ $< -lpthread

bench: $(BENCH_CLI) $(BENCH_CEIL)
	-@$(MAKE) -k --no-print-directory $(BUILD)/tapstack $(BUILD)/tapstack-kernel 2>&1 | tail -n 5
	/usr/bin/python3 scripts/bench/bench.py --build $(BUILD) --addr $(ADDR) --peer $(PEER) $(ARGS)

bench-quick:
	@$(MAKE) --no-print-directory bench ARGS="--quick $(ARGS)"

# Checks of the driver's parsing, statistics, table, targets and chart input (no root, no
# network, no timing; a row whose workload did not run says n/a); part of `make test`.
.PHONY: bench-selftest
bench-selftest:
	@/usr/bin/python3 scripts/bench/selftest.py
TEST_EXTRA += bench-selftest
