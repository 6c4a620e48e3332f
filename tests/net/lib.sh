# lib.sh - shared helpers of the integration tests (sourced by tests/net/test_*.sh; root).
#
# Each test gets its own network namespace (ts-<test>-<pid>) holding a TAP device; the
# kernel side of the TAP is $HOST_IP/$STACK_PLEN (10.0.0.1/24 unless make test PEER=, ADDR=)
# inside that namespace and tapstack runs there as $STACK_IP, so nothing touches the root
# namespace. net_cleanup (installed as an EXIT trap)
# stops the tapstack this test started, by PID, and deletes the namespace with the TAP.
#
#   net_setup NAME            namespace + TAP + kernel address, trap installed
#   stack_start ARGS...       tapstack in the namespace (its output: $STACK_LOG)
#   stack_stop                SIGTERM, wait for the clean exit; sets STACK_STATUS
#   nsx CMD...                run CMD inside the namespace
#   stack_stat NAME           one counter of the running tapstack
#   check "what" CMD...       PASS/FAIL line from CMD's exit status
#   net_summary               "N passed, N failed"; exit status 1 on any failure

set -u
NET_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TAPSTACK=${TAPSTACK:-$NET_ROOT/build/tapstack}
# The addresses: `make test ADDR=A.B.C.D[/N] PEER=A.B.C.D` (TS_ADDR, TS_PEER in the environment).
STACK_ADDR=${TS_ADDR:-10.0.0.2/24}
STACK_IP=${STACK_ADDR%/*}
STACK_PLEN=24
[ "$STACK_ADDR" != "$STACK_IP" ] && STACK_PLEN=${STACK_ADDR#*/}
HOST_IP=${TS_PEER:-10.0.0.1}
# The TAP's I/O back end under test: TAPSTACK_IO=uring|plain (make test-net TAPSTACK_IO=plain);
# empty: the program's default (io_uring when the kernel allows it). Every tapstack a test
# starts on a TAP takes "${STACK_IO[@]}".
TAPSTACK_IO=${TAPSTACK_IO:-}
STACK_IO=()
[ -n "$TAPSTACK_IO" ] && STACK_IO=(--io "$TAPSTACK_IO")
PASSED=0
FAILED=0
STACK_PID=
STACK_STATUS=
NS=
TAP=
WORK=

pass() { echo "PASS $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $*"; FAILED=$((FAILED + 1)); }

check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

nsx() { ip netns exec "$NS" "$@"; }

net_cleanup() {
	if [ -n "$STACK_PID" ] && kill -0 "$STACK_PID" 2>/dev/null; then
		kill -TERM "$STACK_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$STACK_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$STACK_PID" 2>/dev/null
		wait "$STACK_PID" 2>/dev/null
	fi
	# A process that is still leaving (an nginx worker, a forked child) can keep the
	# namespace's mount busy for a moment: ip netns del then fails, so try again.
	if [ -n "$NS" ]; then
		for _ in $(seq 40); do
			ip netns del "$NS" 2>/dev/null
			ip netns list | awk '{ print $1 }' | grep -qxF "$NS" || break
			sleep 0.25
		done
		ip netns list | awk '{ print $1 }' | grep -qxF "$NS" && echo "WARN namespace $NS could not be deleted" >&2
	fi
	if [ -n "$WORK" ] && [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; fi
	return 0
}

# net_setup NAME: a namespace with lo up and a TAP whose kernel side has $HOST_IP/$STACK_PLEN.
net_setup() {
	NS="ts-$1-$$"
	TAP="tst$$"
	TAP=${TAP:0:15}
	WORK=$(mktemp -d "/tmp/tapstack-$1.XXXXXX")
	STACK_LOG=$WORK/tapstack.log
	CTL=$WORK/ctl.sock
	PCAP=$WORK/run.pcap
	trap net_cleanup EXIT
	trap 'exit 130' INT TERM
	[ -x "$TAPSTACK" ] || { echo "FAIL $TAPSTACK is not built (run make)"; exit 1; }
	ip netns add "$NS" || { echo "FAIL ip netns add $NS"; exit 1; }
	nsx ip link set lo up
	nsx ip tuntap add dev "$TAP" mode tap || { echo "FAIL ip tuntap add"; exit 1; }
	nsx ip addr add "$HOST_IP/$STACK_PLEN" dev "$TAP"
	nsx ip link set "$TAP" up
}

# stack_start ARGS...: tapstack on the TAP with the control socket in $WORK; waits (up to
# 10 s) until its control socket answers, which is after the stack and servers are up.
stack_start() {
	ip netns exec "$NS" "$TAPSTACK" --tap "$TAP" --addr "$STACK_IP/$STACK_PLEN" --ctl "$CTL" "${STACK_IO[@]}" "$@" >"$STACK_LOG" 2>&1 &
	STACK_PID=$!
	for _ in $(seq 100); do
		if [ -S "$CTL" ] && "$TAPSTACK" stats --ctl "$CTL" >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$STACK_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "tapstack did not come up; its output:"
	cat "$STACK_LOG"
	return 1
}

# stack_stat NAME: counter NAME (of any layer: InSegs, pmtu_learned) from `tapstack stats -z`;
# "missing" (which no numeric check accepts) when there is no such counter.
# A query can come back cut short when the machine is heavily loaded (the control socket
# gives a slow client one second), so a counter not found is asked for up to three times;
# a counter that does not exist still prints "missing" and fails the caller's check.
stack_stat() {
	local v
	for _ in 1 2 3; do
		v=$("$TAPSTACK" stats -z --ctl "$CTL" |
			awk -v n="$1" '{ sub(/^[^.]*\./, "", $1) } $1 == n { print $2; f = 1; exit } END { if (!f) print "missing" }')
		[ "$v" != missing ] && break
		sleep 0.5
	done
	echo "$v"
}

# The MAC tapstack announced on its first line.
stack_mac() { sed -n 's/.* mac \([0-9a-f:]*\) .*/\1/p' "$STACK_LOG" | head -n 1; }

stack_stop() {
	STACK_STATUS=
	[ -n "$STACK_PID" ] || return 1
	kill -TERM "$STACK_PID"
	for _ in $(seq 100); do
		kill -0 "$STACK_PID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$STACK_PID"
	STACK_STATUS=$?
	STACK_PID=
}

net_summary() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
