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
bad "mtu" --mtu 9000
bad "port" --http 0
bad "port" --echo 70000
bad "same port twice" --http 80 --echo 80
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
stack_start --mac "$MAC" --mtu 576 --cc reno --http 80 --stall 8080:3 || { fail "tapstack starts"; net_summary; exit 1; }
pass "tapstack starts with --mac $MAC --mtu 576 --cc reno"
check "banner shows the MAC and MTU" grep -q "mac $MAC mtu 576" "$STACK_LOG"

out=$(nsx ping -c 2 -i 0.2 -W 2 -s 1400 "$STACK_IP" 2>&1)
check "ping -s 1400 through a 576-byte MTU: 2 replies" grep -q ' 2 received' <<<"$out"
out=$(nsx ip neigh show "$STACK_IP" dev "$TAP")
check "neighbour table has --mac" grep -qi "lladdr $MAC" <<<"$out"
out=$(nsx curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://$STACK_IP/")
check "curl through a 576-byte MTU: 200" [ "$out" = 200 ]

ss=$("$TAPSTACK" ss --ctl "$CTL")
check "ss: header like ss -tan" grep -Eq '^State +Recv-Q +Send-Q +Local Address:Port +Peer Address:Port' <<<"$ss"
check "ss: LISTEN on 0.0.0.0:80 with backlog 128" grep -Eq '^LISTEN +0 +128 +0\.0\.0\.0:80 +0\.0\.0\.0:\*' <<<"$ss"
check "ss: --stall 8080:3 shows backlog 3" grep -Eq '^LISTEN +0 +3 +0\.0\.0\.0:8080 ' <<<"$ss"

stats=$("$TAPSTACK" stats --ctl "$CTL")
for name in ActiveOpens PassiveOpens AttemptFails EstabResets InSegs OutSegs RetransSegs InErrs OutRsts ListenOverflows ListenDrops; do
	grep -Eq "^    $name: [0-9]+$" <<<"$stats" || { fail "stats: $name missing"; continue; }
done
check "stats: every netstat -s TCP name present" true
check "stats: PassiveOpens counted the curl" grep -Eq '^    PassiveOpens: [1-9]' <<<"$stats"
check "stats: groups eth, arp, ip, icmp, tcp" bash -c "for g in eth arp ip icmp tcp; do grep -q \"^\$g:\$\" <<<'$stats' || exit 1; done"

out=$(printf 'bogus\n' | nc -U -N "$CTL" 2>&1)
check "control socket: unknown request answered with an error" grep -q "unknown request 'bogus'" <<<"$out"
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
net_summary
