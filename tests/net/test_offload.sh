#!/usr/bin/env bash
# test_offload.sh - the offload data path (issue 5, items 3-5; drivers/tap.c, docs/drivers.md
# "The offload path"): tapstack on a TAP with IFF_VNET_HDR, sending 64 KiB TSO
# super-segments with partial checksums and receiving the kernel's coalesced (GRO) segments.
#
# Checks: the program says it runs with offload; a 100 MB download (curl /bytes/N) is
# byte-exact; a 100 MB upload into the discard server is consumed whole; 10 MB through the
# echo server come back byte-exact; the kernel side counted no checksum error
# (nstat TcpInCsumErrors, IpExtInCsumErrors) and tapstack none either (InCsumErrors);
# tapstack really sent super-segments and got coalesced ones (the TAP's byte counters grew
# by more than 1514 bytes per packet: a GSO frame counts once on the TAP); and
# --no-offload still gives plain frames.
. "$(dirname "$0")/apps_lib.sh"

apps_setup offload
N=100000000

csum_errors() {
	nsx nstat -az TcpInCsumErrors IpExtInCsumErrors 2>/dev/null |
		awk '$1 ~ /CsumErrors$/ { s += $2 } END { print s + 0 }'
}
tap_rx() { nsx cat "/sys/class/net/$TAP/statistics/$1"; }

apps_start --http 80 --echo 7 --discard 9 --quiet || { fail "server starts"; net_summary; exit 1; }
check "tapstack starts with offload" grep -q ', offload' "$STACK_LOG"

errs0=$(csum_errors)
b0=$(tap_rx rx_bytes)
p0=$(tap_rx rx_packets)

nsx bash -c "curl -sS --max-time 120 http://$STACK_IP/bytes/$N | $BYTES_CHECK $N" >"$WORK/down.log" 2>&1
check "download of $N bytes with offload is byte-exact" [ $? = 0 ]
b1=$(tap_rx rx_bytes)
p1=$(tap_rx rx_packets)
per=$(( (b1 - b0) / (p1 - p0 > 0 ? p1 - p0 : 1) ))
check "tapstack sent TSO super-segments ($per bytes per frame on average)" [ "$per" -gt 1514 ]

# Upload: the discard server closes after EOF, so nc -N ... exits once every byte is in.
head -c "$N" /dev/urandom >"$WORK/up.bin"
t0=$(tap_rx tx_bytes)
q0=$(tap_rx tx_packets)
nsx timeout 120 nc -N "$STACK_IP" 9 <"$WORK/up.bin" >/dev/null 2>&1
check "upload of $N bytes to discard with offload completes" [ $? = 0 ]
t1=$(tap_rx tx_bytes)
q1=$(tap_rx tx_packets)
per=$(( (t1 - t0) / (q1 - q0 > 0 ? q1 - q0 : 1) ))
check "the kernel handed tapstack coalesced (GRO) segments ($per bytes per frame on average)" [ "$per" -gt 1514 ]
got=$(stack_stat InSegs)
check "tapstack received segments (InSegs $got)" [ "${got:-0}" -gt 0 ]

head -c 10000000 /dev/urandom >"$WORK/echo.bin"
nsx timeout 120 nc -N "$STACK_IP" 7 <"$WORK/echo.bin" >"$WORK/echo.out" 2>/dev/null
check "10 MB through echo with offload come back byte-exact" cmp -s "$WORK/echo.bin" "$WORK/echo.out"

errs1=$(csum_errors)
check "kernel side: no checksum errors ($errs0 -> $errs1)" [ "$errs1" = "$errs0" ]
check "tapstack: no InCsumErrors" [ "$(apps_stat InCsumErrors)" = 0 ]
stack_stop
check "tapstack exits cleanly (status $STACK_STATUS)" [ "$STACK_STATUS" = 0 ]

# --no-offload: plain frames, still byte-exact.
rm -f "$CTL"
apps_start --http 80 --quiet --no-offload || { fail "server starts with --no-offload"; net_summary; exit 1; }
check "--no-offload: no offload on the first line" bash -c '! grep -q ", offload" "$1"' _ "$STACK_LOG"
b0=$(tap_rx rx_bytes)
p0=$(tap_rx rx_packets)
nsx bash -c "curl -sS --max-time 120 http://$STACK_IP/bytes/10000000 | $BYTES_CHECK 10000000" >/dev/null 2>&1
check "--no-offload: 10 MB download byte-exact" [ $? = 0 ]
b1=$(tap_rx rx_bytes)
p1=$(tap_rx rx_packets)
per=$(( (b1 - b0) / (p1 - p0 > 0 ? p1 - p0 : 1) ))
check "--no-offload: frames of at most 1514 bytes ($per on average)" [ "$per" -le 1514 ]
check "kernel side: still no checksum errors" [ "$(csum_errors)" = "$errs0" ]
net_summary
