"""Connections over time: timeouts, many idle clients, bad input, signals, plugins, start-up."""

import os
import random
import signal
import socket
import subprocess
import time

from conftest import REPO, interpreter_command, interpreter_env
from httpclient import Conn, get

PROBE = REPO / "tests" / "plugins" / "probe.py"


def test_trickling_client_is_cut_off_by_timeout(server):
    # Timeout is 4 s: a client sending one byte a second never completes its request.
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    request = b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"x" * 40 + b"\r\n\r\n"
    start = time.monotonic()
    closed_after = None
    for i in range(15):
        try:
            s.sendall(request[i : i + 1])
        except (BrokenPipeError, ConnectionResetError):
            closed_after = time.monotonic() - start
            break
        s.settimeout(1.0)
        try:
            data = s.recv(4096)
            if data == b"" or data.startswith(b"HTTP/1.1 408"):
                closed_after = time.monotonic() - start
                break
        except socket.timeout:
            pass
        except ConnectionResetError:
            closed_after = time.monotonic() - start
            break
    s.close()
    assert closed_after is not None, "a trickling client held its connection for 15 s"
    assert closed_after >= 3.0  # cut by the deadline, not refused outright


def test_idle_keep_alive_connection_is_closed_after_keep_alive_timeout(server):
    with Conn(server.port) as c:
        assert c.request().status == 200
        start = time.monotonic()
        assert c.closed_by_peer(timeout=10)
        assert time.monotonic() - start >= 2.0  # KeepAliveTimeout 3, checked every second


def test_500_idle_connections_while_a_request_is_answered(server):
    idle = []
    try:
        for _ in range(500):
            idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=10))
        r = get(server.port, "/hello.txt")
        assert r.status == 200 and r.body == b"hello world\n"
        # The idle ones are real connections the server holds, and still usable.
        idle[0].sendall(b"GET /hello.txt HTTP/1.0\r\n\r\n")
        assert idle[0].recv(4096).startswith(b"HTTP/1.1 200 ")
    finally:
        for s in idle:
            s.close()


def test_bad_input_never_crashes_a_worker(server):
    rng = random.Random(1234)
    for i in range(60):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 600)))
            if i % 3 == 0:
                junk = b"GET /" + junk + b" HTTP/1.1\r\nHost: a\r\n\r\n"
            elif i % 3 == 1:
                junk = b"GET / HTTP/1.1\r\nHost: a\r\n" + junk + b"\r\n\r\n"
            try:
                s.sendall(junk)
                s.settimeout(0.5)
                s.recv(4096)
            except OSError:
                pass
    assert server.proc.poll() is None
    assert get(server.port, "/hello.txt").status == 200


def test_stages_run_in_order_and_handlers_answer(make_server, docroot, tmp_path):
    site = "[HOST]\n    DocumentRoot %s\n[HANDLERS]\n    Match /dyn/.* probe extra-param\n" % docroot
    srv = make_server(docroot, plugins=[str(PROBE)], sites={"default": site})
    log = tmp_path / "conf" / "stages.log"
    deadline = time.monotonic() + 10
    while (not log.exists() or "50" not in log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)  # the readiness probe's connection has closed
    log.write_text("")
    close = {"Connection": "close"}  # the server closes first: stage 50 precedes our next connect
    r = get(srv.port, "/dyn/x?y=1", headers=close)
    assert r.status == 200 and r.body == b"dynamic GET /dyn/x q=y=1\n" and r.headers["x-probe"] == "yes"
    deadline = time.monotonic() + 10
    while log.read_text().count("50\n") < 1 and time.monotonic() < deadline:
        time.sleep(0.05)  # stage 50 runs as the socket closes: let it land before the next client
    assert get(srv.port, "/hello.txt", headers=close).status == 200
    deadline = time.monotonic() + 10
    while log.read_text().count("50\n") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # stage 50 runs just after the socket closes
    stages = log.read_text().split("\n")
    assert stages[:5] == ["10", "20 /dyn/x?y=1", "30 /dyn/x extra-param", "40 200", "50"]
    assert stages[5:9] == ["10", "20 /hello.txt", "40 200", "50"]


def test_an_exception_ends_only_its_connection_and_is_logged_once(make_server, docroot):
    srv = make_server(docroot, plugins=[str(PROBE)])
    with Conn(srv.port) as c:
        c.send(b"GET /boom HTTP/1.1\r\nHost: a\r\n\r\n")
        assert c.closed_by_peer()
        local = c.sock.getsockname()
    assert get(srv.port, "/hello.txt").status == 200
    log = srv.log()
    events = [line for line in log.splitlines() if line.startswith("[marmoset]") and "explode" in line]
    assert len(events) == 1, log
    assert "127.0.0.1:%d" % local[1] in events[0]
    with Conn(srv.port) as c:
        c.send(b"GET /drop HTTP/1.1\r\nHost: a\r\n\r\n")
        assert c.closed_by_peer() and c.buf == b""


