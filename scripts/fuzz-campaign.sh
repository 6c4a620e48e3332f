#!/usr/bin/env bash
# scripts/fuzz-campaign.sh UNTIL SECONDS TARGET... - a long fuzz campaign on one core: rounds
# of scripts/fuzz-run.sh, each target for SECONDS in turn (a target written T:S runs S seconds),
# until the UTC time UNTIL (HH:MM), resuming from build/fuzz/corpus. Run it as
#   taskset -c 1 nice -n 19 scripts/fuzz-campaign.sh 23:15 300 tcp_states socket_api ...
# after `make fuzz-bins`. Each run's log is kept in build/fuzz/campaign/ and summed up in one
# line of build/fuzz/campaign/runs.tsv (start, target, seconds, executions, edges, status), the
# table docs/testing.md records. A target whose binary is rebuilt meanwhile runs the new one in
# the next round; a finding stops nothing (its reproducer is in build/fuzz/findings/TARGET).
set -u
until=$1 secs=$2
shift 2
build=build/fuzz dir=build/fuzz/campaign
mkdir -p "$dir"
[ -f "$dir/runs.tsv" ] || printf 'start\ttarget\tseconds\texecutions\tedges\tstatus\n' >"$dir/runs.tsv"
end=$(date -u -d "$until" +%s)
round=0
while :; do
	round=$((round + 1))
	for spec in "$@"; do
		t=${spec%%:*} s=$secs
		[ "$t" != "$spec" ] && s=${spec#*:}
		left=$((end - $(date -u +%s)))
		[ "$left" -lt 30 ] && exit 0
		[ "$s" -gt "$left" ] && s=$left
		[ -x "$build/fuzz_$t" ] || continue
		start=$(date -u +%H:%M)
		scripts/fuzz-run.sh "$build" "$s" "$t" >/dev/null
		rc=$?
		log=$dir/r${round}_$t.log
		cp "$build/fuzz_$t.log" "$log"
		runs=$(grep -aoE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n 1)
		cov=$(grep -aoE 'cov: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+')
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$start" "$t" "$s" "${runs:-?}" "${cov:-?}" \
			"$([ "$rc" = 0 ] && echo ok || echo "finding, see $log")" >>"$dir/runs.tsv"
	done
done
