#!/bin/sh
# scripts/docs/cubic-curve.sh - draws docs/img/cubic-curve.png: the congestion window that
# tapstack's CUBIC (stack/tcp/tcp_cubic.c) keeps after a loss at W_max = 100 packets with a
# 200 ms RTT, one point per round trip, over RFC 9438's W_cubic(t) = 0.4 (t - K)^3 + W_max
# and the line Reno would follow from the same cut. The points come from running the unit
# test that checks the curve (test_cubic_cwnd_curve in tests/unit/test_tcp_cc.c), which
# writes its trace to $CC_TRACE. Needs gnuplot (apt-get install gnuplot-nox).
#
#   scripts/docs/cubic-curve.sh [BUILD_DIR]     (default build)
set -eu
cd "$(dirname "$0")/../.."
build=${1:-build}
make -s -j2 BUILD="$build" "$build/tests/test_tcp_cc" >/dev/null
data="$build/cubic-curve.dat"
CC_TRACE="$data" "$build/tests/test_tcp_cc" >/dev/null 2>&1
# The header line carries W_max and K as the test measured them.
wmax=$(sed -n '1s/.*W_max \([0-9]*\),.*/\1/p' "$data")
k=$(sed -n '1s/.*K \([0-9.]*\) s.*/\1/p' "$data")
gnuplot <<GP
set terminal pngcairo size 900,520 noenhanced font ',11'
set output 'docs/img/cubic-curve.png'
set title 'CUBIC after a loss at W_max = $wmax packets, RTT 200 ms (tapstack, one point per RTT)'
set xlabel 'seconds since the loss'
set ylabel 'congestion window (packets)'
set key left top
set grid
set xrange [0:10]
set yrange [60:190]
set arrow from $k, graph 0 to $k, graph 1 nohead dt 2 lc rgb '#888888'
set label sprintf('K = %.2f s', $k) at $k + 0.1, 70
set arrow from 0, $wmax to 10, $wmax nohead dt 3 lc rgb '#888888'
set label 'W_max (the plateau)' at 0.2, $wmax + 4
wcubic(t) = 0.4 * (t - $k)**3 + $wmax
reno(t) = 0.7 * $wmax + t / 0.2
plot wcubic(x) with lines lw 2 lc rgb '#1f77b4' title 'RFC 9438: W_cubic(t) = C (t - K)^3 + W_max', \
     reno(x) with lines lw 1 dt 2 lc rgb '#d62728' title 'Reno from the same cut (+1 packet per RTT)', \
     '$data' using 1:2 with points pt 7 ps 0.8 lc rgb '#2ca02c' title 'tapstack cwnd (test_cubic_cwnd_curve)'
GP
echo "written: docs/img/cubic-curve.png (from $data)"
