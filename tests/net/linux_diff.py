#!/usr/bin/env python3
"""linux_diff.py - one program, run twice: on the kernel's sockets (through lo) and on
tapstack's (through build/tapstack-run, over the stack's own loop). Every line it prints is
the outcome of one call: a value, or the errno's name. test_preload_linux_diff.sh compares
the two runs line by line: Linux is the reference, so every difference is a finding.

Only outcomes that do not depend on the machine are printed: no sysctl-dependent sizes
(net.core.rmem_max, the default congestion control), no timings.
"""
import errno
import fcntl
import os
import select
import socket as S
import struct
import threading
import time

LO = "127.0.0.1"
SETTLE = 0.2      # for the other end to act (both stacks take microseconds; CI is slow)
FIONREAD, SIOCATMARK, SIOCOUTQ, FIONBIO = 0x541B, 0x8905, 0x5411, 0x5421


def outcome(f):
    try:
        return repr(f())
    except OSError as x:
        if x.errno is None:
            return type(x).__name__
        return errno.errorcode.get(x.errno, str(x.errno))


def out(name, f):
    print("%s: %s" % (name, outcome(f)), flush=True)


def revents(s, ev=select.POLLIN | select.POLLOUT | select.POLLRDHUP | select.POLLPRI):
    p = select.poll()
    p.register(s, ev)
    r = p.poll(0)
    return r[0][1] if r else 0


def ioctl_int(s, req):
    return struct.unpack("i", fcntl.ioctl(s, req, b"\0\0\0\0"))[0]


def listener(port, backlog=8, reuse=True):
    l = S.socket()
    if reuse:
        l.setsockopt(S.SOL_SOCKET, S.SO_REUSEADDR, 1)
    l.bind((LO, port))
    l.listen(backlog)
    return l


def pair(l):
    c = S.socket()
    c.connect(l.getsockname())
    a, _ = l.accept()
    return c, a


def settle():
    time.sleep(SETTLE)


def accept_all(listeners):
    """Accepts (and closes) every connection the listeners have queued; how many."""
    n = 0
    for m in listeners:
        m.setblocking(False)
        try:
            while True:
                m.accept()[0].close()
                n += 1
        except BlockingIOError:
            pass
    return n


def binding_and_names():
    l = listener(7100)
    out("listener poll empty", lambda: revents(l))
    out("listener acceptconn", lambda: l.getsockopt(S.SOL_SOCKET, S.SO_ACCEPTCONN))
    l2 = S.socket()
    out("bind busy", lambda: l2.bind((LO, 7100)))
    l2.setsockopt(S.SOL_SOCKET, S.SO_REUSEADDR, 1)
    out("bind busy, SO_REUSEADDR", lambda: l2.bind((LO, 7100)))
    out("bind any, same port", lambda: l2.bind(("0.0.0.0", 7100)))
    l2.close()
    l.setblocking(False)
    out("accept, none waiting", lambda: l.accept())
    l.setblocking(True)
    c, a = pair(l)
    out("names", lambda: (c.getsockname()[0], c.getpeername(), a.getsockname(), a.getpeername()[0]))
    out("connect again", lambda: c.connect((LO, 7100)))
    out("listen on a connection", lambda: c.listen(1))
    out("acceptconn on a connection", lambda: a.getsockopt(S.SOL_SOCKET, S.SO_ACCEPTCONN))
    out("poll fresh connection", lambda: revents(c))
    c.close(), a.close(), l.close()
    n = S.socket()
    out("recv unconnected", lambda: n.recv(1))
    out("send unconnected", lambda: n.send(b"1"))
    out("getpeername unconnected", lambda: n.getpeername())
    out("getsockname unbound", lambda: n.getsockname())
    out("poll unconnected", lambda: revents(n))
    out("shutdown unconnected", lambda: n.shutdown(S.SHUT_RDWR))
    n.close()


