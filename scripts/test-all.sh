#!/usr/bin/env bash
# `make test`: runs each make target given, in order, keeps going after a failure, and ends
# with every runner's summary line and one plain total "N passed, N failed".
# A target's summary is the last line of its output of the form "... N passed, N failed";
# a target that prints none (deps, check-layering) counts as one check, passed if it
# exited 0. Exit status 1 when anything failed.
set -u
cd "$(dirname "$0")/.."
mkdir -p build
total_p=0 total_f=0
summaries=()
for target in "$@"; do
	log=build/test-$target.log
	echo "=== make $target"
	t0=$(date +%s)
	# Builds in parallel on every core (the runners themselves run one test at a time).
	make --no-print-directory -j"$(nproc)" "$target" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -n "$line" ]; then
		p=$(printf '%s\n' "$line" | grep -oE '[0-9]+ passed, [0-9]+ failed' | tail -n 1 | cut -d' ' -f1)
		f=$(printf '%s\n' "$line" | grep -oE '[0-9]+ passed, [0-9]+ failed' | tail -n 1 | cut -d' ' -f3)
		# A runner that crashed after its summary still fails the build.
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1
			line="$line (but exited with status $rc)"
		fi
	else
		if [ "$rc" -eq 0 ]; then p=1 f=0; line="ok"; else p=0 f=1; line="FAILED (status $rc)"; fi
	fi
	total_p=$((total_p + p))
	total_f=$((total_f + f))
	summaries+=("$(printf '%-16s %s  [%ss]' "$target:" "$line" "$(($(date +%s) - t0))")")
done
echo
echo "=== summary"
for s in "${summaries[@]}"; do
	echo "$s"
done
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
