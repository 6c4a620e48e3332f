#!/usr/bin/env python3
"""tests/fuzz/make_seeds.py - writes the seed corpora of the structure-aware fuzz targets
(tcp_states, socket_api and socket_tso, http_parse; drill_parse takes the project's .pkt scripts).
The seeds are committed; run this again after changing an input format (mk/fuzz.mk)."""
import os
import struct

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    # socket_tso (fuzz_socket_tso.c) is socket_api with the offload path: the same seeds
    for t in [target] + (["socket_tso"] if target == "socket_api" else []):
        d = os.path.join(root, t)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def seg(flags, seqd=0, ackd=0, win=0xff, len6=0, sel=0, x=0):
    return bytes([0, flags]) + struct.pack(">hh", seqd, ackd) + bytes([win, len6, sel, x])


def wait(ms):
    return bytes([3]) + struct.pack(">H", ms) + bytes(7)


def call(which, v=0, flag=0):
    return bytes([4, which]) + struct.pack(">H", v) + bytes([flag]) + bytes(5)


def icmp(kind, mtu=0, seqd=0):
    return bytes([6, kind]) + struct.pack(">H", mtu) + bytes([seqd & 0xff]) + bytes(5)


def peer(what, a=0, b=0):
    return bytes([7, what, a, b]) + bytes(6)


STATES = ["listen", "syn_received", "established", "established_data", "close_wait",
          "fin_wait_1", "fin_wait_2", "last_ack", "time_wait", "closing", "syn_sent",
          "established_active"]
ACK, PSH, FIN, SYN, RST = 0x10, 0x08, 0x01, 0x02, 0x04
for i, name in enumerate(STATES):
    ops = (seg(ACK | PSH, len6=100) + wait(200) + call(1, 4096) + call(0, 2000) + wait(300)
           + seg(ACK, sel=0x18, x=3) + seg(ACK | FIN) + wait(61000) + call(8))
    write("tcp_states", name, bytes([i, 7]) + ops)
    write("tcp_states", name + "_rst", bytes([i, 3]) + seg(RST) + seg(RST | ACK, seqd=5) + wait(1000))
    write("tcp_states", name + "_syn", bytes([i, 0]) + seg(SYN) + seg(SYN | ACK, ackd=-1) + wait(3000))
write("tcp_states", "ooo_then_fill", bytes([2, 7]) + seg(ACK, seqd=600, len6=100) + seg(ACK, seqd=1200, len6=100)
      + seg(ACK, len6=100) + call(1, 8000) + wait(100))
write("tcp_states", "zero_window_persist", bytes([2, 0]) + seg(ACK, win=0) + call(0, 60000) + wait(5000)
      + wait(20000) + seg(ACK, win=0xff) + wait(500))
write("tcp_states", "syn_cookies", bytes([0, 7]) + peer(1, 12, 0) + peer(0, 5, 1) + seg(SYN) + seg(ACK)
      + seg(ACK | PSH, len6=50) + peer(0, 6, 2) + seg(SYN) + wait(10) + seg(ACK) + call(4) + call(1, 500))
write("tcp_states", "fragments", bytes([2, 0]) + peer(2, 101) + seg(ACK | PSH, len6=200) + peer(2, 100)
      + seg(ACK | PSH, len6=200) + wait(31000) + peer(2, 0) + seg(ACK, len6=10))
write("tcp_states", "icmp_errors", bytes([3, 7]) + icmp(0, 1200) + wait(10) + icmp(0, 300) + icmp(1) + icmp(3)
      + icmp(4) + icmp(2, 0, -3) + wait(2000) + icmp(5) + icmp(6))
write("tcp_states", "accept_queue_full", bytes([0, 0]) + peer(1, 14, 1) + peer(1, 3, 3) + wait(1000) + wait(3000))
write("tcp_states", "keepalive", bytes([2, 1]) + call(7, 3, 0) + wait(5000) + wait(5000) + wait(20000) + wait(20000))
write("tcp_states", "retransmit_until_timeout", bytes([3, 1]) + wait(65000) + wait(65000) + wait(65000))


def sop(side, c, fd=0, a=0, b=0):
    return bytes([(c << 1) | side, fd]) + struct.pack(">HH", a, b)


SOCKET, BIND, LISTEN, CONNECT, ACCEPT, SEND, RECV, SHUTDOWN, CLOSE, SETOPT, GETOPT, POLL = range(12)
TIME = 15
conv = (sop(0, SOCKET, a=1) + sop(0, BIND, 0, 80, 2) + sop(0, LISTEN, 0, 0, 8)
        + sop(1, SOCKET, a=1) + sop(1, CONNECT, 0, 80, 1) + sop(0, TIME, 0, 10, 0)
        + sop(0, ACCEPT, 0, 0, 1) + sop(1, SEND, 0, 3000, 1) + sop(0, TIME, 0, 10, 0)
        + sop(0, RECV, 1, 4000, 0) + sop(0, SEND, 1, 100, 1) + sop(1, RECV, 0, 200, 0)
        + sop(1, SHUTDOWN, 0, 0, 1) + sop(0, CLOSE, 1) + sop(0, TIME, 0, 70, 1) + sop(1, CLOSE, 0))
write("socket_api", "conversation", conv)
write("socket_api", "options", sop(0, SOCKET, a=1) + sop(0, SETOPT, 0, 2 * 7, 4096) + sop(0, GETOPT, 0, 2 * 7 + 1, 104)
      + sop(0, POLL, 0, 1, 1) + sop(0, CLOSE, 0) + sop(0, CLOSE, 0))
write("socket_api", "refused", sop(1, SOCKET, a=1) + sop(1, CONNECT, 0, 81, 1) + sop(1, TIME, 0, 10, 0)
      + sop(1, RECV, 0, 10, 0) + sop(1, SEND, 0, 10, 0))


