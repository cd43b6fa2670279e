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

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from firmware.apt import CACHE, AptError, PrivateApt  # noqa: E402

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


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise ProvisionError("command failed (%d): %s\n%s" % (proc.returncode, " ".join(cmd), proc.stdout[-3000:]))


def _download(arch: str) -> Path:
    debs = CACHE / "debs" / "trixie" / arch
    try:
        PrivateApt("trixie").download(list(PACKAGES), arch, debs)
    except AptError as exc:
        raise ProvisionError(str(exc)) from None
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
        if deb.name.split("_")[0] in PACKAGES:
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
