"""A real SSH server for tests: Debian's dropbear on a loopback port, in its own mount namespace.

As root, dropbear reads /root/.ssh/authorized_keys and has no option for another file, so it
runs under `unshare --mount` with a prepared folder bind-mounted over /root: the tests never
touch the real home. Started and stopped by PID, bounded in time.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import paramiko


def make_client_key(path: Path) -> str:
    """A new ECDSA key at path (OpenSSH private key format); returns its authorized_keys line."""
    key = paramiko.ECDSAKey.generate()
    key.write_private_key_file(str(path))
    os.chmod(path, 0o600)
    return "%s %s marmoset-test" % (key.get_name(), key.get_base64())


class Dropbear:
    def __init__(self, workdir: Path, port: int, authorized: list[str]):
        self.dir = workdir
        self.port = port
        self.dir.mkdir(parents=True, exist_ok=True)
        self.home = self.dir / "root-home"
        (self.home / ".ssh").mkdir(parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)
        os.chmod(self.home / ".ssh", 0o700)
        (self.home / ".ssh" / "authorized_keys").write_text("\n".join(authorized) + "\n")
        os.chmod(self.home / ".ssh" / "authorized_keys", 0o600)
        self.hostkey = self.dir / "hostkey"
        out = subprocess.run(["dropbearkey", "-t", "ecdsa", "-s", "256", "-f", str(self.hostkey)],
                             capture_output=True, text=True, check=True, timeout=30).stdout
        pub = [line for line in out.splitlines() if line.startswith("ecdsa-")][0].split()
        self.key_type, self.key_b64 = pub[0], pub[1]
        self.proc: subprocess.Popen | None = None
        self.log = self.dir / "dropbear.log"

    def known_hosts_line(self) -> str:
        return "[127.0.0.1]:%d %s %s\n" % (self.port, self.key_type, self.key_b64)

    def start(self, timeout=20.0) -> Dropbear:
        script = 'mount --bind "$1" /root && exec dropbear -F -E -s -m -r "$2" -p "127.0.0.1:$3" -P "$4"'
        self._log = open(self.log, "wb")
        self.proc = subprocess.Popen(["unshare", "--mount", "sh", "-c", script, "sh", str(self.home), str(self.hostkey),
                                      str(self.port), str(self.dir / "dropbear.pid")],
                                     stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dropbear exited: %s" % self.log.read_text())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(64).startswith(b"SSH-"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("dropbear did not answer: %s" % self.log.read_text())

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        self.proc = None
