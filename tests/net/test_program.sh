#!/usr/bin/env bash
# test_program.sh - the program's own surface (issue 2 item 8, issue 3 item 10): options
# (--mac, --mtu, --cc, exit status 2 for each kind of bad option), `tapstack ss` and
# `tapstack stats` through the control socket, and the control socket's error paths.
. "$(dirname "$0")/lib.sh"

bad() {
	local what=$1
	shift
	out=$("$TAPSTACK" "$@" 2>&1)
	rc=$?
	if [ "$rc" -eq 2 ] && grep -q '^tapstack: ' <<<"$out"; then pass "bad option ($what): status 2, '$(head -n1 <<<"$out")'"; else fail "bad option ($what): status $rc, '$out'"; fi
}
bad "unknown option" --bogus
bad "address" --addr 10.0.0.300/24
bad "prefix" --addr 10.0.0.2/33
bad "multicast address" --addr 224.0.0.1/24
bad "mac" --mac 02:00:00:00:00
bad "multicast mac" --mac 01:00:5e:00:00:01
bad "mtu" --mtu 9001
bad "io back end" --io epoll
bad "port" --http 0
bad "port" --echo 70000
bad "same port twice" --http 80 --echo 80
bad "metrics port" --metrics 0
bad "gateway off the prefix" --addr 10.0.0.2/24 --gateway 10.0.1.1
bad "missing value" --tap
bad "stray argument" extra
bad "congestion control" --cc vegas
out=$("$TAPSTACK" --help)
check "--help: usage on stdout, status 0" grep -q '^usage: tapstack' <<<"$out"

out=$("$TAPSTACK" ss --ctl /nonexistent/ctl.sock 2>&1)
rc=$?
check "tapstack ss without a running stack: status 1 and a reason" \
	bash -c "[ $rc -eq 1 ] && grep -q 'cannot reach a running tapstack' <<<'$out'"

net_setup prog
MAC=02:aa:bb:cc:dd:ee
stack_start --mac "$MAC" --mtu 576 --cc reno --http 80 --stall 8080:3 --metrics 9100 || { fail "tapstack starts"; net_summary; exit 1; }
pass "tapstack starts with --mac $MAC --mtu 576 --cc reno"
check "banner shows the MAC and MTU" grep -q "mac $MAC mtu 576" "$STACK_LOG"
check "the TAP's queue of frames for tapstack is raised to 4096 (drivers/tap.c)" \
	[ "$(nsx cat "/sys/class/net/$TAP/tx_queue_len")" = 4096 ]
check "banner names the I/O back end (${TAPSTACK_IO:-default})" \
	grep -Eq "mtu 576, io ${TAPSTACK_IO:-(uring|plain)}" "$STACK_LOG"

