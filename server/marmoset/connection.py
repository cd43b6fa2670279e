"""One client connection: its socket, its request buffer and where its response stands.

A Connection is the parser's Request (parser state lives in the same object), so accepting a
client costs this object and its buffer, made once and reused by every keep-alive request.
The buffer grows in steps of the initial size only for a request larger than it, up to
MaxRequestSize.
"""

from . import compat
from .compat import const
from .parser import Request

# Lifecycle (Monkey's session states, reduced to what the loop dispatches on)
ST_READ = const(0)  # waiting for (more of) a request: POLLIN
ST_WRITE = const(1)  # a response is being sent: POLLOUT
ST_CLOSED = const(2)
STATE_NAMES = ("reading", "writing", "closed")


class Connection(Request):
    """Made once, then recycled: a worker keeps a few closed ones (Worker.release) and
    attach() gives one to the next client, buffer included, so that a busy server accepts
    without allocating anything but the socket object itself."""

    def __init__(self, sock, addr, net, size, limit, now):
        Request.__init__(self, limit)
        self.buf = bytearray(size)
        self.mv = memoryview(self.buf)
        self.step = size
        self.attach(sock, addr, net, now)

    def attach(self, sock, addr, net, now):
        """Start serving a new client with this object (fresh or recycled)."""
        self.reset()
        self.sock = sock
        self.fd = sock.fileno()
        self.addr = addr  # raw, as accept() gave it: formatted only when a log needs it
        self.net = net
        self.n = 0  # bytes in buf
        self.state = ST_READ
        self.deadline = 0
        self.created = now
        self.served = 0  # requests answered
        self.sent = 0  # bytes sent
        self.keep = False  # keep the connection after this response
        self.idle = True  # between requests: no byte of the next one has arrived
        # Response in flight
        self.pending = None  # head bytes a short write left behind (slow path only)
        self.pending_off = 0
        self.file = None
        self.file_off = 0
        self.file_left = 0
        self.status = 0
        self.vhost = None
        self.data = None  # per-request slot for a plugin (stage 30 streaming)

    def peer(self):
        return compat.format_peer(self.addr)

    def grow(self, need):
        """Make room for at least need bytes, in steps; False when over the limit."""
        size = len(self.buf)
        if need <= size:
            return True
        if size >= self.limit:
            return False
        new = size
        while new < need:
            new += self.step
        if new > self.limit:
            new = self.limit
        buf = bytearray(new)
        buf[: self.n] = self.mv[: self.n]
        self.buf = buf
        self.mv = memoryview(buf)
        return need <= new

    def consume(self):
        """Drop the answered request; a pipelined one moves to the front of the buffer."""
        end = self.end
        rest = self.n - end
        if rest > 0:
            self.mv[0:rest] = self.mv[end : self.n]
        self.n = rest if rest > 0 else 0
        self.reset()

    def detach(self):
        """Closed: drop the references, and a buffer that grew for a large request."""
        self.sock = None
        self.addr = None
        self.vhost = None
        self.data = None
        self.pending = None
        if len(self.buf) != self.step:
            self.buf = bytearray(self.step)
            self.mv = memoryview(self.buf)

    def close_file(self):
        if self.file is not None:
            self.file.close()
            self.file = None
        self.file_left = 0
