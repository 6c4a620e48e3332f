#!/usr/bin/python3
"""make bench: tapstack beside the Linux kernel, in one run (issue 5).

Called by mk/bench.mk as root (`make bench`, `make bench ARGS=--quick`). Python 3 standard
library only. What it does, in order:

  1. installs what is missing with apt-get (wrk, curl, gnuplot-nox, nginx-light, iperf3,
     ethtool; linux-perf with --profile);
  2. builds three network namespaces with unique names (tsb<PID>-ts/-kc/-ks):
       tsb<PID>-ts   a TAP device; the kernel side of the TAP is 10.0.0.1/24 and tapstack,
                     attached to the TAP inside this namespace, is 10.0.0.2/24. The Linux
                     clients (curl, wrk, benchcli) run here, on the kernel side of the TAP.
       tsb<PID>-kc   client end of a veth pair, 10.0.1.1/24 (the same clients)
       tsb<PID>-ks   server end, 10.0.1.2/24: build/tapstack-kernel (the same demo apps
                     built against kernel sockets; a Python stand-in when it is not built),
                     nginx as a second reference and iperf3 as a bulk-transfer reference;
  3. measures the TAP device's own ceiling (benchcli tapwrite/tapgso on a second, idle TAP),
     then runs every workload against every target, interleaved, several repetitions each
     (the kernel's bulk workloads once more with the veth's offloads off);
  4. prints one table (workload, unit, tapstack median, kernel median, ratio, spread, second
     reference), the issue's targets with the evidence of what limits each missed one, and
     writes build/bench/results.json and build/bench/ratios.png (gnuplot); with --profile,
     build/bench/perf-*.txt from perf record of tapstack.

Every process it starts is recorded by PID and ended by PID; the namespaces and temporary
files are removed on any exit (atexit plus SIGINT/SIGTERM/SIGHUP handlers). Every client
run has a count bound and a time bound. Nothing here asserts a speed: the table is read by
people (docs/performance.md), not by a test.
"""
import argparse
import ipaddress
import atexit
import json
import os
import platform
import re
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TS_ADDR, TS_PEER, TS_PLEN = "10.0.0.2", "10.0.0.1", 24


def set_ts_addresses(addr, peer, plen):
    """--addr A.B.C.D[/N] and --peer (make bench ADDR= PEER=): the tapstack side of the topology."""
    global TS_ADDR, TS_PEER, TS_PLEN
    TS_ADDR, TS_PEER, TS_PLEN = addr, peer, plen
TS_MAC = "02:74:73:62:00:02"     # fixed: a restarted tapstack keeps the kernel's ARP entry valid
K_ADDR, K_PEER = "10.0.1.2", "10.0.1.1"
HTTP_PORT, ECHO_PORT, DISCARD_PORT = 80, 7, 9
NGINX_PORT, IPERF_PORT = 8080, 5201
BACKLOG = 1024
MAX_RESTARTS = 3
SMALL_BODY_BYTES = 100
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

# Debian package for each tool the benchmark runs.
PACKAGES = {"wrk": "wrk", "curl": "curl", "gnuplot": "gnuplot-nox", "nginx": "nginx-light",
            "iperf3": "iperf3", "ethtool": "ethtool"}
VETH_OFFLOADS = ("tso", "gso", "gro", "tx", "rx")   # what "plain frames" turns off on the veth


class BenchFail(Exception):
    """One sample could not be taken; the reason ends up in the table and the JSON."""


# ----------------------------------------------------------------------------------------
# Process and namespace bookkeeping (everything started is ended by PID on exit).

