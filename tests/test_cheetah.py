"""The Cheetah shell over its unix socket, against a running server, on every interpreter."""

import json
import os
import socket
import stat
import subprocess
import time

import pytest
from conftest import REPO, interpreter_env, write_conf
from httpclient import Conn

COMMANDS = ("help", "config", "status", "uptime", "plugins", "vhosts", "workers", "clients", "memory", "clear")


def cheetah_conf(conf, sock, group=""):
    d = conf / "plugins" / "cheetah"
    d.mkdir(parents=True, exist_ok=True)
    (d / "cheetah.conf").write_text("[CHEETAH]\n    Listen SERVER\n    Socket %s\n%s" % (sock, "    Group %s\n" % group if group else ""))


@pytest.fixture
def cheetah_server(make_server, docroot, tmp_path):
    def make(group="", start=True):
        sock = tmp_path / "cheetah.sock"
        srv = make_server(docroot, plugins=["cheetah"], start=False)
        cheetah_conf(tmp_path / "conf", sock, group)
        srv.sock_path = sock
        if start:
            srv.start()
            deadline = time.monotonic() + 20
            while not sock.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        return srv

    return make


def client(interp, sock, *args, timeout=60):
    """The device client, `cheetah`, under the same interpreter as the server."""
    exe = "python3" if interp == "cpython" else "micropython"
    env = interpreter_env(interp)
    env["MARMOSET_PYTHON"] = exe if exe == "python3" else str(REPO / "scripts" / "upy")
    if interp.startswith("upy-"):
        env["MARMOSET_PYTHON"] = str(REPO / "scripts" / "upy")  # the client is host-run: keep it fast
    return subprocess.run([str(REPO / "server" / "bin" / "cheetah"), "-s", str(sock)] + list(args), env=env,
                          capture_output=True, text=True, timeout=timeout)


def raw_session(path, lines, wait_for=b"cheetah>", timeout=10):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(str(path))
    return s


def read_until(s, marker, timeout=10):
    s.settimeout(timeout)
    data = b""
    while marker not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_every_command_in_json_and_text(cheetah_server, interp):
    srv = cheetah_server()
    for cmd in COMMANDS:
        p = client(interp, srv.sock_path, "--json", cmd)
        assert p.returncode == 0, (cmd, p.stdout, p.stderr)
        doc = json.loads(p.stdout)
        assert doc["command"] == cmd and "result" in doc, doc
        assert "\x1b" not in p.stdout
        t = client(interp, srv.sock_path, cmd)
        assert t.returncode == 0 and t.stdout, (cmd, t.stderr)
        assert "cheetah>" not in t.stdout and "Marmoset Cheetah!" not in t.stdout
    status = json.loads(client(interp, srv.sock_path, "--json", "status").stdout)["result"]
    assert status["pid"] == srv.pid and status["workers"] == 2
    assert status["listeners"] == [{"host": "127.0.0.1", "port": srv.port, "transport": "liana"}]
    assert status["cheetah"] == {"mode": "SERVER", "socket": str(srv.sock_path)}
    cfg = json.loads(client(interp, srv.sock_path, "--json", "config").stdout)["result"]
    assert cfg["Timeout"] == 4 and cfg["KeepAlive"] is True
    plugins = json.loads(client(interp, srv.sock_path, "--json", "plugins").stdout)["result"]
    assert {p["name"] for p in plugins} == {"liana", "cheetah"}
    up = client(interp, srv.sock_path, "uptime").stdout
    assert up.startswith("Server has been running: 0 day(s), 0 hour(s), ") and "second(s)" in up
    assert "Timeout" in client(interp, srv.sock_path, "\\f").stdout
    mem = json.loads(client(interp, srv.sock_path, "--json", "memory").stdout)["result"]
    assert mem["rss_kb"] > 0
    if interp.startswith("upy"):
        assert mem["heap_used"] > 0 and mem["heap_free"] > 0


