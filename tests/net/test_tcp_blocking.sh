#!/usr/bin/env bash
# test_tcp_blocking.sh - the blocking facade (stack/blocking.c) on a real TAP: build/blocking-echo,
# a thread-per-connection echo server written with blocking calls, echoes 10 MB from nc
# byte-exact and serves several clients at once (each in its own thread).
. "$(dirname "$0")/apps_lib.sh"

BLOCKING_ECHO=${BLOCKING_ECHO:-$NET_ROOT/build/blocking-echo}
apps_setup blocking
[ -x "$BLOCKING_ECHO" ] || { fail "$BLOCKING_ECHO is not built (run make)"; net_summary; exit 1; }
# ip netns exec, not the nsx function: $! must be blocking-echo itself, which net_cleanup stops
# by PID (a function in the background is a subshell, and stopping it left the server running).
ip netns exec "$NS" "$BLOCKING_ECHO" --tap "$TAP" --addr "$STACK_IP/$STACK_PLEN" --port 7 >"$STACK_LOG" 2>&1 &
STACK_PID=$!
up=1
for _ in $(seq 100); do
	nsx ping -c 1 -W 1 "$STACK_IP" >/dev/null 2>&1 && { up=0; break; }
	kill -0 "$STACK_PID" 2>/dev/null || break
	sleep 0.1
done
check "blocking-echo answers ping" [ "$up" = 0 ]

head -c 10000000 /dev/urandom >"$WORK/in"
nsx timeout 120 nc -N "$STACK_IP" 7 <"$WORK/in" >"$WORK/out"
check "10 MB through the blocking echo byte-exact" cmp -s "$WORK/in" "$WORK/out"

bad=$(apps_echo_clients 8 500000)
check "8 clients at once, one thread each: all byte-exact ($bad bad)" [ "$bad" = 0 ]
check "accept() was logged" grep -q "accept() returned $HOST_IP:" "$STACK_LOG"
net_summary