class Runner:
    def __init__(self, tag, tmp, logdir, verbose):
        self.tag, self.tmp, self.logdir, self.verbose = tag, tmp, logdir, verbose
        self.procs = []          # long-running Popen objects (servers, holders, perf)
        self.netns = []          # namespaces we created
        self.veth = ()           # ((namespace, device), ...) of the kernel pair
        self.cleaned = False

    def log(self, msg):
        print(msg, flush=True)

    def sh(self, *cmd, check=True, timeout=30):
        """Run a short setup command; raises on failure when check."""
        if self.verbose:
            self.log("  $ " + " ".join(cmd))
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
        return r

    def spawn(self, cmd, log_name, stdin=subprocess.DEVNULL, nofile=None, stdout=None):
        """Start a long-running process; it is killed by PID at cleanup."""
        path, n = os.path.join(self.logdir, log_name), 1
        while os.path.exists(path):        # a restarted server keeps its earlier log
            n += 1
            path = os.path.join(self.logdir, "%s.%d" % (log_name, n))
        logf = open(path, "w")

        def pre():
            os.setpgrp()   # our own process group: a Ctrl-C in make reaches us, not it
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        p = subprocess.Popen(cmd, stdin=stdin, stdout=stdout or logf, stderr=logf,
                             preexec_fn=pre, text=True)
        p.log_path = logf.name
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, grace=3.0):
        if p.poll() is None:
            try:
                os.kill(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(5)
        if p in self.procs:
            self.procs.remove(p)

    def cleanup(self):
        if self.cleaned:
            return
        self.cleaned = True
        for pid in list(CLIENTS_RUNNING):
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        for p in list(self.procs):
            try:
                self.stop(p, grace=2.0)
            except Exception as e:  # keep cleaning up whatever happens
                print("cleanup: pid %d: %s" % (p.pid, e), file=sys.stderr)
        for ns in reversed(self.netns):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


# PIDs of the client runs in progress (at most one), so that an interrupted run ends them too.
CLIENTS_RUNNING = set()

# Above this share of the CPU time taken by the hypervisor, a run says it measured nothing.
STEAL_WARN = 0.05


def cpu_times():
    """(steal, total) clock ticks of all CPUs from /proc/stat's first line; (0, 0) if unreadable.
    steal is the time the hypervisor ran something else while this machine had work: on a
    shared virtual machine it slows both stacks, but not alike (tapstack, the relay and the
    clients are user processes, the kernel's TCP runs in softirq), so ratios measured then say
    little about the stacks."""
    try:
        with open("/proc/stat") as f:
            vals = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    return (vals[7] if len(vals) > 7 else 0), sum(vals[:8])


def steal_share(t0, t1):
    """The share of the CPU time stolen between two cpu_times() readings (0.0 when unknown)."""
    total = t1[1] - t0[1]
    return (t1[0] - t0[0]) / total if total > 0 else 0.0


def steal_line(share):
    """The warning printed under a table measured while the host took more than STEAL_WARN."""
    if share <= STEAL_WARN:
        return None
    return ("WARNING: the host took %.0f %% of this machine's CPU time during the run (steal in /proc/stat): "
            "both stacks ran starved, unevenly; do not read these ratios, run again when it is quiet" % (share * 100))


def run_measured(cmd, timeout):
    """Run a client to completion with a time bound. Returns (rc, stdout, stderr, cpu_s,
    wall_s) where cpu_s is the client's own user+system time (wait4's rusage)."""
    out = tempfile.TemporaryFile(mode="w+")
    err = tempfile.TemporaryFile(mode="w+")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    CLIENTS_RUNNING.add(p.pid)
    deadline = t0 + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            os.kill(p.pid, signal.SIGKILL)
            pid, status, ru = os.wait4(p.pid, 0)
            status = -1
            break
        time.sleep(0.005)
    CLIENTS_RUNNING.discard(p.pid)
    p.returncode = os.waitstatus_to_exitcode(status) if status != -1 else -1
    wall = time.monotonic() - t0
    out.seek(0)
    err.seek(0)
    return p.returncode, out.read(), err.read(), ru.ru_utime + ru.ru_stime, wall


def proc_cpu(pid):
    """CPU seconds a process has run, all threads, in nanosecond resolution: the first field
    of /proc/PID/task/*/schedstat (sum_exec_runtime = user + system; /proc/PID/stat's
    utime+stime come from the same clock but in 10 ms ticks). This kernel has no
    CONFIG_IRQ_TIME_ACCOUNTING, so softirq work (the TAP's and veth's receive path, TCP in
    the client's kernel) is charged to whichever task it ran in: the server or the client."""
    total = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
    except FileNotFoundError:
        pass
    return total / 1e9


def proc_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# Slab caches a kernel TCP connection's server end occupies. The first four grow on both
# ends (the client is a kernel socket too), so half their growth is the server's; epoll
# items exist only on the server (the clients here poll()). tw_sock_TCP is left out on
# purpose: TIME-WAIT sockets of earlier workloads expire meanwhile and would make noise.
SLAB_SYMMETRIC = ("TCP", "sock_inode_cache", "filp", "dentry")
SLAB_SERVER_ONLY = ("eventpoll_epi",)


def slab_bytes():
    """{cache: active_objs * objsize} for the caches above, from /proc/slabinfo."""
    out = {}
    with open("/proc/slabinfo") as f:
        for line in f:
            parts = line.split()
            if parts and parts[0] in SLAB_SYMMETRIC + SLAB_SERVER_ONLY:
                out[parts[0]] = int(parts[1]) * int(parts[3])
    return out


def slab_server_delta(before, after):
    d = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    return sum(d.get(k, 0) / 2 for k in SLAB_SYMMETRIC) + sum(d.get(k, 0) for k in SLAB_SERVER_ONLY)


# ----------------------------------------------------------------------------------------
# Targets: one server (process) reachable from one client namespace.

class Target:
    def __init__(self, key, label, ns_client, host, ports, proc=None):
        self.key, self.label = key, label
        self.ns_client, self.host = ns_client, host
        self.ports = ports        # {"http": 80, "echo": 7, "discard": 9} (subset)
        self.proc = proc
        self.unavailable = None   # reason string when the target cannot be measured
        self.restart = None       # callable that starts the server again after a crash
        self.relaunch = None      # callable that replaces the server with a fresh process
        self.crashes = []         # (status, log) of every exit we restarted after

    def client(self, *cmd):
        return ["ip", "netns", "exec", self.ns_client] + list(cmd)

    def url(self, path):
        return "http://%s:%d%s" % (self.host, self.ports["http"], path)

    def alive(self):
        return self.proc is None or self.proc.poll() is None

    def check(self):
        if self.unavailable:
            raise BenchFail(self.unavailable)
        if not self.alive():
            why = "%s exited (status %s), see %s" % (self.label, self.proc.returncode, self.proc.log_path)
            self.crashes.append(why)
            # A crash is itself a finding (it is reported); restart a bounded number of
            # times so that one bug does not blank every later row.
            if self.restart and len(self.crashes) <= MAX_RESTARTS:
                print("  %s; restarting it" % why, flush=True)
                self.restart(self)
                if not self.unavailable:
                    return
            self.unavailable = why
            raise BenchFail(self.unavailable)

    def fresh(self):
        """Restart the server so that a memory measurement starts from a new process (an
        allocator keeps freed memory, so a second measurement in the same process sees 0)."""
        if self.relaunch and not self.unavailable:
            self.relaunch(self)
        self.check()

    def server_cpu(self):
        return proc_cpu(self.proc.pid) if self.proc else 0.0


def wait_http(target, timeout):
    """True once GET /bytes/1 answers 200 (the server is up and the path works)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not target.alive():
            return False
        rc, out, _, _, _ = run_measured(target.client(
            "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "1",
            target.url("/bytes/1")), 3)
        if rc == 0 and out.strip() == "200":
            return True
        time.sleep(0.1)
    return False


def wait_port(target, port, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not target.alive():
            return False
        rc, _, _, _, _ = run_measured(target.client(
            "nc", "-z", "-w", "1", target.host, str(port)), 3)
        if rc == 0:
            return True
        time.sleep(0.1)
    return False


# ----------------------------------------------------------------------------------------
# Workloads. Each returns a dict of metric -> value for one sample, or raises BenchFail.

def w_download(t, cfg):
    t.check()
    n = cfg.download_bytes
    c0 = t.server_cpu()
    rc, out, err, ccpu, _ = run_measured(t.client(
        "curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}",
        "--max-time", str(cfg.bulk_max_s), t.url("/bytes/%d" % n)), cfg.bulk_max_s + 5)
    scpu = t.server_cpu() - c0
    parts = out.split()
    if rc != 0 or len(parts) != 3 or parts[0] != "200" or int(parts[1]) != n:
        raise BenchFail("curl rc=%d out=%r %s" % (rc, out.strip(), err.strip()[:80]))
    secs = float(parts[2])
    gb = n / 1e9
    return {"download_gbps": n * 8 / secs / 1e9, "download_cpu_server": scpu / gb,
            "download_cpu_total": (scpu + ccpu) / gb}


def w_upload(t, cfg):
    t.check()
    n = cfg.upload_bytes
    c0 = t.server_cpu()
    rc, out, err, ccpu, _ = run_measured(t.client(
        cfg.benchcli, "upload", t.host, str(t.ports["discard"]), str(n), str(cfg.bulk_max_s)),
        cfg.bulk_max_s + 10)
    scpu = t.server_cpu() - c0
    m = re.search(r"bytes=(\d+) secs=([\d.]+) gbps=([\d.]+) eof=(\d)", out)
    if rc != 0 or not m or int(m.group(1)) != n:
        raise BenchFail("benchcli upload rc=%d %s %s" % (rc, out.strip(), err.strip()[:80]))
    gb = n / 1e9
    return {"upload_gbps": float(m.group(3)), "upload_cpu_server": scpu / gb,
            "upload_cpu_total": (scpu + ccpu) / gb}


def run_wrk(t, cfg, close, path):
    cmd = ["wrk", "-t%d" % cfg.wrk_threads, "-c%d" % cfg.connections, "-d%ds" % cfg.wrk_s]
    if close:
        cmd += ["-H", "Connection: close"]
    c0 = t.server_cpu()
    rc, out, err, ccpu, _ = run_measured(t.client(*cmd, t.url(path)), cfg.wrk_s + 15)
    scpu = t.server_cpu() - c0
    if rc != 0:
        raise BenchFail("wrk rc=%d %s" % (rc, (err or out).strip()[-120:]))
    rps, reqs, errors = parse_wrk(out)
    return rps, reqs, scpu, ccpu, errors


def parse_wrk(out):
    """(requests/s, requests, errors) from wrk's report; errors = non-2xx/3xx answers plus
    socket errors (connect, read, write, timeout). Raises BenchFail when it is not a report
    or no request completed."""
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    r = re.search(r"(\d+) requests in ([\d.]+)(m?s|m)\b", out)
    if not m or not r:
        raise BenchFail("no wrk report: %s" % out.strip()[-120:])
    reqs = int(r.group(1))
    if reqs == 0:
        raise BenchFail("wrk completed no request")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    return float(m.group(1)), reqs, errors


def w_keepalive(t, cfg):
    t.check()
    rps, reqs, scpu, ccpu, errors = run_wrk(t, cfg, False, "/bytes/%d" % SMALL_BODY_BYTES)
    return {"keepalive_rps": rps, "keepalive_cpu_server": scpu / reqs * 1e4,
            "keepalive_cpu_total": (scpu + ccpu) / reqs * 1e4, "_errors": errors}


def w_close(t, cfg):
    t.check()
    rps, reqs, scpu, ccpu, errors = run_wrk(t, cfg, True, "/bytes/%d" % SMALL_BODY_BYTES)
    return {"close_rps": rps, "close_cpu_server": scpu / reqs * 1e4,
            "close_cpu_total": (scpu + ccpu) / reqs * 1e4, "_errors": errors}


def w_rtt(t, cfg, mode="rtt"):
    t.check()
    rc, out, err, _, _ = run_measured(t.client(
        cfg.benchcli, mode, t.host, str(t.ports["echo"]), str(cfg.rtt_count), str(cfg.rtt_max_s)),
        cfg.rtt_max_s + 10)
    m = re.search(r"median_us=([\d.]+) p99_us=([\d.]+)", out)
    if rc != 0 or not m:
        raise BenchFail("benchcli %s rc=%d %s %s" % (mode, rc, out.strip(), err.strip()[:80]))
    return {"rtt_median": float(m.group(1)), "rtt_p99": float(m.group(2))}


def w_busy_rtts(t, cfg):
    """The busy-poll rows' two figures: the client sleeping for each answer, and polling."""
    return {"rtt_median_busy": w_rtt(t, cfg)["rtt_median"],
            "rtt_median_busy_spin": w_rtt(t, cfg, "rttspin")["rtt_median"]}


def w_idle(t, cfg, runner):
    """Hold cfg.idle_conns idle connections; memory per connection and req/s meanwhile."""
    t.fresh()
    n = cfg.idle_conns
    pid = t.proc.pid
    rss0, slab0 = proc_rss_kib(pid), slab_bytes()
    holder = runner.spawn(t.client(cfg.benchcli, "hold", t.host, str(t.ports["http"]), str(n),
                                   str(cfg.idle_hold_max_s)),
                          "hold-%s.log" % t.key, stdin=subprocess.PIPE, nofile=n + 256,
                          stdout=subprocess.PIPE)
    try:
        ready, _, _ = select.select([holder.stdout], [], [], cfg.idle_hold_max_s)
        line = holder.stdout.readline() if ready else ""
        m = re.match(r"held (\d+) failed=(\d+)", line)
        if not m:
            raise BenchFail("holder gave %r (see %s)" % (line.strip(), holder.log_path))
        held = int(m.group(1))
        if held < n * 0.99:
            raise BenchFail("only %d of %d connections established" % (held, n))
        time.sleep(1.0)   # let the server accept and settle every connection
        t.check()
        rss1, slab1 = proc_rss_kib(pid), slab_bytes()
        rps, _, _, _, errors = run_wrk(t, cfg, False, "/bytes/%d" % SMALL_BODY_BYTES)
    finally:
        holder.stdin.close()
        runner.stop(holder, grace=10)
    res = {"idle_rss_per_conn": (rss1 - rss0) * 1024 / held, "idle_held_rps": rps,
           "idle_rss_total_kib": rss1, "idle_rss_base_kib": rss0, "_errors": errors}
    if t.key != "tapstack":
        # Kernel sockets live in kernel slab memory, not in the server's RSS: add the
        # server end's share of the slab growth (see SLAB_SYMMETRIC).
        res["idle_kernel_slab_per_conn"] = slab_server_delta(slab0, slab1) / held
        res["idle_rss_per_conn"] += res["idle_kernel_slab_per_conn"]
    return res


def w_iperf(t, cfg, reverse):
    rc, out, err, _, _ = run_measured(t.client(
        "iperf3", "-c", t.host, "-p", str(IPERF_PORT), "-t", str(cfg.iperf_s), "-J") +
        (["-R"] if reverse else []), cfg.iperf_s + 15)
    try:
        bps = json.loads(out)["end"]["sum_received"]["bits_per_second"]
    except (ValueError, KeyError):
        raise BenchFail("iperf3 rc=%d %s" % (rc, err.strip()[:80]))
    return {("download_gbps" if reverse else "upload_gbps"): bps / 1e9}


BUSY_POLL_USEC = 50     # tapstack --busy-poll for the busy-poll RTT row

# Rows of the table: metric key, workload text, unit, which direction is better, the tool.
ROWS = [
    ("download_gbps", "bulk download (1 conn)", "Gbit/s", "higher", "curl GET /bytes/N > /dev/null"),
    ("upload_gbps", "bulk upload (1 conn)", "Gbit/s", "higher", "benchcli upload -> discard"),
    ("download_gbps_plain", "download, plain frames", "Gbit/s", "higher",
     "as above; tapstack --no-offload, veth ethtool -K tso gso gro tx rx off"),
    ("upload_gbps_plain", "upload, plain frames", "Gbit/s", "higher",
     "as above; tapstack --no-offload, veth ethtool -K tso gso gro tx rx off"),
    # The same four bulk rows with tapstack --io plain (one read()/write() per frame), in the
    # same run as the rows above (tapstack's default back end, io_uring where the kernel
    # allows it; the start-up line says which, printed under the table). The kernel has one
    # I/O path: its column is the kernel figure of the same workload (KERNEL_OF).
    ("download_gbps_ioplain", "bulk download, --io plain", "Gbit/s", "higher",
     "as bulk download; tapstack --io plain"),
    ("upload_gbps_ioplain", "bulk upload, --io plain", "Gbit/s", "higher", "as bulk upload; tapstack --io plain"),
    ("download_gbps_plain_ioplain", "download, plain frames, --io plain", "Gbit/s", "higher",
     "as download, plain frames; tapstack --io plain"),
    ("upload_gbps_plain_ioplain", "upload, plain frames, --io plain", "Gbit/s", "higher",
     "as upload, plain frames; tapstack --io plain"),
    ("keepalive_rps", "HTTP keep-alive, 32 conns", "req/s", "higher", "wrk -c32, 100-byte body"),
    ("close_rps", "HTTP Connection: close, 32", "req/s=conn/s", "higher", "wrk -c32 -H 'Connection: close'"),
    ("rtt_median", "1-byte echo RTT median", "us", "lower", "benchcli rtt (TCP_NODELAY)"),
    ("rtt_p99", "1-byte echo RTT p99", "us", "lower", "benchcli rtt"),
    ("rtt_median_busy", "RTT median, busy-poll", "us", "lower",
     "benchcli rtt; tapstack --busy-poll %d, kernel as above" % BUSY_POLL_USEC),
    # The same with the client polling for each answer (benchcli rttspin): without the
    # client's own wake-up, which on an idle vCPU is most of the row above.
    ("rtt_median_busy_spin", "RTT median, busy-poll, client spins", "us", "lower",
     "benchcli rttspin; tapstack --busy-poll %d, kernel as above" % BUSY_POLL_USEC),
    ("idle_rss_per_conn", "memory per idle conn", "bytes", "lower", "benchcli hold; VmRSS delta (+ slabinfo, kernel)"),
    ("idle_held_rps", "keep-alive req/s, idle held", "req/s", "higher", "wrk -c32 while benchcli hold"),
    ("download_cpu_server", "CPU download, server", "s/GB", "lower", "/proc/PID/task/*/schedstat"),
    ("download_cpu_total", "CPU download, srv+client", "s/GB", "lower", "+ client wait4 rusage"),
    ("upload_cpu_server", "CPU upload, server", "s/GB", "lower", "/proc/PID/task/*/schedstat"),
    ("upload_cpu_total", "CPU upload, srv+client", "s/GB", "lower", "+ client wait4 rusage"),
    ("keepalive_cpu_server", "CPU keep-alive, server", "s/10k req", "lower", "/proc/PID/task/*/schedstat"),
    ("keepalive_cpu_total", "CPU keep-alive, srv+client", "s/10k req", "lower", "+ wrk wait4 rusage"),
    ("close_cpu_server", "CPU conn/close, server", "s/10k req", "lower", "/proc/PID/task/*/schedstat"),
    ("close_cpu_total", "CPU conn/close, srv+client", "s/10k req", "lower", "+ wrk wait4 rusage"),
    # Unmodified nginx, same conf: on tapstack through tapstack-run (docs/preload.md) in the
    # tapstack column, on the kernel's sockets in the kernel column.
    ("nginx_keepalive_rps", "nginx: keep-alive, 32 conns", "req/s", "higher",
     "tapstack-run nginx vs nginx; wrk -c32, 100-byte body"),
    ("nginx_close_rps", "nginx: new conn per request", "req/s=conn/s", "higher",
     "tapstack-run nginx vs nginx; wrk -c32 -H 'Connection: close'"),
    ("nginx_download_gbps", "nginx: download (1 conn)", "Gbit/s", "higher",
     "tapstack-run nginx vs nginx; curl, sendfile"),
]


# ----------------------------------------------------------------------------------------
# Setup.

def ensure_tools(runner, no_install, want_perf):
    missing = [PACKAGES[t] for t in PACKAGES if not shutil.which(t)]
    if want_perf and not shutil.which("perf"):
        missing.append("linux-perf")
    if missing and not no_install:
        runner.log("installing: " + " ".join(missing))
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "-q"] + missing, env=env,
                       stdout=subprocess.DEVNULL, timeout=300)
    for tool in ("wrk", "curl", "nc", "ip"):
        if not shutil.which(tool):
            sys.exit("bench: %s is required (apt-get install %s)" % (tool, PACKAGES.get(tool, tool)))


