"""A private apt configuration per Debian suite, under the git-ignored .cache/ folder.

The system's sources are never touched: every call passes its own sources list, lists,
cache and an empty dpkg status, with the architectures Marmoset targets. Used to fetch
MicroPython (trixie) for the sysroots and the ARM userland and kernels (bookworm) for images.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("MARMOSET_CACHE", REPO / ".cache"))
MIRROR = os.environ.get("MARMOSET_DEBIAN_MIRROR", "http://deb.debian.org/debian")
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
ARCHES = ("amd64", "armhf", "arm64")

SUITES = {
    "trixie": ["%s trixie main" % MIRROR],
    # bookworm-security is left out: its index was seen mid-sync here (size mismatch) and
    # failed every update; main + updates carry the kernels the images are built with.
    "bookworm": ["%s bookworm main" % MIRROR, "%s bookworm-updates main" % MIRROR],
}


class AptError(Exception):
    pass


def _run(cmd: list[str], cwd: Path | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise AptError("command failed (%d): %s\n%s" % (proc.returncode, " ".join(cmd), proc.stdout[-3000:]))
    return proc.stdout


class PrivateApt:
    def __init__(self, suite: str):
        if suite not in SUITES:
            raise AptError("unknown suite %r" % suite)
        self.suite = suite
        self.base = CACHE / "apt" / suite

    def options(self) -> list[str]:
        b = self.base
        return [
            "-o", "Dir::Etc::SourceList=%s" % (b / "sources.list"),
            "-o", "Dir::Etc::sourceparts=%s" % (b / "sources.list.d"),
            "-o", "Dir::State::Lists=%s" % (b / "lists"),
            "-o", "Dir::State::status=%s" % (b / "status"),
            "-o", "Dir::Cache=%s" % (b / "cache"),
            "-o", "Dir::Etc::preferences=%s" % (b / "preferences"),
            "-o", "Dir::Etc::preferencesparts=%s" % (b / "preferences.d"),
            "-o", "APT::Architectures=%s" % ",".join(ARCHES),
            "-o", "Debug::NoLocking=1",
            "-o", "Acquire::Retries=3",
            "-o", "Acquire::http::Timeout=30",
        ]

    def update(self, force: bool = False) -> None:
        stamp = self.base / "lists.stamp"
        if stamp.exists() and not force:
            return
        for sub in ("sources.list.d", "preferences.d", "lists/partial", "cache/archives/partial"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        (self.base / "sources.list").write_text("".join(
            "deb [arch=%s signed-by=%s] %s\n" % (",".join(ARCHES), KEYRING, line) for line in SUITES[self.suite]))
        (self.base / "status").touch()
        (self.base / "preferences").touch()
        print("apt: fetching Debian %s package lists (private configuration)" % self.suite, file=sys.stderr)
        try:
            _run(["apt-get", "-q", "update"] + self.options())
        except AptError as exc:
            raise AptError("cannot reach the Debian archive for %s (check the network or set "
                           "MARMOSET_DEBIAN_MIRROR)\n%s" % (self.suite, exc)) from None
        stamp.touch()

    def depends(self, package: str, arch: str) -> list[str]:
        """The direct Depends of package (first alternative of each)."""
        self.update()
        out = _run(["apt-cache"] + self.options() + ["depends", "--no-recommends", "--no-suggests", "%s:%s" % (package, arch)])
        deps = []
        for line in out.splitlines():
            line = line.strip()
            if line.startswith("Depends:") or line.startswith("|Depends:"):
                name = line.split(":", 1)[1].strip().split(":")[0]
                if not name.startswith("<"):
                    deps.append(name)
        return deps

    def download(self, packages: list[str], arch: str, dest: Path) -> dict[str, Path]:
        """{package: .deb} in dest for arch; only missing ones are downloaded."""
        dest.mkdir(parents=True, exist_ok=True)

        def have():
            found = {}
            for p in dest.glob("*.deb"):
                name, _, rest = p.name.partition("_")
                if rest.endswith("_%s.deb" % arch) or rest.endswith("_all.deb"):
                    found[name] = p
            return found

        present = have()
        missing = [p for p in packages if p not in present]
        if missing:
            self.update()
            print("apt: downloading %s (%s, %s)" % (" ".join(missing), arch, self.suite), file=sys.stderr)
            _run(["apt-get", "-q", "download"] + self.options() + ["%s:%s" % (p, arch) for p in missing], cwd=dest)
            present = have()
        lost = [p for p in packages if p not in present]
        if lost:
            raise AptError("packages not downloaded: %s" % " ".join(lost))
        return {p: present[p] for p in packages}