def mop(side, c, fd=0, hi=0, flags=0, niov=0, name=0):
    """A vector or address call (fuzz_socket_api.c fz_msg_op): c 0 sendmsg, 1 recvmsg,
    2 sendto, 3 recvfrom; hi * 256 + flags is the first iovec's length, flags also the MSG_
    bits, niov 0-2 for 1-3 iovecs, name bit 0 an address, 1 its full length, 2 a control buffer."""
    return bytes([0xE0 | (c << 1) | side, fd, hi, flags, niov, name])


SENDMSG, RECVMSG, SENDTO, RECVFROM = range(4)
# UDP both ways through sendmsg/recvmsg and sendto/recvfrom, and a TCP conversation by vectors
write("socket_api", "udp_msgs", sop(0, SOCKET, a=2) + sop(0, BIND, 0, 83, 2) + sop(1, SOCKET, a=2)
      + mop(1, SENDMSG, 0, 0x13, 0x01, 1, 3) + sop(0, TIME, 0, 1, 0) + mop(0, RECVMSG, 0, 0x01, 0, 2, 7)
      + mop(1, SENDTO, 0, 0x07, 0x01, 0, 3) + sop(0, TIME, 0, 1, 0) + mop(0, RECVFROM, 0, 0x01, 0x02, 0, 3))
write("socket_api", "tcp_msgs", conv[:6 * 7] + mop(1, SENDMSG, 0, 0x20, 0x01, 2, 0) + sop(0, TIME, 0, 10, 0)
      + mop(0, RECVMSG, 1, 0x10, 0x02, 2, 4) + mop(0, RECVMSG, 1, 0x40, 0x24, 1, 1))


def eop(side, c, fd=0, p2=0, p3=0, p4=0, p5=0):
    """A readiness call (fuzz_socket_api.c fz_epoll_op): c 0 create, 1 ctl (p2 % 3: add, del,
    mod; p3 odd: no event), 2 ctl with any op, 3 collect (p5 at most), 4 pending, 5 notify
    (p5 odd: on), 6 sleepers (p5 odd: +1, else -1); fd the set, p4 the socket, p5 the events."""
    return bytes([0xC0 | (c << 1) | side, fd, p2, p3, p4, p5])


CREATE, CTL, CTL_ANY, COLLECT, PENDING, NOTIFY, SLEEPERS = range(7)
# a listener and an accepted connection in one set: readable, writable, closed while registered
write("socket_api", "epoll", sop(0, SOCKET, a=1) + sop(0, BIND, 0, 80, 2) + sop(0, LISTEN, 0, 0, 8)
      + eop(0, CREATE) + eop(0, CTL, 1, 0, 0, 0, 0x01) + eop(0, NOTIFY, 1, p5=1) + eop(0, SLEEPERS, 1, p5=1)
      + sop(1, SOCKET, a=1) + sop(1, CONNECT, 0, 80, 1) + sop(0, TIME, 0, 10, 0) + eop(0, PENDING, 1)
      + eop(0, COLLECT, 1, p5=8) + sop(0, ACCEPT, 0, 0, 1) + eop(0, CTL, 1, 0, 0, 2, 0x05)
      + sop(1, SEND, 0, 3000, 1) + sop(0, TIME, 0, 10, 0) + eop(0, COLLECT, 1, p5=8)
      + eop(0, CTL, 1, 0, 0, 1, 0x01) + eop(0, CTL, 1, 2, 0, 2, 0x04) + eop(0, SLEEPERS, 1)
      + sop(1, SHUTDOWN, 0, 0, 1) + sop(0, TIME, 0, 10, 0) + eop(0, COLLECT, 1, p5=8)
      + sop(0, CLOSE, 2) + eop(0, COLLECT, 1, p5=8) + sop(0, CLOSE, 1))

reqs = {
    "get_index": b"GET / HTTP/1.1\r\nHost: 10.0.0.2\r\n\r\n",
    "get_bytes": b"GET /bytes/1048576 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "head_file": b"HEAD /docs/../index.html HTTP/1.0\r\n\r\n",
    "post_body": b"POST /x HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello",
    "pipelined": b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
    "bare_lf": b"\r\n\nGET /%2e%2e/etc HTTP/1.1\nHost: a\n\n",
}
for k, v in reqs.items():
    write("http_parse", k, v)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def eth_ip(payload, ident, frag, proto=1, src=b"\x0a\x00\x00\x01", dst=b"\x0a\x00\x00\x02"):
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack(">H", csum(h)) + h[12:]
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + h + payload


def framed(frames):
    return b"".join(struct.pack(">H", len(f)) + f for f in frames)


# A 3000-byte ping in three fragments (the reply is fragmented too), a duplicate fragment and
# an overlap in a second datagram, and a first fragment left to time out.
data = bytes((i * 7) & 0xff for i in range(3000))
icmp = struct.pack(">BBHHH", 8, 0, 0, 0x1234, 1) + data
icmp = icmp[:2] + struct.pack(">H", csum(icmp)) + icmp[4:]
parts = [icmp[0:1480], icmp[1480:2960], icmp[2960:]]
frames = [eth_ip(parts[0], 77, 0x2000), eth_ip(parts[1], 77, 0x2000 | 185), eth_ip(parts[1], 77, 0x2000 | 185),
          eth_ip(parts[2], 77, 370), eth_ip(parts[0], 78, 0x2000), eth_ip(parts[0][:800], 78, 0x2000 | 100),
          eth_ip(parts[0][:64], 79, 0x2000)]
write("stack_input", "big_ping_fragments", framed(frames))