def test_invalid_command(cheetah_server, interp):
    srv = cheetah_server()
    p = client(interp, srv.sock_path, "frobnicate")
    assert p.returncode == 1 and p.stdout.startswith("Invalid command, type 'help' for a list of available commands")
    p = client(interp, srv.sock_path, "--json", "frobnicate")
    assert p.returncode == 1 and json.loads(p.stdout)["error"].startswith("Invalid command")


def test_interactive_mode_has_banner_and_prompt(cheetah_server):
    srv = cheetah_server()
    s = raw_session(srv.sock_path, [])
    first = read_until(s, b"cheetah>")  # nothing typed: the banner comes by itself
    assert b"Marmoset Cheetah!" in first
    s.sendall(b"\\s\n")
    out = read_until(s, b"cheetah>")
    assert b"Process ID" in out and str(srv.pid).encode() in out
    s.sendall(b"nonsense\n")
    assert b"Invalid command" in read_until(s, b"cheetah>")
    s.sendall(b"quit\n")
    assert b"Bye!" in read_until(s, b"Bye!")
    assert s.recv(100) == b""
    s.close()


def test_two_clients_at_once(cheetah_server):
    srv = cheetah_server()
    a = raw_session(srv.sock_path, [])
    b = raw_session(srv.sock_path, [])
    a.sendall(b"mode json\n")
    b.sendall(b"mode json\n")
    a.sendall(b"status\n")
    b.sendall(b"workers\n")
    b_doc = json.loads(read_until(b, b"\n"))
    a_doc = json.loads(read_until(a, b"\n"))
    assert a_doc["command"] == "status" and b_doc["command"] == "workers"
    # HTTP is served meanwhile
    with Conn(srv.port) as c:
        assert c.request().status == 200
    a.sendall(b"uptime\n")
    assert json.loads(read_until(a, b"\n"))["command"] == "uptime"
    a.close()
    b.close()


def test_clients_lists_an_open_connection(cheetah_server, interp):
    srv = cheetah_server()
    with Conn(srv.port) as c:
        assert c.request("GET", "/hello.txt").status == 200
        port = c.sock.getsockname()[1]
        rows = json.loads(client(interp, srv.sock_path, "--json", "clients").stdout)["result"]
        mine = [r for r in rows if r["peer"] == "127.0.0.1:%d" % port]
        assert len(mine) == 1, rows
        assert mine[0]["requests"] == 1 and mine[0]["state"] == "idle" and mine[0]["bytes_sent"] > 12
        text = client(interp, srv.sock_path, "clients").stdout
        assert "127.0.0.1:%d" % port in text


def test_socket_permissions(cheetah_server, tmp_path):
    srv = cheetah_server()
    mode = stat.S_IMODE(os.stat(srv.sock_path).st_mode)
    assert mode == 0o600
    srv.stop()
    assert not srv.sock_path.exists()  # removed at exit


def test_group_socket_is_0660(cheetah_server):
    import grp

    group = grp.getgrgid(os.getgid()).gr_name
    srv = cheetah_server(group=group)
    st = os.stat(srv.sock_path)
    assert stat.S_IMODE(st.st_mode) == 0o660 and st.st_gid == os.getgid()


def test_stale_socket_is_replaced(cheetah_server, tmp_path):
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(tmp_path / "cheetah.sock"))
    stale.close()  # the file stays: what a crash leaves
    srv = cheetah_server()
    p = client("cpython", srv.sock_path, "--json", "status")
    assert json.loads(p.stdout)["result"]["pid"] == srv.pid


def test_live_socket_refuses_a_second_server(cheetah_server, interp, tmp_path, docroot):
    srv = cheetah_server()
    from conftest import free_port, interpreter_command

    other = tmp_path / "second"
    conf = write_conf(other, docroot, free_port(), plugins=["cheetah"])
    cheetah_conf(conf, srv.sock_path)
    p = subprocess.run(interpreter_command(interp) + ["-c", str(conf)], env=interpreter_env(interp),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "another Marmoset is running" in p.stderr
    assert client("cpython", srv.sock_path, "uptime").returncode == 0


def test_client_says_when_the_server_is_not_running(tmp_path, interp):
    p = client(interp, tmp_path / "nothing.sock", "status")
    assert p.returncode == 1 and "is the server running?" in p.stderr
