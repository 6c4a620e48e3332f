#!/usr/bin/env bash
# scripts/stress.sh [--san] [TEST...] - `make stress` (issue 11; root; not part of `make test`): the
# attacks of issue 11 against tapstack, each bounded in rate and time, in a network namespace
# this script creates (tests/net/lib.sh: the TAP's kernel side is 10.0.0.1, tapstack is
# 10.0.0.2; nothing leaves the namespace). While each attack runs, legitimate clients
# measure what is still served. One table at the end:
#
#   test | what was sent | legitimate success | latency p50/p99 | tapstack CPU s | RSS peak | counters that moved
#
# --san runs the same against the ASan+UBSan build (build/san/tapstack) and fails on any
# sanitizer report. TEST names (syn-onlink, slowloris, ...; `make stress STRESS_TESTS="..."`)
# run only those rows. Figures from a shared, loaded machine are only indicative.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SAN=0
[ "${1:-}" = --san ] && { SAN=1; shift; }
ONLY=" $* "
# want NAME: is row NAME asked for (all are when no TEST was named)?
want() { [ "$ONLY" = "  " ] || [[ "$ONLY" == *" $1 "* ]]; }
if [ "$(id -u)" -ne 0 ]; then
	echo "stress: needs root (namespaces, a TAP, raw frames); run: sudo make stress"
	exit 1
fi
if [ "$SAN" = 1 ]; then
	export TAPSTACK=$ROOT/build/san/tapstack
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=/tmp/tapstack-stress-asan.$$"
	export UBSAN_OPTIONS="print_stacktrace=1:log_path=/tmp/tapstack-stress-asan.$$"
fi
# shellcheck source=tests/net/lib.sh
. "$ROOT/tests/net/lib.sh"
FLOOD=$ROOT/build/stress-flood
CLIENTS=$ROOT/tests/stress/clients.py
BYTES_CHECK=$ROOT/build/bytes-check
for t in "$FLOOD" "$BYTES_CHECK" "$TAPSTACK"; do
	[ -x "$t" ] || { echo "stress: $t is not built (make stress builds it)"; exit 1; }
done
for t in curl ab ping python3; do
	command -v "$t" >/dev/null || { echo "stress: $t is missing (scripts/deps.sh)"; exit 1; }
done

net_setup stress
ROWS=()
nsx sysctl -qw net.ipv4.ip_local_port_range="1024 65000" net.ipv4.tcp_tw_reuse=1
# Per client address at most 1000 connections (--limit-conn, nginx's limit_conn): the attacks
# come from the kernel side's 10.0.0.1, the legitimate clients from a second address.
LEGIT_IP=${HOST_IP%.*}.3
nsx ip addr add "$LEGIT_IP/$STACK_PLEN" dev "$TAP"
stack_start --http 80 --quiet --backlog 4096 --limit-conn 1000 || exit 1
MAC=$(stack_mac)

