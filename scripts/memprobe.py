"""Heap figures from a running Marmoset with the debug plugin (GET /_marmoset/mem).

Shared by the memory tests and `make bench`: bytes allocated per keep-alive request (from
gc.mem_alloc deltas, without a collection in between) and bytes retained afterwards.
"""

from __future__ import annotations

import http.client


def mem(conn: http.client.HTTPConnection, collect: bool = False) -> tuple[int, int, int, int]:
    """(heap alloc, heap free, requests served, open connections)."""
    conn.request("GET", "/_marmoset/mem" + ("?collect" if collect else ""))
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        raise RuntimeError("debug plugin answered %d (is it loaded and matched?)" % r.status)
    alloc, free, requests, conns = (int(x) for x in body.split())
    return alloc, free, requests, conns


def per_request(port: int, path: str = "/hello.txt", n: int = 1000) -> tuple[float, int]:
    """(bytes allocated per keep-alive request, bytes retained after n requests and a collection)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for _ in range(20):  # warm the per-worker caches (MIME line, Date, Last-Modified)
            c.request("GET", path)
            c.getresponse().read()
        base = mem(c, collect=True)[0]
        start = mem(c)[0]
        for _ in range(n):
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            if r.status != 200:
                raise RuntimeError("GET %s answered %d" % (path, r.status))
        end = mem(c)[0]
        after = mem(c, collect=True)[0]
    finally:
        c.close()
    probe = start - base  # what one probe request itself costs
    return (end - start - probe) / n, after - base
