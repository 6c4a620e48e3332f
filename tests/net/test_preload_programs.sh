#!/usr/bin/env bash
# test_preload_programs.sh - unmodified programs on tapstack through build/tapstack-run.
# One program holds the TAP at a time (a TAP device takes one reader), so each is stopped
# before the next starts.
#   servers on tapstack, clients on the kernel: python3 -m http.server (selectors + poll),
#   a socketserver.ThreadingTCPServer echo (blocking calls from threads), nc -l, iperf3 -s,
#   redis-server with redis-benchmark;
#   clients on tapstack, servers on the kernel: curl and wget download 100 MB byte-exact,
#   curl to a closed kernel port is refused (the kernel's RST-ACK reached tapstack's
#   connect), curl to a listener whose full queue drops SYNs times out after the stack's SYN
#   retries, nc sends a file, iperf3 -c.
. "$(dirname "$0")/preload_lib.sh"

preload_setup programs
PY=$(command -v python3)
PY=$("$PY" -c 'import sys; print(sys.executable)') # a pyenv shim is a script: the real one
cd "$WORK" || exit 1
head -c 100000000 /dev/urandom >big.bin
head -c 3000000 /dev/urandom >small.bin
echo "served by python on tapstack" >index.html
# On tapstack, in the namespace, in the foreground.
on_ts() { ip netns exec "$NS" "$RUN" --tap "$TAP" --addr "$STACK_IP/${STACK_PLEN:-24}" -- "$@"; }
# Retries a client until its connect succeeds (a refused attempt takes no listener's turn).
retry() { for _ in $(seq 50); do "$@" && return 0; sleep 0.2; done; return 1; }

# --- python3 -m http.server on tapstack ---
preload_run pyhttp.log "$PY" -m http.server 8080 --bind "$STACK_IP"
P=$PRELOAD_PID
check "python http.server listens on tapstack" wait_port "$STACK_IP" 8080
check "python http.server: curl gets the page" \
	bash -c "[ \"\$(ip netns exec $NS curl -s -m 10 http://$STACK_IP:8080/index.html)\" = 'served by python on tapstack' ]"
nsx curl -s -m 60 -o py.got "http://$STACK_IP:8080/small.bin"
check "python http.server: 3 MB byte-exact" cmp -s small.bin py.got
out=$(nsx ab -q -n 300 -c 10 "http://$STACK_IP:8080/index.html" 2>&1)
check "python http.server: ab -n 300 -c 10 (backlog 5) no failed request" grep -q '^Failed requests: *0' <<<"$out"
preload_stop "$P"

