#!/usr/bin/env bash
# ackwork.sh - counted work of the ACK path (docs/performance.md, "Stretch ACKs and lazy
# timers"): for each tapstack binary given, in one run, on a TAP in a namespace of its own
# with a Linux client on the other side:
#   - an upload of MB megabytes (benchcli upload to the discard port), with plain frames
#     (--no-offload) and with the offload path: frames tapstack sent per MB received, the
#     ACKs of a receive batch (BatchAcks), and the Linux sender's largest cwnd (ss -ti,
#     sampled every 50 ms: does the peer's congestion control still grow?);
#   - a keep-alive and a Connection: close run (wrk -t1 -c32, 100-byte bodies): frames sent
#     and timer-heap operations (timer.heap_ops, when the binary counts them) per request.
# Counts do not depend on the machine's load; the Gbit/s and req/s printed beside them do
# (a shared machine: compare binaries of the same run only).
#
#   sudo scripts/bench/ackwork.sh [--mb MB] [--secs S] BINARY [BINARY...]
#   e.g. sudo scripts/bench/ackwork.sh /tmp/old/build/tapstack build/tapstack
set -u
MB=200
SECS=3
while [ $# -gt 0 ]; do
	case $1 in
	--mb) MB=$2; shift 2 ;;
	--secs) SECS=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || { echo "usage: $0 [--mb MB] [--secs S] BINARY..."; exit 2; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCHCLI=${BENCHCLI:-$ROOT/build/bench/benchcli}
[ -x "$BENCHCLI" ] || { echo "$BENCHCLI not built (make bench-tools)"; exit 1; }

NS="ackw$$"
TAP="ackw$$"
TAP=${TAP:0:15}
WORK=$(mktemp -d /tmp/ackwork.XXXXXX)
PID=
SSPID=
cleanup() {
	[ -n "$SSPID" ] && kill "$SSPID" 2>/dev/null
	if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
	ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$NS" || exit 1
nsx() { ip netns exec "$NS" "$@"; }
nsx ip link set lo up
nsx ip tuntap add dev "$TAP" mode tap
nsx ip addr add 10.0.0.1/24 dev "$TAP"
nsx ip link set "$TAP" up

start() {   # start BINARY ARGS...: retried while the previous one's TAP is still being released
	local bin=$1
	shift
	for _ in 1 2 3 4 5; do
		rm -f "$WORK/ctl"
		ip netns exec "$NS" "$bin" --tap "$TAP" --addr 10.0.0.2/24 --mac 02:74:73:62:00:02 --ctl "$WORK/ctl" --quiet \
			--discard 9 --http 80 --backlog 1024 "$@" >"$WORK/log" 2>&1 &
		PID=$!
		for _ in $(seq 100); do
			[ -S "$WORK/ctl" ] && "$bin" stats --ctl "$WORK/ctl" >/dev/null 2>&1 && return 0
			kill -0 "$PID" 2>/dev/null || break
			sleep 0.1
		done
		wait "$PID" 2>/dev/null
		PID=
		sleep 1
	done
	cat "$WORK/log"
	return 1
}
stop() { kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=; }
stat() {    # stat BINARY NAME: one counter, 0 when the binary has no such counter
	"$1" stats -z --ctl "$WORK/ctl" |
		awk -v n="$2" '{ sub(/^[^.]*\./, "", $1) } $1 == n { print $2; f = 1; exit } END { if (!f) print 0 }'
}
# The largest cwnd (in segments) the client's socket to port 9 showed while $1 runs.
sample_cwnd() {
	: >"$WORK/cwnd"
	(while :; do nsx ss -tin dst 10.0.0.2:9 2>/dev/null | grep -o 'cwnd:[0-9]*' >>"$WORK/cwnd"; sleep 0.05; done) &
	SSPID=$!
}
max_cwnd() { kill "$SSPID" 2>/dev/null; wait "$SSPID" 2>/dev/null; SSPID=; sort -t: -k2 -n "$WORK/cwnd" | tail -n 1 | cut -d: -f2; }

printf '%-40s %-8s %9s %9s %9s %8s %8s\n' binary upload Gbit/s out/MB batchacks/MB in/MB cwnd_max
for bin in "$@"; do
	for mode in plain offload; do
		args=()
		[ $mode = plain ] && args=(--no-offload)
		start "$bin" "${args[@]}" || exit 1
		sample_cwnd
		r=$(nsx "$BENCHCLI" upload 10.0.0.2 9 $((MB * 1000000)) 60)
		cw=$(max_cwnd)
		out=$(stat "$bin" OutSegs) in=$(stat "$bin" InSegs) ba=$(stat "$bin" BatchAcks)
		gbps=$(echo "$r" | sed -n 's/.*gbps=\([0-9.]*\).*/\1/p')
		printf '%-40s %-8s %9s %9.1f %9.1f %8.1f %8s\n' "$bin" $mode "${gbps:-?}" \
			"$(echo "$out / $MB" | bc -l)" "$(echo "$ba / $MB" | bc -l)" "$(echo "$in / $MB" | bc -l)" "${cw:-?}"
		stop
	done
done
echo
printf '%-40s %-10s %9s %12s %12s\n' binary wrk req/s out/request heap_ops/req
for bin in "$@"; do
	for mode in keepalive close; do
		hdr=()
		[ $mode = close ] && hdr=(-H 'Connection: close')
		start "$bin" || exit 1
		o0=$(stat "$bin" OutSegs) t0=$(stat "$bin" heap_ops)
		nsx wrk -t1 -c32 -d"${SECS}s" "${hdr[@]}" http://10.0.0.2/bytes/100 >"$WORK/wrk" 2>&1
		reqs=$(awk '/requests in/ { print $1 }' "$WORK/wrk")
		rps=$(awk '/Requests\/sec/ { print $2 }' "$WORK/wrk")
		o1=$(stat "$bin" OutSegs) t1=$(stat "$bin" heap_ops)
		printf '%-40s %-10s %9s %12.3f %12.3f\n' "$bin" $mode "${rps:-?}" \
			"$(echo "($o1 - $o0) / ${reqs:-1}" | bc -l)" "$(echo "($t1 - $t0) / ${reqs:-1}" | bc -l)"
		stop
	done
done
