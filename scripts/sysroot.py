#!/usr/bin/env python3
"""Provision MicroPython 1.25 sysroots from Debian trixie, without touching the system's apt.

Debian bookworm has no micropython package; trixie ships 1.25 for amd64, armhf and arm64.
This tool keeps a private apt configuration (its own sources list, lists and cache) under the
git-ignored ``.cache/`` folder, downloads the interpreter and the trixie libraries it needs for
one architecture, and unpacks them with ``dpkg -x`` into ``.cache/sysroot/<arch>``.

Usage: sysroot.py ensure ARCH...   (idempotent; offline once a sysroot is complete)
       sysroot.py path ARCH        (print the sysroot folder)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("MARMOSET_CACHE", REPO / ".cache"))
MIRROR = os.environ.get("MARMOSET_TRIXIE_MIRROR", "http://deb.debian.org/debian")
ARCHES = ("amd64", "armhf", "arm64")
PACKAGES = (
    "micropython",
    "libc6",
    "libffi8",
    "libgcc-s1",
    "libmbedtls21",
    "libmbedx509-7",
    "libmbedcrypto16",
)
# Bumped when the recipe changes, so old sysroots are rebuilt.
RECIPE = "1"


class ProvisionError(Exception):
    pass


def sysroot(arch: str) -> Path:
    return CACHE / "sysroot" / arch


def _apt_dir() -> Path:
    return CACHE / "apt"


def _apt_options() -> list[str]:
    base = _apt_dir()
    return [
        "-o", "Dir::Etc::SourceList=%s" % (base / "sources.list"),
        "-o", "Dir::Etc::sourceparts=%s" % (base / "sources.list.d"),
        "-o", "Dir::State::Lists=%s" % (base / "lists"),
        "-o", "Dir::State::status=%s" % (base / "status"),
        "-o", "Dir::Cache=%s" % (base / "cache"),
        "-o", "Dir::Etc::preferences=%s" % (base / "preferences"),
        "-o", "Dir::Etc::preferencesparts=%s" % (base / "preferences.d"),
        "-o", "APT::Architectures=amd64,armhf,arm64",
        "-o", "Debug::NoLocking=1",
        "-o", "Acquire::Retries=3",
        "-o", "Acquire::http::Timeout=30",
    ]


def _prepare_apt() -> None:
    base = _apt_dir()
    for sub in ("sources.list.d", "preferences.d", "lists/partial", "cache/archives/partial"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    (base / "sources.list").write_text(
        "deb [arch=amd64,armhf,arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]"
        " %s trixie main\n" % MIRROR
    )
    (base / "status").touch()
    (base / "preferences").touch()


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise ProvisionError("command failed (%d): %s\n%s" % (proc.returncode, " ".join(cmd), proc.stdout[-3000:]))


def _update_lists() -> None:
    stamp = _apt_dir() / "lists.stamp"
    if stamp.exists():
        return
    _prepare_apt()
    print("sysroot: fetching Debian trixie package lists (private apt configuration)", file=sys.stderr)
    try:
        _run(["apt-get", "-q", "update"] + _apt_options())
    except ProvisionError as exc:
        raise ProvisionError(
            "cannot reach the Debian trixie archive at %s to fetch MicroPython;"
            " check the network or set MARMOSET_TRIXIE_MIRROR.\n%s" % (MIRROR, exc)
        ) from None
    stamp.touch()


def _download(arch: str) -> Path:
    debs = CACHE / "debs" / arch
    debs.mkdir(parents=True, exist_ok=True)
    have = {p.name.split("_")[0] for p in debs.glob("*.deb")}
    missing = [p for p in PACKAGES if p not in have]
    if missing:
        _update_lists()
        print("sysroot: downloading %s for %s" % (" ".join(missing), arch), file=sys.stderr)
        _run(["apt-get", "-q", "download"] + _apt_options() + ["%s:%s" % (p, arch) for p in missing], cwd=debs)
    return debs


def ensure(arch: str) -> Path:
    if arch not in ARCHES:
        raise ProvisionError("unknown architecture %r (choose from %s)" % (arch, ", ".join(ARCHES)))
    root = sysroot(arch)
    stamp = root / ".marmoset-sysroot"
    if stamp.exists() and stamp.read_text() == RECIPE:
        return root
    if shutil.which("dpkg") is None or shutil.which("apt-get") is None:
        raise ProvisionError("dpkg and apt-get are needed to provision MicroPython sysroots")
    debs = _download(arch)
    tmp = root.with_name(arch + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for deb in sorted(debs.glob("*.deb")):
        _run(["dpkg", "-x", str(deb), str(tmp)])
    # Trixie is merged-/usr: the loader path /lib/ld-linux-* must resolve inside the sysroot.
    for link in ("lib", "bin", "sbin", "lib64"):
        target = tmp / "usr" / link
        if target.exists() and not (tmp / link).exists():
            (tmp / link).symlink_to("usr/" + link)
    if not (tmp / "usr/bin/micropython").exists():
        raise ProvisionError("the micropython package for %s did not unpack a binary" % arch)
    (tmp / ".marmoset-sysroot").write_text(RECIPE)
    shutil.rmtree(root, ignore_errors=True)
    tmp.rename(root)
    print("sysroot: %s ready at %s" % (arch, root), file=sys.stderr)
    return root


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("ensure", "path"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        if argv[0] == "path":
            print(sysroot(argv[1]))
            return 0
        for arch in argv[1:]:
            ensure(arch)
    except ProvisionError as exc:
        print("sysroot: error: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
