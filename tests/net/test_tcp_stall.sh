#!/usr/bin/env bash
# test_tcp_stall.sh - the accept queue, watched through a listener that never calls
# accept() (issue 3, items 3, 9 and 12). With backlog B the stack completes handshakes by
# itself until the accept queue is full (B connections, or B + 1 as Linux counts), then
# drops further SYNs: those clients time out (SYN-SENT, retrying) instead of being refused.
# The socket table shows LISTEN with Recv-Q = queued connections and Send-Q = B, and the
# counters show ListenOverflows.
#
# TS_KERNEL=1 runs the same checks against build/tapstack-kernel (see apps_lib.sh).
. "$(dirname "$0")/apps_lib.sh"

B=4
EXTRA=3
PORT=8081
apps_setup stall
apps_start --stall "$PORT:$B" || { fail "server starts"; net_summary; exit 1; }
pass "server starts"
over0=$(apps_stat ListenOverflows)

# One client at a time, so each finds the queue as the previous one left it. Each holds
# its connection open (exec sleep keeps fd 3) and says "connected" once connect() returns.
for i in $(seq $((B + 1 + EXTRA))); do
	apps_bg nsx bash -c "exec 3<>/dev/tcp/$STACK_IP/$PORT && echo connected >>$WORK/c$i && exec sleep 120" 2>/dev/null
	sleep 0.3
done
sleep 2
connected=$(cat "$WORK"/c* 2>/dev/null | wc -l)
check "handshakes complete until the queue is full ($connected connected, backlog $B)" \
	[ "$connected" -ge "$B" -a "$connected" -le $((B + 1)) ]
synsent=$(nsx ss -Htan state syn-sent "dport = :$PORT" | wc -l)
check "the rest wait in SYN-SENT, not refused ($synsent in SYN-SENT)" \
	[ "$synsent" -ge $((B + 1 + EXTRA - connected)) ]

# One more, with a deadline: it times out (124) rather than failing at once (refused).
t0=$(apps_now_ms)
nsx timeout 3 bash -c "exec 3<>/dev/tcp/$STACK_IP/$PORT" 2>"$WORK/late.err"
rc=$?
t1=$(apps_now_ms)
grep -qi refused "$WORK/late.err" && rc="$rc, refused"
check "a new client times out (exit $rc after $((t1 - t0)) ms), not refused" [ "$rc" = 124 ]

ss_out=$(apps_ss)
echo "$ss_out" | grep -E "LISTEN|State" | sed 's/^/    /'
# tapstack ss starts each row with its Netid (as ss -tuan); the kernel's ss -tan has none.
line=$(grep LISTEN <<<"$ss_out" | grep ":$PORT " | sed -E 's/^(tcp|udp) +//')
recvq=$(awk '{ print $2 }' <<<"$line")
sendq=$(awk '{ print $3 }' <<<"$line")
check "ss: LISTEN on $PORT has Recv-Q = $connected (got ${recvq:-none})" [ "${recvq:-x}" = "$connected" ]
check "ss: LISTEN on $PORT has Send-Q = $B (got ${sendq:-none})" [ "${sendq:-x}" = "$B" ]
check "ss: the queued connections are ESTABLISHED" \
	[ "$(grep -c ESTAB <<<"$ss_out")" -ge "$connected" ]
over1=$(apps_stat ListenOverflows)
check "stats: ListenOverflows grew (${over0:-?} -> ${over1:-?})" [ "${over1:-0}" -gt "${over0:-0}" ]

apps_kill_bg
stack_stop
check "server exits cleanly on SIGTERM" [ "$STACK_STATUS" = 0 ]
net_summary
