"""Shared fixtures: a Marmoset server under a chosen interpreter, started and stopped by PID.

The interpreters come from MARMOSET_TEST_INTERPRETERS (comma-separated):
``cpython`` (python3), ``upy`` (MicroPython 1.25 on the host) and ``upy-armhf`` /
``upy-arm64`` (MicroPython under qemu-user). Default: cpython,upy.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SERVER = REPO / "server"
UPY = REPO / "scripts" / "upy"
sys.path.insert(0, str(SERVER))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "scripts"))

INTERPRETERS = [i for i in os.environ.get("MARMOSET_TEST_INTERPRETERS", "cpython,upy").split(",") if i]


HEAP = os.environ.get("MARMOSET_TEST_HEAP", "8M")  # a board's MicroPython heap under qemu-test


def interpreter_command(name: str) -> list[str]:
    if name == "cpython":
        return [sys.executable, "-m", "marmoset"]
    if name == "upy":
        return [str(UPY), "-X", "heapsize=" + HEAP, "-m", "marmoset"]
    if name.startswith("upy-"):
        return [str(UPY), "--arch", name[4:], "-X", "heapsize=" + HEAP, "-m", "marmoset"]
    raise ValueError("unknown interpreter %r" % name)


def interpreter_env(name: str) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SERVER)
    env["MICROPYPATH"] = str(SERVER)
    env.pop("MARMOSET_TEST_INTERPRETERS", None)
    return env


def free_port(family=socket.AF_INET, host="127.0.0.1") -> int:
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class ServerProcess:
    """One server: its config folder, its process, its log; stop() is bounded in time."""

    def __init__(self, interp: str, confdir: Path | None, args: list[str], log: Path, port: int, host="127.0.0.1"):
        self.interp = interp
        self.confdir = confdir
        self.port = port
        self.host = host
        self.log_path = log
        self.args = args
        self.proc: subprocess.Popen | None = None

    def start(self, wait=True, timeout=60.0):
        cmd = interpreter_command(self.interp) + self.args
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=str(self.confdir or REPO), env=interpreter_env(self.interp),
                                     stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %s:\n%s" % (self.proc.returncode, self.log()))
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not listen within %.0fs:\n%s" % (timeout, self.log()))

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, sig=signal.SIGTERM, timeout=15.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        return self.proc.returncode

    def fd_count(self) -> int:
        return len(os.listdir("/proc/%d/fd" % self.pid))


def write_conf(root: Path, docroot: Path, port: int, server_extra: str = "", sites: dict | None = None,
               plugins: list[str] | None = None, listen: list[str] | None = None) -> Path:
    """A Monkey configuration folder under root: monkey.conf, monkey.mime, plugins.load, sites/."""
    conf = root / "conf"
    (conf / "sites").mkdir(parents=True, exist_ok=True)
    listen = listen or ["127.0.0.1:%d" % port]
    extra = [line.strip() for line in server_extra.strip().splitlines() if line.strip()]
    given = {line.split()[0].lower() for line in extra}
    defaults = ["Workers 2", "Timeout 4", "KeepAliveTimeout 3", "PidFile %s" % (root / "marmoset.pid")]
    lines = ["[SERVER]"] + ["    Listen %s" % v for v in listen]
    lines += ["    " + line for line in defaults + extra if line in extra or line.split()[0].lower() not in given]
    (conf / "monkey.conf").write_text("\n".join(lines) + "\n")
    (conf / "monkey.mime").write_text((REPO / "conf" / "monkey.mime").read_text())
    (conf / "plugins.load").write_text("[PLUGINS]\n" + "".join("    Load %s\n" % p for p in plugins or []))
    if sites is None:
        sites = {"default": "[HOST]\n    ServerName localhost 127.0.0.1\n    DocumentRoot %s\n" % docroot}
    for name, text in sites.items():
        (conf / "sites" / name).write_text(text)
    return conf


@pytest.fixture(params=INTERPRETERS)
def interp(request):
    return request.param


@pytest.fixture
def docroot(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    (root / "index.html").write_text("<h1>home</h1>\n")
    (root / "hello.txt").write_text("hello world\n")
    (root / "sub").mkdir()
    (root / "sub" / "index.html").write_text("<p>sub</p>\n")
    (root / "empty-dir").mkdir()
    (root / "data.json").write_text('{"a": 1}\n')
    (root / "noext").write_text("plain\n")
    return root


@pytest.fixture
def make_server(tmp_path, interp):
    """make_server(conf_kwargs...) -> a started ServerProcess; every one is stopped after the test."""
    started: list[ServerProcess] = []

    def make(docroot: Path | None = None, start=True, args: list[str] | None = None, **conf_kwargs):
        port = conf_kwargs.pop("port", None) or free_port()
        if args is None:
            conf = write_conf(tmp_path, docroot, port, **conf_kwargs)
            args = ["-c", str(conf)]
        host = conf_kwargs.get("host", "127.0.0.1")
        srv = ServerProcess(interp, tmp_path, args, tmp_path / ("server-%d.log" % len(started)), port, host)
        started.append(srv)
        if start:
            srv.start()
        return srv

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture
def server(make_server, docroot):
    return make_server(docroot)
