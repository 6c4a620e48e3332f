#!/usr/bin/env bash
# test_udp.sh - UDP (issue 10) with real Linux programs in the test's namespace: nc -u and
# socat through the UDP echo server byte-exact; nmap -sU -p 7,9,99 reads 7 open (echo
# answers its probe), 9 open|filtered (discard answers nothing), 99 closed (port
# unreachable); a 60,000-byte datagram (fragmented both ways) echoed intact; 10,000
# datagrams through echo with loss counted and nothing corrupted; a connected socket gets
# ECONNREFUSED from port 99; `tapstack ss` lists the UDP sockets; --trace prints UDP and the
# port unreachable like tcpdump.
. "$(dirname "$0")/lib.sh"
UDP_CHECK=$NET_ROOT/build/udp-check
[ -x "$UDP_CHECK" ] || { echo "FAIL $UDP_CHECK is not built (run make)"; exit 1; }

net_setup udp
stack_start --udp-echo 7 --udp-discard 9 --echo 7 || { fail "tapstack starts"; net_summary; exit 1; }
pass "tapstack starts with --udp-echo 7 --udp-discard 9 (and TCP --echo 7 on the same number)"

# nc -u: one datagram per read of stdin; -w 2 waits for the answer after end of input.
head -c 1000 /dev/urandom | base64 -w 0 >"$WORK/line"
nsx timeout 10 nc -u -w 2 "$STACK_IP" 7 <"$WORK/line" >"$WORK/nc.out"
check "nc -u: the datagram comes back byte-exact ($(stat -c %s "$WORK/nc.out") bytes)" cmp -s "$WORK/line" "$WORK/nc.out"

head -c 4000 /dev/urandom >"$WORK/bin"
nsx timeout 10 socat -T 2 -b 8192 - "UDP:$STACK_IP:7" <"$WORK/bin" >"$WORK/socat.out"
check "socat: 4000 binary bytes come back byte-exact ($(stat -c %s "$WORK/socat.out") bytes)" \
	cmp -s "$WORK/bin" "$WORK/socat.out"

out=$(nsx timeout 120 nmap -n -Pn -sU -p 7,9,99 "$STACK_IP" 2>&1)
check "nmap -sU: 7/udp open (echo answered the probe)" grep -Eq '^7/udp +open +' <<<"$out"
check "nmap -sU: 9/udp open|filtered (discard answers nothing)" grep -Eq '^9/udp +open\|filtered +' <<<"$out"
check "nmap -sU: 99/udp closed (ICMP port unreachable)" grep -Eq '^99/udp +closed +' <<<"$out"
[ "$FAILED" -eq 0 ] || echo "$out"

out=$(nsx timeout 20 "$UDP_CHECK" "$STACK_IP" 7 1 60000 2>&1)
check "a 60,000-byte datagram echoed intact ($out)" grep -q '^sent 1 received 1 .*corrupted 0' <<<"$out"

out=$(nsx timeout 120 "$UDP_CHECK" "$STACK_IP" 7 10000 512 5000 2>&1)
rc=$?
check "10,000 datagrams through echo: none corrupted, loss counted ($out)" [ "$rc" = 0 ]

out=$(nsx timeout 20 "$UDP_CHECK" "$STACK_IP" 99 1 8 0 2>&1)
check "a connected socket to port 99 gets ECONNREFUSED ($out)" grep -Eq 'refused [1-9]' <<<"$out"

nsx timeout 10 socat -T 1 -u - "UDP:$STACK_IP:9" <<<"thrown away"

ss=$("$TAPSTACK" ss -tua --ctl "$CTL")
check "ss -tua: a Netid column" grep -Eq '^Netid +State +Recv-Q +Send-Q +Local Address:Port +Peer Address:Port' <<<"$ss"
check "ss -tua: udp UNCONN 0.0.0.0:7" grep -Eq '^udp +UNCONN +[0-9]+ +0 +0\.0\.0\.0:7 +0\.0\.0\.0:\*' <<<"$ss"
check "ss -tua: udp UNCONN 0.0.0.0:9" grep -Eq '^udp +UNCONN +[0-9]+ +0 +0\.0\.0\.0:9 ' <<<"$ss"
check "ss -tua: tcp LISTEN 0.0.0.0:7 beside them" grep -Eq '^tcp +LISTEN +0 +[0-9]+ +0\.0\.0\.0:7 ' <<<"$ss"
ss=$("$TAPSTACK" ss -u --ctl "$CTL")
check "ss -u: unconnected UDP sockets hidden, as ss does" bash -c "grep -q '^State' <<<\"\$1\" && ! grep -q UNCONN <<<\"\$1\"" _ "$ss"

stats=$("$TAPSTACK" stats -z --ctl "$CTL")
for name in InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors; do
	grep -Eq "^udp\.$name +[0-9]+$" <<<"$stats" || fail "stats -z: udp.$name missing"
done
check "stats: NoPorts counted the datagrams to 99" [ "$(stack_stat NoPorts)" -ge 1 ]
check "stats: InDatagrams counted at least 10,000" [ "$(stack_stat InDatagrams)" -ge 10000 ]

stack_stop
check "tapstack exits cleanly on SIGTERM" [ "$STACK_STATUS" = 0 ]
check "udp-echo logged its counts" grep -Eq 'udp-echo: [0-9]+ datagrams in, [0-9]+ echoed' "$STACK_LOG"
check "udp-discard counted what it threw away" grep -Eq 'udp-discard: [1-9][0-9]* datagrams in' "$STACK_LOG"

# --trace: the datagram and the port unreachable, as tcpdump prints them.
stack_start --trace --udp-echo 7 || { fail "tapstack starts with --trace"; net_summary; exit 1; }
echo hi | nsx timeout 5 nc -u -w 1 "$STACK_IP" 7 >/dev/null
echo hi | nsx timeout 5 nc -u -w 1 "$STACK_IP" 99 >/dev/null
stack_stop
check "--trace: the datagram in" grep -Eq "in +IP $HOST_IP\.[0-9]+ > $STACK_IP\.7: UDP, length 3\$" "$STACK_LOG"
check "--trace: the echo out" grep -Eq "out IP $STACK_IP\.7 > $HOST_IP\.[0-9]+: UDP, length 3\$" "$STACK_LOG"
check "--trace: port unreachable out" \
	grep -Eq "out IP $STACK_IP > $HOST_IP: ICMP $STACK_IP udp port 99 unreachable, length 39" "$STACK_LOG"
net_summary
