#!/usr/bin/env bash
# test_tcp_tx_uring.sh - transmit from where the bytes are (issue 13; docs/drivers.md "How a
# byte travels from send() to the TAP" and "Who owns a frame until it leaves"): both back ends
# of the TAP driver write each frame from its pbuf and the TCP send ring, the io_uring one at
# the end of the poll cycle, after send() returned, so the stack keeps those bytes in place
# until then.
#
# For each back end (io_uring and plain write(); only the one TAPSTACK_IO names, when set)
# and each kind of frame (plain 1514-byte frames with --no-offload, 64 KiB TSO frames with
# offload): a 20 MB download (curl /bytes/N) and 5 MB through the echo server are byte-exact
# (a byte changed between a frame's queueing and its write would show here), and the TAP's
# own counters (tapstack stats, group tap) count every frame and no refused or short write;
# with io_uring the frames left in fewer system calls than frames (batches), with plain
# write() in one each. That no copy is made on the way is shown without a TAP by
# tests/unit/test_tap_uring.c (test_tap_uring_send_reads_the_frame_at_flush).
. "$(dirname "$0")/lib.sh"

BYTES_CHECK=${BYTES_CHECK:-$NET_ROOT/build/bytes-check}
net_setup txuring
N=20000000
E=5000000
head -c "$E" /dev/urandom >"$WORK/echo.bin"

# below VALUE LIMIT: VALUE is a number below LIMIT.
below() { [ "$1" != missing ] && [ "$2" != missing ] && [ "$1" -lt "$2" ]; }

ios=(uring plain)
[ -n "$TAPSTACK_IO" ] && ios=("$TAPSTACK_IO")
for io in "${ios[@]}"; do
	for kind in plain-frames offload; do
		STACK_IO=(--io "$io")
		args=(--http 80 --echo 7 --quiet)
		[ "$kind" = plain-frames ] && args+=(--no-offload)
		rm -f "$CTL"
		if ! stack_start "${args[@]}"; then
			if [ "$io" = uring ] && grep -q "io_uring back end" "$STACK_LOG"; then
				echo "SKIP io_uring: the kernel refuses it here ($(head -n 1 "$STACK_LOG"))"
				continue 2
			fi
			fail "tapstack starts with --io $io ($kind)"
			continue
		fi
		check "io $io, $kind: tapstack runs the $io back end" grep -q ", io $io" "$STACK_LOG"
		nsx bash -c "curl -sS --max-time 120 http://$STACK_IP/bytes/$N | $BYTES_CHECK $N" >"$WORK/down.log" 2>&1
		check "io $io, $kind: download of $N bytes is byte-exact" [ $? = 0 ]
		nsx timeout 120 nc -N "$STACK_IP" 7 <"$WORK/echo.bin" >"$WORK/echo.out" 2>/dev/null
		check "io $io, $kind: $E bytes through echo come back byte-exact" cmp -s "$WORK/echo.bin" "$WORK/echo.out"
		frames=$(stack_stat tx_frames)
		calls=$(stack_stat tx_syscalls)
		errors=$(stack_stat tx_errors)
		short=$(stack_stat tx_short)
		check "io $io, $kind: the TAP counted the frames it wrote (tx_frames $frames)" below 300 "$frames"
		check "io $io, $kind: no write refused or short (tx_errors $errors, tx_short $short)" \
			[ "$errors:$short" = 0:0 ]
		if [ "$io" = uring ]; then
			check "io uring, $kind: $frames frames in fewer system calls ($calls)" below "$calls" "$frames"
		else
			check "io plain, $kind: one system call per frame ($frames frames, $calls calls)" [ "$calls" = "$frames" ]
		fi
		echo "    io $io, $kind: early flushes for lent bytes (dev_settles) $(stack_stat dev_settles)"
		stack_stop
		check "io $io, $kind: tapstack exits cleanly (status $STACK_STATUS)" [ "$STACK_STATUS" = 0 ]
	done
done
net_summary
