"""Every difference between MicroPython and CPython lives here.

The rest of the core imports these names and never tests ``sys.implementation`` itself:
const, ticks, threads, the poller, non-blocking socket I/O without exceptions, sendfile,
signals, process ids, stat, printing exceptions, sockaddr formatting and the wake-up channel
a scheduler uses to hand connections to a sleeping worker.
"""

import _thread
import os
import socket
import struct
import sys
import time

MICROPYTHON = sys.implementation.name == "micropython"

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


try:
    import ffi  # optional on a device: sendfile, signalfd and getpid need it
except ImportError:
    ffi = None

EAGAIN = const(11)
EINTR = const(4)
EPIPE = const(32)
POLLIN = const(1)
POLLOUT = const(4)
POLLERR = const(8)
POLLHUP = const(16)
POLLNVAL = const(32)
_S_IFMT = const(0o170000)
_S_IFDIR = const(0o040000)
_S_IFREG = const(0o100000)
_S_IFLNK = const(0o120000)

start_thread = _thread.start_new_thread
allocate_lock = _thread.allocate_lock

# ---------------------------------------------------------------- clocks
if hasattr(time, "ticks_ms"):
    ticks_ms = time.ticks_ms
    ticks_diff = time.ticks_diff
else:

    def ticks_ms():
        return int(time.monotonic() * 1000)

    def ticks_diff(a, b):
        return a - b


def now():
    """Seconds since the epoch (UTC), an int."""
    return int(time.time())


gmtime = time.gmtime
localtime = time.localtime
sleep_ms = time.sleep_ms if hasattr(time, "sleep_ms") else (lambda ms: time.sleep(ms / 1000))

# ---------------------------------------------------------------- errors
if hasattr(sys, "print_exception"):
    print_exception = sys.print_exception
else:
    import traceback

    def print_exception(exc, file=sys.stderr):
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=file)


def gc_threshold(nbytes):
    """MicroPython: collect after nbytes of allocation (RSS follows the heap pages touched)."""
    import gc

    if nbytes > 0 and hasattr(gc, "threshold"):
        gc.threshold(nbytes)


def error_code(exc):
    """errno of an OSError on both interpreters (MicroPython keeps it in args[0])."""
    code = getattr(exc, "errno", None)
    if code is None and exc.args:
        code = exc.args[0]
    return code


# ---------------------------------------------------------------- files
ST_MODE = const(0)
ST_SIZE = const(6)
ST_MTIME = const(8)


def stat(path):
    """os.stat's tuple (index with ST_MODE, ST_SIZE, ST_MTIME) or None; follows symlinks."""
    try:
        return os.stat(path)
    except OSError:
        return None


def is_dir_mode(mode):
    return mode & _S_IFMT == _S_IFDIR


def is_file_mode(mode):
    return mode & _S_IFMT == _S_IFREG


if hasattr(os, "lstat"):

    def is_symlink(path):
        try:
            return os.lstat(path)[0] & _S_IFMT == _S_IFLNK
        except OSError:
            return False

    readlink = os.readlink
elif ffi is not None:
    _readlink = None
    # is_symlink() only asks whether readlink() succeeds: one shared byte, never read, so
    # threads may write it concurrently and no call allocates a buffer.
    _probe = bytearray(1)

    def _libc_readlink():
        global _readlink
        if _readlink is None:
            _readlink = _libc().func("i", "readlink", "spi")
        return _readlink

    def is_symlink(path):
        # MicroPython's os has no lstat: readlink() fails with EINVAL on anything else.
        return _libc_readlink()(path, _probe, 1) >= 0

    def readlink(path):
        buf = bytearray(4096)
        n = _libc_readlink()(path, buf, 4096)
        if n < 0:
            return None
        return str(buf[:n], "utf-8")
else:

    def is_symlink(path):
        return False

    def readlink(path):
        return None


def isdir(path):
    try:
        return is_dir_mode(os.stat(path)[0])
    except OSError:
        return False


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