out=$(nsx ping -c 2 -i 0.2 -W 2 -s 1400 "$STACK_IP" 2>&1)
check "ping -s 1400 through a 576-byte MTU: 2 replies" grep -q ' 2 received' <<<"$out"
out=$(nsx ip neigh show "$STACK_IP" dev "$TAP")
check "neighbour table has --mac" grep -qi "lladdr $MAC" <<<"$out"
out=$(nsx curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://$STACK_IP/")
check "curl through a 576-byte MTU: 200" [ "$out" = 200 ]

ss=$("$TAPSTACK" ss -a --ctl "$CTL")
check "ss -a: header like ss -tan" grep -Eq '^State +Recv-Q +Send-Q +Local Address:Port +Peer Address:Port' <<<"$ss"
check "ss -a: LISTEN on 0.0.0.0:80 with backlog 128" grep -Eq '^LISTEN +0 +128 +0\.0\.0\.0:80 +0\.0\.0\.0:\*' <<<"$ss"
check "ss -a: --stall 8080:3 shows backlog 3" grep -Eq '^LISTEN +0 +3 +0\.0\.0\.0:8080 ' <<<"$ss"
ss_plain=$("$TAPSTACK" ss --ctl "$CTL" 2>&1)
check "ss (no -a/-l): header, no listeners, as ss does" \
	bash -c "grep -q '^State' <<<\"\$1\" && ! grep -q '^LISTEN' <<<\"\$1\"" _ "$ss_plain"
out=$("$TAPSTACK" ss -l sport = 8080 --ctl "$CTL")
check "ss -l sport = 8080: only that listener" \
	bash -c "[ \$(grep -c '^LISTEN' <<<\"\$1\") = 1 ] && grep -q ':8080 ' <<<\"\$1\"" _ "$out"
# A connection held open (HTTP keep-alive, the client reads slowly) to look at with -i -o -e.
ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/$STACK_IP/80; printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >&3; sleep 3" &
HOLD=$!
sleep 1
out=$("$TAPSTACK" ss -tieo state established dport = :80 --ctl "$CTL")
check "ss state established dport = :80 shows nothing (80 is the local port)" \
	bash -c "! grep -q '^ESTAB' <<<\"\$1\"" _ "$out"
out=$("$TAPSTACK" ss -tieo state established sport = 80 --ctl "$CTL")
check "ss -tieo state established sport = 80: the connection" grep -Eq "^ESTAB .*$STACK_IP:80 +$HOST_IP:" <<<"$out"
check "ss -i: rto, rtt, mss, cwnd, bytes_acked as ss -ti prints them" \
	grep -Eq 'rto:[0-9.]+ rtt:[0-9.]+/[0-9.]+ mss:[0-9]+ .*cwnd:[0-9]+.* bytes_acked:[1-9][0-9]* bytes_received:[1-9]' <<<"$out"
check "ss -e: the socket's identity" grep -Eq ' sk:[0-9a-f]+' <<<"$out"
nsx curl -s --max-time 5 -o /dev/null -H 'Connection: close' "http://$STACK_IP/"
out=$("$TAPSTACK" ss -o state time-wait --ctl "$CTL")
check "ss -o state time-wait: the server's TIME-WAIT with its timer (60 s at most)" \
	grep -Eq "^TIME-WAIT .*$STACK_IP:80 .*timer:\(timewait,[1-5]?[0-9](\.[0-9])?sec,0\)" <<<"$out"
wait "$HOLD" 2>/dev/null
for args in "-x" "state bogus" "sport 80" "sport = 70000" "dport" "extra"; do
	out=$("$TAPSTACK" ss $args --ctl "$CTL" 2>&1)
	rc=$?
	check "ss $args: status 2 naming the problem ('$(head -n1 <<<"$out")')" \
		bash -c "[ $rc = 2 ] && grep -q '^tapstack: ss: ' <<<\"\$1\"" _ "$out"
done
out=$("$TAPSTACK" ss --help)
check "ss --help: its own usage" grep -q '^usage: tapstack ss' <<<"$out"

stats=$("$TAPSTACK" stats -z --ctl "$CTL")
for name in ActiveOpens PassiveOpens AttemptFails EstabResets InSegs OutSegs RetransSegs InErrs OutRsts ListenOverflows ListenDrops; do
	grep -Eq "^tcp\.$name +[0-9]+$" <<<"$stats" || { fail "stats -z: tcp.$name missing"; continue; }
done
check "stats -z: every netstat -s TCP name present" true
check "stats: groups eth, arp, ip, icmp, tcp" bash -c "for g in eth arp ip icmp tcp; do grep -q \"^\$g\\.\" <<<'$stats' || exit 1; done"
nz=$("$TAPSTACK" stats --ctl "$CTL")
check "stats: non-zero counters only by default ($(wc -l <<<"$nz") of $(wc -l <<<"$stats"))" \
	bash -c "grep -Eq '^tcp\.PassiveOpens +[1-9]' <<<\"\$1\" && ! grep -Eq ' 0$' <<<\"\$1\"" _ "$nz"
"$TAPSTACK" stats -r --ctl "$CTL" >/dev/null
"$TAPSTACK" stats -d --ctl "$CTL" >/dev/null
nsx curl -s --max-time 5 -o /dev/null "http://$STACK_IP/"
d=$("$TAPSTACK" stats -d --ctl "$CTL")
check "stats -d: deltas since the last -d (one curl: PassiveOpens 1)" grep -Eq '^tcp\.PassiveOpens +1$' <<<"$d"
d=$("$TAPSTACK" stats -d --ctl "$CTL")
check "stats -d again: nothing new, PassiveOpens not shown" bash -c "! grep -q 'PassiveOpens' <<<\"\$1\"" _ "$d"
"$TAPSTACK" stats -r --ctl "$CTL" >/dev/null
json=$("$TAPSTACK" stats --json --ctl "$CTL")
check "stats --json parses, tcp.PassiveOpens >= 2" \
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d["tcp"]["PassiveOpens"] >= 2 else 1)' "$json"
prom=$("$TAPSTACK" stats --prometheus --ctl "$CTL")
check "stats --prometheus: TYPE lines and tapstack_tcp_PassiveOpens" \
	bash -c "grep -q '^# TYPE tapstack_tcp_PassiveOpens counter' <<<\"\$1\" && awk '\$1 == \"tapstack_tcp_PassiveOpens\" && \$2 >= 2 { ok = 1 } END { exit !ok }' <<<\"\$1\"" _ "$prom"
