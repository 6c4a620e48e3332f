#!/usr/bin/env bash
# Runs each integration test script given (tests/net/test_*.sh, root) and ends with one line
# "net: N passed, N failed" summing the PASS/FAIL checks the scripts print. A script that
# exits non-zero without printing a FAIL counts as one failure.
set -u
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "test-net: needs root (network namespaces and a TAP device); run: sudo make test-net"
	echo "net: 0 passed, 1 failed"
	exit 1
fi
passed=0 failed=0
for t in "$@"; do
	echo "--- $t"
	# Output to a file, not a pipe: a straggler a script left behind (which it should not)
	# must not hold the runner until it exits.
	log=$(mktemp)
	timeout 600 bash "$t" >"$log" 2>&1 </dev/null
	rc=$?
	out=$(cat "$log")
	rm -f "$log"
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | grep -c '^PASS' || true)
	f=$(printf '%s\n' "$out" | grep -c '^FAIL' || true)
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $t exited with status $rc"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "net: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
