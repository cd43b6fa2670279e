"""The scheduler: owns the listeners, accepts, and hands each client to the least-loaded worker.

It runs in the main thread and also watches the signal descriptor, so a stop request is
seen at once even while no client connects.
"""

import socket

from . import compat, log
from .compat import POLLIN, const

_BACKLOG = const(1024)  # small backlogs cost 1-3 s connect stalls at 1000 clients


class Listener:
    def __init__(self, host, port, net, name):
        self.host = host
        self.port = port
        self.net = net
        self.name = name  # transport name, for status output
        self.sock = None


def open_listeners(specs, transports):
    """Bound, listening, non-blocking sockets for (host, port, transport) specs.

    Raises OSError with the address in the message when one cannot be opened.
    """
    listeners = []
    ports_v4_any = [p for h, p, t in specs if h in ("0.0.0.0", "")]
    try:
        for host, port, name in specs:
            family, addr = compat.sockaddr(host or "0.0.0.0", port)
            sock = socket.socket(family, socket.SOCK_STREAM)
            lst = Listener(host, port, transports[name], name)
            lst.sock = sock
            listeners.append(lst)
            compat.tune_listener(sock)
            if family == getattr(socket, "AF_INET6", 10) and port in ports_v4_any:
                sock.setsockopt(41, 26, 1)  # IPV6_V6ONLY: share the port with the IPv4 listener
            try:
                sock.bind(addr)
                sock.listen(_BACKLOG)
            except OSError as exc:
                raise OSError(compat.error_code(exc), "cannot listen on %s:%d (%s)" % (host, port, _strerror(exc))) from None
            sock.setblocking(False)
    except Exception:
        for lst in listeners:
            lst.sock.close()
        raise
    return listeners


def _strerror(exc):
    code = compat.error_code(exc)
    names = {98: "address already in use", 13: "permission denied", 99: "address not available"}
    return names.get(code, "errno %s" % code)


class Scheduler:
    def __init__(self, server, listeners, workers, signals):
        self.server = server
        self.listeners = listeners
        self.workers = workers
        self.signals = signals
        self.fdlimit = server.conf.server["FDLimit"]
        self.poller = compat.Poller()
        self.by_fd = {}
        for lst in listeners:
            self.by_fd[lst.sock.fileno()] = lst
            self.poller.register(lst.sock.fileno(), POLLIN)
        if signals.fileno() >= 0:
            self.poller.register(signals.fileno(), POLLIN)

    def run(self):
        """Accept until a stop signal arrives; returns the signal number."""
        sig_fd = self.signals.fileno()
        # Without a signal descriptor (no ffi), a short tick keeps the stop flag responsive.
        tick = 1000 if sig_fd >= 0 else 200
        while not self.server.stop_requested:
            for fd, _ev in self.poller.wait(tick):
                if fd == sig_fd:
                    if self.signals.read():
                        self.server.stop_requested = True
                    continue
                lst = self.by_fd.get(fd)
                if lst is not None:
                    self._accept(lst)
        return self.signals.received

    def _accept(self, lst):
        while True:
            try:
                sock, addr = lst.sock.accept()
            except OSError as exc:
                code = compat.error_code(exc)
                if code not in (compat.EAGAIN, compat.EINTR):
                    log.error(None, "accept failed on port %d: errno %s" % (lst.port, code))
                return
            w = self._least_loaded()
            if self.fdlimit and self._total() >= self.fdlimit:
                sock.close()
                continue
            w.give(sock, addr, lst.net)

    def _least_loaded(self):
        best = self.workers[0]
        for w in self.workers:
            if w.active < best.active:
                best = w
        return best

    def _total(self):
        total = 0
        for w in self.workers:
            total += w.active
        return total

    def close(self):
        for lst in self.listeners:
            self.poller.unregister(lst.sock.fileno())
            lst.sock.close()
