#!/usr/bin/python3
"""lossy_selftest.py - checks of lossy.py's pure parts (`make bench-lossy`), no root, no
network, no timing.

Run by `make bench-lossy-selftest`, which `make test` includes. It feeds lossy.py the
relay's recorded exit output and synthetic samples, and checks the parsing, the medians,
the ratios (goodput, and retransmissions as shares of the payload), the target lines with
their evidence, the table and the heat map's input. It proves that what the benchmark
prints is computed from what it measured; it measures nothing.
"""
import os
import sys
import tempfile

sys.dont_write_bytecode = True      # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lossy  # noqa: E402

RELAY_OUT = """relay a>b: delay=10.000ms loss=1.0000% corrupt=0.0000% reorder=0.0000% reorder_delay=0.000ms rate=100.000Mbit queue=250000
relay b>a: delay=10.000ms loss=1.0000% corrupt=0.0000% reorder=0.0000% reorder_delay=0.000ms rate=100.000Mbit queue=250000
relay: ready a=lr1 b=lr0 seed=1001
relay a>b: in=3901 in_bytes=5800000 out=3800 out_bytes=5600000 lost=80 corrupted=0 reordered=0 queue_drops=21 slot_drops=0 oversize=0 queue_peak=249996 send_errors=0 in_flight=0 tcp_payload=5500000 tcp_resent=115840
relay a>b flow 10.0.0.2:80>10.0.0.1:41234: tcp_payload=5500000 tcp_resent=115840
relay b>a: in=2898 in_bytes=190000 out=2842 out_bytes=186000 lost=56 corrupted=0 reordered=0 queue_drops=0 slot_drops=0 oversize=0 queue_peak=3410 send_errors=0 in_flight=0 tcp_payload=75 tcp_resent=0
"""

failures = 0
checks = 0


def check(ok, what):
    global failures, checks
    checks += 1
    if ok:
        print("PASS " + what)
    else:
        failures += 1
        print("FAIL " + what)


def sample(goodput, resent, payload, complete=True, rto=0, lost=10, qd=0):
    return {"goodput_mbps": goodput, "bytes": 1, "secs": 7.0, "complete": complete,
            "resent_bytes": resent, "payload_bytes": payload, "resent_share": resent / payload,
            "counters": {"RetransSegs": resent // 1448, "RtoExpired": rto, "FastRetransmits": 3},
            "relay": {"a>b": {"lost": lost, "queue_drops": qd}, "b>a": {}}}


def main():
    r = lossy.parse_relay(RELAY_OUT)
    check(r["a>b"]["lost"] == 80 and r["a>b"]["tcp_resent"] == 115840 and r["b>a"]["in"] == 2898,
          "relay counters parsed per direction, start lines skipped")
    check(r["flows"] == {"10.0.0.2:80>10.0.0.1:41234": {"tcp_payload": 5500000, "tcp_resent": 115840}},
          "relay flow lines parsed")
    check("a>b" not in lossy.parse_relay("relay: ready a=x b=y seed=1\n"), "no counters: nothing invented")

    cell = lossy.Cell("rtt20 loss1", 20, 1.0)
    res = lossy.cell_result(cell, {"tapstack": [sample(10, 2000, 100000, False, rto=4), sample(30, 6000, 100000, False, rto=2),
                                                sample(20, 4000, 100000, False, rto=3)],
                                   "kernel": [sample(90, 1000, 100000), sample(80, 1000, 100000),
                                              sample(100, 1000, 100000)]}, [])
    check(res["tapstack"]["goodput_mbps"]["median"] == 20 and res["kernel"]["goodput_mbps"]["median"] == 90,
          "medians of goodput")
    check(abs(res["goodput_ratio"] - 20 / 90) < 1e-9, "goodput ratio is tapstack / kernel")
    check(abs(res["resent_ratio"] - 4.0) < 1e-9, "retransmission ratio compares shares of the payload")
    check(res["tapstack"]["complete"] == 0 and res["kernel"]["complete"] == 3, "finished downloads counted")
    lines = "\n".join(lossy.targets([res]))
    check("[MISSED] rtt20 loss1" in lines and "goodput 0.2222" in lines, "a missed goodput target is printed")
    check("3 retransmission timeouts" in lines and "200 ms" in lines, "the evidence names the timeouts")
    check("the kernel finished every transfer" in lines, "the evidence names the time bound")

    spur = lossy.cell_result(cell, {"tapstack": [sample(50, 144800, 1000000, lost=3)],
                                    "kernel": [sample(60, 1448, 1000000)]}, [])
    check("most of it spurious: 100 segments resent for 3 frames" in "\n".join(lossy.targets([spur])),
          "far more resent than the path dropped is called spurious")

    # A kernel that resent nothing bounds tapstack too; parity passes.
    zero = lossy.cell_result(cell, {"tapstack": [sample(95, 1448, 100000)], "kernel": [sample(95, 0, 100000)]}, [])
    check("retransmitted share n/a x kernel (<= 1.1: missed)" in "\n".join(lossy.targets([zero])),
          "resending where the kernel resent nothing misses the target")
    par = lossy.cell_result(cell, {"tapstack": [sample(95, 1000, 100000)], "kernel": [sample(96, 1000, 100000)]}, [])
    check(lossy.targets([par])[0].startswith("  [met]"), "0.99 x goodput and equal resending: met")

    shared = lossy.Cell("shared rtt20", 20, shared=True)
    sh = lossy.cell_result(shared, {"tapstack": [sample(45, 100, 100000, False)],
                                    "kernel": [sample(50, 100, 100000, False)]}, [])
    check(abs(sh["share_tapstack"] - 45 / 95) < 1e-9, "shared cell: tapstack's share of the link")
    check("[met] shared rtt20" in lossy.targets([sh])[0], "shared cell: 0.9 x is a fair share")

    runs = lossy.cell_result(shared, {"tapstack": [sample(60, 1, 10), sample(10, 1, 10), sample(70, 1, 10)],
                                      "kernel": [sample(10, 1, 10), sample(90, 1, 10), sample(40, 1, 10)]}, [])
    check(abs(runs["goodput_ratio"] - 1.75) < 1e-9 and abs(runs["share_tapstack"] - 70 / 110) < 1e-9,
          "shared cell: ratio and share are medians over the runs' pairs, not ratios of medians")

    table = lossy.print_table([res, sh])
    check("rtt20 loss1" in table and "0/3 of 0/3" not in table and "0/3 of 3/3" in table, "table rows")

    out = tempfile.mkdtemp(prefix="lossy-selftest-")
    try:
        if lossy.shutil.which("gnuplot"):
            png = lossy.write_heatmap([res, sh], out)
            dat = open(os.path.join(out, "heatmap-resent_ratio.dat")).read()
            check(png and os.path.getsize(png) > 0, "heat map written")
            # rtt 20 is row 1, loss 1 % column 2; a ratio of 4 resent is an advantage of 1/4: log2 = -2
            check('2 1 -2.0000 "4.00"' in dat, "heat map: fewer retransmissions is the better colour")
        else:
            print("SKIP heat map: gnuplot is not installed")
    finally:
        lossy.shutil.rmtree(out, ignore_errors=True)
    print("bench-lossy-selftest: %d passed, %d failed" % (checks - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