def data_and_urgent():
    l = listener(7101)
    c, a = pair(l)
    c.send(b"hello")
    settle()
    out("poll readable", lambda: revents(a))
    out("peek", lambda: a.recv(10, S.MSG_PEEK))
    out("FIONREAD", lambda: ioctl_int(a, FIONREAD))
    a.setblocking(False)
    out("MSG_WAITALL, non-blocking", lambda: a.recv(10, S.MSG_WAITALL))
    out("nothing there", lambda: a.recv(10))
    c.send(b"x", S.MSG_OOB)
    settle()
    out("poll urgent", lambda: revents(a))
    out("SIOCATMARK", lambda: ioctl_int(a, SIOCATMARK))
    out("recv MSG_OOB", lambda: a.recv(1, S.MSG_OOB))
    out("recv MSG_OOB again", lambda: a.recv(1, S.MSG_OOB))
    out("sendmsg of three pieces", lambda: c.sendmsg([b"ab", b"cd", b"ef"]))
    settle()
    out("recvmsg 4", lambda: (lambda r: (r[0], r[2]))(a.recvmsg(4)))
    out("recvmsg rest", lambda: (lambda r: (r[0], r[2]))(a.recvmsg(100)))
    c.send(b"xyz123")
    settle()
    buf = bytearray(3)
    out("recv_into", lambda: (a.recv_into(buf), bytes(buf)))
    out("MSG_TRUNC", lambda: a.recv(2, S.MSG_TRUNC))
    out("after MSG_TRUNC", lambda: a.recv(10))
    out("send nothing", lambda: c.send(b""))
    out("sendto on a connection", lambda: c.sendto(b"q", (LO, 9)))
    settle()
    out("got the sendto", lambda: a.recv(10))
    c.close(), a.close(), l.close()


def shutdowns():
    l = listener(7102)
    c, a = pair(l)
    c.shutdown(S.SHUT_WR)
    settle()
    out("poll after peer SHUT_WR", lambda: revents(a))
    out("recv end", lambda: a.recv(10))
    out("recv end again", lambda: a.recv(10))
    out("send after own SHUT_WR", lambda: c.send(b"z"))
    out("poll own SHUT_WR side", lambda: revents(c))
    a.send(b"back")
    settle()
    out("half-closed still receives", lambda: c.recv(10))
    a.close()
    settle()
    out("poll after both closed", lambda: revents(c))
    out("recv after peer close", lambda: c.recv(10))
    c.close()
    c, a = pair(l)
    a.shutdown(S.SHUT_RD)
    out("poll after own SHUT_RD", lambda: revents(a))
    out("recv after own SHUT_RD", lambda: a.recv(10))
    out("SHUT_RD twice", lambda: a.shutdown(S.SHUT_RD))
    out("shutdown how 7", lambda: a.shutdown(7))
    c.close(), a.close(), l.close()


def resets():
    l = listener(7103)
    c, a = pair(l)
    c.send(b"unread")
    settle()
    a.close()                          # unread data: RST
    settle()
    out("poll after RST", lambda: revents(c))
    out("SO_ERROR after RST", lambda: c.getsockopt(S.SOL_SOCKET, S.SO_ERROR))
    out("recv after RST", lambda: c.recv(10))
    out("recv after RST again", lambda: c.recv(10))
    out("send after RST", lambda: c.send(b"q"))
    c.close()
    c, a = pair(l)
    a.setsockopt(S.SOL_SOCKET, S.SO_LINGER, struct.pack("ii", 1, 0))
    a.close()
    settle()
    out("recv after SO_LINGER 0 close", lambda: c.recv(10))
    c.close()
    c, a = pair(l)
    a.close()
    settle()
    out("first send to a closed peer", lambda: c.send(b"1"))
    settle()
    out("second send to a closed peer", lambda: c.send(b"2"))
    out("poll after EPIPE", lambda: revents(c))
    c.close()
    p = S.socket()
    m = listener(7104, 4)
    p.connect((LO, 7104))
    settle()
    m.close()                          # a connection nobody accepted: reset
    settle()
    out("unaccepted, listener closed: poll", lambda: revents(p))
    out("unaccepted, listener closed: recv", lambda: p.recv(10))
    p.close(), l.close()


def refused_and_backlog():
    k = S.socket()
    k.setblocking(False)
    out("non-blocking connect to a closed port", lambda: k.connect_ex((LO, 7199)))
    settle()
    out("poll refused", lambda: revents(k))
    out("SO_ERROR refused", lambda: k.getsockopt(S.SOL_SOCKET, S.SO_ERROR))
    out("connect after refused", lambda: k.connect_ex((LO, 7199)))
    k.close()
    m = listener(7105, 0)
    cs = []
    for _ in range(3):                 # one at a time: Linux's lo completes each at once
        x = S.socket()
        x.setblocking(False)
        x.connect_ex((LO, 7105))
        cs.append(x)
        settle()
    out("backlog 0: writable", lambda: [revents(x) & select.POLLOUT for x in cs])
    n = accept_all([m])
    out("backlog 0: accepted", lambda: n)
    for x in cs:
        x.close()
    m.close()


