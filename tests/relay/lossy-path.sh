#!/usr/bin/env bash
# lossy-path.sh - builds (up) or removes (down) the namespaces of an impaired path with
# tapstack and the kernel's sockets behind the same relay (root). Used by
# tests/net/test_tcp_lossy.sh and scripts/bench/lossy.py, so both measure the same path.
#
#   lossy-path.sh up TAG     creates the four namespaces below (TAG: a few characters,
#                            unique per run, e.g. tsl$$); fails if any exists
#   lossy-path.sh down TAG   deletes them (and with them every interface in them)
#
#   TAGc  client      lc 10.0.0.1/24 ------------.
#                                                  | veth
#   TAGr  relay       lr0 (b)  build/tapstack-relay  lr1 (a)      no addresses
#                                                  | veth
#   TAGs  servers     ls --- bridge lbr --- TAP ltap  (tapstack runs here: 10.0.0.2)
#                                       \-- lk
#                                           | veth
#   TAGk  kernel      lkk 10.0.0.3/24  (build/tapstack-kernel: the same apps on Linux TCP)
#
# Frames from either server cross the bridge and then the relay's a->b direction (the
# download direction); the client's answer b->a. Both servers therefore share one
# bottleneck, which the bench's shared cell uses. Offloads: a packet socket sees a frame
# before the kernel completes its checksum or cuts a GSO frame into segments, so every
# device that sends into the relay (lc, ls) has checksum, TSO, GSO and GRO off; the
# segmentation of tapstack's 64 KiB writes and of the kernel's TSO happens as they leave
# the bridge through ls, in the kernel, the same way for both. IPv6 is off everywhere so
# that only the test's own traffic crosses the relay.
set -eu

usage() { echo "usage: $0 up|down TAG" >&2; exit 2; }
[ $# -eq 2 ] || usage
TAG=$2
C=${TAG}c R=${TAG}r S=${TAG}s K=${TAG}k

offloads_off() { ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 || {
	echo "lossy-path: ethtool -K $2 failed (is ethtool installed? scripts/deps.sh)" >&2; return 1; }; }

case $1 in
up)
	command -v ethtool >/dev/null || { echo "lossy-path: ethtool is missing (scripts/deps.sh)" >&2; exit 1; }
	for ns in "$C" "$R" "$S" "$K"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	done
	ip -n "$C" link add lc type veth peer name lr0 netns "$R"
	ip -n "$R" link add lr1 type veth peer name ls netns "$S"
	ip -n "$S" link add lk type veth peer name lkk netns "$K"
	ip -n "$S" link add lbr type bridge stp_state 0 forward_delay 0
	ip netns exec "$S" ip tuntap add dev ltap mode tap
	for port in ls lk ltap; do ip -n "$S" link set "$port" master lbr; done
	offloads_off "$C" lc
	offloads_off "$R" lr0
	offloads_off "$R" lr1
	offloads_off "$S" ls
	ip -n "$C" addr add 10.0.0.1/24 dev lc
	ip -n "$K" addr add 10.0.0.3/24 dev lkk
	ip -n "$C" link set lc up
	ip -n "$R" link set lr0 up
	ip -n "$R" link set lr1 up
	for dev in ls lk ltap lbr; do ip -n "$S" link set "$dev" up; done
	ip -n "$K" link set lkk up
	;;
down)
	for ns in "$C" "$R" "$S" "$K"; do ip netns del "$ns" 2>/dev/null || true; done
	;;
*)
	usage
	;;
esac
