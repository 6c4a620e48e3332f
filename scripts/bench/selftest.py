#!/usr/bin/python3
"""selftest.py - checks of bench.py's pure parts, no root, no network, no timing.

Run by `make bench-selftest`. It feeds bench.py recorded tool output (wrk reports, with and
without errors) and synthetic samples, and checks the parsing, the medians and spreads, the
ratio direction, the table, the target lines and the chart input. Nothing here measures
speed: it proves that the numbers the benchmark prints are computed from what it measured.
"""
import os
import sys
import tempfile
import types

sys.dont_write_bytecode = True      # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

WRK_OK = """Running 2s test @ http://10.0.0.2:80/bytes/100
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   215.20us   60.11us   2.01ms   79.32%
    Req/Sec   150.01k     5.02k  158.36k    80.00%
  298530 requests in 2.00s, 55.10MB read
Requests/sec: 149253.95
Transfer/sec:     27.55MB
"""
WRK_ERRORS = """Running 2s test @ http://10.0.0.2:80/bytes/100
  1 threads and 32 connections
  10200 requests in 2.00s, 1.88MB read
  Socket errors: connect 0, read 12, write 3, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   5099.50
"""
failures = 0
passes = 0


def check(cond, what):
    global failures, passes
    print("%s  %s" % ("ok  " if cond else "FAIL", what))
    if cond:
        passes += 1
    else:
        failures += 1


def table_row(table, workload):
    """The cells of one workload's line in print_table's output (columns are 2+ spaces apart)."""
    line = next((l for l in table.splitlines() if l.startswith(workload + "  ")), None)
    return [c.strip() for c in line[len(workload):].split("  ") if c.strip()] if line else None


def only_run(cfg):
    """--only download,close,idle: the offload download ran, the plain-frames one did not.
    Its row and its target must say n/a, never show the offload figure (issue 13 item 7)."""
    samples = {("tapstack", "download_gbps"): [20.1], ("kernel", "download_gbps"): [9.2],
               ("tapstack", "close_rps"): [50000.0],
               ("tapstack", "idle_rss_per_conn"): [1000.0], ("kernel", "idle_rss_per_conn"): [4000.0]}
    res = bench.build_results(cfg, samples, {}, [], {})
    rows = {r["metric"]: r for r in res["rows"]}
    check(rows["download_gbps_plain"]["tapstack"] is None and rows["download_gbps_plain"]["ratio"] is None,
          "--only download: the plain-frames row borrows nothing from the offload download")
    table = bench.print_table(res)
    plain = table_row(table, "download, plain frames")
    check(plain is not None and plain[1:4] == ["n/a", "n/a", "n/a"] and "20.1" not in " ".join(plain),
          "the plain-frames row is printed and says n/a: %r" % (plain,))
    check(table_row(table, "HTTP keep-alive, 32 conns")[1:4] == ["n/a", "n/a", "n/a"],
          "a workload left out with --only prints n/a")
    text = "\n".join(bench.check_targets(res, cfg))
    check("[n/a] bulk download >= 4 Gbit/s (plain frames)" in text and
          "[met] bulk download >= 10 Gbit/s (offload)" in text,
          "the plain-frames target is n/a, the offload target judged on its own row")
    check("[n/a] new connections >= 40k/s and above kernel" in text,
          "a target that compares with the kernel is n/a when the kernel's side did not run")


def ceiling_ratio(cfg):
    """Issue 13 item 6: the plain-frame rows read against the TAP's TCP ceiling of the same run."""
    samples = {("tapstack", "download_gbps_plain"): [2.0], ("kernel", "download_gbps_plain"): [4.0],
               ("tapstack", "upload_gbps_plain"): [1.5]}
    meta = {"tap_write_ceiling": {"tcp_download": {"gbps_median": 2.5}}}
    res = bench.build_results(cfg, samples, {}, [], meta)
    rows = {r["metric"]: r for r in res["rows"]}
    check(abs(rows["download_gbps_plain"]["ratio_ceiling"] - 0.8) < 1e-9, "ts/TAP is tapstack / the TAP ceiling")
    check(rows["upload_gbps_plain"]["ratio_ceiling"] is None, "no upload ceiling measured: no ts/TAP ratio")
    table = bench.print_table(res)
    check(table_row(table, "download, plain frames")[4] == "0.80" and
          table_row(table, "upload, plain frames")[4] == "n/a" and
          table_row(table, "bulk download (1 conn)")[4] == "-",
          "the ts/TAP column: a ratio, n/a without a ceiling, - for rows it does not apply to")
    text = "\n".join(bench.check_targets(res, cfg))
    check("[MISSED] download, plain frames >= 0.9x the TAP ceiling" in text and
          "TAP ceiling this run (tapceil, kernel TCP endpoint): 2.50 Gbit/s" in text,
          "0.8x the ceiling misses the 0.9x target and quotes the ceiling")
    check("[n/a] upload, plain frames >= 0.9x the TAP ceiling" in text and
          "[n/a] upload, plain frames >= 0.8x the kernel's veth" in text,
          "upload: without a ceiling or a kernel figure both targets are n/a")
    check("[MISSED] download, plain frames >= 0.8x the kernel's veth" in text, "0.5x the veth misses 0.8x")