def tool_versions():
    """First line of each tool's version output, for the JSON (what measured what)."""
    out = {}
    for tool, args in (("curl", ["--version"]), ("wrk", ["-v"]), ("nginx", ["-v"]),
                       ("iperf3", ["--version"]), ("gnuplot", ["--version"]), ("perf", ["--version"])):
        if shutil.which(tool):
            r = subprocess.run([tool] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, timeout=10)
            out[tool] = (r.stdout.strip().splitlines() or [""])[0]
    return out


def setup_netns(runner, pid):
    ts, kc, ks = ("tsb%d-%s" % (pid, s) for s in ("ts", "kc", "ks"))
    tap, va, vb = "tsbtap%d" % pid, "tsbv%da" % pid, "tsbv%db" % pid
    for ns in (ts, kc, ks):
        runner.sh("ip", "netns", "add", ns)
        runner.netns.append(ns)
        runner.sh("ip", "-n", ns, "link", "set", "lo", "up")
    # The TAP lives in the tapstack namespace; its kernel side gets the client address.
    runner.sh("ip", "netns", "exec", ts, "ip", "tuntap", "add", "dev", tap, "mode", "tap")
    runner.sh("ip", "-n", ts, "addr", "add", TS_PEER + "/%d" % TS_PLEN, "dev", tap)
    runner.sh("ip", "-n", ts, "link", "set", tap, "up")
    # The veth pair is created directly across the two kernel namespaces.
    runner.sh("ip", "-n", kc, "link", "add", va, "type", "veth", "peer", "name", vb, "netns", ks)
    runner.sh("ip", "-n", kc, "addr", "add", K_PEER + "/24", "dev", va)
    runner.sh("ip", "-n", ks, "addr", "add", K_ADDR + "/24", "dev", vb)
    runner.sh("ip", "-n", kc, "link", "set", va, "up")
    runner.sh("ip", "-n", ks, "link", "set", vb, "up")
    # Clients open tens of thousands of connections: the whole port range, reuse of
    # TIME-WAIT ports (client namespaces only, both sides alike).
    for ns in (ts, kc):
        runner.sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w",
                  "net.ipv4.ip_local_port_range=1024 65000", "net.ipv4.tcp_tw_reuse=1")
    runner.veth = ((kc, va), (ks, vb))
    return ts, kc, ks, tap


def veth_offloads(runner, on):
    """Turns the veth pair's segmentation, GRO and checksum offloads on or off (ethtool -K),
    so the kernel can also be measured with plain 1500-byte frames, like tapstack's TAP."""
    for ns, dev in runner.veth:
        runner.sh("ip", "netns", "exec", ns, "ethtool", "-K", dev,
                  *[x for o in VETH_OFFLOADS for x in (o, "on" if on else "off")], check=False)


def w_plain(t, cfg, runner, fn):
    """One kernel sample of a bulk workload with the veth's offloads off, then on again."""
    veth_offloads(runner, False)
    try:
        res = fn(t, cfg)
    finally:
        veth_offloads(runner, True)
    return {k + "_plain" if not k.startswith("_") else k: v for k, v in res.items()}