def full_pipe():
    l = listener(7106)
    c, a = pair(l)
    c.setblocking(False)
    total = 0
    try:
        while True:
            total += c.send(b"x" * 65536)
    except BlockingIOError:
        pass
    out("filled past 64 KiB", lambda: total > 65536)
    # What the peer ACKs late (a delayed ACK) may free the buffer a moment after EAGAIN, on
    # either stack: ask once everything in flight has been answered.
    settle()
    try:
        while True:
            total += c.send(b"x" * 65536)
    except BlockingIOError:
        pass
    out("POLLOUT when full", lambda: revents(c) & select.POLLOUT)
    out("SIOCOUTQ > 0", lambda: ioctl_int(c, SIOCOUTQ) > 0)
    a.setblocking(False)
    got, deadline = 0, time.time() + 10
    while got < total and time.time() < deadline:
        try:
            got += len(a.recv(1 << 20))
        except BlockingIOError:
            time.sleep(0.01)
    out("drained all", lambda: got == total)
    settle()
    out("POLLOUT after drain", lambda: revents(c) & select.POLLOUT)
    c.close(), a.close(), l.close()


def options():
    l = listener(7107)
    l.setsockopt(S.IPPROTO_TCP, S.TCP_NODELAY, 1)
    l.setsockopt(S.SOL_SOCKET, S.SO_KEEPALIVE, 1)
    c, a = pair(l)
    out("TCP_NODELAY inherited", lambda: a.getsockopt(S.IPPROTO_TCP, S.TCP_NODELAY))
    out("SO_KEEPALIVE inherited", lambda: a.getsockopt(S.SOL_SOCKET, S.SO_KEEPALIVE))
    out("SO_TYPE", lambda: a.getsockopt(S.SOL_SOCKET, S.SO_TYPE))
    out("TCP_KEEPIDLE", lambda: a.getsockopt(S.IPPROTO_TCP, S.TCP_KEEPIDLE))
    out("TCP_KEEPINTVL", lambda: a.getsockopt(S.IPPROTO_TCP, S.TCP_KEEPINTVL))
    out("TCP_KEEPCNT", lambda: a.getsockopt(S.IPPROTO_TCP, S.TCP_KEEPCNT))
    out("SO_LINGER", lambda: a.getsockopt(S.SOL_SOCKET, S.SO_LINGER, 8))
    out("IP_TTL", lambda: a.getsockopt(S.IPPROTO_IP, S.IP_TTL))
    out("IP_TOS", lambda: a.getsockopt(S.IPPROTO_IP, S.IP_TOS))
    out("unknown level", lambda: a.getsockopt(12345, 1))
    out("unknown option", lambda: a.getsockopt(S.SOL_SOCKET, 9999))
    out("int in 2 bytes", lambda: a.getsockopt(S.SOL_SOCKET, S.SO_KEEPALIVE, 2))
    out("IP_TTL in 2 bytes", lambda: a.getsockopt(S.IPPROTO_IP, S.IP_TTL, 2))
    out("setsockopt with 1 byte", lambda: a.setsockopt(S.SOL_SOCKET, S.SO_KEEPALIVE, b"\x01"))
    out("TCP_USER_TIMEOUT", lambda: a.getsockopt(S.IPPROTO_TCP, S.TCP_USER_TIMEOUT))
    out("TCP_CORK", lambda: a.getsockopt(S.IPPROTO_TCP, S.TCP_CORK))
    out("TCP_INFO state", lambda: a.getsockopt(S.IPPROTO_TCP, S.TCP_INFO, 8)[0])
    out("TCP_CONGESTION bogus", lambda: a.setsockopt(S.IPPROTO_TCP, S.TCP_CONGESTION, b"bogus"))
    out("TCP_CONGESTION reno", lambda: a.setsockopt(S.IPPROTO_TCP, S.TCP_CONGESTION, b"reno"))
    out("TCP_CONGESTION now", lambda: a.getsockopt(S.IPPROTO_TCP, S.TCP_CONGESTION, 16).rstrip(b"\0"))
    out("accepted: O_NONBLOCK", lambda: bool(fcntl.fcntl(a, fcntl.F_GETFL) & os.O_NONBLOCK))
    out("accepted: FD_CLOEXEC", lambda: bool(fcntl.fcntl(a, fcntl.F_GETFD) & fcntl.FD_CLOEXEC))
    fcntl.ioctl(a, FIONBIO, struct.pack("i", 1))
    out("FIONBIO sets O_NONBLOCK", lambda: bool(fcntl.fcntl(a, fcntl.F_GETFL) & os.O_NONBLOCK))
    out("recv after FIONBIO", lambda: a.recv(10))
    d = os.dup(a.fileno())
    out("dup shares O_NONBLOCK", lambda: bool(fcntl.fcntl(d, fcntl.F_GETFL) & os.O_NONBLOCK))
    c.send(b"via")
    settle()
    out("read through the dup", lambda: os.read(d, 10))
    os.close(d)
    out("open after the dup's close", lambda: a.send(b"ok"))
    settle()
    out("peer got it", lambda: c.recv(10))
    c.close(), a.close(), l.close()
    s = S.socket()
    for name, opt, v in (("SO_RCVBUF 1", S.SO_RCVBUF, 1), ("SO_SNDBUF 1", S.SO_SNDBUF, 1),
                         ("SO_RCVBUF 65536", S.SO_RCVBUF, 65536)):
        s.setsockopt(S.SOL_SOCKET, opt, v)
        out(name, lambda: s.getsockopt(S.SOL_SOCKET, opt))
    out("TCP_MAXSEG unconnected", lambda: s.getsockopt(S.IPPROTO_TCP, S.TCP_MAXSEG))
    out("TCP_MAXSEG 10", lambda: s.setsockopt(S.IPPROTO_TCP, S.TCP_MAXSEG, 10))
    out("TCP_MAXSEG 70000", lambda: s.setsockopt(S.IPPROTO_TCP, S.TCP_MAXSEG, 70000))
    out("TCP_MAXSEG 100", lambda: s.setsockopt(S.IPPROTO_TCP, S.TCP_MAXSEG, 100))
    out("TCP_MAXSEG read back", lambda: s.getsockopt(S.IPPROTO_TCP, S.TCP_MAXSEG))
    out("TCP_KEEPIDLE 0", lambda: s.setsockopt(S.IPPROTO_TCP, S.TCP_KEEPIDLE, 0))
    out("TCP_KEEPCNT 200", lambda: s.setsockopt(S.IPPROTO_TCP, S.TCP_KEEPCNT, 200))
    out("TCP_USER_TIMEOUT -1", lambda: s.setsockopt(S.IPPROTO_TCP, S.TCP_USER_TIMEOUT, -1))
    out("TCP_LINGER2", lambda: s.getsockopt(S.IPPROTO_TCP, S.TCP_LINGER2))
    out("TCP_DEFER_ACCEPT 5", lambda: s.setsockopt(S.IPPROTO_TCP, S.TCP_DEFER_ACCEPT, 5))
    out("TCP_DEFER_ACCEPT read back", lambda: s.getsockopt(S.IPPROTO_TCP, S.TCP_DEFER_ACCEPT))
    out("TCP_QUICKACK", lambda: s.getsockopt(S.IPPROTO_TCP, S.TCP_QUICKACK))
    out("TCP_SYNCNT", lambda: s.getsockopt(S.IPPROTO_TCP, S.TCP_SYNCNT))
    out("IP_TTL 0", lambda: s.setsockopt(S.IPPROTO_IP, S.IP_TTL, 0))
    out("IP_TTL 256", lambda: s.setsockopt(S.IPPROTO_IP, S.IP_TTL, 256))
    out("IP_TTL 7", lambda: (s.setsockopt(S.IPPROTO_IP, S.IP_TTL, 7), s.getsockopt(S.IPPROTO_IP, S.IP_TTL)))
    out("IP_TOS 0x13 on TCP", lambda: (s.setsockopt(S.IPPROTO_IP, S.IP_TOS, 0x13), s.getsockopt(S.IPPROTO_IP, S.IP_TOS)))
    out("TCP_WINDOW_CLAMP unset", lambda: s.getsockopt(S.IPPROTO_TCP, S.TCP_WINDOW_CLAMP))
    out("TCP_WINDOW_CLAMP 100", lambda: (s.setsockopt(S.IPPROTO_TCP, S.TCP_WINDOW_CLAMP, 100), s.getsockopt(S.IPPROTO_TCP, S.TCP_WINDOW_CLAMP)))
    out("TCP_WINDOW_CLAMP 0, closed", lambda: (s.setsockopt(S.IPPROTO_TCP, S.TCP_WINDOW_CLAMP, 0), s.getsockopt(S.IPPROTO_TCP, S.TCP_WINDOW_CLAMP)))
    out("TCP_FASTOPEN -1", lambda: s.setsockopt(S.IPPROTO_TCP, S.TCP_FASTOPEN, -1))
    out("TCP_FASTOPEN 5", lambda: (s.setsockopt(S.IPPROTO_TCP, S.TCP_FASTOPEN, 5), s.getsockopt(S.IPPROTO_TCP, S.TCP_FASTOPEN)))
    out("TCP_FASTOPEN huge", lambda: (s.setsockopt(S.IPPROTO_TCP, S.TCP_FASTOPEN, 1 << 20), s.getsockopt(S.IPPROTO_TCP, S.TCP_FASTOPEN) > 5))
    s.close()
    l = listener(7109)
    out("TCP_WINDOW_CLAMP 0 on a listener", lambda: l.setsockopt(S.IPPROTO_TCP, S.TCP_WINDOW_CLAMP, 0))
    l.setsockopt(S.IPPROTO_TCP, S.TCP_WINDOW_CLAMP, 20000)
    c, a = pair(l)
    out("TCP_WINDOW_CLAMP inherited, at most", lambda: 0 < a.getsockopt(S.IPPROTO_TCP, S.TCP_WINDOW_CLAMP) <= 20000)
    out("TCP_FASTOPEN on a connection", lambda: a.setsockopt(S.IPPROTO_TCP, S.TCP_FASTOPEN, 5))
    out("TCP_WINDOW_CLAMP 0 on a connection", lambda: a.setsockopt(S.IPPROTO_TCP, S.TCP_WINDOW_CLAMP, 0))
    out("TCP_WINDOW_CLAMP 5000 on a connection", lambda: (a.setsockopt(S.IPPROTO_TCP, S.TCP_WINDOW_CLAMP, 5000), a.getsockopt(S.IPPROTO_TCP, S.TCP_WINDOW_CLAMP)))
    c.close(), a.close(), l.close()