def ratio_targets(cfg):
    """Issue 13's ratios to the kernel and the 100,000-connection memory, read off one run:
    judged where both sides ran, n/a where one did not, the memory extrapolated from the
    server's RSS before the connections plus 100,000 times the growth per connection."""
    samples = {("tapstack", "download_gbps"): [30.0], ("kernel", "download_gbps"): [10.0],
               ("tapstack", "keepalive_rps"): [120000.0], ("kernel", "keepalive_rps"): [100000.0],
               ("tapstack", "keepalive_cpu_server"): [0.04], ("kernel", "keepalive_cpu_server"): [0.1],
               ("tapstack", "close_rps"): [30000.0],
               ("tapstack", "idle_rss_per_conn"): [1000.0], ("kernel", "idle_rss_per_conn"): [4000.0]}
    res = bench.build_results(cfg, samples, {}, [], {"idle_rss_base_kib": 20480})
    text = "\n".join(bench.check_targets(res, cfg))
    check("[met] offload download >= 2.0x the kernel's          3.00 x" in text, "3x the kernel meets 2x")
    check("[MISSED] keep-alive >= 1.5x the kernel's req/s          1.20 x" in text, "1.2x misses 1.5x")
    check("[met] keep-alive server CPU <= 0.5x the kernel's per request 0.4000 x" in text,
          "0.4x the kernel's CPU per request meets 0.5x")
    check("[n/a] new connections >= 1.5x the kernel's" in text and "[n/a] offload upload >= 1.0x" in text,
          "a ratio whose kernel side (or both) did not run is n/a")
    check("[met] 100,000 idle connections < 150 MiB resident (extrapolated) 115" in text,
          "20 MiB before plus 100,000 x 1000 bytes is 115 MiB, under 150")
    res = bench.build_results(cfg, samples, {}, [], {})
    check("[n/a] 100,000 idle connections" in "\n".join(bench.check_targets(res, cfg)),
          "without the RSS before the connections the 100,000 target is n/a")


def io_rows(cfg):
    """Issue 13 item 1: the bulk rows once more with --io plain, in the same run. Their kernel
    column is the same workload's kernel figure, n/a when that workload did not run; the
    plain-frame ones are read against the TAP ceiling too."""
    samples = {("tapstack", "download_gbps"): [20.0], ("kernel", "download_gbps"): [10.0],
               ("tapstack", "download_gbps_ioplain"): [15.0],
               ("tapstack", "download_gbps_plain_ioplain"): [1.0], ("kernel", "download_gbps_plain"): [4.0],
               ("tapstack", "upload_gbps_ioplain"): [3.0]}
    meta = {"tap_write_ceiling": {"tcp_download": {"gbps_median": 2.0}}}
    res = bench.build_results(cfg, samples, {}, [], meta)
    rows = {r["metric"]: r for r in res["rows"]}
    check(abs(rows["download_gbps_ioplain"]["ratio"] - 1.5) < 1e-9 and
          rows["download_gbps_ioplain"]["kernel"]["median"] == 10.0,
          "--io plain download: ratio to the kernel's download of the same run")
    check(abs(rows["download_gbps_plain_ioplain"]["ratio"] - 0.25) < 1e-9 and
          abs(rows["download_gbps_plain_ioplain"]["ratio_ceiling"] - 0.5) < 1e-9,
          "--io plain, plain frames: ratio to the kernel's plain-frames veth and to the TAP ceiling")
    table = bench.print_table(res)
    up = table_row(table, "bulk upload, --io plain")
    check(up is not None and up[1:4] == ["3.00", "n/a", "n/a"],
          "the upload workload did not run: the --io plain upload row's kernel side says n/a: %r" % (up,))
    check(table_row(table, "upload, plain frames, --io plain")[1:5] == ["n/a", "n/a", "n/a", "n/a"],
          "an --io plain row that did not run says n/a everywhere")
    check(rows["download_gbps"]["tapstack"]["median"] == 20.0,
          "the default back end's row keeps its own figure, not the --io plain one")