def w_ts_plain(t, cfg):
    """tapstack's download and upload with plain 1514-byte frames: restarted with
    --no-offload (no IFF_VNET_HDR, no TSO, no checksum offload), then with offload again."""
    res = {}
    t.relaunch(t, plain=True)
    try:
        t.check()
        for fn in (w_download, w_upload):
            res.update({k + "_plain" if not k.startswith("_") else k: v for k, v in fn(t, cfg).items()})
    finally:
        t.relaunch(t)
    return res


def w_ts_ioplain(t, cfg):
    """tapstack's four bulk rows with --io plain (one read()/write() per frame instead of
    io_uring batches): offload download and upload, then the same with --no-offload. Restarted
    for each, then with the default back end again."""
    res = {}
    try:
        for plain in (False, True):
            t.relaunch(t, plain=plain, extra=["--io", "plain"])
            t.check()
            for fn in (w_download, w_upload):
                res.update({k + ("_plain" if plain else "") + "_ioplain" if not k.startswith("_") else k: v
                            for k, v in fn(t, cfg).items() if k.endswith("_gbps") or k.startswith("_")})
    finally:
        t.relaunch(t)
    return res


def w_ts_busy(t, cfg):
    """tapstack's RTT with --busy-poll: restarted with it, then without again."""
    t.relaunch(t, extra=["--busy-poll", str(BUSY_POLL_USEC)])
    try:
        t.check()
        return w_busy_rtts(t, cfg)
    finally:
        t.relaunch(t)


def start_tapstack(runner, cfg, ns, tap):
    t = Target("tapstack", "tapstack", ns, TS_ADDR,
               {"http": HTTP_PORT, "echo": ECHO_PORT, "discard": DISCARD_PORT})
    exe = os.path.join(cfg.build, "tapstack")
    if not os.access(exe, os.X_OK):
        t.unavailable = "not available: %s is not built" % exe
        return t
    cmd = ["ip", "netns", "exec", ns, exe, "--tap", tap, "--addr", TS_ADDR + "/%d" % TS_PLEN, "--mac", TS_MAC,
           "--http", str(HTTP_PORT), "--echo", str(ECHO_PORT), "--discard", str(DISCARD_PORT),
           "--backlog", str(BACKLOG), "--quiet", "--ctl", os.path.join(runner.tmp, "tapstack.ctl")]
    cmd += cfg.tapstack_args

    def launch(target, plain=False, extra=()):
        if target.proc and target.proc in runner.procs:
            runner.stop(target.proc)
        target.proc = runner.spawn(cmd + (["--no-offload"] if plain else []) + list(extra), "tapstack.log")
        target.unavailable = None
        ok = wait_http(target, cfg.start_timeout_s)
        # The back end it chose (its start-up line: "tapstack: TAP A/N mac M mtu U, io uring...").
        m = re.search(r", io (\w+)", open(target.proc.log_path).read())
        target.io = m.group(1) if m else "?"
        if not ok:
            reason = "exited with status %s" % target.proc.returncode if not target.alive() else \
                "no HTTP 200 from %s within %d s" % (target.url("/bytes/1"), cfg.start_timeout_s)
            lines = open(target.proc.log_path).read().strip().splitlines()
            first = next((l for l in lines if re.search(r"error|fail|cannot|usage|invalid", l, re.I)),
                         lines[0] if lines else "")
            target.unavailable = "not available: %s (log %s: %s)" % (
                reason, target.proc.log_path, first.strip()[:100])
    t.restart = t.relaunch = launch
    launch(t)
    return t


def start_kernel(runner, cfg, ns_server, ns_client):
    exe = os.path.join(cfg.build, "tapstack-kernel")
    ports = {"http": HTTP_PORT, "echo": ECHO_PORT, "discard": DISCARD_PORT}
    attempts = []
    if cfg.kernel_cmd:
        attempts.append(("kernel (custom)", cfg.kernel_cmd.split()))
    elif os.access(exe, os.X_OK):
        attempts.append(("tapstack-kernel", [exe, "--http", str(HTTP_PORT), "--echo", str(ECHO_PORT),
                                             "--discard", str(DISCARD_PORT), "--backlog", str(BACKLOG),
                                             "--quiet"]))
    attempts.append(("standin-py", ["/usr/bin/python3", os.path.join(cfg.here, "standin_server.py"),
                                    str(HTTP_PORT), str(ECHO_PORT), str(DISCARD_PORT)]))
    notes = []
    for label, cmd in attempts:
        t = Target("kernel", label, ns_client, K_ADDR, ports)

        def launch(target, label=label, cmd=cmd):
            if target.proc:
                runner.stop(target.proc)
            target.proc = runner.spawn(["ip", "netns", "exec", ns_server] + cmd, "kernel-%s.log" % label,
                                       nofile=cfg.idle_conns + 1024)
            if not (wait_http(target, cfg.start_timeout_s) and wait_port(target, ECHO_PORT, 2)):
                target.unavailable = "not available: %s did not start (see %s)" % (
                    label, target.proc.log_path)
        launch(t)
        if not t.unavailable:
            t.relaunch = launch
            t.notes = notes
            return t
        notes.append(t.unavailable)
        runner.stop(t.proc)
    t.unavailable = "not available: no kernel-socket server started"
    t.notes = notes
    return t


NGINX_CONF = """daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile %(nofile)d;
error_log %(tmp)s/nginx-error.log warn;
pid %(tmp)s/nginx.pid;
events { worker_connections %(conns)d; use epoll; multi_accept on; }
http {
    access_log off;
    sendfile on; tcp_nopush on; tcp_nodelay on;
    keepalive_timeout 300s; keepalive_requests 100000000;
    default_type application/octet-stream;
    client_body_temp_path %(tmp)s/nginx-body;
    server { listen %(port)d backlog=%(backlog)d; root %(tmp)s/www; }
}
"""


def start_nginx(runner, cfg, ns_server, ns_client):
    t = Target("nginx", "nginx", ns_client, K_ADDR, {"http": NGINX_PORT})
    if not shutil.which("nginx"):
        t.unavailable = "not available: nginx not installed"
        return t
    www = os.path.join(runner.tmp, "www", "bytes")
    os.makedirs(www)
    for n in (1, SMALL_BODY_BYTES):
        with open(os.path.join(www, str(n)), "wb") as f:
            f.write(bytes(i & 0xff for i in range(n)))
    with open(os.path.join(www, str(cfg.download_bytes)), "wb") as f:
        f.truncate(cfg.download_bytes)      # sparse: served from the page cache
    with open(os.path.join(www, str(cfg.download_bytes)), "rb") as f:
        while f.read(1 << 20):              # warm the page cache so rep 1 is not a disk read
            pass
    conf = os.path.join(runner.tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF % {"tmp": runner.tmp, "port": NGINX_PORT, "backlog": BACKLOG,
                              "conns": cfg.idle_conns + 4096, "nofile": cfg.idle_conns + 8192})

    def launch(target):
        if target.proc:
            runner.stop(target.proc)
        target.proc = runner.spawn(["ip", "netns", "exec", ns_server, "nginx", "-p", runner.tmp, "-c", conf],
                                   "nginx.log", nofile=cfg.idle_conns + 8192)
        if not wait_http(target, cfg.start_timeout_s):
            target.unavailable = "not available: nginx did not start (see %s)" % target.proc.log_path
    launch(t)
    t.relaunch = launch
    return t


def start_nginx_ts(runner, cfg, ns, tap):
    """Debian's nginx on tapstack (build/tapstack-run, the LD_PRELOAD library) with the kernel
    nginx's conf and files. Not started here: the TAP takes one reader, so it runs only
    during the nginx workload, while the tapstack demo servers are stopped."""
    t = Target("tapstack", "nginx on tapstack", ns, TS_ADDR, {"http": NGINX_PORT})
    run = os.path.join(cfg.build, "tapstack-run")
    conf = os.path.join(runner.tmp, "nginx.conf")
    if not shutil.which("nginx") or not os.access(run, os.X_OK) or not os.path.exists(conf):
        t.unavailable = "not available: nginx or %s missing" % run
        return t

    def launch(target):
        if target.proc and target.proc in runner.procs:
            runner.stop(target.proc)
        target.proc = runner.spawn(["ip", "netns", "exec", ns, run, "--tap", tap, "--addr", TS_ADDR + "/24",
                                    "--mac", TS_MAC, "--", "nginx", "-p", runner.tmp, "-c", conf],
                                   "nginx-tapstack.log", nofile=cfg.idle_conns + 8192)
        target.unavailable = None
        if not wait_http(target, cfg.start_timeout_s):
            target.unavailable = "not available: nginx on tapstack did not start (see %s)" % target.proc.log_path
    t.relaunch = launch
    return t


def w_nginx(t, cfg):
    """The three nginx rows: keep-alive and Connection: close with wrk, one download."""
    res, errors = {}, 0
    for fn in (w_keepalive, w_close, w_download):
        for k, v in fn(t, cfg).items():
            if k == "_errors":
                errors += v
            elif k in ("keepalive_rps", "close_rps", "download_gbps"):
                res["nginx_" + k] = v
    res["_errors"] = errors
    return res