def ports_in_use():
    l = listener(7108)
    c, a = pair(l)
    port = c.getsockname()[1]
    c.close()                          # the client closes first: its TIME-WAIT holds the port
    settle()
    a.close()
    settle()
    for reuse in (False, True):
        x = S.socket()
        if reuse:
            x.setsockopt(S.SOL_SOCKET, S.SO_REUSEADDR, 1)
        out("bind a port in TIME-WAIT, reuse %s" % reuse, lambda: x.bind((LO, port)))
        x.close()
    y = S.socket()
    y.bind((LO, 0))
    bound = y.getsockname()[1]
    y.connect((LO, 7108))
    z, _ = l.accept()
    out("a bound port is kept by connect", lambda: y.getsockname()[1] == bound)
    out("the peer sees it", lambda: z.getpeername()[1] == bound)
    y.close(), z.close(), l.close()
    ls = []
    for _ in range(2):
        r = S.socket()
        r.setsockopt(S.SOL_SOCKET, S.SO_REUSEPORT, 1)
        r.bind((LO, 7111))
        r.listen(16)
        ls.append(r)
    out("SO_REUSEPORT read back", lambda: ls[0].getsockopt(S.SOL_SOCKET, S.SO_REUSEPORT))
    n = S.socket()
    out("bind a SO_REUSEPORT port without it", lambda: n.bind((LO, 7111)))
    n.close()
    cs = [S.create_connection((LO, 7111)) for _ in range(8)]
    settle()
    taken = accept_all(ls)
    out("SO_REUSEPORT: every connection accepted by one of the two", lambda: taken)
    for x in cs + ls:
        x.close()


