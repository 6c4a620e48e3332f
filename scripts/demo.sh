#!/usr/bin/env bash
# demo.sh (`sudo make demo`) - the story of a connection, told by tapstack's own trace.
#
# In a network namespace made for the demo (removed at the end, also on failure or Ctrl-C),
# a TAP device's kernel side is 10.0.0.1/24 and tapstack is 10.0.0.2 with its servers.
# From the kernel side we ping, fetch a page with curl (port 80: the handshake, the
# request, the close) and knock on a port nobody listens on (81: a single RST-ACK, curl
# says "Connection refused" at once). Then the other way a connection fails: a listener
# that never calls accept() (port 8080, backlog 1) has a full accept queue, so the stack
# drops the next SYN without a word; the client retransmits it and gives up with a
# time-out, and the counters ListenOverflows/ListenDrops say why. Then UDP: a datagram
# through the echo server, and one to port 99 that nobody holds, answered by ICMP port
# unreachable - UDP's "refused", which nc reads from its connected socket as ECONNREFUSED.
# The trace lines of each exchange are shown, and the timestamps show that the server's
# accept() returned only after the stack had sent the SYN-ACK and received the final ACK:
# the stack, not the application, does the handshake. The whole story takes about 20 s.
set -u
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (a network namespace and a TAP device): sudo make demo" >&2
	exit 1
fi
. tests/net/lib.sh

if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B= N=; fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
# Trace lines written since line $1 of the log, without the kernel's IPv6 chatter and
# without the TCP layer's own copy of each segment (the in/out frame lines show them).
since() { tail -n +"$(($1 + 1))" "$STACK_LOG" | grep -v -e 'ethertype 0x86dd' -e ' log tcp in ' -e ' log tcp out '; }
mark() { wc -l <"$STACK_LOG"; }

net_setup demo
# The clients that hold the full queue open run in the namespace: end them (by PID) before
# the namespace goes, also on failure or Ctrl-C.
HOLD_PIDS=()
demo_cleanup() {
	for p in "${HOLD_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	net_cleanup
}
trap demo_cleanup EXIT
say "tapstack on $TAP in namespace $NS: kernel side $HOST_IP/$STACK_PLEN, stack $STACK_IP"
echo "\$ tapstack --tap $TAP --addr $STACK_IP/$STACK_PLEN --trace --http 80 --echo 7 --discard 9 --udp-echo 7 --stall 8080:1"
stack_start --trace --pcap "$WORK/demo.pcap" --http 80 --echo 7 --discard 9 --udp-echo 7 --stall 8080:1 || exit 1
sed -n '1,/listening on port 8080/p' "$STACK_LOG"

say "1. ping: ARP resolves the stack's MAC, ICMP echo gets its reply"
m=$(mark)
nsx ping -c 3 -i 0.2 -W 2 "$STACK_IP"
echo "-- trace:"
since "$m"

say "2. curl -sI http://$STACK_IP/ : a listening port"
m=$(mark)
nsx curl -sI --max-time 5 "http://$STACK_IP/"
echo "curl exit status: $?"
sleep 0.3
echo "-- trace ([S] SYN, [S.] SYN-ACK, [.] ACK, [P.] data, [F.] FIN):"
since "$m" | tee "$WORK/http.trace"

say "3. curl -v http://$STACK_IP:81/ : nobody listens there, so: refused"
m=$(mark)
start=$(date +%s%N)
nsx curl -v --max-time 5 "http://$STACK_IP:81/" 2>&1 | grep -E '^\*|^curl:'
rc=${PIPESTATUS[0]}
end=$(date +%s%N)
echo "curl exit status: $rc (7 = could not connect) after $(((end - start) / 1000000)) ms"
sleep 0.2
echo "-- trace (the stack answers the SYN with a single RST-ACK: SEQ 0, ACK = SYN's SEQ + 1):"
since "$m"