def start_iperf(runner, cfg, ns_server, ns_client):
    t = Target("iperf3", "iperf3", ns_client, K_ADDR, {})
    if not shutil.which("iperf3"):
        t.unavailable = "not available: iperf3 not installed"
        return t
    t.proc = runner.spawn(["ip", "netns", "exec", ns_server, "iperf3", "-s", "-p", str(IPERF_PORT)],
                          "iperf3.log")
    if not wait_port(t, IPERF_PORT, cfg.start_timeout_s):
        t.unavailable = "not available: iperf3 did not start"
    return t


CEIL_ADDR, CEIL_PEER = "10.213.0.2", "10.213.0.1"   # tapceil's pair on the idle TAP
# Plain-frame rows and the TAP ceiling (tap_write_ceiling in the JSON) each is read against.
CEILING_OF = {"download_gbps_plain": "tcp_download", "upload_gbps_plain": "tcp_upload",
              "download_gbps_plain_ioplain": "tcp_download", "upload_gbps_plain_ioplain": "tcp_upload"}
# Rows whose kernel column is another row's kernel samples: the --io plain rows, the same
# workload on the kernel (which has no I/O back end to choose). Empty when that row's
# workload did not run: never a figure from another workload.
KERNEL_OF = {"download_gbps_ioplain": "download_gbps", "upload_gbps_ioplain": "upload_gbps",
             "download_gbps_plain_ioplain": "download_gbps_plain", "upload_gbps_plain_ioplain": "upload_gbps_plain"}


def tap_ceiling(runner, cfg, ns, pid):
    """The TAP device's own write() ceiling, on a second, idle TAP in the tapstack namespace
    (frames the kernel drops right after eth_type_trans): what one frame per syscall costs
    before any TCP work. Context for the tapstack column, not a row of its own."""
    tap = "tsbtw%d" % pid
    runner.sh("ip", "netns", "exec", ns, "ip", "tuntap", "add", "dev", tap, "mode", "tap")
    runner.sh("ip", "-n", ns, "link", "set", tap, "up")
    out = {}
    for mode, size in (("tapwrite", 1514), ("tapwrite", 60), ("tapgso", 65549)):
        fps = []
        for _ in range(cfg.reps):
            rc, o, _, _, _ = run_measured(["ip", "netns", "exec", ns, cfg.benchcli, mode, tap,
                                           str(size), "50000000", str(cfg.tapwrite_s)], cfg.tapwrite_s + 10)
            m = re.search(r"fps=(\d+)", o)
            if rc == 0 and m:
                fps.append(int(m.group(1)))
        if fps:
            med = statistics.median(fps)
            out["%s_%d" % ("gso" if mode == "tapgso" else "frames", size)] = {
                "fps_median": med, "gbps_median": med * size * 8 / 1e9, "samples_fps": fps}
    # With a real kernel TCP endpoint behind the TAP (tapceil.c, plain frames, one syscall
    # per frame, no stack): 1448-byte segments into a kernel socket (the most tapstack's
    # plain download could move) and out of one (its upload). An address pair of its own,
    # in this namespace only.
    runner.sh("ip", "-n", ns, "addr", "add", CEIL_PEER + "/24", "dev", tap)
    for mode, key in (("into", "tcp_download"), ("outof", "tcp_upload")):
        gbps, drops = [], 0
        for _ in range(cfg.reps):
            rc, o, _, _, _ = run_measured(["ip", "netns", "exec", ns, cfg.tapceil, mode, tap, CEIL_ADDR, CEIL_PEER,
                                           "5001", str(cfg.download_bytes), str(cfg.bulk_max_s)],
                                          cfg.bulk_max_s + 10)
            m = re.search(r"gbps=([\d.]+)", o)
            if rc == 0 and m:
                gbps.append(float(m.group(1)))
            # Frames the TAP's queue dropped while tapceil read (each one a retransmission).
            d = re.search(r"tap_tx_dropped=(\d+)", o)
            drops += int(d.group(1)) if d else 0
        if gbps:
            out[key] = {"gbps_median": statistics.median(gbps), "samples_gbps": gbps, "tap_tx_dropped": drops}
    runner.sh("ip", "netns", "exec", ns, "ip", "link", "del", tap, check=False)
    return out


# ----------------------------------------------------------------------------------------
# Profiling (--profile): perf record of the tapstack process during one workload.

def perf_rows(data, *args):
    """(percent, name) rows of a perf report over data, in report order."""
    r = subprocess.run(["perf", "report", "-i", data, "--stdio", "-g", "none", "--percent-limit", "0.5"]
                       + list(args), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                       timeout=120)
    rows = []
    for line in r.stdout.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+(?:[\d.]+%\s+)?(.*)$", line)
        if m and not line.lstrip().startswith("#"):
            rows.append((float(m.group(1)), " ".join(m.group(2).split())))
    return rows


def profile(runner, cfg, t, name, fn):
    """perf record (cpu-clock, call graphs) of the tapstack process during one run of a
    workload; writes build/bench/perf-NAME.txt and returns a summary for the JSON: the split
    between tapstack's own code, libc and the kernel, and the top symbols by self time."""
    if not shutil.which("perf") or t.unavailable:
        return None
    data = os.path.join(cfg.out, "perf-%s.data" % name)
    rec = runner.spawn(["perf", "record", "-e", "cpu-clock", "-g", "-p", str(t.proc.pid), "-o", data],
                       "perf-%s.log" % name)
    time.sleep(0.3)
    try:
        res = fn(t, cfg)
    except BenchFail as e:
        runner.log("  profile %s: %s" % (name, e))
        res = {}
    runner.stop(rec, sig=signal.SIGINT, grace=10)
    dso = perf_rows(data, "--no-children", "--sort", "dso")
    self_syms = perf_rows(data, "--no-children", "--sort", "dso,sym")
    incl = perf_rows(data, "--children", "--sort", "sym")
    report = os.path.join(cfg.out, "perf-%s.txt" % name)
    with open(report, "w") as f:
        f.write("perf record -e cpu-clock -g -p <tapstack> during one '%s' run: %s\n\n" % (
            name, " ".join("%s=%s" % (k, fmt(v)) for k, v in res.items() if not k.startswith("_"))))
        f.write("share of samples by object (self):\n")
        f.writelines("  %6.2f%%  %s\n" % r for r in dso)
        f.write("\ntop symbols by self time:\n")
        f.writelines("  %6.2f%%  %s\n" % r for r in self_syms[:40])
        f.write("\ntop symbols including callees (where the time goes):\n")
        f.writelines("  %6.2f%%  %s\n" % r for r in incl[:60])
    runner.log("  profile written: %s" % report)
    return {"report": report, "by_object": dso, "top_self": self_syms[:12], "top_inclusive": incl[:25]}


# ----------------------------------------------------------------------------------------
# Statistics, table, JSON, chart.

def summarize(samples):
    vals = [v for v in samples if v is not None]
    if not vals:
        return None
    med = statistics.median(vals)
    spread = (max(vals) - min(vals)) / 2 / med * 100 if med else 0.0
    return {"median": med, "min": min(vals), "max": max(vals), "n": len(vals),
            "spread_pct": spread, "samples": vals}


def fmt(v):
    if v is None:
        return "n/a"
    if v >= 1e5:
        return "%.0f" % v
    if v >= 100:
        return "%.1f" % v
    if v >= 1:
        return "%.2f" % v
    return "%.4f" % v


def build_results(cfg, samples, failures, targets, meta):
    rows = []
    for key, name, unit, better, tool in ROWS:
        entry = {"metric": key, "workload": name, "unit": unit, "better": better, "tool": tool}
        for tk in ("tapstack", "kernel", "ref2"):
            # Only this row's own samples: a row never borrows another workload's figure
            # (the offload download is not the plain-frames download).
            s = summarize(samples.get((tk, KERNEL_OF.get(key, key) if tk == "kernel" else key), []))
            entry[tk] = s
            if s is None and failures.get((tk, key)):
                entry[tk + "_error"] = failures[(tk, key)]
        entry["ref2_name"] = samples.get(("ref2name", key))
        ts, k = entry["tapstack"], entry["kernel"]
        entry["ratio"] = ts["median"] / k["median"] if ts and k and k["median"] else None
        # The TAP's own TCP ceiling measured in this run, for the plain-frame rows only.
        c = (meta.get("tap_write_ceiling") or {}).get(CEILING_OF.get(key, ""))
        entry["ceiling"] = c["gbps_median"] if c else None
        entry["ratio_ceiling"] = ts["median"] / entry["ceiling"] if ts and entry["ceiling"] else None
        rows.append(entry)
    return {"meta": meta, "targets": {t.key: {"label": t.label, "unavailable": t.unavailable}
                                      for t in targets if t},
            "rows": rows}


