"""Debug: heap figures over HTTP, for the memory tests and the benchmark's probe.

    [HANDLERS]
        Match /_marmoset/.* debug

GET /_marmoset/mem answers ``alloc free requests connections`` (one line); with
``?collect`` it runs a garbage collection first. The figures are for the whole heap (every
worker): measure with one client at a time. Never load this on a production device.
"""

import gc

from .. import http, plugin


class Plugin:
    name = "debug"
    description = "heap figures over HTTP (testing only)"

    def __init__(self, conf):
        pass

    def stage30(self, worker, conn, req, params):
        if req.path != "/_marmoset/mem":
            return plugin.NOT_ME
        if req.query == b"collect":
            gc.collect()
        alloc = gc.mem_alloc() if hasattr(gc, "mem_alloc") else -1
        free = gc.mem_free() if hasattr(gc, "mem_free") else -1
        conns = 0
        requests = 0
        for w in worker.server.workers:
            conns += w.active
            requests += w.requests
        body = bytes("%d %d %d %d\n" % (alloc, free, requests, conns), "ascii")
        return http.respond(worker, conn, 200, b"text/plain", body)
