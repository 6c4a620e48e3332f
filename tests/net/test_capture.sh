#!/usr/bin/env bash
# test_capture.sh - live capture as tcpdump users expect it (issue 12 item 3; drivers/pcap.c):
# --pcap FILE is readable while tapstack runs (flushed after every batch, so a crash keeps it);
# --pcap - streams to stdout and `tcpdump -r -` decodes it live, the program's own lines on
# stderr; each frame has its own timestamp (the handshake's three frames are not simultaneous);
# capture keeps offload on and records the 64 KiB super-frames as they pass; bad --pcap and
# --access-log arguments are refused with status 2 before any device is opened; the HTTP access
# log (--access-log) writes one common-log-format line per request.
. "$(dirname "$0")/lib.sh"

net_setup capture

# --pcap FILE, offload on (the default), an access log.
stack_start --http 80 --quiet --pcap "$PCAP" --access-log "$WORK/access.log" ||
	{ fail "tapstack starts with --pcap"; net_summary; exit 1; }
check "capture keeps offload on" grep -q ', offload' "$STACK_LOG"
nsx ping -c 2 -i 0.2 -W 2 "$STACK_IP" >/dev/null
out=$(tcpdump -n -r "$PCAP" 2>/dev/null)
check "the pcap is readable while tapstack runs (flushed per batch): echo replies there" \
	grep -q 'ICMP echo reply' <<<"$out"
nsx bash -c "curl -s --max-time 20 -o /dev/null http://$STACK_IP/bytes/3000000"
nsx curl -s --max-time 5 -o /dev/null "http://$STACK_IP/nothing-here?q=%22x"
out=$(tcpdump -n -tt -r "$PCAP" "tcp port 80" 2>/dev/null)
big=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "length") { n = $(i + 1) + 0; if (n > m) m = n } } END { print m + 0 }' <<<"$out")
check "super-frames recorded whole, as they passed (largest TCP payload $big > 1448)" [ "$big" -gt 1448 ]
syn=$(grep -m1 'Flags \[S\],' <<<"$out" | cut -d' ' -f1)
synack=$(grep -m1 'Flags \[S\.\],' <<<"$out" | cut -d' ' -f1)
check "per-frame timestamps: the SYN-ACK ($synack) is later than the SYN ($syn)" \
	python3 -c "import sys; sys.exit(0 if float(sys.argv[2]) > float(sys.argv[1]) else 1)" "${syn:-0}" "${synack:-0}"
check "access log: the /bytes request in common log format" \
	grep -Eq "^$HOST_IP - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9:]{8} [+-][0-9]{4}\] \"GET /bytes/3000000 HTTP/1.1\" 200 3000000$" "$WORK/access.log"
check "access log: the 404 with its target as sent" \
	grep -q "\"GET /nothing-here?q=%22x HTTP/1.1\" 404 " "$WORK/access.log"
stack_stop
check "tapstack stopped cleanly" [ "$STACK_STATUS" = 0 ]

# A crash keeps what was captured: SIGKILL (no exit path runs), then the file is read.
stack_start --quiet --pcap "$WORK/crash.pcap" || { fail "tapstack starts again"; net_summary; exit 1; }
nsx ping -c 2 -i 0.2 -W 2 "$STACK_IP" >/dev/null
kill -KILL "$STACK_PID"
wait "$STACK_PID" 2>/dev/null
STACK_PID=
out=$(tcpdump -n -r "$WORK/crash.pcap" 2>/dev/null)
check "after SIGKILL the pcap still holds the echo replies ($(grep -c 'echo reply' <<<"$out"))" \
	[ "$(grep -c 'ICMP echo reply' <<<"$out")" = 2 ]
rm -f "$CTL"   # the killed stack could not remove its control socket

# --pcap -: tcpdump reads the pipe while tapstack runs.
# The shell writes its PID and becomes tapstack (exec), so the test stops exactly that process.
nsx bash -c "echo \$\$ >'$WORK/ts.pid'; exec '$TAPSTACK' --tap '$TAP' --addr '$STACK_IP/$STACK_PLEN' --ctl '$CTL' --quiet --pcap -" \
	2>"$WORK/stderr.log" </dev/null | tcpdump -l -n -r - >"$WORK/live.txt" 2>/dev/null &
