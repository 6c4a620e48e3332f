#!/usr/bin/env bash
# test_preload_loopback.sh - a program on tapstack talking to itself: python3 under
# build/tapstack-run serves a directory (ThreadingHTTPServer, one thread per connection) and,
# from another thread of the same process, downloads a 5 MB file from 127.0.0.1 and from the
# stack's own address, byte-exact, and is refused at once on a port nobody holds. On Linux
# those go through lo; on tapstack through its own loop (stack/ip/ipv4.c ipv4_loop), never
# the TAP. Also UDP to 127.0.0.1.
. "$(dirname "$0")/preload_lib.sh"

preload_setup loop
PY=$(command -v python3)
PY=$("$PY" -c 'import sys; print(sys.executable)')
mkdir -p "$WORK/www"
head -c 5000000 /dev/urandom >"$WORK/www/blob"
cat >"$WORK/self.py" <<PYEOF
import functools, hashlib, http.server, socket, sys, threading, time, urllib.request
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass
handler = functools.partial(Quiet, directory="$WORK/www")
srv = http.server.ThreadingHTTPServer(("0.0.0.0", 8080), handler)
threading.Thread(target=srv.serve_forever, daemon=True).start()
want = hashlib.sha256(open("$WORK/www/blob", "rb").read()).hexdigest()
for host in ("127.0.0.1", "$STACK_IP"):
    got = urllib.request.urlopen("http://%s:8080/blob" % host, timeout=20).read()
    print("download", host, len(got), "ok" if hashlib.sha256(got).hexdigest() == want else "CORRUPT")
c = socket.socket()
c.settimeout(20)
c.connect(("127.0.0.1", 8080))
print("sockname", c.getsockname()[0])
c.close()
t0 = time.monotonic()
try:
    socket.create_connection(("127.0.0.1", 8081), timeout=20)
    print("port 8081: connected?")
except ConnectionRefusedError:
    print("port 8081: refused in %.1f s" % (time.monotonic() - t0))
u1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u1.bind(("127.0.0.1", 9200))
u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u2.settimeout(10)
u2.sendto(b"ping", ("127.0.0.1", 9200))
u1.settimeout(10)
d, a = u1.recvfrom(100)
print("udp", d.decode(), a[0])
srv.shutdown()
PYEOF
ip netns exec "$NS" timeout 120 "$RUN" --tap "$TAP" --addr "$STACK_IP/${STACK_PLEN:-24}" -- \
	"$PY" "$WORK/self.py" >"$WORK/self.out" 2>"$WORK/self.err"
rc=$?
cat "$WORK/self.out"
[ "$rc" = 0 ] || tail -n 20 "$WORK/self.err"
check "the program exits 0 (rc $rc)" [ "$rc" = 0 ]
check "5 MB from 127.0.0.1, byte-exact" grep -qx "download 127.0.0.1 5000000 ok" "$WORK/self.out"
check "5 MB from the stack's own address, byte-exact" grep -qx "download $STACK_IP 5000000 ok" "$WORK/self.out"
check "a connection to 127.0.0.1 comes from 127.0.0.1 (getsockname)" grep -qx "sockname 127.0.0.1" "$WORK/self.out"
check "a port nobody holds on 127.0.0.1 is refused at once" grep -qE "^port 8081: refused in 0\.[0-9] s$" "$WORK/self.out"
check "UDP to 127.0.0.1 arrives from 127.0.0.1" grep -qx "udp ping 127.0.0.1" "$WORK/self.out"
net_summary
