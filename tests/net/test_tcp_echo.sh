#!/usr/bin/env bash
# test_tcp_echo.sh - echo (RFC 862) and discard (RFC 863) with real Linux clients (issue 3,
# items 9 and 12): 10 MB through echo with nc comes back byte-exact; 10 MB into discard is
# taken and the connection closes cleanly; several echo clients at once; a client that
# sends but never reads does not stop the others.
#
# TS_KERNEL=1 runs the same checks against build/tapstack-kernel (see apps_lib.sh).
. "$(dirname "$0")/apps_lib.sh"

apps_setup echo
apps_start --echo 7 --discard 9 || { fail "server starts"; net_summary; exit 1; }
pass "server starts"

head -c 10000000 /dev/urandom >"$WORK/in"
# nc -N: shut down our sending side at end of input, then read until the server closes.
nsx timeout 120 nc -N "$STACK_IP" 7 <"$WORK/in" >"$WORK/out"
rc=$?
check "echo: nc exits 0 (got $rc)" [ "$rc" = 0 ]
check "echo: 10 MB back byte-exact ($(stat -c %s "$WORK/out") bytes)" cmp -s "$WORK/in" "$WORK/out"

nsx timeout 120 nc -N "$STACK_IP" 9 <"$WORK/in" >"$WORK/dout"
rc=$?
check "discard: 10 MB sent, nc exits 0 (got $rc)" [ "$rc" = 0 ]
check "discard: nothing comes back" [ ! -s "$WORK/dout" ]

# A client that floods echo without reading: the server stops reading it (bounded buffer,
# TCP flow control pushes back) and keeps serving everyone else.
apps_bg nsx bash -c "exec 3<>/dev/tcp/$STACK_IP/7; head -c 50000000 /dev/zero >&3 2>/dev/null; exec sleep 60"
sleep 1
bad=$(apps_echo_clients 8 1000000)
check "8 echo clients at once beside a non-reading one: all byte-exact ($bad bad)" [ "$bad" = 0 ]
apps_kill_bg

stack_stop
check "server exits cleanly on SIGTERM" [ "$STACK_STATUS" = 0 ]
check "accept() was logged" grep -q "echo: accept() returned $HOST_IP:" "$STACK_LOG"
net_summary
