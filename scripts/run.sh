#!/usr/bin/env bash
# run.sh (`sudo make run`, `sudo make run NETNS=NAME`) - tapstack and its servers on a TAP
# until Ctrl-C, for trying things by hand.
#
# Without NETNS: the TAP (tap0) is in the host's own namespace with 10.0.0.1/24 on the
# kernel side, so curl works from any shell on the host. With NETNS=NAME: the namespace is
# created (if missing), the TAP and 10.0.0.1/24 live in it, and the commands to try are
# prefixed with `ip netns exec NAME`. Either way the TAP is removed on exit, and a namespace
# this script created is deleted.
set -u
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "run: needs root (a TAP device): sudo make run" >&2
	exit 1
fi
TAPSTACK=build/tapstack
NETNS=${NETNS:-}
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
"${X[@]}" ip addr add 10.0.0.1/24 dev "$TAP"
"${X[@]}" ip link set "$TAP" up

CTL=/tmp/tapstack-$TAP${NETNS:+-$NETNS}.sock
"${X[@]}" "$TAPSTACK" --tap "$TAP" --addr 10.0.0.2/24 --ctl "$CTL" \
	--http 80 --echo 7 --discard 9 --stall 8080 --udp-echo 7 --udp-discard 9 ${TRACE:+--trace} &
pid=$!
sleep 0.5
cat <<TXT

tapstack is running on $TAP${NETNS:+ in namespace $NETNS} (kernel side 10.0.0.1/24, stack 10.0.0.2).
Try, from another shell:
  ${HINT}ping -c 3 10.0.0.2
  ${HINT}curl -sI http://10.0.0.2/
  ${HINT}curl http://10.0.0.2/bytes/1000 | head -c 100
  ${HINT}curl http://10.0.0.2:81/            # Connection refused: the stack's RST-ACK
  echo hello | ${HINT}nc -N 10.0.0.2 7        # echo
  echo hello | ${HINT}nc -u -w 1 10.0.0.2 7   # UDP echo
  echo knock | ${HINT}socat - UDP:10.0.0.2:99 # Connection refused: ICMP port unreachable
  $TAPSTACK ss --ctl $CTL
  $TAPSTACK stats --ctl $CTL
Ctrl-C stops it (TRACE=1 make run ... prints every frame).
TXT
wait "$pid"
pid=