PIPE_PID=$!
for _ in $(seq 100); do "$TAPSTACK" stats --ctl "$CTL" >/dev/null 2>&1 && break; sleep 0.1; done
nsx ping -c 2 -i 0.2 -W 2 "$STACK_IP" >/dev/null
for _ in $(seq 50); do grep -q 'ICMP echo reply' "$WORK/live.txt" && break; sleep 0.1; done
check "--pcap - | tcpdump -r -: the echo replies decoded while tapstack runs" grep -q 'ICMP echo reply' "$WORK/live.txt"
check "--pcap -: the program's own lines went to stderr" grep -q '^tapstack: ' "$WORK/stderr.log"
spid=$(cat "$WORK/ts.pid" 2>/dev/null)
[ -n "$spid" ] && kill -TERM "$spid"
wait "$PIPE_PID"
check "the pipeline ended when tapstack stopped" bash -c "! kill -0 $PIPE_PID 2>/dev/null"

# --pcapng: directions and drop reasons as per-packet comments. A frame with a bad IPv4
# checksum, sent raw on the TAP (AF_PACKET), is dropped by the stack without an answer.
stack_start --quiet --pcapng "$WORK/run.pcapng" || { fail "tapstack starts with --pcapng"; net_summary; exit 1; }
nsx ping -c 1 -W 2 "$STACK_IP" >/dev/null
MACS=$(stack_mac)
nsx python3 - "$TAP" "$MACS" "$HOST_IP" "$STACK_IP" <<'PY'
import socket, struct, sys
tap, mac, src, dst = sys.argv[1:]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((tap, 0))
eth = bytes.fromhex(mac.replace(":", "")) + s.getsockname()[4][:6] + b"\x08\x00"
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 1, 0, 64, 17, 0xdead,
                 socket.inet_aton(src), socket.inet_aton(dst))   # checksum 0xdead: wrong
s.send(eth + ip + b"\x00" * 8)
PY
sleep 0.5
stack_stop
check "pcapng: tcpdump reads it" grep -q 'ICMP echo reply' <(tcpdump -n -r "$WORK/run.pcapng" 2>/dev/null)
comments=$(python3 - "$WORK/run.pcapng" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off = 0
while off + 12 <= len(d):
    btype, blen = struct.unpack_from("<II", d, off)
    if blen < 12 or off + blen > len(d):
        print("BAD BLOCK"); break
    if btype == 6:
        cap = struct.unpack_from("<I", d, off + 20)[0]
        o, end, flags, text = off + 28 + ((cap + 3) & ~3), off + blen - 4, None, None
        while o + 4 <= end:
            code, ln = struct.unpack_from("<HH", d, o)
            if code == 0:
                break
            val = d[o + 4:o + 4 + ln]
            if code == 2: flags = struct.unpack("<I", val)[0] & 3
            if code == 1: text = val.decode()
            o += 4 + ((ln + 3) & ~3)
        print("%s|%s" % (flags, text))
    off += blen
PY
)
check "pcapng: inbound frames flagged 1 and commented 'in'" grep -qx '1|in' <<<"$comments"
check "pcapng: outbound frames flagged 2 and commented 'out'" grep -qx '2|out' <<<"$comments"
check "pcapng: the bad-checksum frame says why it was dropped" grep -qx '1|in; dropped: ip.drop_bad_checksum' <<<"$comments"
check "pcapng: every block well formed" bash -c "! grep -q 'BAD BLOCK' <<<\"\$1\"" _ "$comments"

# Arguments checked before any device: nothing is created.
out=$(nsx "$TAPSTACK" --tap capbad0 --ctl "$WORK/bad.sock" --pcap /nonexistent/dir/x.pcap 2>&1)
rc=$?
check "--pcap into a missing directory: status 2, named ('$(head -n1 <<<"$out")')" \
	bash -c "[ $rc = 2 ] && grep -q \"bad --pcap '/nonexistent/dir/x.pcap'\" <<<\"\$1\"" _ "$out"
out=$(nsx "$TAPSTACK" --tap capbad0 --ctl "$WORK/bad.sock" --http 80:/nonexistent 2>&1)
rc=$?
check "--http PORT:DIR with a missing DIR: status 2 before the device" \
	bash -c "[ $rc = 2 ] && grep -q 'bad --http directory' <<<\"\$1\"" _ "$out"
check "no device was created by the refused runs" bash -c "! ip netns exec $NS ip link show capbad0 >/dev/null 2>&1"
out=$(nsx "$TAPSTACK" --http 80 --access-log - --pcap - 2>&1 </dev/null)
rc=$?
check "--access-log - with --pcap -: status 2" bash -c "[ $rc = 2 ] && grep -q 'cannot both' <<<\"\$1\"" _ "$out"
net_summary
