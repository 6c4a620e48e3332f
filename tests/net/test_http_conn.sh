#!/usr/bin/env bash
# test_http_conn.sh - the page about the visitor's own connection (issue 14, item 9): curl's
# GET /conn and a real browser's index page (Debian's chromium, headless, run inside the
# test's namespace) each report the handshake of their own connection, and every value is
# checked against tapstack's --trace of that same connection (tests/net/conn_check.py): the
# SYN's sequence number and options, the SYN-ACK's, and the moments of the final ACK and of
# accept(). The browser gets a fresh profile in the test's work folder and no background
# networking; it is ended by PID with everything else.
. "$(dirname "$0")/lib.sh"

net_setup conn
stack_start --trace --http 80 || { fail "tapstack starts"; net_summary; exit 1; }
pass "tapstack starts with --trace and the HTTP server"
CHECK="python3 $NET_ROOT/tests/net/conn_check.py"

nsx curl -s --max-time 10 -o "$WORK/conn.json" "http://$STACK_IP/conn"
check "curl GET /conn answers JSON" python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$WORK/conn.json"
sleep 0.3
check "curl: /conn matches the trace of curl's own connection" $CHECK json "$WORK/conn.json" "$STACK_LOG"

nsx curl -s --max-time 10 -o "$WORK/index.html" "http://$STACK_IP/"
sleep 0.3
check "curl: the index page matches the trace of its connection" $CHECK html "$WORK/index.html" "$STACK_LOG"

if ! command -v chromium >/dev/null 2>&1; then
	fail "chromium is installed (scripts/deps.sh installs it)"
	net_summary
	exit 1
fi
mkdir -p "$WORK/chrome"
HOME=$WORK ip netns exec "$NS" timeout 90 chromium --headless --no-sandbox --disable-gpu \
	--disable-quic --no-first-run --disable-background-networking --disable-component-update \
	--disable-sync --user-data-dir="$WORK/chrome" --dump-dom "http://$STACK_IP/" \
	>"$WORK/chromium.html" 2>"$WORK/chromium.err" &
BROWSER_PID=$!
wait "$BROWSER_PID"
rc=$?
check "chromium renders the index page (exit $rc)" grep -q '<td id="syn-mss">' "$WORK/chromium.html"
sleep 0.3
check "chromium: the page it rendered matches the trace of its connection" \
	$CHECK html "$WORK/chromium.html" "$STACK_LOG"

stack_stop
check "tapstack exits cleanly" [ "$STACK_STATUS" = 0 ]
net_summary
