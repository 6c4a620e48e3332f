# mk/stress.mk - `sudo make stress` (issue 11; not part of `make test`): the attacks of
# scripts/stress.sh against tapstack in a namespace it creates, one table at the end.
#
#   sudo make stress          against build/tapstack
#   sudo make stress-san      the same against the ASan+UBSan build (build/san/tapstack)
#   STRESS_TESTS="syn-onlink slowloris"   only those rows (scripts/stress.sh names them)

.PHONY: stress stress-san
$(BUILD)/stress-flood: tests/stress/flood.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -o $@ $<

stress: all $(BUILD)/stress-flood
	@scripts/stress.sh $(STRESS_TESTS)

stress-san: all $(BUILD)/stress-flood
	$(MAKE) --no-print-directory BUILD=build/san OPT="-O1 -g $(SAN_FLAGS)" LDLIBS="$(SAN_FLAGS) -luring -lpthread" build/san/tapstack
	@scripts/stress.sh --san $(STRESS_TESTS)