say "3b. port 8080: a listener that never accepts, its queue full, so: timed out"
echo "Two clients connect and stay: the stack completes both handshakes by itself and queues"
echo "them (backlog 1 holds two, as Linux counts). Nobody calls accept()."
for i in 1 2; do
	ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/$STACK_IP/8080 && exec sleep 60" 2>/dev/null &
	HOLD_PIDS+=($!)
	sleep 0.2
done
# Either output format of `tapstack stats` ("ListenOverflows: 4" or "tcp.ListenOverflows 4").
listen_overflows() { "$TAPSTACK" stats --ctl "$CTL" | grep -oE 'ListenOverflows[: ]+[0-9]+' | grep -oE '[0-9]+$'; }
over0=$(listen_overflows)
m=$(mark)
start=$(date +%s%N)
nsx curl -v --connect-timeout 4 "http://$STACK_IP:8080/" 2>&1 | grep -E '^\*|^curl:'
rc=${PIPESTATUS[0]}
end=$(date +%s%N)
echo "curl exit status: $rc (28 = timed out) after $(((end - start) / 1000000)) ms"
echo "-- trace (every line about port 8080: the third client's SYN and its retransmissions; no line out):"
since "$m" | grep '\.8080[: ]'
echo "\$ tapstack stats | grep Listen"
"$TAPSTACK" stats --ctl "$CTL" | grep -E 'Listen(Overflows|Drops)'
echo "(ListenOverflows was ${over0:-0} before this client: each of its SYNs found the queue full)"
for p in "${HOLD_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
HOLD_PIDS=()

say "4. UDP: a datagram to the echo server on port 7, then one to port 99 where nobody is bound"
m=$(mark)
echo "\$ echo -n hello | nc -u -w 1 $STACK_IP 7"
echo -n hello | nsx timeout 5 nc -u -w 1 "$STACK_IP" 7
echo
echo "\$ echo knock | socat -T 2 - UDP:$STACK_IP:99"
echo knock | nsx timeout 5 socat -T 2 - "UDP:$STACK_IP:99"
echo "socat exit status: $? (its connected socket read ECONNREFUSED: UDP has no RST, the ICMP port unreachable is its 'refused')"
sleep 0.2
echo "-- trace (the datagram to 99 is answered by ICMP type 3 code 3, quoting it):"
since "$m"

say "5. accept() returns after the handshake, not before"
synack=$(grep -m1 'out IP .*\.80 > .*Flags \[S\.\]' "$WORK/http.trace" | cut -d' ' -f1)
ack=$(grep -m1 'in  IP .* > .*\.80: Flags \[\.\]' "$WORK/http.trace" | cut -d' ' -f1)
acc=$(grep -m1 'app http: accept() returned' "$WORK/http.trace" | cut -d' ' -f1)
echo "SYN-ACK sent by the stack:    ${synack:-(not seen)}"
echo "final ACK received:           ${ack:-(not seen)}"
echo "http server's accept() returned: ${acc:-(not seen)}"
if [ -n "$synack" ] && [ -n "$acc" ] && [[ "$synack" < "$acc" ]]; then
	echo "=> accept() came after the SYN-ACK: the connection was established by the stack first."
fi

say "6. tapstack ss and tapstack stats (through the control socket)"
echo "\$ tapstack ss -ta"
"$TAPSTACK" ss -ta --ctl "$CTL"
echo "\$ tapstack ss -ua"
"$TAPSTACK" ss -ua --ctl "$CTL"
echo "\$ tapstack stats   (a few of its non-zero counters)"
"$TAPSTACK" stats --ctl "$CTL" | grep -E '\.(PassiveOpens|OutRsts|InSegs|OutSegs|in_echo_requests|out_echo_replies|InDatagrams|NoPorts|OutDatagrams|out_dest_unreachs) ' || true

say "7. SIGTERM: tapstack stops cleanly and prints its counters"
stack_stop
echo "exit status $STACK_STATUS; the whole capture: tcpdump -r $WORK/demo.pcap"
tcpdump -n -r "$WORK/demo.pcap" 2>/dev/null | grep -v -c 'ethertype IPv6' | sed 's/^/frames in the pcap: /'
say "done: namespace $NS and $TAP removed"
