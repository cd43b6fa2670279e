"""Liana: the plain-socket transport (Monkey's network layer interface).

Every listener names one transport; the worker reads, writes and sends files only through
it, so TLS is another module with the same methods.
"""

from .. import compat


class Plugin:
    name = "liana"
    description = "plain socket transport"
    network = True

    def __init__(self, conf):
        pass

    def read(self, sock, mv):
        """Bytes read into mv, 0 at end of stream, None when nothing is ready."""
        return compat.recv_into(sock, mv)

    def write(self, sock, buf, mv, off, count):
        """Bytes of buf[off:off+count] sent; 0 when the socket is full."""
        return compat.send(sock, buf, mv, off, count)

    def writev(self, sock, parts):
        sent = 0
        for data in parts:
            n = compat.send(sock, data, memoryview(data), 0, len(data))
            sent += n
            if n < len(data):
                break
        return sent

    def send_file(self, sock, f, offset, count):
        """Zero copy when the interpreter can; None tells the worker to copy through its buffer."""
        if compat.sendfile is None:
            return None
        return compat.sendfile(sock, f, offset, count)

    def close(self, sock):
        sock.close()

    def buffer_size(self):
        return 65536
