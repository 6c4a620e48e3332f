#!/usr/bin/env bash
# demo-nginx.sh (`sudo make demo-nginx`) - the seed story with the real thing: Debian's nginx,
# unmodified, on tapstack through the LD_PRELOAD library (docs/preload.md).
#
# In a network namespace made for the demo (removed at the end, also on failure or Ctrl-C),
# the TAP's kernel side is 10.0.0.1/24 and nginx on tapstack is 10.0.0.2. nginx runs under
# `strace -f -tt -e trace=accept4` and with tapstack's --trace, both printing wall-clock
# times. From the kernel side: curl -I (nginx's 200) and curl to port 81 (refused at once).
# Then the two logs are merged by timestamp: nginx's accept4() returned the connection only
# after the stack had sent the SYN-ACK and received the final ACK.
set -u
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "demo-nginx: needs root (a network namespace and a TAP device): sudo make demo-nginx" >&2
	exit 1
fi
. tests/net/lib.sh
RUN=$NET_ROOT/build/tapstack-run
NGINX_PID=

if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B= N=; fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
# nginx itself (strace's child; its pid file says which), then strace.
stop_nginx() {
	[ -s "$WORK/nginx.pid" ] && kill -TERM "$(cat "$WORK/nginx.pid")" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
}
demo_cleanup() {
	if [ -n "$NGINX_PID" ]; then
		stop_nginx
		kill -TERM "$NGINX_PID" 2>/dev/null
		for _ in $(seq 30); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$NGINX_PID" 2>/dev/null
		wait "$NGINX_PID" 2>/dev/null
	fi
	net_cleanup
}

net_setup nginx-demo
trap demo_cleanup EXIT
command -v nginx >/dev/null && command -v strace >/dev/null || { echo "demo-nginx: nginx and strace are needed (scripts/deps.sh)"; exit 1; }
mkdir -p "$WORK/www" "$WORK/tmp"
echo "Hello from nginx on tapstack" >"$WORK/www/index.html"
cat >"$WORK/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/error.log notice;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
	uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
	server { listen $STACK_IP:80; root $WORK/www; }
}
CONF

say "nginx on tapstack: $TAP in namespace $NS, kernel side $HOST_IP/$STACK_PLEN, nginx $STACK_IP"
echo "\$ strace -f -tt -e trace=accept4,socket tapstack-run --tap $TAP --addr $STACK_IP/$STACK_PLEN --trace -- nginx -c nginx.conf"
ip netns exec "$NS" strace -f -tt -e trace=accept4,socket -o "$WORK/strace.log" \
	"$RUN" --tap "$TAP" --addr "$STACK_IP/$STACK_PLEN" --trace -- nginx -c "$WORK/nginx.conf" -p "$WORK" \
	2>"$WORK/trace.log" &
NGINX_PID=$!
up=1
for _ in $(seq 100); do
	nsx curl -s -o /dev/null --max-time 1 "http://$STACK_IP/" && { up=0; break; }
	sleep 0.1
done
[ "$up" = 0 ] || { echo "nginx did not come up:"; cat "$WORK/trace.log" "$WORK/error.log"; exit 1; }
sleep 0.5
mark=$(date +%H:%M:%S.%N | cut -c1-15)

say "1. curl -sI http://$STACK_IP/ : nginx answers, through tapstack"
nsx curl -sI --max-time 5 "http://$STACK_IP/"

say "2. curl http://$STACK_IP:81/ : nobody listens there"
start=$(date +%s%N)
nsx curl -sS --max-time 5 "http://$STACK_IP:81/"
echo "curl exit status: $? (7 = could not connect) after $((($(date +%s%N) - start) / 1000000)) ms"
sleep 0.3
stop_nginx
kill -TERM "$NGINX_PID" 2>/dev/null
wait "$NGINX_PID" 2>/dev/null
NGINX_PID=

say "3. the stack's trace and nginx's accept4() calls, merged by time (from the curl -I on)"
# strace: "PID HH:MM:SS.uuuuuu accept4(...) = N"; tapstack: "HH:MM:SS.uuuuuu in|out|log ...".
{
	grep -v -e 'ethertype 0x86dd' -e ' log tcp in ' -e ' log tcp out ' "$WORK/trace.log" | grep '^[0-9][0-9]:'
	sed -n 's/^[0-9]* \([0-9:.]*\) \(socket(AF_UNIX.*\)/\1 strace nginx: \2  (the placeholder of a new connection)/p; s/^[0-9]* \([0-9:.]*\) \(accept4.*\)/\1 strace nginx: \2/p' "$WORK/strace.log"
} | sort | awk -v m="$mark" '$1 >= m' | grep -v 'EAGAIN' | head -40 | tee "$WORK/merged.log"

say "4. accept4() returned after the handshake, not before"
synack=$(grep -m1 'out IP .*\.80 > .*Flags \[S\.\]' "$WORK/merged.log" | cut -d' ' -f1)
ack=$(grep -m1 'in  IP .* > .*\.80: Flags \[\.\]' "$WORK/merged.log" | cut -d' ' -f1)
acc=$(grep -m1 ' app accept4(.* = [0-9]' "$WORK/merged.log" | cut -d' ' -f1)
ph=$(grep -m1 'strace nginx: socket(AF_UNIX' "$WORK/merged.log" | cut -d' ' -f1)
echo "SYN-ACK sent by the stack:              ${synack:-(not seen)}"
echo "final ACK received by the stack:        ${ack:-(not seen)}"
echo "strace: accept4's descriptor made:      ${ph:-(not seen)}"
echo "nginx's accept4() returned it:          ${acc:-(not seen)}"
if [ -n "$synack" ] && [ -n "$ack" ] && [ -n "$acc" ] && [ -n "$ph" ] && [[ "$synack" < "$ph" ]] &&
	[[ "$ack" < "$ph" ]] && [[ "$ack" < "$acc" ]]; then
	echo "=> the stack completed the handshake first; nginx's accept4() only dequeued it."
fi
say "done: namespace $NS and $TAP removed"