# ---------------------------------------------------------------- libc through ffi
_libc_handle = None


def _libc():
    global _libc_handle
    if _libc_handle is None:
        for name in ("libc.so.6", "libc.so.0", "libc.so"):
            try:
                _libc_handle = ffi.open(name)
                break
            except OSError:
                pass
    return _libc_handle


def _ffi_call(ret, name, args, *values):
    """Call a libc function through ffi; -1 when ffi is missing."""
    if ffi is None or _libc() is None:
        return -1
    return _libc().func(ret, name, args)(*values)


if hasattr(os, "chmod"):
    chmod = os.chmod
    chown = os.chown
else:

    def chmod(path, mode):
        if _ffi_call("i", "chmod", "si", path, mode) != 0:
            raise OSError(1, "chmod %s failed" % path)

    def chown(path, uid, gid):
        if _ffi_call("i", "chown", "sii", path, uid, gid) != 0:
            raise OSError(1, "chown %s failed" % path)


if hasattr(os, "setuid"):
    setuid = os.setuid
    setgid = os.setgid
    setgroups = os.setgroups
else:

    def setuid(uid):
        if _ffi_call("i", "setuid", "i", uid) != 0:
            raise OSError(1, "setuid(%d) failed" % uid)

    def setgid(gid):
        if _ffi_call("i", "setgid", "i", gid) != 0:
            raise OSError(1, "setgid(%d) failed" % gid)

    def setgroups(groups):
        if _ffi_call("i", "setgroups", "ip", 0, None) != 0:
            raise OSError(1, "setgroups failed")


try:
    import grp
    import pwd

    def user_by_name(name):
        """(uid, gid, home) of a local account, or None."""
        try:
            e = pwd.getpwnam(name)
        except KeyError:
            return None
        return e.pw_uid, e.pw_gid, e.pw_dir

    def user_name(uid):
        try:
            return pwd.getpwuid(uid).pw_name
        except KeyError:
            return None

    def group_id(name):
        try:
            return grp.getgrnam(name).gr_gid
        except KeyError:
            return None

except ImportError:  # MicroPython: read the files (OSError when they cannot be read)

    def _find(path, index, key):
        with open(path) as f:
            for line in f:
                parts = line.rstrip("\n").split(":")
                if len(parts) > 2 and parts[index] == key:
                    return parts
        return None

    def user_by_name(name):
        p = _find("/etc/passwd", 0, name)
        return None if p is None or len(p) < 6 else (int(p[2]), int(p[3]), p[5])

    def user_name(uid):
        p = _find("/etc/passwd", 2, str(uid))
        return None if p is None else p[0]

    def group_id(name):
        p = _find("/etc/group", 0, name)
        return None if p is None else int(p[2])


def cpu_count():
    n = getattr(os, "cpu_count", None)
    if n is not None:
        return n() or 1
    count = 0
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("cpu") and "0" <= line[3:4] <= "9":
                    count += 1
    except OSError:
        pass
    return count or 1


def remove(path):
    os.remove(path)