# --- socketserver.ThreadingTCPServer: an echo server, one thread per client ---
cat >echo.py <<PYEOF
import socketserver
class H(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            d = self.request.recv(65536)
            if not d:
                break
            self.request.sendall(d)
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(("$STACK_IP", 7007), H).serve_forever()
PYEOF
preload_run echo.log "$PY" echo.py
P=$PRELOAD_PID
check "ThreadingTCPServer listens on tapstack" wait_port "$STACK_IP" 7007
pids=()
for i in 1 2 3 4; do
	ip netns exec "$NS" timeout 60 nc -N "$STACK_IP" 7007 <small.bin >"echo.$i" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
bad=0
for i in 1 2 3 4; do cmp -s small.bin "echo.$i" || bad=$((bad + 1)); done
check "ThreadingTCPServer: 4 clients at once echo 3 MB each byte-exact ($bad bad)" [ "$bad" = 0 ]
preload_stop "$P"

# --- nc -l on tapstack receives from the kernel's nc ---
preload_run ncl.log sh -c "nc -l -p 9000 >nc.got"
P=$PRELOAD_PID
retry nsx nc -N -w 10 "$STACK_IP" 9000 <small.bin 2>/dev/null
for _ in $(seq 100); do kill -0 "$P" 2>/dev/null || break; sleep 0.1; done
check "nc -l on tapstack receives 3 MB from the kernel's nc byte-exact" cmp -s small.bin nc.got
preload_stop "$P"

# --- iperf3 -s on tapstack ---
if command -v iperf3 >/dev/null; then
	preload_run iperf-s.log iperf3 -s -B "$STACK_IP" -p 5201
	P=$PRELOAD_PID
	wait_port "$STACK_IP" 5201
	out=$(nsx iperf3 -c "$STACK_IP" -p 5201 -t 2 2>&1)
	check "iperf3 -s on tapstack: the kernel's client completes" grep -q 'receiver' <<<"$out"
	preload_stop "$P"
else
	fail "iperf3 is not installed (scripts/deps.sh)"
fi

# --- redis-server on tapstack, redis-benchmark from the kernel ---
if command -v redis-server >/dev/null; then
	preload_run redis.log redis-server --bind "$STACK_IP" --port 6390 --appendonly no \
		--dir "$WORK" --protected-mode no
	P=$PRELOAD_PID
	check "redis-server listens on tapstack" wait_port "$STACK_IP" 6390
	out=$(nsx redis-benchmark -h "$STACK_IP" -p 6390 -n 5000 -c 20 -t set,get -q 2>&1)
	check "redis-benchmark SET against redis on tapstack completes" grep -q 'SET: [0-9.]* requests per second' <<<"$out"
	check "redis-benchmark GET against redis on tapstack completes" grep -q 'GET: [0-9.]* requests per second' <<<"$out"
	check "redis-benchmark reported no error" bash -c "! grep -qi error <<<\"\$1\"" _ "$out"
	preload_stop "$P"
else
	fail "redis-server is not installed (scripts/deps.sh)"
fi

# --- clients on tapstack, servers on the kernel side (10.0.0.1 in the namespace) ---
kernel_bg kpy.log "$PY" -m http.server 8081 --bind "$HOST_IP"
wait_port "$HOST_IP" 8081
on_ts curl -s -m 120 -o curl.got "http://$HOST_IP:8081/big.bin" 2>curl.err
check "curl on tapstack downloads 100 MB from the kernel byte-exact" cmp -s big.bin curl.got
on_ts wget -q -T 60 -O wget.got "http://$HOST_IP:8081/big.bin" 2>wget.err
check "wget on tapstack downloads 100 MB from the kernel byte-exact" cmp -s big.bin wget.got
msg=$(on_ts curl -v -sS -m 10 "http://$HOST_IP:8099/" 2>&1)
check "curl on tapstack to a closed kernel port: Connection refused" grep -q 'Connection refused' <<<"$msg"

# A kernel listener with backlog 0 and one connection waiting in its accept queue: Linux
# drops every further SYN (its accept queue is full), so a connect times out.
cat >full.py <<PYEOF
import socket, time
s = socket.socket(); s.bind(("$HOST_IP", 8090)); s.listen(0)
c = socket.create_connection(("$HOST_IP", 8090))
time.sleep(120)
PYEOF
kernel_bg full.log "$PY" full.py
sleep 1
start=$(date +%s)
msg=$(TAPSTACK_SYN_RETRIES=2 on_ts curl -v -sS -m 60 "http://$HOST_IP:8090/" 2>&1)
took=$(($(date +%s) - start))
check "curl on tapstack to a SYN-dropping listener: Connection timed out" grep -q 'Connection timed out' <<<"$msg"
check "... after the stack's 2 SYN retries, 1 + 2 + 4 s (took ${took} s)" [ "$took" -ge 6 ] && [ "$took" -le 20 ]

kernel_bg kncl.log sh -c "nc -l -p 9001 >knc.got"
KNC=$KERNEL_PID
retry on_ts sh -c "nc -N -w 10 $HOST_IP 9001 <small.bin" 2>/dev/null
for _ in $(seq 100); do kill -0 "$KNC" 2>/dev/null || break; sleep 0.1; done
check "nc on tapstack sends 3 MB to the kernel's nc -l byte-exact" cmp -s small.bin knc.got

if command -v iperf3 >/dev/null; then
	kernel_bg iperf-k.log iperf3 -s -B "$HOST_IP" -p 5202
	wait_port "$HOST_IP" 5202
	out=$(on_ts iperf3 -c "$HOST_IP" -p 5202 -t 2 2>&1)
	check "iperf3 -c on tapstack to the kernel's server completes" grep -q 'receiver' <<<"$out"
fi
net_summary
