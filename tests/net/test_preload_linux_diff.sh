#!/usr/bin/env bash
# test_preload_linux_diff.sh - Linux as the reference, executed: tests/net/linux_diff.py
# (about 250 socket calls over 127.0.0.1, each printing its result or its errno's name) runs
# once on the kernel's sockets through the namespace's lo and once on tapstack through
# build/tapstack-run and the stack's own loop; the two outputs must be the same, line by
# line. A difference names the call where tapstack is not Linux.
. "$(dirname "$0")/preload_lib.sh"

preload_setup ldiff
PY=$(command -v python3)
PY=$("$PY" -c 'import sys; print(sys.executable)')
SCRIPT=$(dirname "$0")/linux_diff.py
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" timeout 120 "$PY" "$SCRIPT" >"$WORK/kernel.out" 2>"$WORK/kernel.err"
krc=$?
ip netns exec "$NS" timeout 120 "$RUN" --tap "$TAP" --addr "$STACK_IP/${STACK_PLEN:-24}" -- \
	"$PY" "$SCRIPT" >"$WORK/tapstack.out" 2>"$WORK/tapstack.err"
trc=$?
check "the program runs to its end on the kernel (rc $krc)" grep -qx end "$WORK/kernel.out"
check "the program runs to its end on tapstack (rc $trc)" grep -qx end "$WORK/tapstack.out"
check "$(wc -l <"$WORK/kernel.out") results, the same on both" \
	diff -u --label kernel --label tapstack "$WORK/kernel.out" "$WORK/tapstack.out"
[ "$FAILED" = 0 ] || tail -n 5 "$WORK/tapstack.err"
[ -z "${LINUX_DIFF_KEEP:-}" ] || cp "$WORK/kernel.out" "$WORK/tapstack.out" "$LINUX_DIFF_KEEP"
net_summary
