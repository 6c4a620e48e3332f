#!/usr/bin/env bash
# run.sh (`sudo make run`, `sudo make run NETNS=NAME`) - tapstack and its servers on a TAP
# until Ctrl-C, for trying things by hand.
#
# Without NETNS: the TAP (tap0) is in the host's own namespace with PEER/N (10.0.0.1/24) on
# the kernel side, so curl works from any shell on the host; the script refuses to start if
# the host already has a route into that prefix (a real network there would be shadowed).
# With NETNS=NAME: the namespace is created (if missing), the TAP and PEER/N live in it, and
# the commands to try are prefixed with `ip netns exec NAME`. Either way the TAP is removed on
# exit, and a namespace this script created is deleted.
#
# Addresses: `make run ADDR=A.B.C.D[/N] PEER=A.B.C.D` (TS_ADDR, TS_PEER in the environment);
# the defaults are 10.0.0.2/24 for the stack and 10.0.0.1 for the kernel side.
set -u
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "run: needs root (a TAP device): sudo make run" >&2
	exit 1
fi
TAPSTACK=build/tapstack
NETNS=${NETNS:-}
ADDR=${TS_ADDR:-10.0.0.2/24}
STACK_IP=${ADDR%/*}
PLEN=24
[ "$ADDR" != "$STACK_IP" ] && PLEN=${ADDR#*/}
PEER=${TS_PEER:-10.0.0.1}
# The prefix both addresses must share, checked (and computed) by python3's ipaddress.
NET=$(python3 -c '
import ipaddress, sys
a = ipaddress.ip_interface(sys.argv[1] + "/" + sys.argv[2])
p = ipaddress.ip_address(sys.argv[3])
if p not in a.network or p == a.ip:
    sys.exit("PEER %s is not another address of %s" % (p, a.network))
print(a.network)' "$STACK_IP" "$PLEN" "$PEER") || { echo "run: bad ADDR/PEER" >&2; exit 2; }
TAP=${TAP:-tap0}
created_ns=
pid=
if [ -n "$NETNS" ]; then
	if ! ip netns list | grep -qw "$NETNS"; then
		ip netns add "$NETNS" || exit 1
		created_ns=1
	fi
	X=(ip netns exec "$NETNS")
	HINT="ip netns exec $NETNS "
else
	X=()
	HINT=
	# In the host's own namespace: never shadow a network the host already reaches.
	routes=$(ip -4 route show root "$NET"; ip -4 route show match "$PEER" | grep -v '^default')
	if [ -n "$routes" ]; then
		echo "run: the host already has a route into $NET:" >&2
		echo "$routes" | sed 's/^/  /' >&2
		echo "run: use NETNS=NAME (a namespace of its own) or other addresses (ADDR=... PEER=...)" >&2
		exit 1
	fi
fi
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		wait "$pid"
	fi
	"${X[@]}" ip link del "$TAP" 2>/dev/null
	[ -n "$created_ns" ] && ip netns del "$NETNS"
	return 0
}
trap cleanup EXIT
trap 'exit 0' INT TERM

if "${X[@]}" ip link show "$TAP" >/dev/null 2>&1; then
	echo "run: $TAP already exists${NETNS:+ in $NETNS}; choose another with TAP=NAME" >&2
	trap - EXIT
	[ -n "$created_ns" ] && ip netns del "$NETNS"
	exit 1
fi
"${X[@]}" ip link set lo up
"${X[@]}" ip tuntap add dev "$TAP" mode tap || exit 1
"${X[@]}" ip addr add "$PEER/$PLEN" dev "$TAP"
"${X[@]}" ip link set "$TAP" up

CTL=/tmp/tapstack-$TAP${NETNS:+-$NETNS}.sock
"${X[@]}" "$TAPSTACK" --tap "$TAP" --addr "$STACK_IP/$PLEN" --ctl "$CTL" \
	--http 80 --echo 7 --discard 9 --stall 8080 --udp-echo 7 --udp-discard 9 ${TRACE:+--trace} &
pid=$!
sleep 0.5
cat <<TXT

tapstack is running on $TAP${NETNS:+ in namespace $NETNS} (kernel side $PEER/$PLEN, stack $STACK_IP).
Try, from another shell:
  ${HINT}ping -c 3 $STACK_IP
  ${HINT}curl -sI http://$STACK_IP/
  ${HINT}curl http://$STACK_IP/bytes/1000 | head -c 100
  ${HINT}curl http://$STACK_IP:81/            # Connection refused: the stack's RST-ACK
  echo hello | ${HINT}nc -N $STACK_IP 7        # echo
  echo hello | ${HINT}nc -u -w 1 $STACK_IP 7   # UDP echo
  echo knock | ${HINT}socat - UDP:$STACK_IP:99 # Connection refused: ICMP port unreachable
  $TAPSTACK ss -ua --ctl $CTL
  $TAPSTACK ss -ta --ctl $CTL
  $TAPSTACK stats --ctl $CTL     (-z: with zeros, -d: since the last -d)
Ctrl-C stops it (TRACE=1 make run ... prints every frame).
TXT
wait "$pid"
pid=