def edges():
    l = listener(7600)
    c = S.socket()
    out("connect to 0.0.0.0", lambda: c.connect(("0.0.0.0", 7600)))
    out("its peer", lambda: c.getpeername())
    out("its name", lambda: c.getsockname()[0])
    accept_all([l])
    l.setblocking(True)
    c.close()
    k = S.socket()
    out("connect to port 0", lambda: k.connect((LO, 0)))
    k.close()
    k = S.socket()
    out("bind twice", lambda: (k.bind((LO, 0)), k.bind((LO, 0))))
    k.close()
    c, a = pair(l)
    out("bind after connect", lambda: c.bind((LO, 0)))
    out("connect on a listener", lambda: l.connect((LO, 7600)))
    n = S.socket()
    out("accept unbound", lambda: n.accept())
    n.bind((LO, 0))
    out("accept bound, not listening", lambda: n.accept())
    n.close()
    out("TCP_NODELAY with no bytes", lambda: c.setsockopt(S.IPPROTO_TCP, S.TCP_NODELAY, b""))
    out("SO_LINGER negative", lambda: (c.setsockopt(S.SOL_SOCKET, S.SO_LINGER, struct.pack("ii", 1, -5)),
                                       struct.unpack("ii", c.getsockopt(S.SOL_SOCKET, S.SO_LINGER, 8))[0]))
    a.setsockopt(S.SOL_SOCKET, S.SO_OOBINLINE, 1)
    c.send(b"!", S.MSG_OOB)
    settle()
    out("MSG_OOB with SO_OOBINLINE", lambda: a.recv(1, S.MSG_OOB))
    out("the urgent byte inline", lambda: a.recv(10))
    out("MSG_PEEK|MSG_DONTWAIT, nothing there", lambda: a.recv(10, S.MSG_PEEK | S.MSG_DONTWAIT))
    c.send(b"abc")
    settle()
    out("peek 2", lambda: a.recv(2, S.MSG_PEEK))
    out("read 1", lambda: a.recv(1))
    out("peek again", lambda: a.recv(10, S.MSG_PEEK))
    c.close(), a.close(), l.close()
    m = listener(7601)
    p = S.socket()
    p.connect((LO, 7601))
    settle()
    out("listener SHUT_RD", lambda: m.shutdown(S.SHUT_RD))
    settle()
    out("accept after listener SHUT_RD", lambda: (m.setblocking(False), m.accept())[1])
    out("its unaccepted connection", lambda: p.recv(10))
    out("listen again after SHUT_RD", lambda: m.listen(4))
    p.close(), m.close()
    m = listener(7602)
    out("listener SHUT_WR", lambda: m.shutdown(S.SHUT_WR))
    p = S.socket()
    out("connect after listener SHUT_WR", lambda: p.connect((LO, 7602)))
    p.close(), m.close()
    k = S.socket()
    k.setblocking(False)
    k.connect_ex((LO, 7699))
    settle()
    out("SO_ERROR after refused", lambda: k.getsockopt(S.SOL_SOCKET, S.SO_ERROR))
    out("SO_ERROR again", lambda: k.getsockopt(S.SOL_SOCKET, S.SO_ERROR))
    out("recv after refused", lambda: k.recv(1))
    out("send after refused", lambda: k.send(b"1"))
    k.close()
    u = S.socket(S.AF_INET, S.SOCK_DGRAM)
    out("UDP MSG_OOB", lambda: u.sendto(b"x", S.MSG_OOB, (LO, 9)))
    out("UDP connect to 0.0.0.0", lambda: u.connect(("0.0.0.0", 9)))
    out("UDP its peer", lambda: u.getpeername())
    u.close()


