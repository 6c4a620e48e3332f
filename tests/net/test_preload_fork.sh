#!/usr/bin/env bash
# test_preload_fork.sh - the processes of one program share one stack (docs/preload.md,
# "Processes: fork and exec"): nginx with worker_processes 2 serves ab -n 5000 -c 50 from
# both workers; a SIGHUP reload while ab runs loses no request and the new workers serve;
# SIGQUIT ends it gracefully; python's ForkingTCPServer (a child per connection, the parent
# keeps accepting) echoes concurrent clients byte-exact; redis-server with its default save
# points answers BGSAVE (a forked child writes the dump and exits) and redis-benchmark.
. "$(dirname "$0")/preload_lib.sh"

preload_setup fork
PY=$(command -v python3)
PY=$("$PY" -c 'import sys; print(sys.executable)') # a pyenv shim is a script: the real one
cd "$WORK" || exit 1
retry() { for _ in $(seq 50); do "$@" && return 0; sleep 0.2; done; return 1; }

# --- nginx: master + 2 workers, a reload, a graceful exit ---
if command -v nginx >/dev/null; then
	mkdir -p www tmp
	echo "nginx on tapstack" >www/index.html
	cat >nginx.conf <<CONF
daemon off;
master_process on;
worker_processes 2;
user root;
pid $WORK/nginx.pid;
error_log $WORK/error.log info;
events { worker_connections 1024; }
http {
	log_format pid '\$pid';
	access_log $WORK/access.log pid;
	client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
	uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
	sendfile on; keepalive_timeout 65;
	types { text/html html; }
	server { listen $STACK_IP:80; root $WORK/www; }
}
CONF
	PRELOAD_ARGS="--ctl $WORK/ctl.sock" preload_run nginx.log nginx -c "$WORK/nginx.conf" -p "$WORK"
	NGINX=$PRELOAD_PID
	check "nginx (2 workers) listens on tapstack" wait_port "$STACK_IP" 80
	out=$(nsx ab -q -n 5000 -c 50 "http://$STACK_IP/index.html" 2>&1)
	check "2 workers: ab -n 5000 -c 50 all complete" grep -q '^Complete requests: *5000' <<<"$out"
	check "2 workers: ab -n 5000 -c 50 no failed request" grep -q '^Failed requests: *0' <<<"$out"
	workers=$(sort -u access.log | wc -l)
	check "2 workers: both served requests ($workers pids in the access log)" [ "$workers" = 2 ]
	before=$(sort -u access.log)
	: >access.log
	nsx ab -q -n 4000 -c 10 "http://$STACK_IP/index.html" >ab-reload.out 2>&1 &
	AB=$!
	sleep 0.5
	kill -HUP "$NGINX"
	wait "$AB"
	check "reload: ab -n 4000 -c 10 across SIGHUP all complete" grep -q '^Complete requests: *4000' ab-reload.out
	check "reload: no failed request across SIGHUP" grep -q '^Failed requests: *0' ab-reload.out
	check "reload: nginx reconfigured" grep -q 'reconfiguring' error.log
	# The old workers finish what they have and exit (nginx tells them once the new ones
	# run; on a fast machine ab above may end before that): wait for them, then the new
	# ones serve what follows.
	gone=0
	for _ in $(seq 300); do
		gone=1
		for p in $before; do kill -0 "$p" 2>/dev/null && gone=0; done
		[ "$gone" = 1 ] && break
		sleep 0.1
	done
	check "reload: the old workers exited ($(echo $before))" [ "$gone" = 1 ]
	: >access.log
	out=$(nsx ab -q -n 500 -c 10 "http://$STACK_IP/index.html" 2>&1)
	check "reload: ab -n 500 after it, no failed request" grep -q '^Failed requests: *0' <<<"$out"
	new=$(sort -u access.log)
	check "reload: new workers serve ($(echo $new) after $(echo $before))" \
		bash -c "[ -n \"\$1\" ] && [ -z \"\$(comm -12 <(echo \"\$1\") <(echo \"\$2\"))\" ]" _ "$new" "$before"
	check "tapstack ss --ctl answers with the listener" \
		bash -c "timeout 5 '$TAPSTACK' ss -l --ctl '$WORK/ctl.sock' | grep -q 'LISTEN.*$STACK_IP:80'"
	check "no worker died (no 'exited on signal' in the error log)" bash -c "! grep -q 'exited on signal' '$WORK/error.log'"
	check "nginx logged no error about its sockets" bash -c "! grep -E '\\[(alert|crit|emerg)\\]' '$WORK/error.log'"
	kill -QUIT "$NGINX"
	gone=1
	for _ in $(seq 100); do kill -0 "$NGINX" 2>/dev/null || { gone=0; break; }; sleep 0.1; done
	check "SIGQUIT ends nginx and its workers gracefully" [ "$gone" = 0 ]
	check "gracefully shutting down was logged" grep -q 'gracefully shutting down' error.log