def print_table(res):
    hdr = ("workload", "unit", "tapstack", "kernel", "ts/kernel", "ts/TAP", "spread ts/k", "2nd ref")
    lines = []
    for r in res["rows"]:
        ts, k, r2 = r["tapstack"], r["kernel"], r["ref2"]
        # A workload left out with --only (or that failed) still has its row, saying n/a:
        # the reader sees what was not measured instead of a gap that hides it.
        spread = "%s/%s" % ("±%.0f%%" % ts["spread_pct"] if ts else "-",
                            "±%.0f%%" % k["spread_pct"] if k else "-")
        ref = "%s %s" % (r["ref2_name"], fmt(r2["median"])) if r2 else "-"
        lines.append((r["workload"], r["unit"], fmt(ts["median"] if ts else None),
                      fmt(k["median"] if k else None),
                      "%.2f" % r["ratio"] if r["ratio"] is not None else "n/a",
                      "%.2f" % r["ratio_ceiling"] if r.get("ratio_ceiling") is not None else
                      "n/a" if r["metric"] in CEILING_OF else "-", spread, ref))
    widths = [max(len(str(x[i])) for x in lines + [hdr]) for i in range(len(hdr))]
    out = []
    for row in [hdr] + lines:
        out.append("  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w)
                             for i, (c, w) in enumerate(zip(row, widths))))
        if row is hdr:
            out.append("-" * len(out[0]))
    return "\n".join(out)


def med(res, key, side="tapstack"):
    for r in res["rows"]:
        if r["metric"] == key and r[side]:
            return r[side]["median"]
    return None


def check_targets(res, cfg):
    """The issue's targets, read off this run, each with the evidence of what limits it:
    how busy tapstack's process was (CPU seconds per unit times the rate it reached) and,
    with --profile, where its time went. Returns printable lines; asserts nothing."""
    lines = []
    prof = res["meta"].get("profiles") or {}

    def busy(cpu_key, rate, per):
        """(server, client) share of one core during the run."""
        cpu, tot = med(res, cpu_key), med(res, cpu_key.replace("_server", "_total"))
        if cpu is None or not rate:
            return None
        return cpu * rate / per, (tot - cpu) * rate / per if tot is not None else None

    def why(b, pname):
        out = []
        if b is not None:
            srv, cli = b
            cli_txt = "; the Linux client used %.0f%% of a core" % (cli * 100) if cli is not None else ""
            if srv < 0.8 and (cli is None or cli < 0.8):
                out.append("tapstack's process was busy %.0f%% of the time%s: neither is CPU-bound, so "
                           "waiting (window, buffers, ACK clocking, wake-ups) limits it, or other "
                           "processes had the cores (load average %s)" % (
                               srv * 100, cli_txt, " ".join(res["meta"].get("loadavg_end", ["?"]))))
            elif srv < 0.8:
                out.append("tapstack's process was busy %.0f%%%s: the client (and the shared 2 cores) "
                           "limit this row, not tapstack" % (srv * 100, cli_txt))
            else:
                out.append("CPU-bound: tapstack's process used %.0f%% of a core%s" % (srv * 100, cli_txt))
        p = prof.get(pname)
        if p and p.get("by_object"):
            out.append("profile: " + ", ".join("%.0f%% %s" % (pc, o) for pc, o in p["by_object"][:3]) +
                       "; top: " + ", ".join("%s %.0f%%" % (n.split()[-1], pc) for pc, n in p["top_self"][:4]) +
                       " (%s)" % p["report"])
        return out

    def line(ok, text, value, unit, notes):
        lines.append("  [%s] %-46s %s %s" % ("met" if ok else "MISSED" if ok is not None else "n/a",
                                             text, fmt(value), unit))
        if ok is False:
            lines.extend("         " + n for n in notes)

    # Plain frames: tapstack --no-offload (one write()/read() per frame); then with TSO/GSO
    # and checksum offload through IFF_VNET_HDR (tapstack's default).
    for key, text, gbps_target in (("download_gbps_plain", "bulk download >= 4 Gbit/s (plain frames)", 4.0),
                                   ("upload_gbps_plain", "bulk upload >= 4 Gbit/s (plain frames)", 4.0),
                                   ("download_gbps", "bulk download >= 10 Gbit/s (offload)", 10.0),
                                   ("upload_gbps", "bulk upload >= 10 Gbit/s (offload)", 10.0)):
        v = med(res, key)
        side = key.split("_")[0]
        plain = key.endswith("_plain")
        # (the profiles are of the offload runs: not shown under the plain rows)
        notes = why(busy(side + "_cpu_server", v, 8) if not plain else None, side if not plain else "-") if v else []
        if v and plain:
            notes.insert(0, "%.0fk segments/s of 1448 bytes, one write()/read() each; TAP ceiling "
                         "this run: %s frames/s" % (v * 1e9 / 8 / 1448 / 1e3, fmt(
                             (res["meta"].get("tap_write_ceiling", {}).get("frames_1514") or {}).get("fps_median"))))
        line(v >= gbps_target if v else None, text, v, "Gbit/s", notes)
    # Issue 13: plain frames against the TAP's own ceiling and the kernel's veth, same run.
    for key, what in (("download_gbps_plain", "download"), ("upload_gbps_plain", "upload")):
        r = next(x for x in res["rows"] if x["metric"] == key)
        rc = r.get("ratio_ceiling")
        line(rc >= 0.9 if rc is not None else None, "%s, plain frames >= 0.9x the TAP ceiling" % what, rc,
             "x", ["TAP ceiling this run (tapceil, kernel TCP endpoint): %s Gbit/s" % fmt(r.get("ceiling"))])
        line(r["ratio"] >= 0.8 if r["ratio"] is not None else None,
             "%s, plain frames >= 0.8x the kernel's veth" % what, r["ratio"], "x", [])
    for key, text, target, pname in (("keepalive_rps", "keep-alive >= 200k req/s and above kernel", 200000, "keepalive"),
                                     ("close_rps", "new connections >= 40k/s and above kernel", 40000, "close")):
        v, k = med(res, key), med(res, key, "kernel")
        cpu_key = "keepalive_cpu_server" if pname == "keepalive" else "close_cpu_server"
        # Both halves must have been measured in this run; otherwise the target is n/a.
        ok = (v >= target and v > k) if v and k else None
        line(ok, text, v, "req/s", why(busy(cpu_key, v, 1e4), pname) if v else [])
    # Issue 13's ratios to the kernel, same run: offload, requests, CPU per request.
    for key, text, target, pname in (
            ("download_gbps", "offload download >= 2.0x the kernel's", 2.0, "download"),
            ("upload_gbps", "offload upload >= 1.0x the kernel's", 1.0, "upload"),
            ("keepalive_rps", "keep-alive >= 1.5x the kernel's req/s", 1.5, "keepalive"),
            ("close_rps", "new connections >= 1.5x the kernel's", 1.5, "close"),
            ("idle_held_rps", "keep-alive, 10,000 idle held, >= 1.2x the kernel's", 1.2, "-")):
        v, k = med(res, key), med(res, key, "kernel")
        per = 8 if key.endswith("_gbps") else 1e4
        cpu_key = {"download": "download_cpu_server", "upload": "upload_cpu_server",
                   "keepalive": "keepalive_cpu_server", "close": "close_cpu_server"}.get(pname)
        line(v >= target * k if v and k else None, text, v / k if v and k else None, "x",
             (why(busy(cpu_key, v, per), pname) if cpu_key else []) +
             ["both sides share the 2 cores with the client: docs/performance.md, 'What limits tapstack'"])
    v, k = med(res, "keepalive_cpu_server"), med(res, "keepalive_cpu_server", "kernel")
    line(v <= 0.5 * k if v and k else None, "keep-alive server CPU <= 0.5x the kernel's per request",
         v / k if v and k else None, "x",
         ["most of tapstack's CPU per request is the kernel's work inside its system calls: the TAP write "
          "runs the client's TCP receive (docs/performance.md, 'What limits tapstack')"])
    # Issue 8: unmodified nginx on tapstack against nginx on the kernel, same conf.
    for key, text, ratio in (("nginx_keepalive_rps", "nginx keep-alive >= 1.2x nginx on the kernel", 1.2),
                             ("nginx_close_rps", "nginx new connections >= 1.2x the kernel's", 1.2),
                             ("nginx_download_gbps", "nginx download >= 1.0x the kernel's (offload)", 1.0)):
        v, k = med(res, key), med(res, key, "kernel")
        line(v >= ratio * k if v and k else None, text, v, "(kernel %s)" % fmt(k),
             ["nginx's own work per request is the same on both sides; the preload library writes one TAP frame "
              "per write() with the plain back end (io_uring's rings are not shared across fork): "
              "docs/performance.md, 'nginx on tapstack'; run with --profile for where the time goes"])
    v, k = med(res, "rtt_median"), med(res, "rtt_median", "kernel")
    line(v <= k if v and k else None, "1-byte RTT no slower than the kernel (%s us)" % fmt(k), v, "us",
         ["tapstack's median is above the kernel's in this run"])
    v, spin = med(res, "rtt_median_busy"), med(res, "rtt_median_busy_spin")
    line(v < 20 if v else None, "1-byte RTT under 20 us with --busy-poll %d" % BUSY_POLL_USEC, v, "us",
         ["with busy-poll tapstack skips the sleep, not the kernel's work behind the TAP"] +
         (["the same with the client polling instead of sleeping: %s us, so %s us of the median is the "
           "client's own wake-up (docs/performance.md, 'Busy-poll')" % (fmt(spin), fmt(v - spin))]
          if v and spin else []))
    v = med(res, "idle_rss_per_conn")
    total = v * 10000 / 2**20 if v is not None else None
    line(total < 40 if total is not None else None,
         "10,000 idle connections < 40 MiB%s" % (" (extrapolated from %d)" % cfg.idle_conns
                                                  if cfg.idle_conns != 10000 else ""),
         total, "MiB", ["%s bytes per connection in tapstack's RSS" % fmt(v)])
    # Issue 13: the whole process with 100,000 idle connections, extrapolated from this run:
    # its resident memory before the connections plus 100,000 times the growth per connection.
    base_kib = res["meta"].get("idle_rss_base_kib")
    total = (base_kib * 1024 + v * 100000) / 2**20 if base_kib is not None and v is not None else None
    line(total < 150 if total is not None else None,
         "100,000 idle connections < 150 MiB resident (extrapolated)", total, "MiB",
         ["%s bytes per idle connection and %s MiB before them: struct tcp_conn alone is about 1.6 KiB "
          "(docs/performance.md, 'Memory per idle connection')" % (fmt(v), fmt((base_kib or 0) / 1024))])
    return lines


