#!/usr/bin/python3
"""Stand-in kernel-socket server for `make bench`, used only when build/tapstack-kernel
(the demo apps built against the kernel's own sockets, from apps/kernel/) is not built.

It serves the same three things the benchmark touches, on Linux sockets, one thread, one
epoll loop (selectors), so the kernel side of the table has a server while the C build is
missing:
  HTTP/1.1 GET /bytes/N  -> 200 with N bytes, keep-alive unless "Connection: close"
  echo (RFC 862)         -> every byte back
  discard (RFC 863)      -> reads and drops; closes after the peer's FIN

Python costs CPU per request, so kernel-side request rates measured with it are a floor,
not the kernel's best: bench.py labels the kernel column "standin-py" when this runs.
Usage: standin_server.py HTTP_PORT ECHO_PORT DISCARD_PORT
"""
import selectors
import socket
import sys

CHUNK = bytes(range(256)) * 4096          # 1 MiB of a repeating 0..255 pattern
CHUNK_VIEW = memoryview(CHUNK)
sel = selectors.DefaultSelector()


class Conn:
    def __init__(self, sock, kind):
        self.sock, self.kind = sock, kind
        self.inbuf = b""
        self.out = []            # queued bytes objects
        self.stream_left = 0     # body bytes of /bytes/N still to send
        self.close_after = False


def listen(port, kind):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(4096)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, (None, kind))


def close(c):
    sel.unregister(c.sock)
    c.sock.close()


def want(c):
    ev = selectors.EVENT_READ
    if c.out or c.stream_left:
        ev |= selectors.EVENT_WRITE
    sel.modify(c.sock, ev, (c, c.kind))


def http_parse(c):
    while b"\r\n\r\n" in c.inbuf and not c.stream_left and not c.out:
        head, c.inbuf = c.inbuf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        parts = lines[0].split()
        keep = b"connection: close" not in head.lower()
        if len(parts) >= 2 and parts[1].startswith(b"/bytes/") and parts[1][7:].isdigit():
            n = int(parts[1][7:])
            hdr = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n" % n
            c.out.append(hdr + (b"\r\n" if keep else b"Connection: close\r\n\r\n"))
            if parts[0] == b"GET":
                c.stream_left = n
        else:
            c.out.append(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        c.close_after = not keep


def on_write(c):
    try:
        while c.out:
            n = c.sock.send(c.out[0])
            if n < len(c.out[0]):
                c.out[0] = c.out[0][n:]
                want(c)
                return
            c.out.pop(0)
        while c.stream_left:
            n = c.sock.send(CHUNK_VIEW[:min(c.stream_left, len(CHUNK))])
            c.stream_left -= n
    except BlockingIOError:
        want(c)
        return
    except OSError:
        close(c)
        return
    if c.close_after:
        close(c)
        return
    http_parse(c)
    if c.out or c.stream_left:
        on_write(c)
    else:
        want(c)


def on_read(c):
    try:
        data = c.sock.recv(1 << 20)
    except BlockingIOError:
        return
    except OSError:
        data = b""
    if not data:
        close(c)
        return
    if c.kind == "echo":
        c.out.append(data)
        on_write(c)
    elif c.kind == "http":
        c.inbuf += data
        if len(c.inbuf) > 65536:
            close(c)
            return
        http_parse(c)
        on_write(c)


def main():
    http_port, echo_port, discard_port = (int(a) for a in sys.argv[1:4])
    listen(http_port, "http")
    listen(echo_port, "echo")
    listen(discard_port, "discard")
    print("standin: listening", http_port, echo_port, discard_port, flush=True)
    while True:
        for key, mask in sel.select():
            c, kind = key.data
            if c is None:
                try:
                    s, _ = key.fileobj.accept()
                except OSError:
                    continue
                s.setblocking(False)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                nc = Conn(s, kind)
                sel.register(s, selectors.EVENT_READ, (nc, kind))
                continue
            if mask & selectors.EVENT_READ:
                on_read(c)
            if c.sock.fileno() >= 0 and mask & selectors.EVENT_WRITE:
                on_write(c)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
