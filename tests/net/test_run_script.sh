#!/usr/bin/env bash
# test_run_script.sh - `make run` with configurable addresses (issue 12 item 5, scripts/run.sh).
# The script runs inside a namespace this test makes, which plays "the host" (the root
# namespace is never touched): with ADDR/PEER of its own the stack answers curl there; when
# that host already has a route into the prefix, run.sh refuses before creating anything; a
# PEER off ADDR's prefix is refused; the control socket's default path names the namespace.
. "$(dirname "$0")/lib.sh"

net_setup runsh
RTAP=rt$$
RTAP=${RTAP:0:15}

# A run with other addresses, in the host-like namespace (no NETNS: "the host's namespace").
# ip netns exec, not the nsx function: $! must be the script itself, to stop it by PID.
ip netns exec "$NS" env TS_ADDR=10.77.0.2/24 TS_PEER=10.77.0.1 TAP="$RTAP" "$NET_ROOT/scripts/run.sh" \
	>"$WORK/run.log" 2>&1 </dev/null &
RUN_PID=$!
STACK_PID=$RUN_PID   # net_cleanup stops it (by PID) if the test ends early
ok=
for _ in $(seq 100); do
	grep -q 'tapstack is running' "$WORK/run.log" && { ok=1; break; }
	kill -0 "$RUN_PID" 2>/dev/null || break
	sleep 0.1
done
check "make run ADDR=10.77.0.2/24 PEER=10.77.0.1 starts" [ -n "$ok" ]
check "the kernel side got PEER/24" grep -q 'inet 10.77.0.1/24' <(nsx ip -4 addr show dev "$RTAP")
got=$(nsx curl -s --max-time 5 -o /dev/null -w '%{http_code}' http://10.77.0.2/)
check "curl http://10.77.0.2/ answers 200 ($got)" [ "$got" = 200 ]
check "the hints name the chosen address" grep -q 'curl -sI http://10.77.0.2/' "$WORK/run.log"
kill -TERM "$RUN_PID"
wait "$RUN_PID"
STACK_PID=
check "run.sh removed its TAP at Ctrl-C" bash -c "! ip netns exec $NS ip link show $RTAP >/dev/null 2>&1"

# The "host" reaches 10.88.0.0/24 already (a veth pair inside the namespace): run.sh must not
# shadow it.
nsx ip link add "a$RTAP" type veth peer name "b$RTAP"
nsx ip addr add 10.88.0.1/24 dev "a$RTAP"
nsx ip link set "a$RTAP" up
nsx ip link set "b$RTAP" up
out=$(nsx env TS_ADDR=10.88.0.2/24 TS_PEER=10.88.0.9 TAP="$RTAP" "$NET_ROOT/scripts/run.sh" 2>&1 </dev/null)
rc=$?
check "run.sh refuses a prefix the host already routes (status $rc)" \
	bash -c "[ $rc = 1 ] && grep -q 'already has a route into 10.88.0.0/24' <<<\"\$1\"" _ "$out"
check "... before creating the TAP" bash -c "! ip netns exec $NS ip link show $RTAP >/dev/null 2>&1"
out=$(nsx env TS_ADDR=10.99.0.2/24 TS_PEER=10.98.0.1 TAP="$RTAP" "$NET_ROOT/scripts/run.sh" 2>&1 </dev/null)
rc=$?
check "run.sh refuses a PEER off ADDR's prefix (status $rc)" \
	bash -c "[ $rc = 2 ] && grep -q 'is not another address of 10.99.0.0/24' <<<\"\$1\"" _ "$out"

# The default control socket path carries the namespace, so two namespaces never collide.
ino=$(nsx stat -L -c %i /proc/self/ns/net)
ip netns exec "$NS" "$TAPSTACK" --tap "$TAP" --addr "$STACK_IP/$STACK_PLEN" "${STACK_IO[@]}" --quiet >"$WORK/def.log" 2>&1 &
DEF_PID=$!
STACK_PID=$DEF_PID
sock=/tmp/tapstack-$TAP-net$ino.sock
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
check "default control socket $sock" test -S "$sock"
check "tapstack ss in the same namespace finds it without --ctl" bash -c "ip netns exec $NS '$TAPSTACK' ss --tap $TAP >/dev/null"
kill -TERM "$DEF_PID"
wait "$DEF_PID"
STACK_PID=
check "the default socket is removed at exit" test ! -e "$sock"
net_summary