def write_chart(res, cfg):
    if not shutil.which("gnuplot"):
        return None
    png = os.path.join(cfg.out, "ratios.png")
    dat = os.path.join(cfg.out, "ratios.dat")
    n, advs = 0, []
    with open(dat, "w") as f:
        for r in res["rows"]:
            if r["ratio"] is None:
                continue
            # Plotted as "tapstack advantage": > 1 means tapstack did better, whichever way
            # the metric points (lower-is-better metrics are inverted).
            adv = r["ratio"] if r["better"] == "higher" else 1 / r["ratio"] if r["ratio"] else 0
            adv = min(max(adv, 1e-3), 1e3)
            advs.append(adv)
            f.write('%d "%s" %.4f %d\n' % (n, r["workload"].replace('"', "'"), adv,
                                          0x2e8b57 if adv >= 1 else 0xc0392b))
            n += 1
    script = ["set terminal pngcairo size 1200,720 noenhanced",
              "set output '%s'" % png,
              "set title 'tapstack vs Linux kernel (same demo apps, same run): bar above 1 = tapstack better'",
              "set ylabel 'tapstack advantage (x, log scale)'",
              "set style fill solid 0.8 border -1", "set grid ytics",
              "set xtics rotate by -35 left", "set bmargin 11"]
    if n:
        # Bars grow from the parity line (1) up or down, so a log scale reads both ways.
        script += ["set xrange [-0.6:%f]" % (n - 0.4), "set logscale y 2",
                   "set yrange [%g:%g]" % (min(0.5, min(advs) / 1.5), max(2.0, max(advs) * 1.5)),
                   "plot '%s' using 1:3:($1-0.3):($1+0.3):($3<1?$3:1):($3<1?1:$3):4:xtic(2) "
                   "with boxxyerror lc rgb variable notitle, "
                   "1 with lines lc rgb 'black' dt 2 title 'parity'" % dat]
    else:
        why = res["targets"].get("tapstack", {}).get("unavailable") or "no ratios"
        script += ["set xrange [0:1]", "set yrange [0:2]", "unset xtics",
                   "set label 1 'no tapstack numbers in this run: %s' at graph 0.02,0.6" % why.replace("'", ""),
                   "plot 1 with lines lc rgb 'red' dt 2 title 'parity'"]
    r = subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True,
                       stderr=subprocess.PIPE, timeout=60)
    if r.returncode != 0:
        print("gnuplot failed: " + r.stderr.strip(), file=sys.stderr)
        return None
    return png


# ----------------------------------------------------------------------------------------

def parse_args():
    ap = argparse.ArgumentParser(description="tapstack vs Linux kernel benchmark (run as root)")
    ap.add_argument("--quick", action="store_true", help="smoke run, under a minute")
    ap.add_argument("--reps", type=int, help="repetitions per workload and target")
    ap.add_argument("--build", default="build", help="build directory (tapstack, benchcli)")
    ap.add_argument("--only", default="", help="comma list: download,upload,plain,io,keepalive,close,rtt,busypoll,idle,nginx")
    ap.add_argument("--profile", action="store_true", help="perf record tapstack (download, keep-alive)")
    ap.add_argument("--kernel-cmd", default="", help="kernel-side server command (ports 80/7/9)")
    ap.add_argument("--tapstack-args", default="", help="extra arguments for build/tapstack")
    ap.add_argument("--no-install", action="store_true", help="do not apt-get missing tools")
    ap.add_argument("--addr", default=TS_ADDR, help="tapstack's address on the TAP (default %(default)s; make bench ADDR=)")
    ap.add_argument("--peer", default=TS_PEER, help="the TAP's kernel side (default %(default)s; make bench PEER=)")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    for name, val in (("--addr", a.addr.split("/")[0]), ("--peer", a.peer)):
        try:
            socket.inet_pton(socket.AF_INET, val)
        except OSError:
            ap.error("%s: not an IPv4 address: %r" % (name, val))
    addr, _, plen = a.addr.partition("/")
    try:
        net = ipaddress.ip_interface("%s/%s" % (addr, plen or 24)).network
    except ValueError as e:
        ap.error("--addr: %s" % e)
    if ipaddress.ip_address(a.peer) not in net or a.peer == addr:
        ap.error("--peer %s is not another address of %s" % (a.peer, net))
    set_ts_addresses(addr, a.peer, net.prefixlen)
    a.here = os.path.dirname(os.path.abspath(__file__))
    a.out = os.path.join(a.build, "bench")
    a.benchcli = os.path.abspath(os.path.join(a.out, "benchcli"))
    a.tapceil = os.path.abspath(os.path.join(a.out, "tapceil"))
    a.tapstack_args = a.tapstack_args.split()
    a.start_timeout_s = 5
    if a.quick:
        a.reps = a.reps or 2
        a.download_bytes = a.upload_bytes = 100 * 1000 * 1000
        a.bulk_max_s, a.wrk_s, a.rtt_count, a.rtt_max_s = 5, 2, 2000, 1.0
        a.idle_conns, a.idle_reps, a.idle_hold_max_s, a.iperf_s = 1000, 1, 30, 1
        a.tapwrite_s = 0.5
    else:
        a.reps = a.reps or 5
        a.download_bytes = a.upload_bytes = 1000 * 1000 * 1000
        a.bulk_max_s, a.wrk_s, a.rtt_count, a.rtt_max_s = 60, 5, 20000, 3.0
        a.idle_conns, a.idle_reps, a.idle_hold_max_s, a.iperf_s = 10000, 3, 90, 3
        a.tapwrite_s = 1.0
    a.wrk_threads, a.connections = 1, 32
    a.only = set(x for x in a.only.split(",") if x)
    return a