else
	fail "nginx is not installed (scripts/deps.sh)"
fi

# --- a forking server: a child per connection, the parent keeps accepting ---
cat >forking.py <<PYEOF
import socketserver
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            d = self.request.recv(65536)
            if not d:
                return
            self.request.sendall(d)
socketserver.ForkingTCPServer.allow_reuse_address = True
# The default backlog (request_queue_size 5) with 8 clients at once: the SYN queue overflows
# (SYN cookies) and the accept queue fills while the server forks. A client whose cookie ACK
# met the full queue goes on sending; tapstack keeps its handshake as a request, so that
# data is dropped quietly, not reset, and the client's retransmission gets in
# (docs/listen-and-accept.md, tcp_req_keep_cookie).
socketserver.ForkingTCPServer(("$STACK_IP", 7007), Echo).serve_forever()
PYEOF
cat >clients.py <<PYEOF
import os, socket, sys, threading
ok = []
def one(i):
    try:
        echo(i)
    except Exception as e:
        print("client", i, repr(e))
def echo(i):
    data = os.urandom(200000 + i)
    s = socket.create_connection(("$STACK_IP", 7007), timeout=30)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
    s.close()
    ok.append(got == data)
ts = [threading.Thread(target=one, args=(i,)) for i in range(8)]
[t.start() for t in ts]
[t.join() for t in ts]
print("echoed", sum(ok), "of", len(ts))
sys.exit(0 if sum(ok) == len(ts) else 1)
PYEOF
PRELOAD_ARGS="--ctl $WORK/fork.sock" preload_run forking.log "$PY" forking.py
FS=$PRELOAD_PID
check "ForkingTCPServer listens on tapstack" wait_port "$STACK_IP" 7007
for round in 1 2; do
	out=$(ip netns exec "$NS" timeout 60 "$PY" clients.py 2>&1)
	check "ForkingTCPServer round $round: 8 concurrent clients echoed byte-exact ($(tr "\n" " " <<<"$out"))" grep -q "echoed 8 of 8" <<<"$out"
done
# Whether the queues overflowed depends on timing; what must hold is that nobody was reset.
fstats=$(timeout 5 "$TAPSTACK" stats -z --ctl "$WORK/fork.sock" 2>&1)
moved=$(grep -E '^tcp\.(ListenOverflows|SyncookiesSent|SyncookiesKept|SyncookiesFailed|OutRsts) ' <<<"$fstats" | tr -s ' \n' '  ')
check "ForkingTCPServer: no RST sent ($moved)" grep -Eq '^tcp\.OutRsts +0$' <<<"$fstats"
preload_stop "$FS"

# --- redis-server with its default save points, BGSAVE ---
if command -v redis-server >/dev/null; then
	preload_run redis.log redis-server --bind "$STACK_IP" --port 6390 --dir "$WORK" --protected-mode no
	R=$PRELOAD_PID
	check "redis-server (default save points) listens on tapstack" wait_port "$STACK_IP" 6390
	rcli() { ip netns exec "$NS" timeout 10 redis-cli -h "$STACK_IP" -p 6390 "$@"; }
	check "redis: SET" bash -c "[ \"\$(ip netns exec $NS timeout 10 redis-cli -h $STACK_IP -p 6390 set k tapstack)\" = OK ]"
	check "redis: BGSAVE starts" bash -c "ip netns exec $NS timeout 10 redis-cli -h $STACK_IP -p 6390 bgsave | grep -q 'Background saving started'"
	done_ok=1
	for _ in $(seq 100); do
		info=$(rcli info persistence 2>/dev/null)
		grep -q 'rdb_bgsave_in_progress:0' <<<"$info" && grep -q 'rdb_last_bgsave_status:ok' <<<"$info" && { done_ok=0; break; }
		sleep 0.1
	done
	check "redis: the BGSAVE child wrote the dump and exited" [ "$done_ok" = 0 ]
	check "redis: dump.rdb exists" [ -s "$WORK/dump.rdb" ]
	out=$(nsx redis-benchmark -h "$STACK_IP" -p 6390 -n 20000 -c 20 -t set,get -q 2>&1)
	check "redis-benchmark SET completes" grep -q 'SET: [0-9.]* requests per second' <<<"$out"
	check "redis-benchmark GET completes" grep -q 'GET: [0-9.]* requests per second' <<<"$out"
	check "redis-benchmark reported no error" bash -c "! grep -qi error <<<\"\$1\"" _ "$out"
	check "redis: GET after BGSAVE and the benchmark" bash -c "[ \"\$(ip netns exec $NS timeout 10 redis-cli -h $STACK_IP -p 6390 get k)\" = tapstack ]"
	preload_stop "$R"
else
	fail "redis-server is not installed (scripts/deps.sh)"
fi
net_summary
