"""marmoset-remote end to end, through real dropbear SSH servers on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import INTERPRETERS, REPO, free_port
from httpclient import get
from sshd import Dropbear, make_client_key
from test_cheetah import cheetah_conf

REMOTE = REPO / "scripts" / "marmoset-remote"
SERVER_INTERP = "upy" if "upy" in INTERPRETERS else INTERPRETERS[0]


@pytest.fixture
def interp():
    return SERVER_INTERP  # the device runs MicroPython: the remote tests use it when selected


@pytest.fixture
def fleet(tmp_path, make_server):
    """A Marmoset server with Cheetah, a client key, and a function making dropbear 'devices'."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    key = home / ".ssh" / "id_test"
    authorized = make_client_key(key)
    srv_root = tmp_path / "srv"
    www = srv_root / "www"
    www.mkdir(parents=True)
    (www / "index.html").write_text("version 1\n")
    sock = tmp_path / "cheetah.sock"
    srv = make_server(www, plugins=["cheetah"], start=False)
    cheetah_conf(tmp_path / "conf", sock)
    srv.start()
    # The device's `cheetah` as the SSH session will find it: MicroPython, as on a board
    # (the session's /root is the test's, so nothing under the real home is reachable).
    tool = tmp_path / "bin" / "cheetah"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\nMICROPYPATH=%s exec %s -m marmoset.cheetahcli -s %s \"$@\"\n" % (REPO / "server", REPO / "scripts" / "upy", sock))
    tool.chmod(0o755)
    servers: list[Dropbear] = []

    class Fleet:
        pass

    f = Fleet()
    f.srv, f.key, f.home, f.www, f.srv_root, f.tool, f.tmp = srv, key, home, www, srv_root, tool, tmp_path
    f.known = home / ".ssh" / "known_hosts"
    f.known.write_text("")

    def device(name="dev", trust=True):
        d = Dropbear(tmp_path / ("sshd-" + name), free_port(), [authorized]).start()
        servers.append(d)
        if trust:
            with open(f.known, "a") as k:
                k.write(d.known_hosts_line())
        return d

    f.device = device
    yield f
    for d in servers:
        d.stop()


def remote(f, hosts, *words, extra=(), timeout=120, stdin=None):
    args = [sys.executable, str(REMOTE), "-l", "root", "-i", str(f.key), "--known-hosts", str(f.known),
            "-F", str(f.home / ".ssh" / "config"), "--no-agent", "--cheetah", str(f.tool),
            "--connect-timeout", "5", "--command-timeout", "60"] + list(extra) + [hosts] + list(words)
    env = dict(os.environ, HOME=str(f.home))
    env.pop("SSH_AUTH_SOCK", None)
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout, input=stdin)


def test_status_from_a_running_server(fleet):
    d = fleet.device()
    p = remote(fleet, "127.0.0.1:%d" % d.port, "status")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split()[:4] == ["HOST", "STATE", "VERSION", "PID"]
    assert "running" in lines[1] and str(fleet.srv.pid) in lines[1]
    p = remote(fleet, "127.0.0.1:%d" % d.port, "workers", extra=["--json"])
    doc = json.loads(p.stdout)
    assert doc["ok"] and len(doc["result"]) == 2
    p = remote(fleet, "127.0.0.1:%d" % d.port, "uptime")
    assert p.stdout.startswith("Server has been running:")


def test_three_hosts_in_parallel_with_one_down(fleet):
    a, b = fleet.device("a"), fleet.device("b")
    down = free_port()
    hosts = "127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d" % (a.port, down, b.port)
    p = remote(fleet, hosts, "status", extra=["--json"])
    assert p.returncode == 1
    docs = [json.loads(line) for line in p.stdout.splitlines()]
    assert [d["host"] for d in docs] == hosts.split(",")
    assert docs[0]["ok"] and docs[2]["ok"] and docs[0]["result"]["pid"] == fleet.srv.pid
    assert not docs[1]["ok"] and "cannot connect" in docs[1]["error"]
    text = remote(fleet, hosts, "status")
    assert text.returncode == 1
    assert text.stdout.count("running") == 2 and "ERROR: cannot connect" in text.stdout


