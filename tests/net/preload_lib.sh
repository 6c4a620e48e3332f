# preload_lib.sh - helpers of the tests that run unmodified programs on tapstack through
# build/tapstack-run (tests/net/test_preload_*.sh), on top of lib.sh (sourced first).
#
#   preload_setup NAME           namespace + TAP (lib.sh), cleanup trap that also ends the
#                                programs started here and their children, by PID
#   preload_run LOG CMD...       CMD in the namespace on tapstack (background); PRELOAD_PID;
#                                $PRELOAD_ARGS are more tapstack-run options (--ctl PATH)
#   kernel_bg LOG CMD...         CMD in the namespace on the kernel's stack (background)
#   wait_port ADDR PORT          until something accepts there (10 s), from the kernel side
#   preload_stop PID             SIGTERM, then SIGKILL after 5 s; children too

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUN=${TAPSTACK_RUN:-$NET_ROOT/build/tapstack-run}
PRELOAD_PIDS=()

# Ends PID and the children it made (nginx's worker, a forking server's children).
preload_stop() {
	local pid=$1 kids
	kids=$(pgrep -P "$pid" 2>/dev/null || true)
	kill -TERM "$pid" $kids 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" $kids 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

preload_cleanup() {
	local p
	for p in "${PRELOAD_PIDS[@]}"; do preload_stop "$p"; done
	net_cleanup
}

preload_setup() {
	net_setup "$1"
	trap preload_cleanup EXIT
	[ -x "$RUN" ] || { fail "$RUN is not built (run make)"; net_summary; exit 1; }
}

preload_run() {
	local log=$1
	shift
	# Not through nsx: a backgrounded function is a subshell, and $! must be the program.
	# shellcheck disable=SC2086
	ip netns exec "$NS" "$RUN" --tap "$TAP" --addr "$STACK_IP/${STACK_PLEN:-24}" ${PRELOAD_ARGS:-} -- "$@" >"$log" 2>&1 &
	PRELOAD_PID=$!
	PRELOAD_PIDS+=("$PRELOAD_PID")
}

kernel_bg() {
	local log=$1
	shift
	ip netns exec "$NS" "$@" >"$log" 2>&1 &
	KERNEL_PID=$!
	PRELOAD_PIDS+=("$KERNEL_PID")
}

wait_port() {
	for _ in $(seq 100); do
		nsx nc -z -w 1 "$1" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
