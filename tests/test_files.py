"""Sending files: large bodies, ranges, validators, path safety."""

import hashlib
import os
import socket
import time

import pytest
from httpclient import Conn, get, raw

BIG = 20 * 1024 * 1024


@pytest.fixture
def big_file(docroot):
    path = docroot / "big.bin"
    chunk = os.urandom(1 << 20)
    h = hashlib.sha256()
    with open(path, "wb") as f:
        for i in range(BIG // len(chunk)):
            block = bytes([i]) + chunk[1:]
            f.write(block)
            h.update(block)
    return path, h.hexdigest()


def test_20mb_file_arrives_byte_exact(server, big_file):
    path, digest = big_file
    with Conn(server.port, timeout=120) as c:
        r = c.request("GET", "/big.bin")
        assert r.status == 200 and int(r.headers["content-length"]) == BIG
        assert hashlib.sha256(r.body).hexdigest() == digest
        # The connection is still usable after a big body.
        assert c.request("GET", "/hello.txt").body == b"hello world\n"


def test_slow_reader_gets_every_byte(server, big_file):
    # A small receive window forces partial writes: the worker must resume on POLLOUT.
    path, digest = big_file
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(60)
    s.connect(("127.0.0.1", server.port))
    s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: a\r\nRange: bytes=0-2097151\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    head, body = data.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 206 ")
    others = get(server.port, "/hello.txt")  # the worker is not blocked by the slow reader
    assert others.status == 200
    while len(body) < 2097152:
        time.sleep(0.001) if len(body) < 65536 else None
        chunk = s.recv(65536)
        assert chunk, "closed early at %d" % len(body)
        body += chunk
    s.close()
    with open(path, "rb") as f:
        assert body == f.read(2097152)


def test_client_leaving_mid_download_costs_only_its_slot(server, big_file):
    base = server.fd_count()
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        s.recv(65536)
        s.close()
    assert get(server.port, "/hello.txt").status == 200
    deadline = time.monotonic() + 10
    while server.fd_count() > base and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.fd_count() <= base


def test_ranges(server):
    p = server.port
    body = b"hello world\n"
    r = get(p, "/hello.txt", headers={"Range": "bytes=0-4"})
    assert r.status == 206 and r.body == b"hello" and r.headers["content-range"] == "bytes 0-4/12"
    r = get(p, "/hello.txt", headers={"Range": "bytes=6-"})
    assert r.status == 206 and r.body == b"world\n" and r.headers["content-range"] == "bytes 6-11/12"
    r = get(p, "/hello.txt", headers={"Range": "bytes=-3"})
    assert r.status == 206 and r.body == b"ld\n"
    r = get(p, "/hello.txt", headers={"Range": "bytes=12-12"})
    assert r.status == 416 and r.headers["content-range"] == "bytes */12"
    r = get(p, "/hello.txt", headers={"Range": "bytes=0-1,3-4"})
    assert r.status == 200 and r.body == body
    r = get(p, "/hello.txt", headers={"Range": "bytes=0-4", "If-Range": '"stale"'})
    assert r.status == 200 and r.body == body
    etag = get(p, "/hello.txt").headers["etag"]
    r = get(p, "/hello.txt", headers={"Range": "bytes=0-4", "If-Range": etag})
    assert r.status == 206


def test_resume_off_ignores_ranges(make_server, docroot):
    srv = make_server(docroot, server_extra="Resume off")
    r = get(srv.port, "/hello.txt", headers={"Range": "bytes=0-4"})
    assert r.status == 200 and "accept-ranges" not in r.headers


def test_conditional_requests(server):
    p = server.port
    first = get(p, "/hello.txt")
    etag = first.headers["etag"]
    lm = first.headers["last-modified"]
    r = get(p, "/hello.txt", headers={"If-None-Match": etag})
    assert r.status == 304 and r.body == b"" and r.headers["etag"] == etag
    assert get(p, "/hello.txt", headers={"If-None-Match": '"x", W/' + etag}).status == 304
    assert get(p, "/hello.txt", headers={"If-None-Match": "*"}).status == 304
    assert get(p, "/hello.txt", headers={"If-None-Match": '"other"'}).status == 200
    assert get(p, "/hello.txt", headers={"If-Modified-Since": lm}).status == 304
    assert get(p, "/hello.txt", headers={"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}).status == 200
    assert get(p, "/hello.txt", headers={"If-Modified-Since": "not a date"}).status == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
    assert get(p, "/hello.txt", headers={"If-None-Match": '"other"', "If-Modified-Since": lm}).status == 200


@pytest.mark.parametrize("target", [
    b"/../../../../etc/passwd", b"/%2e%2e/%2e%2e/etc/passwd", b"/sub/..%2f..%2f..%2fetc/passwd",
    b"/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", b"/sub/../../etc/passwd",
])
def test_dot_dot_never_leaves_the_root(server, target):
    out = raw(server.port, b"GET " + target + b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert out.split(b" ", 2)[1] in (b"403", b"404", b"400"), out[:100]
    assert b"root:" not in out


def test_nul_and_backslash_are_refused(server):
    assert raw(server.port, b"GET /hello.txt%00.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert raw(server.port, b"GET /sub\\..\\..\\etc HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 403 ")
    assert raw(server.port, b"GET /%5c..%5cetc HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 403 ")


def test_symlinks_out_of_the_root(make_server, docroot, tmp_path):
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "key.txt").write_text("secret\n")
    os.symlink(outside, docroot / "escape")
    os.symlink(outside / "key.txt", docroot / "key-link.txt")
    os.symlink(docroot / "hello.txt", docroot / "inside-link.txt")
    srv = make_server(docroot)
    assert get(srv.port, "/escape/key.txt").status == 403
    assert get(srv.port, "/key-link.txt").status == 403
    assert get(srv.port, "/inside-link.txt").body == b"hello world\n"
    srv.stop()
    srv2 = make_server(docroot, server_extra="SymLink on")
    assert get(srv2.port, "/escape/key.txt").body == b"secret\n"