def main():
    rps, reqs, errors = bench.parse_wrk(WRK_OK)
    check((rps, reqs, errors) == (149253.95, 298530, 0), "wrk report parsed: req/s, requests, no errors")
    rps, reqs, errors = bench.parse_wrk(WRK_ERRORS)
    check((reqs, errors) == (10200, 20), "wrk errors summed: socket errors plus non-2xx answers")
    for bad in ("", "unable to connect to 10.0.0.2:80 Connection refused",
                "  0 requests in 2.00s, 0B read\nRequests/sec: 0.00\n"):
        try:
            bench.parse_wrk(bad)
            check(False, "wrk output %r rejected" % bad[:30])
        except bench.BenchFail:
            check(True, "wrk output %r rejected" % bad[:30])

    s = bench.summarize([10.0, 12.0, 11.0, None])
    check(s["median"] == 11.0 and s["n"] == 3 and abs(s["spread_pct"] - 100 * 1 / 11) < 1e-9,
          "median and spread (half the min-max range over the median), failed samples left out")
    check(bench.summarize([None]) is None, "no sample: no summary")
    check(bench.fmt(None) == "n/a" and bench.fmt(123456.7) == "123457" and bench.fmt(0.01234) == "0.0123",
          "number formatting")

    cfg = types.SimpleNamespace(idle_conns=10000, out=tempfile.mkdtemp(prefix="tsbench-selftest-"))
    samples = {("tapstack", "download_gbps"): [2.0, 3.0, 2.5], ("kernel", "download_gbps"): [10.0, 12.0, 11.0],
               ("tapstack", "download_gbps_plain"): [2.0, 3.0, 2.5],
               ("tapstack", "download_cpu_server"): [2.8], ("tapstack", "download_cpu_total"): [4.8],
               ("tapstack", "rtt_median"): [12.0], ("kernel", "rtt_median"): [16.0],
               ("tapstack", "idle_rss_per_conn"): [1000.0], ("kernel", "idle_rss_per_conn"): [4000.0],
               ("ref2", "keepalive_rps"): [50000.0], ("ref2name", "keepalive_rps"): "nginx"}
    failures_in = {("tapstack", "upload_gbps"): "not available: test"}
    meta = {"tap_write_ceiling": {"frames_1514": {"fps_median": 900000.0}}}
    res = bench.build_results(cfg, samples, failures_in, [], meta)
    rows = {r["metric"]: r for r in res["rows"]}
    check(abs(rows["download_gbps"]["ratio"] - 2.5 / 11.0) < 1e-9, "ratio is tapstack / kernel")
    check(rows["upload_gbps"]["tapstack"] is None and
          rows["upload_gbps"]["tapstack_error"] == "not available: test", "a failed row keeps its reason")
    table = bench.print_table(res)
    check("bulk download (1 conn)" in table and "0.23" in table and "nginx 50000" in table,
          "table shows workload, ratio and the second reference")
    check("bulk upload" not in table.split("\n", 2)[2] or "n/a" in table, "rows without data say n/a or are left out")
    lines = bench.check_targets(res, cfg)
    text = "\n".join(lines)
    check("[MISSED] bulk download >= 4 Gbit/s" in text, "download under 4 Gbit/s is reported as missed")
    check("process used 88% of a core" in text,
          "the busy share is CPU s/GB times GB/s (2.8 s/GB * 2.5/8 GB/s = 88%)")
    check("900000 frames/s" in text, "the TAP ceiling of the same run is quoted")
    check("[met] 1-byte RTT no slower than the kernel" in text, "RTT below the kernel's is met")
    check("[met] 10,000 idle connections < 40 MiB" in text, "1000 bytes x 10,000 is under 40 MiB")
    only_run(cfg)
    ceiling_ratio(cfg)
    ratio_targets(cfg)
    io_rows(cfg)
    if bench.shutil.which("gnuplot"):
        png = bench.write_chart(res, cfg)
        dat = open(os.path.join(cfg.out, "ratios.dat")).read().splitlines()
        adv = {l.split('"')[1]: float(l.split('"')[2].split()[0]) for l in dat}
        check(png and os.path.getsize(png) > 0, "chart written")
        check(abs(adv["1-byte echo RTT median"] - 16.0 / 12.0) < 1e-3 and adv["bulk download (1 conn)"] < 1,
              "chart plots the advantage: inverted for lower-is-better rows")
    bench.shutil.rmtree(cfg.out, ignore_errors=True)
    # The hypervisor's share: 50 of 1000 ticks stolen is 5 %, the edge, and says nothing; 20 %
    # warns. A /proc/stat that did not move (or could not be read) is 0.
    check(abs(bench.steal_share((100, 1000), (150, 2000)) - 0.05) < 1e-9, "steal share from /proc/stat ticks")
    check(bench.steal_share((0, 0), (0, 0)) == 0.0, "no ticks: no steal share")
    check(bench.steal_line(0.05) is None and "20 %" in (bench.steal_line(0.2) or ""),
          "a run the host starved by over 5 % says so under its table")
    steal, total = bench.cpu_times()
    check(total > 0 and 0 <= steal <= total, "this machine's /proc/stat is read")
    print("bench-selftest: %d passed, %d failed" % (passes, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
