#!/usr/bin/env bash
# test_preload_nginx.sh - Debian's nginx, unmodified, on tapstack through build/tapstack-run
# (the LD_PRELOAD library, docs/preload.md): curl -I gets nginx's 200, 100 MB and 1 GiB files
# go out through sendfile() byte-exact, ab -n 5000 -c 50 (a connection per request) and
# wrk -c32 (keep-alive) finish without a failed request, a port nobody listens on is refused
# at once; then nginx's default shape, master + one worker (fork: they share the stack),
# serves and exits gracefully on SIGQUIT.
. "$(dirname "$0")/preload_lib.sh"

preload_setup nginx
command -v nginx >/dev/null || { fail "nginx is not installed (scripts/deps.sh)"; net_summary; exit 1; }
mkdir -p "$WORK/www" "$WORK/tmp"
echo "nginx on tapstack" >"$WORK/www/index.html"
head -c 100000000 /dev/urandom >"$WORK/www/big.bin"
# 1 GiB for sendfile(): the random 100 MB eleven times, cut to 2^30 bytes (quick to make).
for _ in $(seq 11); do cat "$WORK/www/big.bin"; done | head -c 1073741824 >"$WORK/www/gib.bin"

# nginx.conf for this test: $1 = master_process on/off.
nginx_conf() {
	cat >"$WORK/nginx.conf" <<CONF
daemon off;
master_process $1;
worker_processes 1;
user root;
pid $WORK/nginx.pid;
error_log $WORK/error.log info;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
	uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
	sendfile on; tcp_nopush on; tcp_nodelay on; keepalive_timeout 65;
	types { text/html html; application/octet-stream bin; }
	server { listen $STACK_IP:80; root $WORK/www; }
}
CONF
}

nginx_conf off
PRELOAD_ARGS="--ctl $WORK/ctl.sock" preload_run "$WORK/nginx.log" nginx -c "$WORK/nginx.conf" -p "$WORK"
NGINX=$PRELOAD_PID
check "nginx listens on tapstack" wait_port "$STACK_IP" 80
check "curl -I gets nginx's 200" bash -c "ip netns exec $NS curl -sI -m 10 http://$STACK_IP/ | head -n 1 | grep -q '200 OK'"
check "the body is the file" bash -c "[ \"\$(ip netns exec $NS curl -s -m 10 http://$STACK_IP/index.html)\" = 'nginx on tapstack' ]"
nsx curl -s -m 120 -o "$WORK/got.bin" "http://$STACK_IP/big.bin"
check "100 MB through sendfile() byte-exact" cmp -s "$WORK/www/big.bin" "$WORK/got.bin"
rm -f "$WORK/got.bin"
want=$(sha256sum <"$WORK/www/gib.bin" | cut -d' ' -f1)
got=$(ip netns exec "$NS" curl -s -m 300 "http://$STACK_IP/gib.bin" | sha256sum | cut -d' ' -f1)
check "1 GiB through sendfile() byte-exact (sha256)" [ "$want" = "$got" ]
rm -f "$WORK/www/gib.bin"

out=$(nsx ab -q -n 5000 -c 50 "http://$STACK_IP/index.html" 2>&1)
check "ab -n 5000 -c 50: all complete" grep -q '^Complete requests: *5000' <<<"$out"
check "ab -n 5000 -c 50: no failed request" grep -q '^Failed requests: *0' <<<"$out"
out=$(nsx wrk -c32 -t2 -d3s "http://$STACK_IP/index.html" 2>&1)
check "wrk -c32 keep-alive: requests served" grep -q 'requests in' <<<"$out"
check "wrk -c32 keep-alive: no socket errors or bad statuses" bash -c "! grep -qE 'Socket errors|Non-2xx' <<<\"\$1\"" _ "$out"

start=$(date +%s%N)
msg=$(nsx curl -sS -m 10 "http://$STACK_IP:81/" 2>&1)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
# curl 7.88 words a refused connect "Couldn't connect to server" (older: "Connection refused").
check "port 81: curl's connect is refused" grep -qE "Connection refused|Couldn't connect to server" <<<"$msg"
check "port 81: refused at once (${ms} ms)" [ "$ms" -lt 2000 ]
check "tapstack ss --ctl: nginx's listener on tapstack" bash -c "timeout 5 '$TAPSTACK' ss -l --ctl '$WORK/ctl.sock' | grep -q 'LISTEN.*$STACK_IP:80'"
check "tapstack stats --ctl: the passive opens counted" bash -c "timeout 5 '$TAPSTACK' stats --ctl '$WORK/ctl.sock' | grep -qE 'PassiveOpens +[1-9]'"
check "nginx logged no error about its sockets" bash -c "! grep -E '\\[(alert|crit|emerg)\\]' '$WORK/error.log'"
preload_stop "$NGINX"

# master + worker: the master forks the worker after opening the listener; they share the
# stack (docs/preload.md, the fork rule).
nginx_conf on
PRELOAD_ARGS="--ctl $WORK/ctl2.sock" preload_run "$WORK/nginx2.log" nginx -c "$WORK/nginx.conf" -p "$WORK"
NGINX=$PRELOAD_PID
check "master + worker: nginx listens" wait_port "$STACK_IP" 80
check "master + worker: curl -I gets 200" bash -c "ip netns exec $NS curl -sI -m 10 http://$STACK_IP/ | head -n 1 | grep -q '200 OK'"
out=$(nsx ab -q -n 1000 -c 20 "http://$STACK_IP/index.html" 2>&1)
check "master + worker: ab -n 1000 -c 20 no failed request" grep -q '^Failed requests: *0' <<<"$out"
# Three tries: under load the control thread may be slow to take the connection (1 s each).
ss_ok=1
for _ in 1 2 3; do
	timeout 5 "$TAPSTACK" ss -l --ctl "$WORK/ctl2.sock" >"$WORK/ss2.out" 2>&1
	grep -q "LISTEN.*$STACK_IP:80" "$WORK/ss2.out" && { ss_ok=0; break; }
	sleep 0.5
done
check "master + worker: tapstack ss --ctl answers from the worker ($(head -c 80 "$WORK/ss2.out" | tr '\n' ' '))" [ "$ss_ok" = 0 ]
check "master + worker: the worker never died (no 'exited on signal' in the error log)" \
	bash -c "! grep -q 'exited on signal' '$WORK/error.log'"
kill -QUIT "$NGINX"
gone=1
for _ in $(seq 100); do kill -0 "$NGINX" 2>/dev/null || { gone=0; break; }; sleep 0.1; done
check "master + worker: SIGQUIT ends nginx gracefully" [ "$gone" = 0 ]
check "master + worker: gracefully shutting down was logged" grep -q 'gracefully shutting down' "$WORK/error.log"
net_summary
