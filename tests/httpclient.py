"""A strict little HTTP/1.1 client over raw sockets, for tests that need byte-level control."""

from __future__ import annotations

import socket


class Response:
    def __init__(self, status: int, reason: str, headers: dict, body: bytes, raw_head: bytes):
        self.status = status
        self.reason = reason
        self.headers = headers  # lowercase name -> value (last wins)
        self.body = body
        self.raw_head = raw_head

    def __repr__(self):
        return "<Response %d %r>" % (self.status, self.headers)


class Conn:
    def __init__(self, port: int, host="127.0.0.1", timeout=20.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def send(self, data: bytes):
        self.sock.sendall(data)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def response(self, head_only=False) -> Response:
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                raise ConnectionError("closed before a complete head: %r" % self.buf[:200])
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        version, status, reason = (lines[0].decode("latin-1").split(" ", 2) + [""])[:3]
        assert version == "HTTP/1.1", lines[0]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        status = int(status)
        if head_only or status in (204, 304) or "content-length" not in headers:
            if "content-length" not in headers and not head_only and status not in (204, 304):
                while self._fill():
                    pass
                body, self.buf = self.buf, b""
                return Response(status, reason, headers, body, head)
            return Response(status, reason, headers, b"", head)
        length = int(headers["content-length"])
        while len(self.buf) < length:
            if not self._fill():
                raise ConnectionError("closed after %d of %d body bytes" % (len(self.buf), length))
        body, self.buf = self.buf[:length], self.buf[length:]
        return Response(status, reason, headers, body, head)

    def request(self, method="GET", path="/", headers: dict | None = None, body=b"", version="1.1", host="localhost") -> Response:
        lines = ["%s %s HTTP/%s" % (method, path, version)]
        hdrs = {"Host": host} if host is not None else {}
        hdrs.update(headers or {})
        for k, v in hdrs.items():
            lines.append("%s: %s" % (k, v))
        if body:
            lines.append("Content-Length: %d" % len(body))
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        return self.response(head_only=(method == "HEAD"))

    def closed_by_peer(self, timeout=10.0) -> bool:
        """True when the server closes (EOF or reset) within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def get(port: int, path="/", **kw) -> Response:
    with Conn(port) as c:
        return c.request("GET", path, **kw)


def raw(port: int, data: bytes, timeout=10.0) -> bytes:
    """Send data, read until the server closes; everything it answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        return out