def readiness():
    l = listener(7500)
    ep = select.epoll()

    def events():
        return sorted(m for _, m in ep.poll(0))
    out("epoll: listener, nothing waiting", lambda: (ep.register(l, select.EPOLLIN | select.EPOLLOUT), ep.poll(0))[1])
    c = S.socket()
    c.connect((LO, 7500))
    settle()
    out("epoll: listener, one waiting", events)
    a, _ = l.accept()
    out("epoll: listener after accept", events)
    ep.unregister(l)
    out("epoll: edge-triggered", lambda: ep.register(a, select.EPOLLIN | select.EPOLLOUT | select.EPOLLRDHUP | select.EPOLLET))
    out("ET first", events)
    out("ET second", events)
    c.send(b"abc")
    settle()
    out("ET data", events)
    out("ET data again", events)
    a.recv(1)
    out("ET after a partial read", events)
    c.send(b"d")
    settle()
    out("ET more data", events)
    out("EPOLLONESHOT", lambda: ep.modify(a, select.EPOLLIN | select.EPOLLONESHOT))
    out("ONESHOT first", events)
    out("ONESHOT second", events)
    out("rearmed", lambda: ep.modify(a, select.EPOLLIN | select.EPOLLRDHUP))
    out("LT after rearming", events)
    c.shutdown(S.SHUT_WR)
    settle()
    out("LT after the peer's FIN", events)
    a.recv(100)
    out("LT after draining", events)
    out("register twice", lambda: ep.register(a, select.EPOLLIN))
    out("modify one not registered", lambda: ep.modify(c, select.EPOLLIN))
    out("unregister one not registered", lambda: ep.unregister(c))
    a.close()
    out("after closing a member", lambda: ep.poll(0))
    c.close()
    out("EPOLLEXCLUSIVE", lambda: ep.register(l, select.EPOLLIN | select.EPOLLEXCLUSIVE))
    out("EPOLLEXCLUSIVE, modified", lambda: ep.modify(l, select.EPOLLIN))
    ep.close()
    c, a = pair(l)
    out("select fresh", lambda: tuple(len(x) for x in select.select([a], [a], [a], 0)))
    c.send(b"x", S.MSG_OOB)
    settle()
    out("select urgent", lambda: tuple(len(x) for x in select.select([a], [a], [a], 0)))
    a.recv(1, S.MSG_OOB)
    out("select after reading it", lambda: tuple(len(x) for x in select.select([a], [a], [a], 0)))
    c.close(), a.close()
    out("FIONREAD on a listener", lambda: ioctl_int(l, FIONREAD))
    out("TCP_INFO state of a listener", lambda: l.getsockopt(S.IPPROTO_TCP, S.TCP_INFO, 8)[0])
    l.close()


