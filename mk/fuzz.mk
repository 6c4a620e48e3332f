# mk/fuzz.mk - the fuzz targets (tests/fuzz, issue 11) and what they reach.
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="tcp_states ..."]
#                      libFuzzer on each target in turn, one core, with its seed corpus
#                      (tests/fuzz/corpus/TARGET); new inputs go to build/fuzz/corpus/TARGET
#   make fuzz-smoke    a few seconds per target (part of `make test`, in build/fuzz/smoke):
#                      no finding allowed
#   make fuzz-cov      a coverage build replays each target's corpora and prints, per target
#                      and for all together, the share of stack/ functions reached
#
# Targets: stack_input (raw frames, checksums fixed on request), tcp_states (a live
# connection in each state, then mutated segments), socket_api (random ts_* call sequences on
# two stacks), socket_tso (the same with checksum offload, TSO and GRO on the cable), http_parse (apps/http_parse.c), drill_parse (the packetdrill script parser).
# Each is built with clang's -fsanitize=fuzzer,address,undefined against a library rebuilt
# with the same instrumentation (build/fuzz); needs clang (scripts/deps.sh installs it).

FUZZ_SECONDS ?= 30
FUZZ_SMOKE_SECONDS ?= 4
FUZZ_TARGETS ?= stack_input tcp_states socket_api socket_tso http_parse drill_parse
FUZZ_BUILD := build/fuzz
FUZZ_CC := clang
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_LINK := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS = $(CSTD) $(WARN) -O1 -g -I stack -I .
COV_BUILD := build/fuzzcov
COV_FLAGS := -fprofile-instr-generate -fcoverage-mapping

# What a target links besides the library and fuzz_peer.c.
FUZZ_EXTRA_http_parse := apps/http_parse.c
FUZZ_EXTRA_drill_parse := tests/drill/lex.c tests/drill/parse.c

.PHONY: fuzz fuzz-smoke fuzz-cov fuzz-lib fuzz-bins

fuzz-lib:
	$(MAKE) --no-print-directory CC=$(FUZZ_CC) BUILD=$(FUZZ_BUILD) OPT="-O1 -g $(FUZZ_SAN)" lib

fuzz-bins: fuzz-lib
	@for t in $(FUZZ_TARGETS); do \
		extra=""; [ "$$t" = http_parse ] && extra="$(FUZZ_EXTRA_http_parse)"; \
		[ "$$t" = drill_parse ] && extra="$(FUZZ_EXTRA_drill_parse)"; \
		echo "  FUZZ $$t"; \
		$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_LINK) -o $(FUZZ_BUILD)/fuzz_$$t tests/fuzz/fuzz_$$t.c \
			tests/fuzz/fuzz_peer.c $$extra $(FUZZ_BUILD)/libtapstack.a -lpthread || exit 1; \
	done

fuzz: fuzz-bins
	@scripts/fuzz-run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Its own corpus and logs, so it may run beside a long `make fuzz`.
fuzz-smoke: fuzz-bins
	@FUZZ_WORK=$(FUZZ_BUILD)/smoke scripts/fuzz-run.sh $(FUZZ_BUILD) $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

fuzz-cov:
	$(MAKE) --no-print-directory CC=$(FUZZ_CC) BUILD=$(COV_BUILD) OPT="-O1 -g $(COV_FLAGS)" lib
	@scripts/fuzz-cov.sh $(COV_BUILD) "$(FUZZ_CC) $(FUZZ_CFLAGS) $(COV_FLAGS)" $(FUZZ_TARGETS)

TEST_EXTRA += fuzz-smoke