def rss_kb():
    """Resident set size of this process in KB (from /proc), or -1."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


if hasattr(os, "geteuid"):
    geteuid = os.geteuid
else:

    def geteuid():
        return _ffi_call("i", "geteuid", "")


if hasattr(os, "getpid"):
    getpid = os.getpid
elif ffi is not None:

    def getpid():
        return _libc().func("i", "getpid", "")()
else:

    def getpid():
        return 0


# ---------------------------------------------------------------- sockets
if MICROPYTHON:

    def recv_into(sock, mv):
        """Bytes read, 0 at end of stream (or reset), None when nothing is ready."""
        try:
            return sock.readinto(mv)
        except OSError:
            return 0  # ECONNRESET and friends: the client is gone, like end of stream

    def send(sock, buf, mv, off, count):
        """Bytes of buf[off:off+count] written, 0 when the socket is full (no exception).

        MicroPython's write(buf, off, count) sends a window without a memoryview slice.
        """
        try:
            n = sock.write(buf, off, count)
        except OSError:
            return 0  # EPIPE/ECONNRESET: poll reports POLLERR next and the worker closes
        return 0 if n is None else n

else:

    def recv_into(sock, mv):
        try:
            return sock.recv_into(mv)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            return 0  # ECONNRESET and friends: the client is gone, like end of stream

    def send(sock, buf, mv, off, count):
        try:
            return sock.send(mv[off : off + count])
        except OSError:
            return 0  # full (EAGAIN), or EPIPE/ECONNRESET: POLLERR comes next and the worker closes


def sockaddr(host, port):
    """An address both interpreters accept (MicroPython wants raw sockaddr bytes)."""
    info = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    return info[0][0], info[0][-1]


def format_peer(addr):
    """'1.2.3.4:port' or '[::1]:port' from what accept() returned."""
    if isinstance(addr, tuple):
        if ":" in addr[0]:
            return "[%s]:%d" % (addr[0], addr[1])
        return "%s:%d" % (addr[0], addr[1])
    family = addr[0] | (addr[1] << 8)
    port = (addr[2] << 8) | addr[3]
    if family == 2:
        return "%d.%d.%d.%d:%d" % (addr[4], addr[5], addr[6], addr[7], port)
    if family == 10:
        words = struct.unpack(">8H", bytes(addr[8:24]))
        return "[%s]:%d" % (":".join("%x" % w for w in words), port)
    return "unix"


def peer_ip(peer):
    """The address part of a format_peer() string."""
    if peer.startswith("["):
        return peer[1 : peer.index("]")]
    return peer.rsplit(":", 1)[0]


def tune_listener(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.setsockopt(6, 23, 256)  # TCP_FASTOPEN with a queue of 256 pending cookies
    except OSError:
        pass


def tune_client(sock):
    sock.setblocking(False)
    try:
        sock.setsockopt(6, 1, 1)  # TCP_NODELAY: never wait for Nagle between responses
    except OSError:
        pass


def unix_socket(path):
    """(socket, address) for a unix stream socket at path."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if MICROPYTHON:
        return s, struct.pack("H", socket.AF_UNIX) + bytes(path, "utf-8") + b"\0"
    return s, path


# ---------------------------------------------------------------- poller
if hasattr(__import__("select"), "epoll"):
    import select as _select

    POLL_BACKEND = "epoll"

    class Poller:
        """epoll on CPython (Linux): O(ready) per wait."""

        def __init__(self):
            self._ep = _select.epoll()

        def register(self, fd, mask):
            self._ep.register(fd, mask)

        def modify(self, fd, mask):
            self._ep.modify(fd, mask)

        def unregister(self, fd):
            try:
                self._ep.unregister(fd)
            except (OSError, ValueError):
                pass

        def wait(self, timeout_ms):
            return self._ep.poll(timeout_ms / 1000)

        def close(self):
            self._ep.close()

else:
    import select as _select

    POLL_BACKEND = "poll"

    class Poller:
        """select.poll on MicroPython; ipoll yields a reused tuple: no allocation per event."""

        def __init__(self):
            self._p = _select.poll()

        def register(self, fd, mask):
            self._p.register(fd, mask)

        def modify(self, fd, mask):
            self._p.modify(fd, mask)

        def unregister(self, fd):
            try:
                self._p.unregister(fd)
            except (OSError, KeyError):
                pass

        def wait(self, timeout_ms):
            return self._p.ipoll(timeout_ms)

        def close(self):
            pass


