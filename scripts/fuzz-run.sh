#!/usr/bin/env bash
# scripts/fuzz-run.sh BUILD SECONDS TARGET... - runs each libFuzzer target of mk/fuzz.mk
# (BUILD/fuzz_TARGET) for SECONDS on one core, over its seed corpus (tests/fuzz/corpus/TARGET,
# read only) and a working corpus (WORK/corpus/TARGET, where new inputs go; WORK is
# $FUZZ_WORK or BUILD). A crash, leak, timeout or sanitizer report fails the target; its
# reproducer is left in WORK/findings/TARGET, the log in WORK/fuzz_TARGET.log.
# Ends with "fuzz: N passed, N failed" and the executions of each target.
set -u
build=$1 secs=$2
work=${FUZZ_WORK:-$build}
shift 2
pass=0 fail=0 lines=()
for t in "$@"; do
	bin=$build/fuzz_$t
	mkdir -p "$work/corpus/$t" "$work/findings/$t"
	seeds=tests/fuzz/corpus/$t
	[ "$t" = drill_parse ] && seeds=tests/drill/scripts   # the project's scripts are its seeds
	log=$work/fuzz_$t.log
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
		-artifact_prefix="$work/findings/$t/" "$work/corpus/$t" "$seeds" >"$log" 2>&1
	rc=$?
	runs=$(grep -aoE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n 1)
	cov=$(grep -aoE 'cov: [0-9]+' "$log" | tail -n 1)
	if [ "$rc" = 0 ]; then
		pass=$((pass + 1))
		lines+=("  $t: ok, ${runs:-?} executions in ${secs} s, ${cov:-cov: ?} edges")
	else
		fail=$((fail + 1))
		lines+=("  $t: FAILED (status $rc), see $log and $work/findings/$t/")
		grep -aE 'ERROR|SUMMARY|artifact' "$log" | head -n 5 | sed 's/^/    /'
	fi
done
printf '%s\n' "${lines[@]}"
echo "fuzz: $pass passed, $fail failed"
[ "$fail" = 0 ]
