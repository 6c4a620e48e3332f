#!/usr/bin/env bash
# test_preload_calls.sh - build/preload-probe (tests/net/preload_probe.c) under
# build/tapstack-run: Linux's errnos for refused calls, epoll/poll/select over a kernel pipe
# and a tapstack socket waking for either without a busy loop, dup, fcntl, FIONREAD, urgent
# data read by the kernel's socket, and the fork rule (parent and child share the stack). The server is a kernel socket in the namespace that
# sends "hello" a second after accepting and records what it receives, and echoes UDP.
. "$(dirname "$0")/preload_lib.sh"

PROBE=${PRELOAD_PROBE:-$NET_ROOT/build/preload-probe}
preload_setup calls
[ -x "$PROBE" ] || { fail "$PROBE is not built (run make)"; net_summary; exit 1; }
PY=$(command -v python3)
PY=$("$PY" -c 'import sys; print(sys.executable)')
cat >"$WORK/server.py" <<PYEOF
import socket, threading, time
def udp_echo():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("$HOST_IP", 9101))
    while True:
        d, a = u.recvfrom(2048); u.sendto(d, a)
threading.Thread(target=udp_echo, daemon=True).start()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("$HOST_IP", 9100)); s.listen(1)
c, _ = s.accept()
time.sleep(1)
c.sendall(b"hello\n")
got = b""
while True:
    d = c.recv(65536)
    if not d:
        break
    got += d
open("$WORK/received", "wb").write(got)
c.close()
PYEOF
kernel_bg "$WORK/server.log" "$PY" "$WORK/server.py"
sleep 0.5
ip netns exec "$NS" timeout 60 "$RUN" --tap "$TAP" --addr "$STACK_IP/${STACK_PLEN:-24}" -- \
	"$PROBE" "$HOST_IP" 9100 >"$WORK/probe.out" 2>"$WORK/probe.err"
rc=$?
cat "$WORK/probe.out"
grep -q . "$WORK/probe.out" || fail "the probe printed nothing: $(cat "$WORK/probe.err")"
check "the probe exits 0 (rc $rc)" [ "$rc" = 0 ]
for _ in $(seq 50); do [ -s "$WORK/received" ] && break; sleep 0.1; done
check "the server got the dup's, the original's (its urgent byte out of band), the child's and the parent's writes in order" \
	bash -c "[ \"\$(cat '$WORK/received')\" = \"\$(printf 'from-dup\nafter-close-of-dup\noobfrom-child\nfrom-parent')\" ]"
net_summary