# ---------------------------------------------------------------- waking a worker
class Waker:
    """A datagram channel one thread writes a byte to, so another's poll() returns.

    MicroPython has no pipe() nor socketpair(): an abstract-namespace unix datagram socket
    works on every build (no file, no ffi). CPython uses socketpair().
    """

    def __init__(self, name):
        if hasattr(socket, "socketpair"):
            self._r, self._w = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        else:
            addr = struct.pack("H", socket.AF_UNIX) + b"\0marmoset-" + bytes(name, "utf-8") + os.urandom(6)
            self._r = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._r.bind(addr)
            self._w = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._w.connect(addr)
        self._r.setblocking(False)
        self._w.setblocking(False)
        self._buf = bytearray(64)
        self._mv = memoryview(self._buf)

    def fileno(self):
        return self._r.fileno()

    def wake(self):
        try:
            self._w.send(b"w")
        except OSError:
            pass  # queue full: the reader is awake already

    def drain(self):
        while recv_into(self._r, self._mv):
            pass

    def close(self):
        self._r.close()
        self._w.close()


# ---------------------------------------------------------------- sendfile
if hasattr(os, "sendfile"):

    def sendfile(sock, f, offset, count):
        """Bytes sent (0 when the socket is full); -1 on an error that ends the connection."""
        try:
            return os.sendfile(sock.fileno(), f.fileno(), offset, count)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError:
            return -1

    HAVE_SENDFILE = True
elif ffi is not None:
    _sendfile = None

    def sendfile(sock, f, offset, count):
        # offset NULL: the kernel uses and advances the file position, which the caller
        # keeps in step (so the off_t width of sendfile vs sendfile64 does not matter).
        global _sendfile
        if _sendfile is None:
            _sendfile = _libc().func("i", "sendfile", "iipi")
        n = _sendfile(sock.fileno(), f.fileno(), None, count)
        if n >= 0:
            return n
        code = errno_value()
        return 0 if code == EAGAIN or code == EINTR else -1

    _errno_location = None

    def errno_value():
        """errno of the last failed libc call made through ffi in this thread."""
        global _errno_location
        if _errno_location is None:
            _errno_location = _libc().func("p", "__errno_location", "")
        return struct.unpack("i", ffi.as_bytearray(_errno_location(), 4))[0]

    HAVE_SENDFILE = True
else:
    sendfile = None
    HAVE_SENDFILE = False


# ---------------------------------------------------------------- signals
class Signals:
    """SIGTERM/SIGINT/SIGHUP as a pollable file descriptor, or a flag checked every tick.

    MicroPython has no signal module and a signal does not interrupt poll(): with ffi the
    signals are blocked before any thread starts and read from a signalfd; CPython uses
    signal handlers that write to a waker.
    """

    def __init__(self):
        self.received = 0
        self.fd = -1
        self._waker = None
        try:
            import signal
        except ImportError:
            signal = None
        if signal is not None:
            self._waker = Waker("signals")
            self.fd = self._waker.fileno()

            def handler(signum, frame):
                self.received = signum
                self._waker.wake()

            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(sig, handler)
        elif ffi is not None:
            self._setup_signalfd()

    def _setup_signalfd(self):
        libc = _libc()
        mask = bytearray(128)  # sigset_t
        for sig in (1, 2, 15):  # SIGHUP, SIGINT, SIGTERM: same numbers on x86 and ARM
            mask[(sig - 1) // 8] |= 1 << ((sig - 1) % 8)
        sigprocmask = libc.func("i", "sigprocmask", "ipp")
        if sigprocmask(0, mask, None) != 0:  # SIG_BLOCK
            return
        signalfd = libc.func("i", "signalfd", "ipi")
        self.fd = signalfd(-1, mask, 0o4000 | 0o2000000)  # SFD_NONBLOCK | SFD_CLOEXEC
        self._read = libc.func("i", "read", "ipi")
        self._info = bytearray(128)  # struct signalfd_siginfo

    def fileno(self):
        return self.fd

    def read(self):
        """Called when fd is readable: updates and returns the last signal number."""
        if self._waker is not None:
            self._waker.drain()
        elif self.fd >= 0:
            while self._read(self.fd, self._info, 128) == 128:
                self.received = struct.unpack_from("I", self._info, 0)[0]
        return self.received
