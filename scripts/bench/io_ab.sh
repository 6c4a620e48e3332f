#!/usr/bin/env bash
# io_ab.sh - tapstack binaries and I/O back ends side by side, interleaved, on one TAP
# (docs/performance.md, "One copy on transmit, and where io_uring runs"). For each
# repetition and each MODE in turn: a fresh tapstack on a TAP in a namespace of its own, a
# curl download of DL bytes (/bytes/N), a benchcli upload of UL bytes to the discard port, a
# benchcli 1-byte echo RTT (5000 round trips), then the number of threads of the process
# (io_uring worker threads show here as iou-wrk-PID) and the TAP's counters (tap.tx_frames,
# tap.tx_syscalls). One line per run. Speeds depend on the machine's load: compare modes of
# the same run only, over several repetitions.
#
#   sudo scripts/bench/io_ab.sh [--reps N] MODE...
#   MODE = LABEL:BINARY:EXTRA-ARGS, e.g.
#   sudo scripts/bench/io_ab.sh --reps 3 "plain:build/tapstack:--io plain" \
#        "uring:build/tapstack:--io uring" "uring-nooff:build/tapstack:--io uring --no-offload"
# Needs build/bench/benchcli (make bench-tools) and curl.
set -u
REPS=2
DL=${DL:-200000000}
UL=${UL:-150000000}
while [ $# -gt 0 ]; do
	case $1 in
	--reps) REPS=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { sed -n '2,17p' "$0"; exit 2; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CLI=$ROOT/build/bench/benchcli
[ -x "$CLI" ] || { echo "io_ab: $CLI is not built (make bench-tools)"; exit 1; }
NS=tsab-$$
TAP=tsab$$
CTL=$(mktemp -u /tmp/tsab-$$.XXXXXX.ctl)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -f "$CTL"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$NS" || exit 1
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip tuntap add "$TAP" mode tap
ip netns exec "$NS" ip addr add 10.0.0.1/24 dev "$TAP"
ip netns exec "$NS" ip link set "$TAP" up
for _ in $(seq "$REPS"); do
	for m in "$@"; do
		IFS=: read -r label bin extra <<<"$m"
		# shellcheck disable=SC2086  # EXTRA-ARGS are words
		ip netns exec "$NS" "$bin" --tap "$TAP" --addr 10.0.0.2/24 --mac 02:00:00:00:00:02 --http 80 \
			--echo 7 --discard 9 --quiet --ctl "$CTL" $extra >/dev/null 2>&1 &
		PID=$!
		for _ in $(seq 50); do
			ip netns exec "$NS" bash -c "echo >/dev/tcp/10.0.0.2/7" 2>/dev/null && break
			sleep 0.1
		done
		dl=$(ip netns exec "$NS" curl -s -o /dev/null -w '%{speed_download}' "http://10.0.0.2/bytes/$DL")
		ul=$(ip netns exec "$NS" "$CLI" upload 10.0.0.2 9 "$UL" 30 2>&1 | sed -n 's/.*gbps=\([0-9.]*\).*/\1/p')
		rtt=$(ip netns exec "$NS" "$CLI" rtt 10.0.0.2 7 5000 3 2>&1 | sed -n 's/.*median_us=\([0-9.]*\).*/\1/p')
		threads=$(ls "/proc/$PID/task" | wc -l)
		st=$("$bin" stats -z --ctl "$CTL" 2>/dev/null | awk '$1 ~ /^tap\.tx_(frames|syscalls)$/ { printf "%s %s ", $1, $2 }')
		kill "$PID"
		wait "$PID" 2>/dev/null
		PID=
		printf '%-14s download %6.2f Gbit/s  upload %6s Gbit/s  rtt median %6s us  threads %3s  %s\n' \
			"$label" "$(awk -v d="${dl:-0}" 'BEGIN { print d * 8 / 1e9 }')" "${ul:-?}" "${rtt:-?}" "$threads" "$st"
	done
done