def test_unknown_host_key_is_refused_until_accepted(fleet):
    d = fleet.device(trust=False)
    host = "127.0.0.1:%d" % d.port
    p = remote(fleet, host, "status", extra=["--json"])
    assert p.returncode == 1 and "unknown host key" in json.loads(p.stdout)["error"]
    assert fleet.known.read_text() == ""
    p = remote(fleet, host, "status", extra=["--accept-new"])
    assert p.returncode == 0 and "permanently added" in p.stderr
    assert fleet.known.read_text().strip() == d.known_hosts_line().strip()
    assert remote(fleet, host, "status").returncode == 0


def test_changed_host_key_is_refused_even_with_accept_new(fleet):
    d = fleet.device(trust=False)
    other = Dropbear(fleet.tmp / "other-key", d.port, [])  # only for its key
    fleet.known.write_text(other.known_hosts_line())
    p = remote(fleet, "127.0.0.1:%d" % d.port, "status", extra=["--accept-new", "--json"])
    assert p.returncode == 1 and "does not match" in json.loads(p.stdout)["error"]


def test_wrong_key_is_refused(fleet, tmp_path):
    d = fleet.device()
    stranger = tmp_path / "stranger"
    make_client_key(stranger)
    fleet_key, fleet.key = fleet.key, stranger
    p = remote(fleet, "127.0.0.1:%d" % d.port, "status", extra=["--json"])
    fleet.key = fleet_key
    assert p.returncode == 1 and "authentication refused" in json.loads(p.stdout)["error"]


