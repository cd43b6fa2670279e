"""Cheetah: the server shell (Monkey's), on a unix socket or the terminal.

    plugins/cheetah/cheetah.conf
    [CHEETAH]
        Listen SERVER                         # SERVER: unix socket; STDIN: the terminal
        Socket /run/marmoset/cheetah.sock     # where the socket lives (SERVER mode)
        Group  admin                          # optional: mode 0660 and this group (else 0600)

Cheetah runs in a thread of its own with its own poll set, so any number of clients are
served without touching the HTTP workers; what it reads of a worker's connections it asks
that worker for (Worker.call), never reading another thread's data unlocked.

A client chooses its mode with its first line: ``mode json`` makes every answer one JSON
document on one line (no banner, no prompt, no ANSI). Anything else is Monkey's interactive
mode: banner, prompt, text tables. A client that says nothing for a moment gets the banner.
"""

import json
import os
import sys

from .. import VERSION, compat, config, log, rconf
from ..compat import POLLERR, POLLHUP, POLLIN, POLLOUT, ticks_diff, ticks_ms

DEFAULT_SOCKET = "/run/marmoset/cheetah.sock"
_BANNER_MS = 300
_PROMPT = "\x1b[1mcheetah>\x1b[0m "
_INVALID = "Invalid command, type 'help' for a list of available commands"
_MAX_LINE = 1024


class Plugin:
    name = "cheetah"
    description = "server shell on a unix socket"

    def __init__(self, conf):
        self.conf = conf
        self.mode = "SERVER"
        self.path = DEFAULT_SOCKET
        self.group = ""
        self.server = None
        self.sock = None
        self.running = False
        self.done = True
        cfile = conf.path + "/plugins/cheetah/cheetah.conf" if conf.path else ""
        if cfile and compat.exists(cfile):
            for sec in rconf.read(cfile):
                if sec.name != "CHEETAH":
                    raise rconf.ConfigError(sec.path, sec.line, "unknown section [%s] (expected [CHEETAH])" % sec.name)
                values = {}
                config.apply(sec, _KEYS, values)
                self.mode = values["Listen"].upper()
                self.path = values["Socket"]
                self.group = values["Group"]
                if self.mode not in ("SERVER", "STDIN"):
                    raise rconf.ConfigError(sec.path, sec.line, "Listen must be SERVER or STDIN, not %r" % values["Listen"])
        self.cfile = cfile

    # ------------------------------------------------------------ lifecycle
    def init(self, server):
        self.server = server
        self.poller = compat.Poller()
        self.clients = {}
        if self.mode == "SERVER":
            self.sock = _listen_unix(self.path, self.group)
            self.sock_ino = os.stat(self.path)[1]
            self.poller.register(self.sock.fileno(), POLLIN)
        else:
            self.poller.register(0, POLLIN)
            self.clients[0] = _Client(None, 0, ticks_ms())
        self.waker = compat.Waker("cheetah")
        self.poller.register(self.waker.fileno(), POLLIN)
        self.running = True
        self.done = False
        compat.start_thread(self._loop, ())

    def exit(self, server):
        self.running = False
        self.waker.wake()
        deadline = ticks_ms() + 2000
        while not self.done and ticks_diff(deadline, ticks_ms()) > 0:
            compat.sleep_ms(10)
        if self.sock is not None:
            self.sock.close()
            try:
                # Only our own socket: a server started meanwhile (a restart) may own the path now.
                if os.stat(self.path)[1] == self.sock_ino:
                    compat.remove(self.path)
            except OSError:
                pass

    # ------------------------------------------------------------ loop
    def _loop(self):
        try:
            while self.running:
                for fd, ev in self.poller.wait(100):
                    if self.sock is not None and fd == self.sock.fileno():
                        self._accept()
                    elif fd == self.waker.fileno():
                        self.waker.drain()
                    else:
                        client = self.clients.get(fd)
                        if client is not None:
                            self._event(client, ev)
                now = ticks_ms()
                for client in list(self.clients.values()):
                    if client.banner_at and ticks_diff(now, client.banner_at) >= 0:
                        client.banner_at = 0
                        self._say(client, self._banner() + _PROMPT)
        except Exception as exc:
            log.exception(None, exc, "cheetah")
        for client in list(self.clients.values()):
            self._drop(client)
        self.waker.close()
        self.done = True

    def _accept(self):
        try:
            sock, _ = self.sock.accept()
        except OSError:
            return
        sock.setblocking(False)
        client = _Client(sock, sock.fileno(), ticks_ms() + _BANNER_MS)
        self.clients[client.fd] = client
        self.poller.register(client.fd, POLLIN)

    def _event(self, client, ev):
        if ev & POLLOUT:
            self._flush(client)
        if ev & POLLIN or ev & (POLLERR | POLLHUP):
            data = _read(client)
            if data is None:
                self._drop(client)
                return
            client.buf += data
            if len(client.buf) > _MAX_LINE and b"\n" not in client.buf:
                self._drop(client)
                return
            while b"\n" in client.buf and client.fd in self.clients:
                line, client.buf = client.buf.split(b"\n", 1)
                self._line(client, str(line, "utf-8").strip())

    def _line(self, client, line):
        if client.first:
            client.first = False
            client.banner_at = 0
            if line.lower() == "mode json":
                client.json = True
                return
            if line.lower() == "mode text":
                client.plain = True  # text answers for tools: no banner, no prompt
                return
            if client.sock is not None or line == "":
                self._say(client, self._banner())
        prompt = "" if client.plain else _PROMPT
        if line == "" and not client.json:
            self._say(client, prompt)
            return
        words = line.split()
        name = _ALIASES.get(words[0].lower(), words[0].lower()) if words else ""
        handler = _COMMANDS.get(name)
        if handler is None:
            if client.json:
                self._say(client, json.dumps({"command": line, "error": _INVALID}) + "\n")
            else:
                self._say(client, _INVALID + "\n" + prompt)
            return
        if name == "quit":
            if client.json:
                self._say(client, json.dumps({"command": "quit", "result": "bye"}) + "\n")
            elif not client.plain:
                self._say(client, "Bye!\n")
            client.closing = True
            self._flush(client)
            return
        try:
            data = handler[0](self)
        except Exception as exc:
            log.exception(None, exc, "cheetah command %s" % name)
            data = None
        if client.json:
            self._say(client, json.dumps({"command": name, "result": data}) + "\n")
        else:
            self._say(client, handler[1](self, data) + prompt)

    def _say(self, client, text):
        client.out += bytes(text, "utf-8")
        self._flush(client)

    def _flush(self, client):
        if client.sock is None:
            sys.stdout.write(str(client.out, "utf-8"))  # STDIN mode: the terminal
            client.out = b""
        elif client.out:
            mv = memoryview(client.out)
            n = compat.send(client.sock, client.out, mv, 0, len(client.out))
            client.out = client.out[n:]
        if client.sock is not None:
            self.poller.modify(client.fd, POLLIN | POLLOUT if client.out else POLLIN)
        if client.closing and not client.out:
            self._drop(client)

    def _drop(self, client):
        if self.clients.pop(client.fd, None) is None:
            return
        self.poller.unregister(client.fd)
        if client.sock is not None:
            client.sock.close()
        else:
            self.running = False  # STDIN closed: the shell is over, the server goes on

    def _banner(self):
        return "\n  Marmoset Cheetah! (v%s)\n  Type 'help' or '\\h' for the commands.\n\n" % VERSION


