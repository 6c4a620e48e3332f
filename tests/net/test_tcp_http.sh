#!/usr/bin/env bash
# test_tcp_http.sh - the HTTP demo server with real Linux clients (issue 3, items 9 and 12):
# curl -I gets 200; a closed port is refused at once (curl exit 7 in under a second); nmap
# sees 80 open and 79, 81 closed; 200 parallel downloads of /bytes/1048576 are byte-exact;
# ab -n 2000 -c 50 has no failed requests (and with -k); then the HTTP rules one by one:
# 404, 405 + Allow, 400, 413, HEAD, files (a 20 MB one through sendfile) and path traversal,
# keep-alive, pipelining,
# Connection: close, a 1 GiB stream, a slow reader that blocks nobody, and the 5 s linger
# deadline firing on a quiet server.
#
# TS_KERNEL=1 runs the same checks against build/tapstack-kernel (see apps_lib.sh).
. "$(dirname "$0")/apps_lib.sh"

apps_setup http
DOCS=$WORK/www
mkdir -p "$DOCS/sub"
echo "hello from a file" >"$DOCS/hello.txt"
echo "nested" >"$DOCS/sub/n.txt"
head -c 20000003 /dev/urandom >"$DOCS/big.bin" # past the head's segment: the rest by sendfile
echo "secret" >"$WORK/secret.txt"
ln -s "$WORK/secret.txt" "$DOCS/escape.txt"

apps_start --http "80:$DOCS" --backlog 128 || { fail "server starts"; net_summary; exit 1; }
pass "server starts"
URL=http://$STACK_IP

# curl -I: 200, with Content-Length.
out=$(nsx curl -sS -I --max-time 10 "$URL/" 2>&1)
check "curl -I $URL/: 200" grep -q '^HTTP/1.1 200' <<<"$out"
check "curl -I: Content-Length" grep -qi '^Content-Length: [1-9]' <<<"$out"

# A port with no listener: RST-ACK, so "Connection refused" (exit 7) at once.
t0=$(apps_now_ms)
nsx curl -sS --max-time 10 "http://$STACK_IP:81/" >/dev/null 2>"$WORK/refused.err"
rc=$?
t1=$(apps_now_ms)
check "curl to port 81: exit 7 (got $rc)" [ "$rc" = 7 ]
check "curl to port 81: refused in under a second ($((t1 - t0)) ms)" [ $((t1 - t0)) -lt 1000 ]

# nmap's SYN scan: SYN-ACK = open, RST = closed.
out=$(nsx nmap -n -Pn -sS -p 79-81 --max-retries 2 "$STACK_IP" 2>&1)
check "nmap: 80/tcp open" grep -Eq '^80/tcp +open' <<<"$out"
check "nmap: 79/tcp closed" grep -Eq '^79/tcp +closed' <<<"$out"
check "nmap: 81/tcp closed" grep -Eq '^81/tcp +closed' <<<"$out"

# 200 parallel downloads of 1 MiB, each checked byte for byte by bytes-check.
pids=()
for i in $(seq 200); do
	nsx bash -c "curl -sS --max-time 120 $URL/bytes/1048576 | $BYTES_CHECK 1048576" \
		>"$WORK/par$i.log" 2>&1 &
	pids+=($!)
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
check "200 parallel downloads of /bytes/1048576 byte-exact ($bad bad)" [ "$bad" = 0 ]

out=$(nsx ab -q -s 30 -n 2000 -c 50 "$URL/" 2>&1)
check "ab -n 2000 -c 50: 2000 complete" grep -Eq '^Complete requests: +2000$' <<<"$out"
check "ab -n 2000 -c 50: no failed requests" grep -Eq '^Failed requests: +0$' <<<"$out"
check "ab -n 2000 -c 50: no non-2xx" bash -c '! grep -q "^Non-2xx" <<<"$1"' _ "$out"
out=$(nsx ab -q -s 30 -k -n 2000 -c 50 "$URL/bytes/100" 2>&1)
check "ab -k -n 2000 -c 50: no failed requests" grep -Eq '^Failed requests: +0$' <<<"$out"
check "ab -k: all 2000 kept alive" grep -Eq '^Keep-Alive requests: +2000$' <<<"$out"

# Status codes.
code() { nsx curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }
check "GET /nope: 404" [ "$(code "$URL/nope")" = 404 ]
check "GET /bytes/abc: 404" [ "$(code "$URL/bytes/abc")" = 404 ]
check "POST /: 405" [ "$(code -X POST -d x=1 "$URL/")" = 405 ]
out=$(nsx curl -s -i -X DELETE --max-time 10 "$URL/" 2>&1)
check "DELETE /: 405 with Allow: GET, HEAD" grep -qi '^Allow: GET, HEAD' <<<"$out"
raw() { nsx bash -c "printf '$1' | timeout 10 nc -q 5 $STACK_IP 80" 2>&1; }
out=$(raw 'GARBAGE\r\n\r\n')
check "malformed request line: 400" grep -q '^HTTP/1.1 400' <<<"$out"
out=$(raw 'GET / HTTP/1.1\r\n\r\n')
check "HTTP/1.1 without Host: 400" grep -q '^HTTP/1.1 400' <<<"$out"
out=$(raw 'GET / HTTP/2.0\r\nHost: x\r\n\r\n')
check "HTTP/2.0 request line: 505" grep -q '^HTTP/1.1 505' <<<"$out"
big=$(head -c 9000 /dev/zero | tr '\0' a)
out=$(nsx curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "X-Big: $big" "$URL/")
check "request head over 8 KiB: 413" [ "$out" = 413 ]

