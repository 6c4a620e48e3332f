#!/usr/bin/env python3
"""conn_check.py - checks what the HTTP server's page says about a visitor's connection
against tapstack's own --trace of that same connection (tests/net/test_http_conn.sh).

    conn_check.py json|html PAGE TRACE

PAGE is GET /conn's JSON or the index page's HTML (as a browser rendered it); TRACE is the
stack's log with --trace lines. The connection is the one whose client port the page names.
Checked: the SYN's sequence number, window, MSS, window scale, SACK-permitted and TSval; the
SYN-ACK's sequence number, window, MSS and window scale; and that the moments of the final
ACK and of accept() after the SYN agree with the trace's timestamps within 50 ms. Prints
one line per check ("ok ..." or "MISMATCH ...") and exits 1 on any mismatch.
"""
import json
import re
import sys

TOLERANCE_US = 50000


def page_values(kind, text):
    if kind == "json":
        j = json.loads(text)
        s, a, m = j["syn"], j["synack"], j["moments_us"]
        return {
            "port": int(j["client"].rsplit(":", 1)[1]),
            "syn-isn": s["isn"], "syn-win": s["window"], "syn-mss": s["mss"],
            "syn-wscale": s["wscale"], "syn-sack": s["sack"], "syn-tsval": s["tsval"],
            "synack-isn": a["isn"], "synack-win": a["window"], "synack-mss": a["mss"],
            "synack-wscale": a["wscale"], "t-ack": m["final_ack_in"], "t-accept": m["accept"],
        }
    cells = dict(re.findall(r'<td id="([a-z-]+)">([^<]*)</td>', text))
    num = lambda k: int(cells[k].split()[0])
    return {
        "port": int(cells["client"].rsplit(":", 1)[1]),
        "syn-isn": num("syn-isn"), "syn-win": num("syn-win"), "syn-mss": num("syn-mss"),
        "syn-wscale": -1 if cells["syn-wscale"] == "none" else num("syn-wscale"),
        "syn-sack": cells["syn-sack"] == "yes", "syn-tsval": num("syn-tsval"),
        "synack-isn": num("synack-isn"), "synack-win": num("synack-win"),
        "synack-mss": num("synack-mss"),
        "synack-wscale": -1 if cells["synack-wscale"] == "none" else num("synack-wscale"),
        "t-ack": num("t-ack"), "t-accept": num("t-accept"),
    }


def usec(stamp):
    h, m, s = stamp.split(":")
    return int((int(h) * 3600 + int(m) * 60 + float(s)) * 1e6)


def opt(options, name, default=-1):
    m = re.search(name + r" (\d+)", options)
    return int(m.group(1)) if m else default


def trace_values(port, text):
    frame = r"^(\S+) (in |out) IP (\S+) > (\S+): Flags \[([^\]]*)\], seq (\d+)(?:, ack (\d+))?, win (\d+)(?:, options \[([^\]]*)\])?"
    syn = synack = ack = acc = None
    for line in text.splitlines():
        m = re.match(frame, line)
        if m:
            t, way, src, dst, flags, seq, ackno, win, options = m.groups()
            options = options or ""
            if way == "in " and src.endswith(f".{port}") and flags == "S" and not syn:
                syn = dict(t=usec(t), seq=int(seq), win=int(win), mss=opt(options, "mss"),
                           wscale=opt(options, "wscale"), sack="sackOK" in options,
                           tsval=opt(options, "TS val"))
            elif way == "out" and dst.endswith(f".{port}") and flags == "S." and not synack:
                synack = dict(t=usec(t), seq=int(seq), win=int(win), mss=opt(options, "mss"),
                              wscale=opt(options, "wscale"))
            elif way == "in " and src.endswith(f".{port}") and flags == "." and synack and not ack:
                ack = dict(t=usec(t))
        m = re.match(r"^(\S+) app http: accept\(\) returned \S+:(\d+)$", line)
        if m and int(m.group(2)) == port and not acc:
            acc = usec(m.group(1))
    return syn, synack, ack, acc


def main():
    kind, page, trace = sys.argv[1:4]
    p = page_values(kind, open(page).read())
    syn, synack, ack, acc = trace_values(p["port"], open(trace).read())
    if not (syn and synack and ack and acc):
        print(f"MISMATCH the trace lacks the handshake of port {p['port']}: "
              f"SYN {bool(syn)}, SYN-ACK {bool(synack)}, ACK {bool(ack)}, accept {bool(acc)}")
        return 1
    checks = [
        ("SYN sequence number", p["syn-isn"], syn["seq"]),
        ("SYN window", p["syn-win"], syn["win"]),
        ("SYN MSS", p["syn-mss"], syn["mss"]),
        ("SYN window scale", p["syn-wscale"], syn["wscale"]),
        ("SYN SACK-permitted", p["syn-sack"], syn["sack"]),
        ("SYN TSval", p["syn-tsval"], syn["tsval"]),
        ("SYN-ACK sequence number", p["synack-isn"], synack["seq"]),
        ("SYN-ACK window", p["synack-win"], synack["win"]),
        ("SYN-ACK MSS", p["synack-mss"], synack["mss"]),
        ("SYN-ACK window scale", p["synack-wscale"], synack["wscale"]),
    ]
    bad = 0
    for what, shown, seen in checks:
        good = shown == seen
        bad += not good
        print(f"{'ok' if good else 'MISMATCH'} {what}: page {shown}, trace {seen}")
    for what, shown, seen in [("final ACK after the SYN", p["t-ack"], ack["t"] - syn["t"]),
                              ("accept() after the SYN", p["t-accept"], acc - syn["t"])]:
        good = abs(shown - seen) <= TOLERANCE_US
        bad += not good
        print(f"{'ok' if good else 'MISMATCH'} {what}: page {shown} us, trace {seen} us")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