# Every counter as "layer.Name value", sorted for join (stats -z: the zero ones too), and the
# kernel's count of frames for tapstack dropped because the TAP's queue was full (tapstack
# had not read them yet) as kernel.tap_queue_full.
stats() {
	{
		"$TAPSTACK" stats -z --ctl "$CTL" 2>/dev/null | awk 'NF >= 2 && $2 ~ /^[0-9]+$/ { print $1, $2 }'
		echo "kernel.tap_queue_full $(nsx cat "/sys/class/net/$TAP/statistics/tx_dropped")"
	} | sort
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$STACK_PID/stat" 2>/dev/null || echo 0; }
rss_peak_mib() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$STACK_PID/status" 2>/dev/null; }
TICK=$(getconf CLK_TCK)

# legit_http N FILE: N requests for / one after another (5 s each at most): "code seconds" lines.
legit_http() {
	local i
	for i in $(seq "$1"); do
		# -w prints "000 ..." for a request that failed or timed out: one line each way
		nsx curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 5 --interface "$LEGIT_IP" "http://$STACK_IP/"
	done >"$2"
}

# Summarises a legit_http file: "ok/total p50/p99 ms".
legit_summary() {
	local ok total
	total=$(wc -l <"$1")
	ok=$(grep -c '^200 ' "$1")
	printf '%s/%s (%s%%) ' "$ok" "$total" "$(( total ? 100 * ok / total : 0 ))"
	sort -n -k2 "$1" | awk '{ t[NR] = $2 } END { if (NR) printf "%.0f/%.0f ms", 1000 * t[int((NR + 1) / 2)], 1000 * t[int(NR * 0.99 + 0.99)] }'
}

# row NAME SENT RESULT: one table row with CPU, RSS and the counters that moved since mark.
mark() { stats >"$WORK/before"; CPU0=$(cpu_ticks); }
row() {
	stats >"$WORK/after"
	local cpu moved
	cpu=$(awk -v a="$CPU0" -v b="$(cpu_ticks)" -v t="$TICK" 'BEGIN { printf "%.1f", (b - a) / t }')
	moved=$(join "$WORK/before" "$WORK/after" | awk '$3 > $2 && $1 !~ /(rx_|tx_|In|Out|pending_sent|pending_queued|cache_confirms)/ { printf "%s+%d\n", $1, $3 - $2 }' |
		sort -t+ -k2 -n -r | head -n 5 | paste -sd' ')
	ROWS+=("$(printf '%-14s|%-30s|%-34s|%6s|%5s MiB|%s' "$1" "$2" "$3" "$cpu" "$(rss_peak_mib)" "$moved")")
	kill -0 "$STACK_PID" 2>/dev/null || { fail "$1: tapstack died"; return; }
	pass "$1: tapstack alive"
}

# legit_during PID DELAY NAME: DELAY s into the attack PID, 40 requests; then the attack's
# own summary line ($WORK/attack.out), the row and the 99 % check.
legit_during() {
	sleep "$2"
	legit_http 40 "$WORK/legit"
	wait "$1"
	row "$3" "$(sed 's/^sent //; s/ frames in/ frames in/; s/^[a-z]*: //' "$WORK/attack.out")" "$(legit_summary "$WORK/legit")"
	check "$3: at least 99% of requests served" [ "$(grep -c '^200 ' "$WORK/legit")" -ge 40 ]
}

download_start() {  # download_start BYTES RATE: a rate-limited, byte-checked download in the background
	( nsx bash -c "curl -sS --max-time 120 --limit-rate $2 http://$STACK_IP/bytes/$1 | $BYTES_CHECK $1" >"$WORK/dl.log" 2>&1; echo $? >"$WORK/dl.rc" ) &
	DL_PID=$!
	sleep 1
}
# download_result: waits for it (in this shell: it is our child) and sets RES.
download_result() {
	wait "$DL_PID"
	if [ "$(cat "$WORK/dl.rc" 2>/dev/null)" = 0 ]; then RES=byte-exact; else RES="FAILED ($(head -c 60 "$WORK/dl.log"))"; fi
}

# 1, 2: SYN floods from on-link (each needs ARP) and off-link sources.
for kind in onlink offlink; do
	want "syn-$kind" || continue
	src=10.0.0.0/24
	[ "$kind" = offlink ] && src=198.18.0.0/15
	mark
	nsx "$FLOOD" "$TAP" "$MAC" syn 100000 12 --src "$src" --mac-random >"$WORK/attack.out" 2>&1 &
	legit_during $! 1 "syn-$kind"
done

# 3: ACK and RST floods aimed at a live download's 4-tuple (RFC 5961 must make them harmless).
if want ack-rst-live; then
mark
download_start 150000000 15M
port=$(nsx ss -tnH "dst $STACK_IP:80" | awk '{ split($4, a, ":"); print a[2]; exit }')
nsx "$FLOOD" "$TAP" "$MAC" ack 50000 4 --src 10.0.0.1/32 --sport "${port:-1}" >"$WORK/f1" 2>&1
nsx "$FLOOD" "$TAP" "$MAC" rst 50000 4 --src 10.0.0.1/32 --sport "${port:-1}" >"$WORK/f2" 2>&1
download_result
row "ack-rst-live" "$(awk '{ s += $2 } END { print s " ACK+RST at :" }' "$WORK/f1" "$WORK/f2")${port:-?}" "download $RES"
check "ack-rst-live: the download is byte-exact" [ "$RES" = byte-exact ]
fi

# 4: 50,000 connections in a burst (ab, 500 at a time).
if want burst-50k; then
mark
nsx ab -q -n 50000 -c 500 -s 10 -r "http://$STACK_IP/" >"$WORK/ab.out" 2>&1
complete=$(awk '/^Complete requests/ { print $3 }' "$WORK/ab.out")
failed=$(awk '/^Failed requests/ { print $3 }' "$WORK/ab.out")
p50=$(awk '/^  50%/ { print $2 }' "$WORK/ab.out")
p99=$(awk '/^  99%/ { print $2 }' "$WORK/ab.out")
ok=$(( ${complete:-0} - ${failed:-0} ))
row "burst-50k" "50000 requests, 500 at a time" "$ok/50000 ($(( ok * 100 / 50000 ))%) ${p50:-?}/${p99:-?} ms"
check "burst-50k: at least 99% served" [ "$ok" -ge 49500 ]
fi

# 5, 6: 5,000 slowloris connections; 200 clients that never read.
for kind in slowloris noread; do
	want "$kind" || continue
	# slowloris lasts past the 60 s header deadline, to show the server closing them
	n=5000 secs=75
	[ "$kind" = noread ] && n=200 secs=20
	mark
	( ulimit -n 20000; nsx python3 "$CLIENTS" "$kind" "$STACK_IP" 80 "$n" "$secs" >"$WORK/attack.out" 2>&1 ) &
	legit_during $! 8 "$kind"
	[ "$kind" = slowloris ] && check "slowloris: the server closed them, 4000 over --limit-conn at once, 1000 at its header deadline" \
		grep -q ' 5000 closed by the server (4000 in the first 50 s)' "$WORK/attack.out"
done

# 7: 100,000 first fragments that never complete, and big pings that must.
if want frag-flood; then
mark
nsx "$FLOOD" "$TAP" "$MAC" frag 50000 2 --src 10.0.0.0/24 >"$WORK/flood.out" 2>&1 &
fpid=$!
got=$(nsx ping -c 10 -i 0.2 -W 2 -s 3000 "$STACK_IP" | awk '/received/ { print $4 }')
wait "$fpid"
row "frag-flood" "$(sed 's/sent //;s/ frames in/ fragments in/' "$WORK/flood.out")" "${got:-0}/10 pings of 3000 bytes"
check "frag-flood: the 3000-byte pings come back (${got:-0}/10)" [ "${got:-0}" -ge 10 ]
fi

# 8, 9: the process stopped for 5 s, and the link down for 3 s, in the middle of a download.
for kind in stop-cont link-down; do
	want "$kind" || continue
	mark
	download_start 60000000 10M
	if [ "$kind" = stop-cont ]; then
		kill -STOP "$STACK_PID"; sleep 5; kill -CONT "$STACK_PID"
	else
		nsx ip link set "$TAP" down; sleep 3; nsx ip link set "$TAP" up
	fi
	download_result
	row "$kind" "60 MB download, interrupted" "download $RES"
	check "$kind: the download is byte-exact" [ "$RES" = byte-exact ]
done

stack_stop
check "tapstack exits cleanly at the end" [ "$STACK_STATUS" = 0 ]
if [ "$SAN" = 1 ]; then
	reports=$(cat /tmp/tapstack-stress-asan.$$* 2>/dev/null | grep -c 'ERROR\|runtime error')
	check "no sanitizer report" [ "$reports" = 0 ]
	rm -f /tmp/tapstack-stress-asan.$$*
fi
echo
printf '%-14s|%-30s|%-34s|%6s|%9s|%s\n' test "what was sent" "legitimate success, latency" "CPU s" "RSS peak" "counters that moved"
printf '%s\n' "${ROWS[@]}"
echo "(measured on $(nproc) cores, load average at the end $(cut -d' ' -f1-3 /proc/loadavg): CPU and latency depend on what else ran)"
net_summary
