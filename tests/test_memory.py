"""Memory discipline on MicroPython, read from the heap itself (gc.mem_alloc), not from timing.

Allocation per keep-alive request must be a constant (it does not grow with the requests
served) and nothing may be retained once a request is over.
"""

import socket

import memprobe
import pytest
from conftest import INTERPRETERS
from httpclient import Conn

UPY = [i for i in INTERPRETERS if i.startswith("upy")]


def _mem(c, collect=False):
    r = c.request("GET", "/_marmoset/mem" + ("?collect" if collect else ""))
    return int(r.body.split()[0])


@pytest.fixture
def mem_server(make_server, docroot, interp):
    if not interp.startswith("upy"):
        pytest.skip("gc.mem_alloc is MicroPython's")
    site = "[HOST]\n    DocumentRoot %s\n[HANDLERS]\n    Match /_marmoset/.* debug\n" % docroot
    return make_server(docroot, plugins=["debug"], sites={"default": site},
                       server_extra="Workers 1\nMaxKeepAliveRequest 100000\nGCThreshold 0")


def _per_request(srv, n):
    return memprobe.per_request(srv.port, "/hello.txt", n)


@pytest.mark.skipif(not UPY, reason="no MicroPython interpreter selected")
def test_allocation_per_request_is_constant_and_nothing_is_retained(mem_server):
    small, kept_small = _per_request(mem_server, 100)
    large, kept_large = _per_request(mem_server, 1000)
    print("bytes allocated per keep-alive request: %.0f (100 requests), %.0f (1000 requests)" % (small, large))
    assert 0 < large < 4096
    assert abs(large - small) < 64
    assert kept_small < 2048 and kept_large < 2048


@pytest.mark.skipif(not UPY, reason="no MicroPython interpreter selected")
def test_memory_per_idle_connection(mem_server):
    with Conn(mem_server.port) as c:
        base = _mem(c, collect=True)
        idle = [socket.create_connection(("127.0.0.1", mem_server.port)) for _ in range(100)]
        try:
            for s in idle:  # each one served once, so the server surely holds it
                s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n")
                s.recv(4096)
            held = _mem(c, collect=True) - base
        finally:
            for s in idle:
                s.close()
    print("heap per idle keep-alive connection: %.0f bytes" % (held / 100))
    assert held / 100 < 3072