class _Client:
    def __init__(self, sock, fd, banner_at):
        self.sock = sock
        self.fd = fd
        self.buf = b""
        self.out = b""
        self.json = False
        self.plain = False
        self.first = True
        self.closing = False
        self.banner_at = banner_at if sock is not None else 0


def _read(client):
    """Bytes read; b"" when nothing is ready; None at end of stream or on an error."""
    try:
        if client.sock is None:
            data = os.read(0, 512) if hasattr(os, "read") else __import__("sys").stdin.readline().encode()
        else:
            data = client.sock.recv(512)
    except OSError as exc:
        return b"" if compat.error_code(exc) == compat.EAGAIN else None
    return data if data else None


_KEYS = (
    ("Listen", config.T_STR, "SERVER", "SERVER (unix socket) or STDIN (the terminal)."),
    ("Socket", config.T_STR, DEFAULT_SOCKET, "Path of the unix socket."),
    ("Group", config.T_STR, "", "Group allowed to use the socket (mode 0660); empty: owner only (0600)."),
)


def _listen_unix(path, group):
    """A listening unix socket at path, 0600 (0660 with a group); a stale one is replaced."""
    if compat.exists(path):
        probe, addr = compat.unix_socket(path)
        try:
            probe.connect(addr)
            live = True
        except OSError:
            live = False
        probe.close()
        if live:
            raise rconf.ConfigError(path, 0, "another Marmoset is running: its Cheetah socket answers")
        compat.remove(path)  # left by a crash: nobody listens on it
    folder = path[: path.rfind("/")]
    if folder and not compat.exists(folder):
        raise rconf.ConfigError(path, 0, "the Cheetah socket folder %s does not exist" % folder)
    sock, addr = compat.unix_socket(path)
    sock.bind(addr)
    compat.chmod(path, 0o660 if group else 0o600)
    if group:
        try:
            gid = compat.group_id(group)
        except OSError:
            gid = None
        if gid is None:
            sock.close()
            compat.remove(path)
            raise rconf.ConfigError(path, 0, "unknown group %r for the Cheetah socket" % group)
        compat.chown(path, -1, gid)
    sock.listen(16)
    sock.setblocking(False)
    return sock


from . import cheetah_commands  # noqa: E402  (the command table needs the classes above)

_COMMANDS = cheetah_commands.COMMANDS
_ALIASES = cheetah_commands.ALIASES
