#!/usr/bin/env python3
"""clients.py - the slow clients of `make stress` (scripts/stress.sh), bounded in number and
time: run only inside the namespace the script made.

  clients.py slowloris HOST PORT N SECONDS   N connections sending a request head one header
                                             line every 5 s, never finishing it
  clients.py noread HOST PORT N SECONDS      N connections asking for 100 MB and never reading
Prints how many connections were opened, how many the server closed, and how many of those
in the first 50 s, before a 60 s header deadline (a per-address limit such as tapstack's --limit-conn)."""
import socket
import sys
import time

mode, host, port, n, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
n = min(n, 20000)
secs = min(secs, 300)
socks = []
t0 = time.time()
for i in range(n):
    try:
        s = socket.create_connection((host, port), timeout=5)
        s.setblocking(False)
        if mode == "slowloris":
            s.send(b"GET / HTTP/1.1\r\nHost: x\r\n")
        else:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.send(b"GET /bytes/100000000 HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(s)
    except OSError:
        pass
    if time.time() - t0 > secs:
        break
opened = len(socks)
closed = early = 0
while time.time() - t0 < secs:
    time.sleep(5)
    alive = []
    for s in socks:
        try:
            if mode == "slowloris":
                s.send(b"X-a: b\r\n")
            alive.append(s)
        except OSError:
            closed += 1
            early += time.time() - t0 < 50
            s.close()
    socks = alive
for s in socks:
    s.close()
print(f"{mode}: {opened} connections opened, {closed} closed by the server ({early} in the first 50 s)")
