#!/usr/bin/env bash
# test_tcp_lossy.sh - downloads through an impaired path (issue 9 item 4): a real Linux
# client (curl) fetches a few MB from tapstack and then from the same HTTP server on the
# kernel's sockets (build/tapstack-kernel), both through the same user-space relay
# (build/tapstack-relay, tests/relay/) that drops 2 % of the frames each way, flips a bit in
# 1 %, sends 25 % ahead of the others (netem's "reorder") and delays the rest by 5 ms each
# way. Checked: both downloads are byte-exact, the relay really lost, corrupted and reordered
# frames, tapstack refused corrupted segments by their checksum, each stack retransmitted (so
# the loss was recovered, not dodged), and every frame the relay took in was sent, lost or is
# accounted for. Then tapstack receives through the same path: 2 MB to its echo server and
# back, byte-exact both ways, with out-of-order segments queued on the way in (its SACK
# blocks, their compression and its buffer growth, docs/tcp.md). Speed is not checked here:
# `make bench-lossy` measures it.
#
# The namespaces (client, relay, servers, kernel server) come from tests/relay/lossy-path.sh.
. "$(dirname "$0")/lib.sh"

RELAY=${RELAY:-$NET_ROOT/build/tapstack-relay}
TAPSTACK_KERNEL=${TAPSTACK_KERNEL:-$NET_ROOT/build/tapstack-kernel}
BYTES_CHECK=${BYTES_CHECK:-$NET_ROOT/build/bytes-check}
PATH_SH=$NET_ROOT/tests/relay/lossy-path.sh
TAG="tsl$$"
BYTES=4000000
SEED=${SEED:-9}
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	"$PATH_SH" down "$TAG"
	[ -n "$WORK" ] && [ -z "${KEEP:-}" ] && rm -rf "$WORK"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for exe in "$TAPSTACK" "$TAPSTACK_KERNEL" "$RELAY" "$BYTES_CHECK"; do
	[ -x "$exe" ] || { fail "$exe is not built (run make)"; net_summary; exit 1; }
done
WORK=$(mktemp -d /tmp/tapstack-lossy.XXXXXX)

# Bad options are refused before any socket is opened (exit 2, a message on stderr); each
# run is time-bounded, so a relay that accepted one cannot hold the test.
bad=0
for args in "--b lo --loss 120" "--b lo --loss 1,2,3" "--b lo --rtt -5" "--b lo --slots 0" \
	"--b lo --rate x" "--b lo --bogus 1" "--max-seconds 1"; do
	# shellcheck disable=SC2086
	timeout 5 "$RELAY" --a lo $args >/dev/null 2>&1
	rc=$?
	[ "$rc" = 2 ] || { echo "    tapstack-relay --a lo $args: exit $rc"; bad=$((bad + 1)); }
done
check "relay refuses bad options with exit 2" [ "$bad" = 0 ]
CTL=$WORK/ctl.sock

if ! "$PATH_SH" up "$TAG" >"$WORK/path.log" 2>&1; then
	fail "the path's namespaces come up: $(tail -n 1 "$WORK/path.log")"
	net_summary
	exit 1
fi
pass "the path's namespaces come up"

# Each started process is recorded by PID (ip netns exec execs in place, so $! is it).
ip netns exec "${TAG}s" "$TAPSTACK" --tap ltap --addr "$STACK_IP/$STACK_PLEN" --ctl "$CTL" "${STACK_IO[@]}" --http 80 --echo 7 --quiet \
	>"$WORK/tapstack.log" 2>&1 &
PIDS+=($!)
ip netns exec "${TAG}k" "$TAPSTACK_KERNEL" --http 80 --quiet >"$WORK/kernel.log" 2>&1 &
PIDS+=($!)
ip netns exec "${TAG}r" "$RELAY" --a lr1 --b lr0 --rtt 10 --loss 2 --corrupt 1 --reorder 25 --seed "$SEED" \
	--max-seconds 300 >"$WORK/relay.log" 2>&1 &
RELAY_PID=$!
PIDS+=("$RELAY_PID")

up=0
for _ in $(seq 100); do
	if grep -q '^relay: ready' "$WORK/relay.log" && [ -S "$CTL" ] &&
		ip netns exec "${TAG}k" ss -Htln "sport = :80" | grep -q LISTEN; then
		up=1
		break
	fi
	sleep 0.1
