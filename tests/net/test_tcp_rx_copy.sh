#!/usr/bin/env bash
# test_tcp_rx_copy.sh - one copy on receive (issue 13 item 3; docs/tcp.md "The receive
# queue", docs/drivers.md): with both I/O back ends of the TAP driver, received payload waits
# in the pbuf the frame was read into until recv() copies it out.
#
# For each back end (io_uring and plain read(); only the one TAPSTACK_IO names, when set),
# with plain 1514-byte frames: tapstack says which back end runs; a 20 MB upload into the
# discard server is consumed whole; 5 MB through the echo server come back byte-exact; and
# the bytes the stack copied on receive before recv() (tcp RcvCopiedBytes: coalesced small
# segments, condensed or collapsed buffers) stay under 1% of what it received, where the
# receive ring of before copied every byte. The upload into discard is the stream whose
# bytes sit in the receive queue.
. "$(dirname "$0")/lib.sh"

net_setup rxcopy
N=20000000
E=5000000
head -c "$N" /dev/urandom >"$WORK/up.bin"
head -c "$E" /dev/urandom >"$WORK/echo.bin"

# under VALUE LIMIT: VALUE is a number below LIMIT.
under() { [ "$1" != missing ] && [ "$1" -lt "$2" ]; }

ios=(uring plain)
[ -n "$TAPSTACK_IO" ] && ios=("$TAPSTACK_IO")
for io in "${ios[@]}"; do
	STACK_IO=(--io "$io")
	if ! stack_start --no-offload --echo 7 --discard 9 --quiet; then
		if [ "$io" = uring ] && grep -q "io_uring back end" "$STACK_LOG"; then
			echo "SKIP io_uring: the kernel refuses it here ($(head -n 1 "$STACK_LOG"))"
			continue
		fi
		fail "tapstack starts with --io $io"
		continue
	fi
	check "tapstack runs the $io back end" grep -q ", io $io" "$STACK_LOG"
	nsx timeout 120 nc -N "$STACK_IP" 9 <"$WORK/up.bin" >/dev/null 2>&1
	check "io $io: upload of $N bytes to discard completes" [ $? = 0 ]
	nsx timeout 120 nc -N "$STACK_IP" 7 <"$WORK/echo.bin" >"$WORK/echo.out" 2>/dev/null
	check "io $io: $E bytes through echo come back byte-exact" cmp -s "$WORK/echo.bin" "$WORK/echo.out"
	copied=$(stack_stat RcvCopiedBytes)
	check "io $io: bytes copied before recv() under 1% of $((N + E)) received (RcvCopiedBytes $copied)" \
		under "$copied" $(((N + E) / 100))
	stack_stop
	check "io $io: tapstack exits cleanly (status $STACK_STATUS)" [ "$STACK_STATUS" = 0 ]
done
net_summary
