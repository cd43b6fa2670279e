"""Board definitions (board/*.yaml): loaded, validated, and handed to every host tool.

One source of truth for a target: the qemu-user test runner, the overlay renderer and the
image builder all read boards through ``load``/``load_all`` and nothing else. Validation
errors name the file, the key and the problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
BOARD_DIR = REPO / "board"

ARCHES = {
    # debian arch: (qemu-user binary, qemu-system binary, ELF machine)
    "armhf": ("qemu-arm", "qemu-system-arm", "ARM"),
    "arm64": ("qemu-aarch64", "qemu-system-aarch64", "AArch64"),
}
_SIZE = re.compile(r"^([1-9][0-9]*)([KMG])$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class BoardError(Exception):
    def __init__(self, path: Path, key: str, problem: str):
        super().__init__("%s: %s: %s" % (path, key or "(file)", problem))


def parse_size(text: str) -> int:
    m = _SIZE.match(str(text))
    if not m:
        raise ValueError(text)
    return int(m.group(1)) << {"K": 10, "M": 20, "G": 30}[m.group(2)]


@dataclass
class Board:
    path: Path
    name: str
    description: str
    debian_arch: str
    qemu_user: str
    qemu_system: str
    cpu: str
    user_cpu: str
    buildroot_arch: list[str]
    machine: str
    memory_mb: int
    workers: int
    listen: list[str]
    heap: str
    boot_size: str
    rootfs_size: str
    boot_files: list[str]
    console: str
    kernel_package: str
    kernel_image: str
    uboot: str
    buildroot_image: str
    dts: str
    raw: dict = field(repr=False, default_factory=dict)

    @property
    def heap_bytes(self) -> int:
        return parse_size(self.heap)

    @property
    def root_device(self) -> str:
        """The root filesystem's partition as the kernel names it."""
        return self.raw.get("image", {}).get("root_device", "/dev/vda2")

    @property
    def defconfig_name(self) -> str:
        return "marmoset_%s_defconfig" % self.name.replace("-", "_")

    def listen_port(self) -> int:
        spec = self.listen[0].split()[0]
        return int(spec.rsplit(":", 1)[-1])


def _get(data: dict, path: Path, dotted: str, kind, required=True, default=None):
    cur = data
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            if required:
                raise BoardError(path, dotted, "missing")
            return default
        cur = cur[part]
    if kind is list:
        if not isinstance(cur, list) or not cur or not all(isinstance(x, (str, int)) for x in cur):
            raise BoardError(path, dotted, "must be a non-empty list of strings")
        return [str(x) for x in cur]
    if kind is int:
        if not isinstance(cur, int) or isinstance(cur, bool) or cur <= 0:
            raise BoardError(path, dotted, "must be a positive whole number, not %r" % (cur,))
        return cur
    if not isinstance(cur, (str, int)) or isinstance(cur, bool) or str(cur) == "":
        raise BoardError(path, dotted, "must be a non-empty string, not %r" % (cur,))
    return str(cur)


_KNOWN_TOP = {"name", "description", "arch", "machine", "memory_mb", "server", "image", "console", "kernel"}


def load(path: Path | str) -> Board:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise BoardError(path, "", "cannot read (%s)" % exc.strerror) from None
    except yaml.YAMLError as exc:
        raise BoardError(path, "", "not valid YAML (%s)" % str(exc).replace("\n", " ")) from None
    if not isinstance(data, dict):
        raise BoardError(path, "", "must be a mapping of keys")
    unknown = sorted(set(data) - _KNOWN_TOP)
    if unknown:
        raise BoardError(path, unknown[0], "unknown key")
    name = _get(data, path, "name", str)
    if not _NAME.match(name):
        raise BoardError(path, "name", "must be lowercase letters, digits and dashes")
    if name != path.stem:
        raise BoardError(path, "name", "must match the file name (%s)" % path.stem)
    arch = _get(data, path, "arch.debian", str)
    if arch not in ARCHES:
        raise BoardError(path, "arch.debian", "must be one of %s, not %r" % (", ".join(ARCHES), arch))
    qemu_user = _get(data, path, "arch.qemu_user", str)
    qemu_system = _get(data, path, "arch.qemu_system", str)
    if qemu_user != ARCHES[arch][0]:
        raise BoardError(path, "arch.qemu_user", "%s runs %s binaries, not %s" % (ARCHES[arch][0], arch, qemu_user))
    if qemu_system != ARCHES[arch][1]:
        raise BoardError(path, "arch.qemu_system", "must be %s for %s" % (ARCHES[arch][1], arch))
    board = Board(
        path=path,
        name=name,
        description=_get(data, path, "description", str),
        debian_arch=arch,
        qemu_user=qemu_user,
        qemu_system=qemu_system,
        cpu=_get(data, path, "arch.cpu", str),
        user_cpu=_get(data, path, "arch.user_cpu", str),
        buildroot_arch=_get(data, path, "arch.buildroot", list),
        machine=_get(data, path, "machine", str),
        memory_mb=_get(data, path, "memory_mb", int),
        workers=_get(data, path, "server.workers", int),
        listen=_get(data, path, "server.listen", list),
        heap=_get(data, path, "server.heap", str),
        boot_size=_get(data, path, "image.boot_size", str),
        rootfs_size=_get(data, path, "image.rootfs_size", str),
        boot_files=_get(data, path, "image.boot_files", list),
        console=_get(data, path, "console", str),
        kernel_package=_get(data, path, "kernel.debian_package", str),
        kernel_image=_get(data, path, "kernel.image", str),
        uboot=_get(data, path, "kernel.uboot", str),
        buildroot_image=_get(data, path, "kernel.buildroot_image", str),
        dts=_get(data, path, "kernel.dts", str, required=False, default=""),
        raw=data,
    )
    for key in ("server.heap", "image.boot_size", "image.rootfs_size"):
        value = _get(data, path, key, str)
        try:
            size = parse_size(value)
        except ValueError:
            raise BoardError(path, key, "must be a size like 64M, not %r" % value) from None
        if key == "server.heap" and size > board.memory_mb << 20:
            raise BoardError(path, key, "is larger than the board's memory (%d MB)" % board.memory_mb)
    for spec in board.listen:
        port = spec.split()[0].rsplit(":", 1)[-1]
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise BoardError(path, "server.listen", "bad Listen value %r" % spec)
    for line in board.buildroot_arch:
        if not re.match(r"^BR2_[A-Za-z0-9_]+=", line):
            raise BoardError(path, "arch.buildroot", "%r is not a BR2_ option line" % line)
    return board


def names() -> list[str]:
    return sorted(p.stem for p in BOARD_DIR.glob("*.yaml"))


def load_all() -> list[Board]:
    return [load(BOARD_DIR / (n + ".yaml")) for n in names()]


def by_name(name: str) -> Board:
    path = BOARD_DIR / (name + ".yaml")
    if not path.exists():
        raise BoardError(path, "", "no such board (known: %s)" % ", ".join(names()))
    return load(path)
