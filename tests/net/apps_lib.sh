# apps_lib.sh - helpers of the demo-server integration tests (tests/net/test_tcp_*.sh),
# on top of lib.sh (sourced first).
#
# The same test can run against two servers:
#   default          build/tapstack on a TAP in the test's namespace (lib.sh's layout:
#                    kernel side 10.0.0.1/24 on the TAP, tapstack is 10.0.0.2);
#   TS_KERNEL=1      build/tapstack-kernel, the same apps on the kernel's own TCP, in a
#                    second namespace joined by a veth pair (client 10.0.0.1, server 10.0.0.2).
# The kernel mode proves the tests themselves (what the Linux stack does is the reference)
# and is what `make bench` compares against.
#
#   apps_setup NAME        namespace(s), link, addresses, cleanup trap
#   apps_start ARGS...     the server with these options (--http 80 ...); waits until it listens
#   apps_ss                the server's socket table (tapstack ss, or ss -tan in the server ns)
#   apps_stat NAME         one TCP counter (ListenOverflows, ...) as a number
#   apps_now_ms            a clock in milliseconds for "in under a second" checks
#   apps_bg CMD...         run CMD in the background, remembered for apps_kill_bg
#   apps_echo_clients N BYTES   N echo clients at once; prints how many failed (0 = all exact)

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TAPSTACK_KERNEL=${TAPSTACK_KERNEL:-$NET_ROOT/build/tapstack-kernel}
BYTES_CHECK=${BYTES_CHECK:-$NET_ROOT/build/bytes-check}
NS_SRV=
BG_PIDS=()

apps_kill_bg() {
	local p
	for p in "${BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	BG_PIDS=()
}

apps_cleanup() {
	apps_kill_bg
	net_cleanup
	[ -n "$NS_SRV" ] && ip netns del "$NS_SRV" 2>/dev/null
	return 0
}

# nsx is a shell function: backgrounding it would fork a subshell, and $! would be the
# subshell, not the command (killing it would leave the command running). Expand it to
# `ip netns exec`, which execs the command in place, so $! is the command itself.
apps_bg() {
	if [ "$1" = nsx ]; then
		shift
		set -- ip netns exec "$NS" "$@"
	fi
	"$@" &
	BG_PIDS+=($!)
}

apps_setup() {
	[ -x "$BYTES_CHECK" ] || { echo "FAIL $BYTES_CHECK is not built (run make)"; exit 1; }
	if [ -z "${TS_KERNEL:-}" ]; then
		net_setup "$1"
		trap apps_cleanup EXIT
		return
	fi
	NS="ts-$1-$$"
	NS_SRV="tsk-$1-$$"
	WORK=$(mktemp -d "/tmp/tapstack-$1.XXXXXX")
	STACK_LOG=$WORK/server.log
	trap apps_cleanup EXIT
	trap 'exit 130' INT TERM
	[ -x "$TAPSTACK_KERNEL" ] || { echo "FAIL $TAPSTACK_KERNEL is not built (run make)"; exit 1; }
	ip netns add "$NS" || { echo "FAIL ip netns add $NS"; exit 1; }
	ip netns add "$NS_SRV" || { echo "FAIL ip netns add $NS_SRV"; exit 1; }
	nsx ip link set lo up
	ip netns exec "$NS_SRV" ip link set lo up
	nsx ip link add vc$$ type veth peer name vs$$ netns "$NS_SRV"
	nsx ip addr add "$HOST_IP/$STACK_PLEN" dev vc$$
	nsx ip link set vc$$ up
	ip netns exec "$NS_SRV" ip addr add "$STACK_IP/$STACK_PLEN" dev vs$$
	ip netns exec "$NS_SRV" ip link set vs$$ up
}

# apps_start ARGS...: the first --http/--echo/--discard/--stall port must be listening
# within 10 s.
apps_start() {
	local port
	port=$(printf '%s\n' "$@" | grep -A1 -E '^--(http|echo|discard|stall)$' | sed -n 2p | cut -d: -f1)
	if [ -z "${TS_KERNEL:-}" ]; then
		stack_start "$@"
		return
	fi
	ip netns exec "$NS_SRV" "$TAPSTACK_KERNEL" "$@" >"$STACK_LOG" 2>&1 &
	STACK_PID=$!
	for _ in $(seq 100); do
		if ip netns exec "$NS_SRV" ss -Htln "sport = :$port" | grep -q LISTEN; then
			return 0
		fi
		kill -0 "$STACK_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "tapstack-kernel did not come up; its output:"
	cat "$STACK_LOG"
	return 1
}

apps_ss() {
	if [ -z "${TS_KERNEL:-}" ]; then
		"$TAPSTACK" ss -tan --ctl "$CTL"
	else
		ip netns exec "$NS_SRV" ss -tan
	fi
}

# The value of counter $1; "missing" (which no numeric check accepts) when there is no such
# counter, so a renamed counter fails the check instead of reading as 0.
apps_stat() {
	if [ -z "${TS_KERNEL:-}" ]; then
		stack_stat "$1"
	else
		ip netns exec "$NS_SRV" nstat -az "TcpExt$1" | awk -v n="TcpExt$1" '$1 == n { print $2; f = 1; exit } END { if (!f) print "missing" }'
	fi
}

apps_now_ms() { echo $(($(date +%s%N) / 1000000)); }

# apps_echo_clients N BYTES: N nc clients at once, each sending BYTES random bytes to the
# echo port (7) and reading them back. Prints the number of clients that failed or did not
# get their bytes back exactly (0 when all is well).
apps_echo_clients() {
	local n=$1 bytes=$2 i p bad=0 pids=()
	for i in $(seq "$n"); do
		head -c "$bytes" /dev/urandom >"$WORK/p$i"
		nsx timeout 60 nc -N "$STACK_IP" 7 <"$WORK/p$i" >"$WORK/q$i" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
	for i in $(seq "$n"); do cmp -s "$WORK/p$i" "$WORK/q$i" || bad=$((bad + 1)); done
	echo "$bad"
}