# HEAD: the GET fields, no body.
out=$(nsx curl -s -I --max-time 10 "$URL/bytes/12345" 2>&1)
check "HEAD /bytes/12345: Content-Length: 12345" grep -qi '^Content-Length: 12345' <<<"$out"
out=$(raw 'HEAD / HTTP/1.0\r\n\r\n')
check "HEAD: no body after the head" bash -c '[ "$(sed -n "/^\r$/,\$p" <<<"$1" | wc -c)" -le 2 ]' _ "$out"

# Files, and no way out of the directory.
check "GET /hello.txt: the file" [ "$(nsx curl -s --max-time 10 "$URL/hello.txt")" = "hello from a file" ]
check "GET /sub/n.txt: the file" [ "$(nsx curl -s --max-time 10 "$URL/sub/n.txt")" = "nested" ]
nsx curl -s --max-time 60 -o "$WORK/big.got" "$URL/big.bin"
check "GET /big.bin: 20 MB through sendfile, byte-exact" cmp -s "$DOCS/big.bin" "$WORK/big.got"
pids=()
for i in 1 2 3 4; do
	nsx curl -s --max-time 60 -o "$WORK/big$i.got" "$URL/big.bin" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
bad=0
for i in 1 2 3 4; do cmp -s "$DOCS/big.bin" "$WORK/big$i.got" || bad=$((bad + 1)); done
check "four parallel downloads of /big.bin byte-exact ($bad bad)" [ "$bad" = 0 ]
check "GET /sub/: 404 (directory)" [ "$(code "$URL/sub/")" = 404 ]
check "GET /../secret.txt: 404" [ "$(code --path-as-is "$URL/../secret.txt")" = 404 ]
check "GET /%2e%2e/secret.txt: 404" [ "$(code --path-as-is "$URL/%2e%2e/secret.txt")" = 404 ]
check "GET //etc/passwd: 404" [ "$(code --path-as-is "$URL//etc/passwd")" = 404 ]
check "GET /escape.txt (symlink out): 404" [ "$(code "$URL/escape.txt")" = 404 ]

# Keep-alive: curl reuses one connection for two URLs.
out=$(nsx curl -sv --max-time 10 "$URL/" "$URL/bytes/10" -o /dev/null -o /dev/null 2>&1)
check "keep-alive: curl reuses the connection" grep -qi 'Re-using existing connection' <<<"$out"
# Pipelining: three requests in one write, three answers in order on one connection.
out=$(raw 'GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
check "pipelining: three answers in order" \
	[ "$(grep '^HTTP/1.1' <<<"$out" | tr -d '\r' | tr '\n' ,)" = "HTTP/1.1 200 OK,HTTP/1.1 404 Not Found,HTTP/1.1 200 OK," ]
# Connection: close: the server closes after the answer (nc ends without waiting).
t0=$(apps_now_ms)
out=$(nsx bash -c "printf 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | timeout 10 nc $STACK_IP 80" 2>&1)
t1=$(apps_now_ms)
check "Connection: close: answered with Connection: close" grep -qi '^Connection: close' <<<"$out"
check "Connection: close: server closed at once ($((t1 - t0)) ms)" [ $((t1 - t0)) -lt 3000 ]

# A reader that takes 20 KiB/s blocks nobody: other requests are answered meanwhile.
apps_bg nsx curl -s --max-time 60 --limit-rate 20k -o /dev/null "$URL/bytes/104857600"
apps_bg nsx bash -c "exec 3<>/dev/tcp/$STACK_IP/80; printf 'GET /bytes/1073741824 HTTP/1.1\r\nHost: x\r\n\r\n' >&3; exec sleep 60"
sleep 1
t0=$(apps_now_ms)
out=$(code "$URL/")
t1=$(apps_now_ms)
check "while two clients stall: GET / still answered ($((t1 - t0)) ms)" [ "$out" = 200 ]
apps_kill_bg

# 1 GiB streamed without buffering it (the server's memory stays small).
nsx bash -c "curl -sS --max-time 300 $URL/bytes/1073741824 | $BYTES_CHECK 1073741824" >"$WORK/big.log" 2>&1
check "/bytes/1073741824: 1 GiB byte-exact" [ $? = 0 ]
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$STACK_PID/status" 2>/dev/null)
check "server resident memory below 200 MiB after all that (${rss:-?} KiB)" [ "${rss:-999999}" -lt 204800 ]

# The 5 s linger deadline fires although nothing else happens: a client gets its answer and
# the server's FIN but never closes its side, and stays silent (its kernel ACKs the FIN,
# nothing more). The server must give up on it by itself (its loop has to wake up for the
# deadline: nothing else would wake it) and log it.
apps_bg nsx bash -c "exec 3<>/dev/tcp/$STACK_IP/80; printf 'GET /bytes/10 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3; cat <&3 >/dev/null; exec sleep 30"
port=
for _ in $(seq 50); do
	port=$(nsx ss -Htn state close-wait "dport = :80" | awk '{ n = split($3, a, ":"); print a[n]; exit }')
	[ -n "$port" ] && break
	sleep 0.1
done
closed=1
for _ in $(seq 150); do
	grep -q "http: closing $HOST_IP:$port, its deadline passed" "$STACK_LOG" && { closed=0; break; }
	sleep 0.1
done
check "linger: a client that never closes is dropped after 5 s of silence (port ${port:-?})" \
	[ -n "$port" -a "$closed" = 0 ]
apps_kill_bg

stack_stop
check "server exits cleanly on SIGTERM" [ "$STACK_STATUS" = 0 ]
check "accept() was logged" grep -q "http: accept() returned $HOST_IP:" "$STACK_LOG"
net_summary