done
check "relay, tapstack and the kernel server start" [ "$up" = 1 ]
[ "$up" = 1 ] || { cat "$WORK"/*.log; net_summary; exit 1; }

stat_ts() { stack_stat "$1"; }
stat_k() { ip netns exec "${TAG}k" nstat -az "$1" | awk -v n="$1" '$1 == n { print $2; exit }'; }

# download NAME ADDR: curl through the relay into bytes-check; generous time bound.
download() {
	ip netns exec "${TAG}c" bash -c "curl -sS --max-time 50 http://$2/bytes/$BYTES | $BYTES_CHECK $BYTES" \
		>"$WORK/dl-$1.log" 2>&1
}

rts0=$(stat_ts RetransSegs) csum0=$(stat_ts InCsumErrors)
download tapstack "$STACK_IP"
rc=$?
check "tapstack: $BYTES bytes through 2 % loss, 1 % corruption and 25 % reordering, byte-exact (exit $rc)" \
	[ "$rc" = 0 ]
[ "$rc" = 0 ] || sed 's/^/    /' "$WORK/dl-tapstack.log"
rts1=$(stat_ts RetransSegs) csum1=$(stat_ts InCsumErrors)
check "tapstack retransmitted (RetransSegs ${rts0:-?} -> ${rts1:-?})" [ "${rts1:-0}" -gt "${rts0:-0}" ]
check "tapstack refused corrupted segments (InCsumErrors ${csum0:-?} -> ${csum1:-?})" \
	[ "${csum1:-0}" -gt "${csum0:-0}" ]

rk0=$(stat_k TcpRetransSegs)
download kernel 10.0.0.3
rc=$?
check "kernel: $BYTES bytes through the same relay, byte-exact (exit $rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || sed 's/^/    /' "$WORK/dl-kernel.log"
rk1=$(stat_k TcpRetransSegs)
check "kernel retransmitted (TcpRetransSegs ${rk0:-?} -> ${rk1:-?})" [ "${rk1:-0}" -gt "${rk0:-0}" ]

# tapstack as the receiver: a Linux client sends 2 MB to its echo server while reading the
# echo back, and compares every byte.
ooo0=$(stat_ts OutOfOrderQueued)
ip netns exec "${TAG}c" timeout 90 python3 - "$STACK_IP" >"$WORK/echo.log" 2>&1 <<'PY'
import socket, sys, threading
N = 2000000
data = bytes((i * 7 + (i >> 11)) & 0xff for i in range(N))
s = socket.create_connection((sys.argv[1], 7), timeout=60)
threading.Thread(target=lambda: s.sendall(data), daemon=True).start()
got = bytearray()
while len(got) < N:
    b = s.recv(65536)
    if not b:
        break
    got += b
print("echoed %d of %d bytes, %s" % (len(got), N, "identical" if bytes(got) == data else "DIFFERENT"))
sys.exit(0 if bytes(got) == data else 1)
PY
rc=$?
check "tapstack echo: 2 MB in and back through the same path, byte-exact (exit $rc: $(tail -n 1 "$WORK/echo.log"))" \
	[ "$rc" = 0 ]
ooo1=$(stat_ts OutOfOrderQueued)
check "tapstack queued segments that came out of order (OutOfOrderQueued ${ooo0:-?} -> ${ooo1:-?})" \
	[ "${ooo1:-0}" -gt "${ooo0:-0}" ]

kill -TERM "$RELAY_PID"
wait "$RELAY_PID"
rc=$?
check "relay exits cleanly on SIGTERM (status $rc)" [ "$rc" = 0 ]
# relay_field DIR KEY: one counter of the line "relay a>b: in=... lost=..." it printed at exit.
relay_field() { sed -n "s/^relay $1: .*\b$2=\([0-9]*\).*/\1/p" "$WORK/relay.log"; }
for d in 'a>b' 'b>a'; do
	in=$(relay_field "$d" in) out=$(relay_field "$d" out) lost=$(relay_field "$d" lost)
	reo=$(relay_field "$d" reordered) qd=$(relay_field "$d" queue_drops) sd=$(relay_field "$d" slot_drops)
	cor=$(relay_field "$d" corrupted)
	ov=$(relay_field "$d" oversize) fl=$(relay_field "$d" in_flight)
	check "relay $d lost, corrupted and reordered frames (in ${in:-?}, lost ${lost:-?}, corrupted ${cor:-?}, reordered ${reo:-?})" \
		[ "${lost:-0}" -gt 0 -a "${cor:-0}" -gt 0 -a "${reo:-0}" -gt 0 ]
	check "relay $d: in = out + lost + drops + in flight, no oversize frame (offloads off)" \
		[ -n "$in" -a "${in:-0}" = $((${out:-0} + ${lost:-0} + ${qd:-0} + ${sd:-0} + ${ov:-0} + ${fl:-0})) \
		-a "${ov:-1}" = 0 ]
done
payload=$(relay_field 'a>b' tcp_payload) resent=$(relay_field 'a>b' tcp_resent)
check "relay saw both downloads' payload (${payload:-?} >= 2 x $BYTES) and some of it sent again (${resent:-?})" \
	[ "${payload:-0}" -ge $((2 * BYTES)) -a "${resent:-0}" -gt 0 ]
flows=$(grep -c "^relay a>b flow 10\.0\.0\.[23]:80>10\.0\.0\.1:" "$WORK/relay.log")
check "relay printed one line per download flow ($flows)" [ "$flows" = 2 ]
net_summary