def test_sigterm_finishes_responses_in_flight_and_removes_the_pidfile(make_server, docroot, tmp_path):
    with open(docroot / "big.bin", "wb") as f:
        f.write(os.urandom(8 << 20))
    srv = make_server(docroot)
    pidfile = tmp_path / "marmoset.pid"
    assert int(pidfile.read_text()) == srv.pid
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    s.settimeout(30)
    s.connect(("127.0.0.1", srv.port))
    s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n")
    data = s.recv(16384)
    os.kill(srv.pid, signal.SIGTERM)
    refused = False
    deadline = time.monotonic() + 5  # the listener closes as soon as the scheduler sees the signal
    while not refused and time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
            time.sleep(0.1)
        except OSError:
            refused = True
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    s.close()
    head, body = data.split(b"\r\n\r\n", 1)
    assert len(body) == 8 << 20 and body == (docroot / "big.bin").read_bytes()
    assert refused, "the listener still accepted after SIGTERM"
    assert srv.proc.wait(15) == 0
    assert not pidfile.exists()


def test_sigint_stops_an_idle_server(server):
    os.kill(server.pid, signal.SIGINT)
    assert server.proc.wait(15) == 0


def _run(interp, args, cwd, timeout=60):
    return subprocess.run(interpreter_command(interp) + args, cwd=str(cwd), env=interpreter_env(interp),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


def test_configuration_errors_refuse_to_start(interp, tmp_path, docroot):
    from conftest import free_port, write_conf

    port = free_port()
    conf = write_conf(tmp_path, docroot, port, server_extra="Colour blue")
    p = _run(interp, ["-c", str(conf)], tmp_path)
    assert p.returncode == 1
    assert "monkey.conf:7: unknown key 'Colour' in [SERVER]" in p.stderr
    conf2 = write_conf(tmp_path / "two", docroot, port, sites={"default": "[HOST]\n    DocumentRoot /does/not/exist\n"})
    p = _run(interp, ["-c", str(conf2)], tmp_path)
    assert p.returncode == 1 and "sites/default" in p.stderr and "does not exist" in p.stderr
    p = _run(interp, ["-c", str(tmp_path / "nowhere")], tmp_path)
    assert p.returncode == 1 and "configuration folder does not exist" in p.stderr


def test_plugin_failures_stop_start_up(interp, tmp_path, docroot):
    from conftest import free_port, write_conf

    conf = write_conf(tmp_path, docroot, free_port(), plugins=["/nonexistent/plugin.py"])
    p = _run(interp, ["-c", str(conf)], tmp_path)
    assert p.returncode == 1 and "plugins.load:2: cannot load plugin" in p.stderr
    conf = write_conf(tmp_path / "b", docroot, free_port(), plugins=[str(PROBE)], server_extra="")
    text = (conf / "monkey.conf").read_text().replace("Timeout 4", "Timeout 13")
    (conf / "monkey.conf").write_text(text)
    p = _run(interp, ["-c", str(conf)], tmp_path)
    assert p.returncode != 0 and "probe refuses to start" in p.stderr


def test_port_in_use_is_a_clear_error(interp, tmp_path, docroot):
    from conftest import write_conf

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        conf = write_conf(tmp_path, docroot, port)
        p = _run(interp, ["-c", str(conf)], tmp_path)
    assert p.returncode == 1 and "cannot listen on 127.0.0.1:%d (address already in use)" % port in p.stderr


def test_command_line(interp, tmp_path, docroot, make_server):
    p = _run(interp, ["-v"], tmp_path)
    assert p.returncode == 0 and p.stdout.startswith("Marmoset ")
    p = _run(interp, ["--help"], tmp_path)
    assert p.returncode == 0 and "--one-shot" in p.stdout
    p = _run(interp, ["--bogus"], tmp_path)
    assert p.returncode == 2 and "unknown option" in p.stderr
    p = _run(interp, ["-p", "notaport"], tmp_path)
    assert p.returncode == 2
    from conftest import free_port

    port = free_port()
    srv = make_server(port=port, args=["-o", str(docroot), "-p", str(port), "-w", "1"])
    assert get(srv.port, "/hello.txt").body == b"hello world\n"


def test_user_drops_privileges_after_binding(make_server):
    if os.geteuid() != 0:
        return  # only root can switch users
    import pwd
    import shutil
    import tempfile

    # pytest's own folders are private to root: give 'nobody' a world-readable site and run folder.
    base = tempfile.mkdtemp(prefix="marmoset-user-")
    try:
        os.chmod(base, 0o755)
        site = os.path.join(base, "www")
        os.mkdir(site)
        with open(os.path.join(site, "hello.txt"), "w") as f:
            f.write("hello world\n")
        run = os.path.join(base, "run")
        os.mkdir(run)
        os.chmod(run, 0o777)
        from pathlib import Path

        srv = make_server(Path(site), server_extra="User nobody\nPidFile %s/m.pid" % run)
        deadline = time.monotonic() + 20  # the listener opens first; the switch and the PidFile follow
        while not os.path.exists(os.path.join(run, "m.pid")) and time.monotonic() < deadline:
            time.sleep(0.05)
        uid = [line.split()[1] for line in open("/proc/%d/status" % srv.pid) if line.startswith("Uid:")][0]
        assert int(uid) == pwd.getpwnam("nobody").pw_uid
        assert get(srv.port, "/hello.txt").body == b"hello world\n"
        assert srv.stop() == 0 and not os.path.exists(os.path.join(run, "m.pid"))
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_unknown_user_refuses_to_start(interp, tmp_path, docroot):
    from conftest import free_port, write_conf

    conf = write_conf(tmp_path, docroot, free_port(), server_extra="User no-such-user-here")
    p = _run(interp, ["-c", str(conf)], tmp_path)
    assert p.returncode == 1 and "User no-such-user-here does not exist" in p.stderr
