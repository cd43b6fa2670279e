"""A worker thread: its own poll set, its connections, its buffers; nothing shared unlocked.

The scheduler hands accepted sockets over through this worker's queue (under its lock) and
wakes its poll through a Waker. Everything else the worker touches is its own: the poller,
the connection table (fd -> Connection), the Out buffer for response heads, small bodies and
file chunks, the Date clock and the MIME line cache.
"""

from . import compat, http, log, parser, plugin, response
from .compat import POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, const, ticks_diff, ticks_ms
from .connection import ST_CLOSED, ST_READ, ST_WRITE, Connection

_TICK_MS = const(1000)  # how often deadlines are checked
_SENDFILE_CHUNK = const(1048576)
_GRACE_MS = const(5000)  # how long in-flight responses may take after a stop signal
_SPARE = const(32)  # closed connections kept for reuse: about 2.3 KB each


class Worker:
    def __init__(self, server, index):
        conf = server.conf
        s = conf.server
        self.server = server
        self.conf = conf
        self.index = index
        self.plugins = server.plugins
        self.out = response.Out()
        self.clock = response.Clock()
        self.queue = []
        self.controls = []  # functions other threads ask this worker to run (Cheetah)
        self.lock = compat.allocate_lock()
        self.waker = compat.Waker("w%d-" % index)
        self.poller = compat.Poller()
        self.poller.register(self.waker.fileno(), POLLIN)
        self.conns = {}
        self.spare = []  # closed Connection objects waiting for the next client
        self.active = 0  # read by the scheduler to pick the least-loaded worker
        self.accepted = 0
        self.requests = 0
        self.stopping = False
        self.done = False
        self.extra = None  # a large error body to send after its head (rare)
        self.stop_at = 0
        # Settings, flattened once: the hot path reads attributes, not dictionaries.
        self.timeout_ms = s["Timeout"] * 1000
        self.ka_timeout_ms = s["KeepAliveTimeout"] * 1000
        self.keepalive = s["KeepAlive"]
        self.max_keepalive = s["MaxKeepAliveRequest"]
        self.resume = s["Resume"]
        self.symlink = s["SymLink"]
        self.indexfiles = s["Indexfile"]
        self.userdir = s["UserDir"]
        self.limit = s["MaxRequestSize"] * 1024
        self.bufsize = min(s["RequestBuffer"], self.limit)
        self.server_line = response.server_line(s["HideVersion"])
        self.version_text = server.version_text
        self.default_mime = s["DefaultMimeType"]
        self._mime_lines = {}
        # The last Last-Modified line is kept: most requests hit a few files.
        self.last_modified = response.DateLine(b"Last-Modified: ")
        self._stage10 = self.plugins.stage[10]
        self._stage20 = self.plugins.stage[20]
        self._stage40 = self.plugins.stage[40]
        self._stage50 = self.plugins.stage[50]

    # ------------------------------------------------------------ hand-over
    def give(self, sock, addr, net):
        """Called by the scheduler thread."""
        self.lock.acquire()
        self.queue.append((sock, addr, net))
        self.active += 1
        self.lock.release()
        self.waker.wake()

    def call(self, fn, timeout_ms=2000):
        """Run fn(worker) in this worker's thread and return its result (None on timeout).

        How other threads (Cheetah) read a worker's connections without racing it.
        """
        box = [None, False]

        def job():
            try:
                box[0] = fn(self)
            finally:
                box[1] = True

        self.lock.acquire()
        self.controls.append(job)
        self.lock.release()
        self.waker.wake()
        deadline = ticks_ms() + timeout_ms
        while not box[1] and ticks_diff(deadline, ticks_ms()) > 0:
            compat.sleep_ms(2)
        return box[0]

    def _take(self, now):
        self.waker.drain()
        while self.controls:
            self.lock.acquire()
            job = self.controls.pop(0) if self.controls else None
            self.lock.release()
            if job is not None:
                try:
                    job()
                except Exception as exc:
                    log.exception(None, exc, "worker %d control" % self.index)
        while True:
            self.lock.acquire()
            item = self.queue.pop(0) if self.queue else None
            self.lock.release()
            if item is None:
                return
            sock, addr, net = item
            if self.stopping:
                sock.close()
                self._dec()
                continue
            refused = False
            for hook in self._stage10:  # before anything is allocated for the client
                if hook(self, sock, addr) == plugin.CLOSE:
                    refused = True
                    break
            if refused:
                sock.close()
                self._dec()
                continue
            compat.tune_client(sock)
            if self.spare:
                conn = self.spare.pop()
                conn.attach(sock, addr, net, now)
            else:
                conn = Connection(sock, addr, net, self.bufsize, self.limit, now)
            conn.deadline = now + self.timeout_ms
            self.conns[conn.fd] = conn
            self.accepted += 1
            self.poller.register(conn.fd, POLLIN)

    def _dec(self):
        self.lock.acquire()
        self.active -= 1
        self.lock.release()

    # ------------------------------------------------------------ loop
    def run(self):
        for p in self.plugins.plugins:
            hook = getattr(p, "worker_init", None)
            if hook is not None:
                hook(self)
        last = ticks_ms()
        wake_fd = self.waker.fileno()
        conns = self.conns
        try:
            while True:
                for fd, ev in self.poller.wait(_TICK_MS):
                    if fd == wake_fd:
                        self._take(ticks_ms())
                        continue
                    conn = conns.get(fd)
                    if conn is not None:
                        self._event(conn, ev)
                now = ticks_ms()
                if ticks_diff(now, last) >= _TICK_MS or self.stopping:
                    last = now
                    self._sweep(now)
                    if self.stopping and (not conns or ticks_diff(now, self.stop_at) >= 0):
                        break
        except Exception as exc:  # a bug in the loop itself: say so, never die silently
            log.exception(None, exc, "worker %d loop" % self.index)
        for conn in list(conns.values()):
            self.close(conn)
        self.poller.close()
        self.waker.close()
        self.done = True

    def snapshot(self, now):
        """(worker, peer, state, age s, requests, bytes sent) for each connection; worker thread only."""
        from .connection import STATE_NAMES

        rows = []
        for conn in self.conns.values():
            state = STATE_NAMES[conn.state]
            if conn.state == ST_READ and conn.idle:
                state = "idle"
            rows.append((self.index, conn.peer(), state, ticks_diff(now, conn.created) // 1000, conn.served, conn.sent))
        return rows

    def stop(self):
        """Called by the scheduler: finish responses in flight, then exit."""
        self.stop_at = ticks_ms() + _GRACE_MS
        self.stopping = True
        self.waker.wake()

    def _event(self, conn, ev):
        try:
            if conn.state == ST_WRITE:
                if ev & (POLLERR | POLLHUP | POLLNVAL):
                    self.close(conn)  # the client is gone: nothing more can be delivered
                elif ev & POLLOUT:
                    conn.deadline = ticks_ms() + self.timeout_ms
                    if self._flush(conn):
                        self._complete(conn)
            elif ev & (POLLIN | POLLERR | POLLHUP):
                self._read(conn)
            elif ev & POLLNVAL:
                self.close(conn)
        except Exception as exc:
            # Bad input never takes the worker down: this connection ends, the loop goes on.
            log.exception(conn.peer(), exc, "worker %d" % self.index)
            self.close(conn)

    def _sweep(self, now):
        expired = None
        for conn in self.conns.values():
            if ticks_diff(now, conn.deadline) >= 0 or (self.stopping and conn.state == ST_READ and conn.n == 0):
                if expired is None:
                    expired = []  # allocated only when something expired
                expired.append(conn)
        if expired:
            for conn in expired:
                self.close(conn)

    # ------------------------------------------------------------ reading
    def _read(self, conn):
        n = conn.n
        if n == len(conn.buf) and not conn.grow(n + 1):
            self.close(conn)
            return
        # A memoryview slice per read: the one way to receive into the buffer's tail.
        r = conn.net.read(conn.sock, conn.mv[n:])
        if r is None:
            return
        if r <= 0:
            self.close(conn)
            return
        if conn.idle:
            # First byte of a request: it has Timeout seconds to arrive whole.
            conn.idle = False
            conn.deadline = ticks_ms() + self.timeout_ms
        conn.n = n + r
        self._process(conn)

    def _process(self, conn):
        """Parse and answer every complete request in the buffer (pipelining), in order."""
        while conn.n:
            st = parser.feed(conn, conn.buf, conn.n)
            if st == parser.PENDING:
                if conn.head_end and conn.end > len(conn.buf):
                    conn.grow(conn.end)
                elif conn.n == len(conn.buf):
                    conn.grow(conn.n + conn.step)
                return
            self.extra = None
            if st != parser.READY:
                conn.keep_alive = False
                http.error(self, conn, st, "")
            else:
                ret = plugin.CONTINUE
                for hook in self._stage20:
                    ret = hook(self, conn)
                    if ret == plugin.END or ret == plugin.CLOSE:
                        break
                if ret == plugin.CLOSE:
                    self.close(conn)
                    return
                if ret != plugin.END:
                    ret = http.handle(self, conn)
                    if ret == plugin.CLOSE:
                        self.close(conn)
                        return
            if not self._respond(conn):
                if conn.state == ST_CLOSED:
                    return
                conn.state = ST_WRITE
                conn.deadline = ticks_ms() + self.timeout_ms
                self.poller.modify(conn.fd, POLLOUT)
                return
            if not self._complete(conn):
                return

    # ------------------------------------------------------------ writing
    def _respond(self, conn):
        """Send what handle() put in Out; True when the whole response has left."""
        out = self.out
        n = out.pos
        sent = conn.net.write(conn.sock, out.buf, out.mv, 0, n)
        conn.sent += sent
        if sent < n or self.extra is not None:
            # Slow path: the socket is full (or a large error page follows); keep the rest.
            rest = bytes(out.mv[sent:n])
            if self.extra is not None:
                rest += self.extra
                self.extra = None
            conn.pending = rest
            conn.pending_off = 0
        out.pos = 0
        return self._flush(conn)

    def _flush(self, conn):
        if conn.pending is not None:
            data = conn.pending
            off = conn.pending_off
            left = len(data) - off
            sent = conn.net.write(conn.sock, data, memoryview(data), off, left)
            conn.sent += sent
            if sent < left:
                conn.pending_off = off + sent
                return False
            conn.pending = None
        while conn.file_left > 0:
            chunk = conn.file_left if conn.file_left < _SENDFILE_CHUNK else _SENDFILE_CHUNK
            r = conn.net.send_file(conn.sock, conn.file, conn.file_off, chunk)
            if r is None:
                r = self._copy_chunk(conn)
            if r < 0:
                conn.keep = False
                self.close(conn)
                return False
            if r == 0:
                return False
            conn.file_off += r
            conn.file_left -= r
            conn.sent += r
        conn.close_file()
        return True

    def _copy_chunk(self, conn):
        """No sendfile: readinto the worker's buffer, send, step back if the send was short."""
        out = self.out
        size = len(out.buf)
        want = conn.file_left if conn.file_left < size else size
        got = conn.file.readinto(out.mv[:want])
        if not got:
            return -1  # the file shrank: the promised length cannot be kept
        sent = conn.net.write(conn.sock, out.buf, out.mv, 0, got)
        if sent < got:
            conn.file.seek(conn.file_off + sent)
        return sent

    def _complete(self, conn):
        """The response has left: stage 40, then keep the connection or close it."""
        conn.served += 1
        self.requests += 1
        for hook in self._stage40:
            hook(self, conn)
        if not conn.keep:
            self.close(conn)
            return False
        conn.consume()
        conn.vhost = None
        conn.data = None
        conn.idle = conn.n == 0
        conn.deadline = ticks_ms() + (self.ka_timeout_ms if conn.idle else self.timeout_ms)
        if conn.state != ST_READ:
            conn.state = ST_READ
            self.poller.modify(conn.fd, POLLIN)
        return True

    def close(self, conn):
        if conn.state == ST_CLOSED:
            return
        conn.state = ST_CLOSED
        self.poller.unregister(conn.fd)
        self.conns.pop(conn.fd, None)
        conn.close_file()
        try:
            conn.net.close(conn.sock)
        except OSError:
            pass
        self._dec()
        for hook in self._stage50:
            try:
                hook(self, conn)
            except Exception as exc:
                log.exception(conn.peer(), exc, "stage 50")
        conn.detach()
        if len(self.spare) < _SPARE:
            self.spare.append(conn)

    # ------------------------------------------------------------ helpers for http
    def mime_line(self, path):
        """'Content-Type: ...' bytes for path, cached per extension (one worker's own dict)."""
        dot = path.rfind(".")
        ext = path[dot + 1 :] if dot > path.rfind("/") else ""
        line = self._mime_lines.get(ext)
        if line is None:
            line = http.mime_line(self.conf.mime, self.default_mime, path)
            self._mime_lines[ext] = line
        return line