def timeouts_and_cork():
    l = listener(7700)
    c, a = pair(l)
    c.setsockopt(S.IPPROTO_TCP, S.TCP_CORK, 1)
    c.send(b"corked")
    time.sleep(0.05)
    a.setblocking(False)
    out("corked data held back", lambda: a.recv(10))
    c.setsockopt(S.IPPROTO_TCP, S.TCP_CORK, 0)
    settle()
    out("uncorked, it comes", lambda: a.recv(10))
    c.send(b"zz")
    settle()
    out("SIOCOUTQ once ACKed", lambda: ioctl_int(c, SIOCOUTQ))
    c.shutdown(S.SHUT_WR)
    settle()
    out("FIONREAD with a FIN behind", lambda: ioctl_int(a, FIONREAD))
    out("read", lambda: a.recv(10))
    a.setblocking(True)
    a.setsockopt(S.SOL_SOCKET, S.SO_RCVTIMEO, struct.pack("ll", 0, 200000))
    out("recv at the end, with a timeout", lambda: a.recv(10))
    c.close(), a.close()
    c, a = pair(l)
    a.setsockopt(S.SOL_SOCKET, S.SO_RCVTIMEO, struct.pack("ll", 0, 200000))
    out("SO_RCVTIMEO read back", lambda: struct.unpack("ll", a.getsockopt(S.SOL_SOCKET, S.SO_RCVTIMEO, 16)))
    out("SO_RCVTIMEO usec 2000000", lambda: a.setsockopt(S.SOL_SOCKET, S.SO_RCVTIMEO, struct.pack("ll", 0, 2000000)))
    out("SO_RCVTIMEO in 8 bytes", lambda: a.setsockopt(S.SOL_SOCKET, S.SO_RCVTIMEO, b"\0" * 8))
    c.send(b"ab")
    settle()
    out("MSG_WAITALL, part, then the timeout", lambda: a.recv(10, S.MSG_WAITALL))
    out("recv times out", lambda: a.recv(10))
    c.setsockopt(S.SOL_SOCKET, S.SO_SNDTIMEO, struct.pack("ll", 0, 200000))
    sent = [0]

    def fill():
        while True:
            sent[0] += c.send(b"y" * 100000)
    out("send on a full pipe, SO_SNDTIMEO", fill)
    out("it had sent some", lambda: sent[0] > 100000)
    c.close(), a.close()
    l.setsockopt(S.SOL_SOCKET, S.SO_RCVTIMEO, struct.pack("ll", 0, 100000))
    out("accept with SO_RCVTIMEO", lambda: l.accept())
    result = []

    def blocked_accept():
        l.setsockopt(S.SOL_SOCKET, S.SO_RCVTIMEO, struct.pack("ll", 5, 0))
        result.append(outcome(lambda: l.accept()))
    t = threading.Thread(target=blocked_accept)
    t.start()
    time.sleep(0.3)
    l.shutdown(S.SHUT_RD)
    t.join(10)
    out("a blocked accept when the listener is shut", lambda: result)
    l.close()


