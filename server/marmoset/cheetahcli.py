"""cheetah: the command-line client of the Cheetah shell (runs on the device, MicroPython too).

    cheetah [-s SOCKET | -c CONFDIR] [--json] [COMMAND...]

With a command: prints its answer (text, or one JSON document with --json) and exits 0,
or 1 when the server is not running or the command is invalid. Without one: an interactive
session (banner, prompt) until 'quit' or end of input.
"""

import os
import sys

from . import compat, rconf
from .compat import POLLHUP, POLLIN

USAGE = "usage: cheetah [-s SOCKET | -c CONFDIR] [--json] [COMMAND...]\n"
DEFAULT_SOCKET = "/run/marmoset/cheetah.sock"


def _socket_from_conf(confdir):
    path = confdir.rstrip("/") + "/plugins/cheetah/cheetah.conf"
    try:
        for sec in rconf.read(path):
            value = sec.get("Socket")
            if value:
                return value
    except rconf.ConfigError:
        pass
    return DEFAULT_SOCKET


def connect(path):
    sock, addr = compat.unix_socket(path)
    try:
        sock.connect(addr)
    except OSError as exc:
        sock.close()
        code = compat.error_code(exc)
        why = {2: "no such socket", 111: "connection refused", 13: "permission denied"}.get(code, "errno %s" % code)
        raise OSError(code, "cannot connect to %s: %s (is the server running?)" % (path, why)) from None
    return sock


def _read_all(sock):
    chunks = []
    while True:
        data = sock.recv(4096)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def run_command(path, words, as_json):
    sock = connect(path)
    try:
        mode = b"mode json\n" if as_json else b"mode text\n"
        sock.send(mode + bytes(" ".join(words), "utf-8") + b"\nquit\n")
        out = _read_all(sock)
    finally:
        sock.close()
    text = str(out, "utf-8")
    if as_json:
        first = text.split("\n", 1)[0]
        sys.stdout.write(first + "\n")
        return 1 if '"error":' in first else 0
    sys.stdout.write(text)
    return 1 if text.startswith("Invalid command") else 0


def interactive(path):
    sock = connect(path)
    poller = compat.Poller()
    poller.register(sock.fileno(), POLLIN)
    poller.register(0, POLLIN)
    try:
        while True:
            for fd, ev in poller.wait(1000):
                if fd == 0:
                    line = sys.stdin.readline()
                    if not line:
                        sock.send(b"quit\n")
                        poller.unregister(0)
                    else:
                        sock.send(bytes(line, "utf-8"))
                elif ev & (POLLIN | POLLHUP):
                    data = sock.recv(4096)
                    if not data:
                        return 0
                    sys.stdout.write(str(data, "utf-8"))
                    if hasattr(sys.stdout, "flush"):
                        sys.stdout.flush()
    finally:
        sock.close()


def main(argv):
    path = os.getenv("CHEETAH_SOCKET") or DEFAULT_SOCKET
    as_json = False
    words = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            sys.stdout.write(USAGE)
            return 0
        if a == "--json":
            as_json = True
        elif a in ("-s", "--socket", "-c", "--configdir"):
            if i + 1 >= len(argv):
                sys.stderr.write("cheetah: %s needs a value\n%s" % (a, USAGE))
                return 2
            i += 1
            path = argv[i] if a in ("-s", "--socket") else _socket_from_conf(argv[i])
        elif a.startswith("-") and not words and a != "-":
            sys.stderr.write("cheetah: unknown option %r\n%s" % (a, USAGE))
            return 2
        else:
            words.append(a)
        i += 1
    try:
        if words:
            return run_command(path, words, as_json)
        return interactive(path)
    except OSError as exc:
        sys.stderr.write("cheetah: %s\n" % (exc.args[1] if len(exc.args) > 1 else exc))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
