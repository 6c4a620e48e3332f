#!/usr/bin/env bash
# test_ping.sh - the foundation with real Linux tools (issue 2): ping, an 8000-byte ping
# (fragmented both ways), arping, the kernel's neighbour table, protocol unreachable, a
# pcap that tcpdump reads, --trace lines, a clean exit on SIGTERM, and exit status 2 for bad options.
. "$(dirname "$0")/lib.sh"

net_setup ping
stack_start --pcap "$PCAP" --trace || { fail "tapstack starts"; net_summary; exit 1; }
pass "tapstack starts on $TAP in $NS"
MAC=$(stack_mac)

out=$(nsx ping -c 5 -i 0.2 -W 2 "$STACK_IP" 2>&1)
check "ping -c 5: 5 replies" grep -q ' 5 received' <<<"$out"

out=$(nsx ping -c 3 -i 0.2 -W 2 -s 8000 "$STACK_IP" 2>&1)
check "ping -s 8000: 3 replies of 8008 bytes" grep -q ' 3 received' <<<"$out"
check "ping -s 8000: replies are 8008 bytes" grep -q '^8008 bytes from' <<<"$out"

out=$(nsx arping -c 3 -w 5000000 -i "$TAP" "$STACK_IP" 2>&1)
check "arping: replies from the stack's MAC $MAC" grep -qi "from $MAC" <<<"$out"

out=$(nsx ip neigh show "$STACK_IP" dev "$TAP")
check "kernel neighbour table: $STACK_IP lladdr $MAC" grep -qi "lladdr $MAC" <<<"$out"

# A protocol the stack does not speak (253, RFC 3692's for experiments): ICMP protocol
# unreachable, which nmap's IP protocol scan reads as "closed".
out=$(nsx timeout 60 nmap -n -Pn -sO -p 253 "$STACK_IP" 2>&1)
check "nmap -sO: protocol 253 closed (protocol unreachable)" grep -Eq '^253 +closed' <<<"$out"

out=$("$TAPSTACK" stats --ctl "$CTL" 2>&1)
check "tapstack stats shows the echo requests" grep -Eq '^icmp\.in_echo_requests +[1-9]' <<<"$out"

stack_stop
check "SIGTERM: exit status 0" [ "$STACK_STATUS" = 0 ]
check "SIGTERM: counters printed" grep -q 'tapstack: counters' "$STACK_LOG"

dump=$(tcpdump -n -r "$PCAP" 2>&1)
check "tcpdump -r reads the pcap" grep -q 'ICMP echo request' <<<"$dump"
check "pcap has the echo replies" grep -q 'ICMP echo reply' <<<"$dump"
check "pcap has the ARP reply" grep -q "ARP, Reply $STACK_IP is-at" <<<"$dump"
check "pcap has the gratuitous ARP" grep -Eq "ARP, (Request who-has|Reply) $STACK_IP .*($STACK_IP|is-at)" <<<"$dump"
check "pcap has protocol 253 unreachable" grep -q 'protocol 253 unreachable' <<<"$dump"

check "--trace: the echo request in" grep -Eq "^[0-9:.]+ in  IP $HOST_IP > $STACK_IP: ICMP echo request" "$STACK_LOG"
check "--trace: the echo reply out" grep -Eq "^[0-9:.]+ out IP $STACK_IP > $HOST_IP: ICMP echo reply" "$STACK_LOG"
check "--trace: the ARP reply out" grep -Eq "^[0-9:.]+ out ARP, Reply $STACK_IP is-at $MAC" "$STACK_LOG"

"$TAPSTACK" --mtu 99999 >/dev/null 2>&1
check "bad option: exit status 2" [ $? -eq 2 ]

net_summary