def udp():
    a = S.socket(S.AF_INET, S.SOCK_DGRAM)
    a.bind((LO, 7400))
    b = S.socket(S.AF_INET, S.SOCK_DGRAM)
    out("UDP poll fresh", lambda: revents(b))
    out("UDP getsockname unbound", lambda: b.getsockname())
    out("UDP sendto binds", lambda: b.sendto(b"one", (LO, 7400)))
    out("UDP name after sendto", lambda: b.getsockname()[0])
    settle()
    out("UDP poll readable", lambda: revents(a))
    out("UDP FIONREAD", lambda: ioctl_int(a, FIONREAD))
    out("UDP peek", lambda: a.recv(10, S.MSG_PEEK))
    out("UDP MSG_TRUNC", lambda: a.recv(1, S.MSG_TRUNC))
    out("UDP nothing there", lambda: a.recv(10, S.MSG_DONTWAIT))
    b.sendto(b"", (LO, 7400))
    settle()
    out("UDP empty datagram", lambda: a.recvfrom(10)[0])
    b.sendto(b"abcdef", (LO, 7400))
    settle()
    out("UDP short buffer", lambda: a.recv(3))
    out("UDP rest dropped", lambda: a.recv(10, S.MSG_DONTWAIT))
    out("UDP 65508 bytes", lambda: b.sendto(b"x" * 65508, (LO, 7400)))
    out("UDP 65507 bytes", lambda: b.sendto(b"x" * 65507, (LO, 7400)))
    settle()
    out("UDP 65507 received", lambda: len(a.recv(70000)))
    out("UDP connect", lambda: b.connect((LO, 7400)))
    out("UDP getpeername", lambda: b.getpeername())
    out("UDP sendto elsewhere while connected", lambda: b.sendto(b"y", (LO, 7401)))
    c = S.socket(S.AF_INET, S.SOCK_DGRAM)
    c.bind((LO, 7402))
    c.sendto(b"stranger", b.getsockname())
    settle()
    out("UDP connected: a stranger's datagram", lambda: b.recv(10, S.MSG_DONTWAIT))
    a.sendto(b"friend", b.getsockname())
    settle()
    out("UDP connected: the peer's", lambda: b.recv(10, S.MSG_DONTWAIT))
    out("UDP listen", lambda: b.listen(1))
    out("UDP accept", lambda: b.accept())
    out("UDP SHUT_RD", lambda: b.shutdown(S.SHUT_RD))
    out("UDP recv after SHUT_RD, non-blocking", lambda: b.recv(10, S.MSG_DONTWAIT))
    out("UDP recv after SHUT_RD, blocking", lambda: b.recv(10))
    out("UDP poll after SHUT_RD", lambda: revents(b))
    out("UDP SHUT_WR", lambda: b.shutdown(S.SHUT_WR))
    out("UDP send after SHUT_WR", lambda: b.send(b"z"))
    u = S.socket(S.AF_INET, S.SOCK_DGRAM)
    out("UDP bind busy", lambda: u.bind((LO, 7400)))
    u.setsockopt(S.SOL_SOCKET, S.SO_REUSEADDR, 1)
    out("UDP bind busy, SO_REUSEADDR", lambda: u.bind((LO, 7400)))
    d = S.socket(S.AF_INET, S.SOCK_DGRAM)
    d.connect((LO, 7403))
    out("UDP send to a closed port", lambda: d.send(b"a"))
    settle()
    out("UDP send again: the port unreachable", lambda: d.send(b"b"))
    out("UDP SO_ERROR after", lambda: d.getsockopt(S.SOL_SOCKET, S.SO_ERROR))
    for s in (a, b, c, u, d):
        s.close()


def sendfile_calls():
    l = listener(7120)
    c, a = pair(l)
    data = bytes((i * 7 + (i >> 8)) & 0xff for i in range(100000))
    path = "/tmp/linux-diff-sendfile-%d" % os.getpid()
    with open(path, "wb") as f:
        f.write(data)
    fd = os.open(path, os.O_RDONLY)
    wfd = os.open(path, os.O_WRONLY)
    os.unlink(path)
    out("sendfile from an offset", lambda: os.sendfile(c.fileno(), fd, 1000, 50000))
    out("sendfile past the file's end: what it has", lambda: os.sendfile(c.fileno(), fd, 90000, 50000))
    out("sendfile at the file's end", lambda: os.sendfile(c.fileno(), fd, 100000, 10))
    out("sendfile from the file position", lambda: os.sendfile(c.fileno(), fd, None, 10))
    out("the file position after it", lambda: os.lseek(fd, 0, os.SEEK_CUR))
    want = data[1000:51000] + data[90000:] + data[:10]
    got = b""
    a.settimeout(5)
    while len(got) < len(want):
        chunk = a.recv(65536)
        if not chunk:
            break
        got += chunk
    out("the files' bytes arrived in order", lambda: got == want)
    r, w = os.pipe()
    os.write(w, b"pipe")
    d = os.open("/tmp", os.O_RDONLY)
    out("sendfile from a pipe", lambda: os.sendfile(c.fileno(), r, None, 4))
    out("sendfile from a pipe at an offset", lambda: os.sendfile(c.fileno(), r, 0, 4))
    out("sendfile from a directory", lambda: os.sendfile(c.fileno(), d, 0, 4))
    out("sendfile at a negative offset", lambda: os.sendfile(c.fileno(), fd, -1, 4))
    out("sendfile from a write-only file", lambda: os.sendfile(c.fileno(), wfd, 0, 4))
    settle()
    a.setblocking(False)
    out("nothing more arrived", lambda: a.recv(10))
    for x in (fd, wfd, r, w, d):
        os.close(x)
    c.close(), a.close(), l.close()


for part in (binding_and_names, data_and_urgent, shutdowns, resets, refused_and_backlog,
             full_pipe, options, ports_in_use, edges, readiness, timeouts_and_cork, udp, sendfile_calls):
    print("== %s" % part.__name__, flush=True)
    part()
print("end", flush=True)