out=$(nsx curl -s -i --max-time 5 "http://$STACK_IP:9100/metrics")
check "--metrics 9100: GET /metrics on the stack's own HTTP, Prometheus text" \
	bash -c "grep -qi '^Content-Type: text/plain; version=0.0.4' <<<\"\$1\" && grep -Eq '^tapstack_tcp_PassiveOpens [0-9]+' <<<\"\$1\"" _ "$out"
out=$(nsx curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://$STACK_IP:9100/metrics?x=1")
check "--metrics: the query is ignored ($out)" [ "$out" = 200 ]
out=$("$TAPSTACK" stats -q --ctl "$CTL" 2>&1)
rc=$?
check "stats -q: status 2 naming '-q'" bash -c "[ $rc = 2 ] && grep -q \"unknown option '-q'\" <<<\"\$1\"" _ "$out"

before=$(stack_stat PassiveOpens)
out=$(printf 'bogus\n' | nc -U -N "$CTL" 2>&1)
check "control socket: unknown request answered with an error" grep -q "unknown request 'bogus'" <<<"$out"
out=$(printf 'ss -Z\n' | nc -U -N "$CTL" 2>&1)
check "control socket: a bad ss request is refused" grep -q "^error: ss: unknown option '-Z'" <<<"$out"
# The garbage is written to a file first: the server waits at most a second for a request
# once it has accepted (ctl_serve), and on a loaded machine a `head` still starting at the
# other end of a pipe could miss that second, leaving nc without an answer.
head -c 600 /dev/urandom >"$WORK/garbage"
out=$(nc -U -N "$CTL" <"$WORK/garbage" 2>&1)
check "control socket: binary garbage refused with one error line ($(head -c 80 <<<"$out" | tr -c '[:print:]' .))" \
	grep -q '^error: ' <<<"$out"
out=$(printf 'ss %s\n' "$(printf -- '-t %.0s' $(seq 40))" | nc -U -N "$CTL" 2>&1)
check "control socket: too many words refused" grep -q '^error: too many words' <<<"$out"
check "the refused requests changed nothing: PassiveOpens still $before" test "$(stack_stat PassiveOpens)" = "$before"
out=$(nsx curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://$STACK_IP/")
check "the stack still serves after the refused requests: $out" [ "$out" = 200 ]
# A second tapstack refuses a live control socket before it opens any device (it runs in the
# test's namespace all the same, with a TAP name of its own).
out=$(timeout 10 ip netns exec "$NS" "$TAPSTACK" --tap "${TAP:0:12}x2" --ctl "$CTL" 2>&1 </dev/null)
rc=$?
check "a second tapstack refuses a live control socket (status 1)" \
	bash -c "[ $rc -eq 1 ] && grep -q 'another tapstack is using it' <<<'$out'"
check "the first one still answers" bash -c "'$TAPSTACK' stats --ctl '$CTL' >/dev/null"

out=$(timeout 10 ip netns exec "$NS" "$TAPSTACK" --tap lo --ctl "$WORK/lo.sock" 2>&1 </dev/null)
rc=$?
check "--tap lo (not a TAP): status 1 with the kernel's reason, no socket left" \
	bash -c "[ $rc -eq 1 ] && grep -q 'TUNSETIFF lo' <<<'$out' && [ ! -e '$WORK/lo.sock' ]"

stack_stop
check "SIGTERM: status 0" [ "$STACK_STATUS" = 0 ]
check "control socket removed at exit" [ ! -e "$CTL" ]

# Jumbo frames: both sides of the TAP at MTU 9000, 4 MB byte-exact in 8960-byte segments.
nsx ip link set "$TAP" mtu 9000
stack_start --mtu 9000 --http 80 --quiet --no-offload || { fail "tapstack starts with --mtu 9000"; net_summary; exit 1; }
check "banner shows mtu 9000" grep -q "mtu 9000" "$STACK_LOG"
rxb() { nsx cat "/sys/class/net/$TAP/statistics/$1"; }
b0=$(rxb rx_bytes); p0=$(rxb rx_packets)
nsx bash -c "curl -sS --max-time 60 http://$STACK_IP/bytes/4000000 | '$NET_ROOT/build/bytes-check' 4000000" >"$WORK/jumbo.log" 2>&1
check "4 MB through a 9000-byte MTU, byte-exact" [ $? = 0 ]
b1=$(rxb rx_bytes); p1=$(rxb rx_packets)
per=$(( (b1 - b0) / (p1 - p0 > 0 ? p1 - p0 : 1) ))
check "tapstack sent jumbo frames, no offload ($per bytes per frame on average > 1514)" [ "$per" -gt 1514 ]
stack_stop
net_summary
