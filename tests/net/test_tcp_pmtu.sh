#!/usr/bin/env bash
# test_tcp_pmtu.sh - path MTU discovery (RFC 1191) through a real Linux router: a client
# behind a 1200-byte link downloads from tapstack, whose 1500-byte segments (DF set) the
# router cannot forward. The router answers "fragmentation needed, MTU 1200"; tapstack cuts
# its MSS to 1160 and resends (stack/tcp/tcp_icmp.c). Without that the download would hang
# (a PMTU black hole). Checked: the bytes arrive exactly, and the counters moved.
#
#   client ns  10.0.1.2 (MTU 1500: it announces MSS 1460)
#       | veth, router side MTU 1200
#   test ns    10.0.1.1 / 10.0.0.1 on the TAP, forwarding on (the router)
#       | TAP
#   tapstack   10.0.0.2, gateway 10.0.0.1
#
# tapstack only: the kernel mode of apps_lib.sh has no router in the middle.
. "$(dirname "$0")/apps_lib.sh"

if [ -n "${TS_KERNEL:-}" ]; then
	echo "SKIP test_tcp_pmtu.sh: tapstack only"
	exit 0
fi

apps_setup pmtu
NS_CLI="tsc-pmtu-$$"
cleanup_cli() { apps_cleanup; ip netns del "$NS_CLI" 2>/dev/null; return 0; }
trap cleanup_cli EXIT
ip netns add "$NS_CLI" || { fail "ip netns add $NS_CLI"; net_summary; exit 1; }
ip netns exec "$NS_CLI" ip link set lo up
nsx ip link add pr$$ type veth peer name pc$$ netns "$NS_CLI"
nsx ip addr add 10.0.1.1/24 dev pr$$
nsx ip link set pr$$ mtu 1200 up
ip netns exec "$NS_CLI" ip addr add 10.0.1.2/24 dev pc$$
ip netns exec "$NS_CLI" ip link set pc$$ up
ip netns exec "$NS_CLI" ip route add default via 10.0.1.1
nsx sysctl -qw net.ipv4.ip_forward=1

apps_start --gateway "$HOST_IP" --http 80 || { fail "server starts"; net_summary; exit 1; }
pass "server starts"

changed0=$(apps_stat IcmpPmtuChanged)
ip netns exec "$NS_CLI" bash -c "curl -sS --max-time 60 http://$STACK_IP/bytes/2000000 | $BYTES_CHECK 2000000" \
	>"$WORK/dl.log" 2>&1
rc=$?
check "2 MB through the 1200-byte link byte-exact (exit $rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || sed 's/^/    /' "$WORK/dl.log"
changed1=$(apps_stat IcmpPmtuChanged)
check "stats: IcmpPmtuChanged grew (${changed0:-?} -> ${changed1:-?})" [ "${changed1:-0}" -gt "${changed0:-0}" ]
learned=$(stack_stat pmtu_learned)
check "stats: icmp pmtu_learned is 1 (got ${learned:-none})" [ "${learned:-0}" = 1 ]

# A second download starts at the learned size: no new frag-needed is needed.
ip netns exec "$NS_CLI" bash -c "curl -sS --max-time 60 http://$STACK_IP/bytes/500000 | $BYTES_CHECK 500000" \
	>"$WORK/dl2.log" 2>&1
rc=$?
check "a second download byte-exact (exit $rc)" [ "$rc" = 0 ]
changed2=$(apps_stat IcmpPmtuChanged)
check "stats: the second connection needed no frag-needed (${changed1:-?} -> ${changed2:-?})" \
	[ "${changed2:-x}" = "${changed1:-y}" ]

stack_stop
check "server exits cleanly on SIGTERM" [ "$STACK_STATUS" = 0 ]
net_summary