def test_ssh_config_is_honoured(fleet):
    d = fleet.device()
    (fleet.home / ".ssh" / "config").write_text(
        "Host board\n    HostName 127.0.0.1\n    Port %d\n    User root\n    IdentityFile %s\n" % (d.port, fleet.key))
    with open(fleet.known, "a") as k:
        k.write(d.known_hosts_line())
    args = [sys.executable, str(REMOTE), "--known-hosts", str(fleet.known), "--no-agent", "--cheetah", str(fleet.tool),
            "-F", str(fleet.home / ".ssh" / "config"), "--json", "board", "status"]
    p = subprocess.run(args, env=dict(os.environ, HOME=str(fleet.home)), capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads(p.stdout)["result"]["pid"] == fleet.srv.pid


def test_server_not_running_is_reported(fleet):
    d = fleet.device()
    fleet.srv.stop()
    p = remote(fleet, "127.0.0.1:%d" % d.port, "status", extra=["--json"])
    assert p.returncode == 1 and "server not running" in json.loads(p.stdout)["error"]


def _site(path: Path, version: str, files=50):
    path.mkdir(parents=True, exist_ok=True)
    (path / "index.html").write_text("version %s\n" % version)
    (path / "assets").mkdir(exist_ok=True)
    for i in range(files):
        (path / "assets" / ("f%03d.txt" % i)).write_text("%s %d\n" % (version, i) * 50)
    return path


def test_deploy_replaces_the_site_while_the_server_answers(fleet, tmp_path):
    d = fleet.device()
    host = "127.0.0.1:%d" % d.port
    docroot = ["--docroot", str(fleet.www)]
    p = remote(fleet, host, "deploy", str(_site(tmp_path / "v2", "2")), extra=docroot)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "deployed 51 files" in p.stdout and "deploy %s" % host in p.stderr  # progress was shown
    assert get(fleet.srv.port, "/").body == b"version 2\n"
    assert fleet.www.is_symlink()
    # Now hammer the server while the next release is switched in: never a miss.
    seen, stop = [], threading.Event()

    def hammer():
        while not stop.is_set():
            r = get(fleet.srv.port, "/")
            seen.append((r.status, r.body))

    t = threading.Thread(target=hammer)
    t.start()
    try:
        p = remote(fleet, host, "deploy", str(_site(tmp_path / "v3", "3", files=200)), extra=docroot + ["--json"])
    finally:
        time.sleep(0.2)
        stop.set()
        t.join(30)
    assert p.returncode == 0, p.stdout + p.stderr
    doc = json.loads(p.stdout)
    assert doc["result"]["files"] == 201
    assert get(fleet.srv.port, "/").body == b"version 3\n"
    assert get(fleet.srv.port, "/assets/f199.txt").body.startswith(b"3 199")
    assert seen and {s for s, _ in seen} == {200}
    assert {b for _, b in seen} <= {b"version 2\n", b"version 3\n"}
    releases = sorted(p.name for p in (fleet.srv_root / "www.releases").iterdir())
    assert len(releases) == 2  # the current one and the previous, for a rollback


def test_interrupted_deploy_leaves_the_old_site(fleet, tmp_path):
    d = fleet.device()
    host = "127.0.0.1:%d" % d.port
    docroot = ["--docroot", str(fleet.www)]
    assert remote(fleet, host, "deploy", str(_site(tmp_path / "v2", "2")), extra=docroot).returncode == 0
    big = _site(tmp_path / "big", "big", files=1)
    with open(big / "huge.bin", "wb") as f:
        f.write(os.urandom(64 << 20))
    args = [sys.executable, str(REMOTE), "-l", "root", "-i", str(fleet.key), "--known-hosts", str(fleet.known),
            "--no-agent", "--docroot", str(fleet.www), host, "deploy", str(big)]
    proc = subprocess.Popen(args, env=dict(os.environ, HOME=str(fleet.home)), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    releases = fleet.srv_root / "www.releases"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(p.name.startswith(".partial-") and (p / "huge.bin").exists()
                                                  for p in releases.iterdir()):
        time.sleep(0.02)
    proc.kill()
    proc.wait(10)
    proc.stdout.close()
    proc.stderr.close()
    assert get(fleet.srv.port, "/").body == b"version 2\n"
    assert any(p.name.startswith(".partial-") for p in releases.iterdir())
    # The next deploy succeeds and clears what the interrupted one left.
    assert remote(fleet, host, "deploy", str(_site(tmp_path / "v4", "4")), extra=docroot).returncode == 0
    assert get(fleet.srv.port, "/").body == b"version 4\n"
    assert not any(p.name.startswith(".partial-") for p in releases.iterdir())


def test_restart_logs_and_shell(fleet, tmp_path):
    d = fleet.device()
    host = "127.0.0.1:%d" % d.port
    marker = tmp_path / "restarted"
    init = tmp_path / "S50marmoset"
    init.write_text("#!/bin/sh\n[ \"$1\" = restart ] && echo \"Restarting marmoset: OK\" && touch %s\n" % marker)
    init.chmod(0o755)
    p = remote(fleet, host, "restart", extra=["--init-script", str(init)])
    assert p.returncode == 0 and "Restarting marmoset: OK" in p.stdout and marker.exists()
    init.write_text("#!/bin/sh\necho 'FAIL' >&2\nexit 1\n")
    p = remote(fleet, host, "restart", extra=["--init-script", str(init)])
    assert p.returncode == 1 and "restart failed" in p.stderr
    log = tmp_path / "marmoset.log"
    log.write_text("".join("line %d\n" % i for i in range(100)))
    p = remote(fleet, host, "logs", extra=["--log-file", str(log), "-n", "3"])
    assert p.returncode == 0 and p.stdout == "line 97\nline 98\nline 99\n"
    p = remote(fleet, host, "shell", stdin="status\nquit\n")
    assert p.returncode == 0, p.stderr
    assert "Process ID" in p.stdout and str(fleet.srv.pid) in p.stdout


def test_usage_errors():
    p = subprocess.run([sys.executable, str(REMOTE), "host"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "COMMAND is needed" in p.stderr
    p = subprocess.run([sys.executable, str(REMOTE), "host", "frob"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "unknown command" in p.stderr
    p = subprocess.run([sys.executable, str(REMOTE), "a,b", "shell"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "one host" in p.stderr