def main():
    cfg = parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: needs root (network namespaces, a TAP device): sudo make bench")
    if not os.access(cfg.benchcli, os.X_OK):
        sys.exit("bench: %s missing; run it through `make bench`" % cfg.benchcli)
    os.makedirs(cfg.out, exist_ok=True)
    t_start = time.monotonic()
    cpu_start = cpu_times()
    tmp = tempfile.mkdtemp(prefix="tsbench-")
    os.chmod(tmp, 0o755)
    logdir = os.path.join(cfg.out, "logs")
    shutil.rmtree(logdir, ignore_errors=True)
    os.makedirs(logdir)
    runner = Runner("tsb%d" % os.getpid(), tmp, logdir, cfg.verbose)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    atexit.register(lambda: shutil.rmtree(tmp, ignore_errors=True))
    atexit.register(runner.cleanup)   # runs first (LIFO): processes, then namespaces

    ensure_tools(runner, cfg.no_install, cfg.profile)
    ns_ts, ns_kc, ns_ks, tap = setup_netns(runner, os.getpid())
    runner.log("namespaces: %s (TAP %s), %s <-veth-> %s" % (ns_ts, tap, ns_kc, ns_ks))
    ceiling = tap_ceiling(runner, cfg, ns_ts, os.getpid())
    ts = start_tapstack(runner, cfg, ns_ts, tap)
    ts_io = getattr(ts, "io", "?")    # the default back end, for the rows without --io plain
    kern = start_kernel(runner, cfg, ns_ks, ns_kc)
    ngx = start_nginx(runner, cfg, ns_ks, ns_kc)
    ipf = start_iperf(runner, cfg, ns_ks, ns_kc) if not cfg.quick else None
    ngx_ts = start_nginx_ts(runner, cfg, ns_ts, tap)
    for t in (ts, kern, ngx, ipf):
        if t:
            runner.log("target %-9s %s" % (t.key, t.unavailable or "%s, pid %d" % (t.label, t.proc.pid)))
    for note in getattr(kern, "notes", []):
        runner.log("  note: " + note)

    samples, failures, skip = {}, {}, set()
    client_errors = {}       # (target, workload) -> wrk errors summed over the repetitions

    def record(tkey, res, ref2name=None):
        for k, v in res.items():
            if k.startswith("_"):
                continue
            samples.setdefault((tkey, k), []).append(v)
            if ref2name:
                samples[("ref2name", k)] = ref2name

    def fail(tkey, keys, reason):
        for k in keys:
            failures.setdefault((tkey, k), reason)

    workloads = [
        ("download", w_download, ["download_gbps", "download_cpu_server", "download_cpu_total"],
         [(ngx, "nginx", w_download), (ipf, "iperf3", lambda t, c: w_iperf(t, c, True))]),
        ("upload", w_upload, ["upload_gbps", "upload_cpu_server", "upload_cpu_total"],
         [(ipf, "iperf3", lambda t, c: w_iperf(t, c, False))]),
        ("plain", None, ["download_gbps_plain", "upload_gbps_plain"], []),
        ("io", None, ["download_gbps_ioplain", "upload_gbps_ioplain", "download_gbps_plain_ioplain",
                      "upload_gbps_plain_ioplain"], []),
        ("keepalive", w_keepalive, ["keepalive_rps", "keepalive_cpu_server", "keepalive_cpu_total"],
         [(ngx, "nginx", w_keepalive)]),
        ("close", w_close, ["close_rps", "close_cpu_server", "close_cpu_total"], [(ngx, "nginx", w_close)]),
        ("rtt", w_rtt, ["rtt_median", "rtt_p99"], []),
        ("busypoll", None, ["rtt_median_busy", "rtt_median_busy_spin"], []),
        ("idle", lambda t, c: w_idle(t, c, runner), ["idle_rss_per_conn", "idle_held_rps"],
         [(ngx, "nginx", lambda t, c: w_idle(t, c, runner))]),
        ("nginx", w_nginx, ["nginx_keepalive_rps", "nginx_close_rps", "nginx_download_gbps"], []),
    ]
    for name, fn, keys, refs in workloads:
        if cfg.only and name not in cfg.only:
            continue
        reps = cfg.idle_reps if name == "idle" else cfg.reps
        runner.log("workload %s: %d reps" % (name, reps))
        if name == "nginx":
            # nginx on tapstack takes the TAP from the demo servers for these reps.
            if ts.proc and ts.proc in runner.procs:
                runner.stop(ts.proc)
            if not ngx_ts.unavailable:
                ngx_ts.relaunch(ngx_ts)
        # The 2nd-ref column: nginx for HTTP rows, iperf3 for bulk rows nginx cannot serve.
        ref = next(((rt, rn, rf) for rt, rn, rf in refs if rt and not rt.unavailable), None)
        for rep in range(reps):
            plan = [("tapstack", ts, fn, None), ("kernel", kern, fn, None)]
            if name == "plain":
                # Both without offloads: tapstack restarted with --no-offload, the kernel
                # with the veth's offloads off.
                plan = [("tapstack", ts, w_ts_plain, None), ("kernel", kern, lambda t, c: dict(
                    w_plain(t, c, runner, w_download), **w_plain(t, c, runner, w_upload)), None)]
            if name == "io":
                # tapstack only: the kernel column is the download/upload/plain workloads' own.
                plan = [("tapstack", ts, w_ts_ioplain, None)]
            if name == "busypoll":
                plan = [("tapstack", ts, w_ts_busy, None),
                        ("kernel", kern, w_busy_rtts, None)]
            if name == "nginx":
                plan = [("tapstack", ngx_ts, fn, None), ("kernel", ngx, fn, None)]
            if ref:
                plan.append(("ref2", ref[0], ref[2], ref[1]))
            for tkey, t, f, rname in plan:
                if (name, tkey) in skip:
                    continue
                try:
                    res = f(t, cfg)
                    record(tkey, res, rname)
                    errs = res.get("_errors", 0)
                    if errs:
                        client_errors[(tkey, name)] = client_errors.get((tkey, name), 0) + errs
                    runner.log("  rep %d %-8s %s%s" % (rep + 1, tkey, " ".join(
                        "%s=%s" % (k, fmt(v)) for k, v in res.items() if not k.startswith("_")),
                        " (errors %d)" % errs if errs else ""))
                except BenchFail as e:
                    fail(tkey, keys, str(e))
                    skip.add((name, tkey))     # bounded time: no more reps of a failing one
                    if rep == 0 or not t.unavailable:
                        runner.log("  rep %d %-8s failed: %s" % (rep + 1, tkey, e))
        if name == "nginx":
            if ngx_ts.proc and ngx_ts.proc in runner.procs:
                runner.stop(ngx_ts.proc)
            if ts.relaunch:
                ts.relaunch(ts)
    profiles = {}
    if cfg.profile and not ts.unavailable:
        runner.log("profiling tapstack with perf record -e cpu-clock")
        for pname, pfn in (("download", w_download), ("upload", w_upload), ("keepalive", w_keepalive),
                           ("close", w_close)):
            profiles[pname] = profile(runner, cfg, ts, pname, pfn)

    meta = {"date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "kernel": platform.release(), "cpus": os.cpu_count(),
            "cpu_model": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                               if l.startswith("model name")), "?"),
            "loadavg_end": open("/proc/loadavg").read().split()[:3],
            "steal_share": round(steal_share(cpu_start, cpu_times()), 4),
            "quick": cfg.quick, "reps": cfg.reps, "duration_s": round(time.monotonic() - t_start, 1),
            "kernel_server": kern.label, "download_bytes": cfg.download_bytes,
            "upload_bytes": cfg.upload_bytes, "wrk": "-t%d -c%d -d%ds" % (cfg.wrk_threads, cfg.connections, cfg.wrk_s),
            "idle_conns": cfg.idle_conns, "tap_write_ceiling": ceiling, "tapstack_io": ts_io, "tools": tool_versions(),
            "topology": {"tapstack": "%s: TAP, kernel side %s, tapstack %s" % (ns_ts, TS_PEER, TS_ADDR),
                         "kernel": "%s %s <-veth-> %s %s" % (ns_kc, K_PEER, ns_ks, K_ADDR)}}
    meta["tapstack_crashes"] = ts.crashes
    meta["client_errors"] = {"%s/%s" % k: v for k, v in client_errors.items()}
    meta["profiles"] = profiles
    # The server's resident memory before the idle connections (issue 13's 100,000 target).
    base = sorted(samples.get(("tapstack", "idle_rss_base_kib"), []))
    meta["idle_rss_base_kib"] = base[len(base) // 2] if base else None
    res = build_results(cfg, samples, failures, [ts, kern, ngx, ipf], meta)
    with open(os.path.join(cfg.out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    png = write_chart(res, cfg)

    print()
    print("tapstack vs Linux kernel, %s, median of %d reps (idle: %d), %s%s" % (
        meta["date_utc"], cfg.reps, cfg.idle_reps, "quick" if cfg.quick else "full",
        ", load %s" % " ".join(meta["loadavg_end"])))
    print(print_table(res))
    if steal_line(meta["steal_share"]):
        print(steal_line(meta["steal_share"]))
    print()
    print("ratio = tapstack / kernel (check the unit's direction); ts/TAP = tapstack / the TAP's own TCP "
          "ceiling of this run (plain-frame rows); spread = ±half the min-max range")
    if any(k[0] == "tapstack" for k in samples):
        print("targets (issues 5, 8 and 13), read off this run (analysis: docs/performance.md):")
        for line in check_targets(res, cfg):
            print(line)
    print("tapstack's I/O back end: %s in every row not marked --io plain (its start-up line); the --io plain "
          "rows' kernel column is the same workload's kernel figure" % ts_io)
    print("kernel = %s on a veth pair (%s); tapstack on a TAP (%s); 2nd ref in the kernel namespace" % (
        kern.label, meta["topology"]["kernel"], meta["topology"]["tapstack"]))
    for key, text in (("frames_1514", "one 1514-byte frame per write()"),
                      ("frames_60", "one 60-byte frame per write()"),
                      ("gso_65549", "one 64 KiB TCP GSO frame per write(), IFF_VNET_HDR (tapgso)")):
        c = ceiling.get(key)
        if c:
            print("TAP device ceiling (benchcli, idle TAP, frames dropped unread by the kernel), %s: "
                  "%.3f Mframes/s = %.2f Gbit/s" % (text, c["fps_median"] / 1e6, c["gbps_median"]))
    for key, text in (("tcp_download", "1448-byte segments into a kernel socket (download ceiling)"),
                      ("tcp_upload", "1448-byte segments out of a kernel socket (upload ceiling)")):
        c = ceiling.get(key)
        print("TAP ceiling with a kernel TCP endpoint (tapceil, plain frames), %s: %s Gbit/s" % (
            text, fmt(c["gbps_median"]) if c else "n/a"))
    print("tool versions: " + "; ".join(v.split(" (")[0].split(" Copyright")[0]
                                         for v in meta["tools"].values()))
    print("measured with:")
    for r in ROWS:
        print("  %-28s %s" % (r[1], r[4]))
    for t in (ts, kern, ngx, ipf):
        if t and t.unavailable:
            print("%s: %s" % (t.key, t.unavailable))
    for why in ts.crashes:
        print("tapstack crashed during the run: " + why)
    for (tk, wl), n in sorted(client_errors.items()):
        print("wrk reported %d errors (non-2xx or socket errors) against %s in %s" % (n, tk, wl))
    for (tk, key), why in sorted(failures.items()):
        if not samples.get((tk, key)) and not (tk == "tapstack" and ts.unavailable):
            print("failed %s %s: %s" % (tk, key, why))
    print("written: %s%s" % (os.path.join(cfg.out, "results.json"), ", " + png if png else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
