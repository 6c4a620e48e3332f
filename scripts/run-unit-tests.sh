#!/usr/bin/env bash
# Runs each cmocka test program given, then prints one closing line "N passed, N failed"
# counting individual test cases across all programs. Exit status 1 if any case failed or
# any program crashed. `--wrap "CMD ARGS"` runs each program under CMD (e.g. valgrind).
set -u
wrap=
if [ "${1:-}" = "--wrap" ]; then
	wrap=$2
	shift 2
fi
passed=0 failed=0 crashed=0
for t in "$@"; do
	out=$($wrap "$t" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "error: $t exited with status $rc"
		crashed=$((crashed + 1))
		failed=$((failed + 1))
	fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
