"""make image BOARD=name [AUTHORIZED_KEY=key.pub]: the board's flashable image, without Buildroot.

Buildroot cannot be downloaded here, so this assembles the equivalent: a merged-/usr root
filesystem from Debian's ARM packages (busybox, dropbear, sftp-server and the kernel from
bookworm; MicroPython and its libraries from trixie), plus exactly what the Buildroot package
and overlay install (the server as .mpy under /usr/lib/micropython/marmoset, S50marmoset,
/etc/marmoset rendered from the board, the demo site behind /srv/www). Then rootfs.ext4, a
small initrd that loads the kernel's virtio and ext4 modules, and disk.img (FAT boot + ext4
root) made by genimage from the board's genimage.cfg template, with disk.img.sha256 beside it.

Reproducible: fixed timestamps (SOURCE_DATE_EPOCH), sorted archives, fixed UUIDs, volume id
and disk signature; two builds of the same tree give the same checksum. Files are owned by
root in the image (fakeroot); no password and no key is baked in unless AUTHORIZED_KEY is given.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from firmware import boards, overlay, render  # noqa: E402
from firmware.apt import CACHE, AptError, PrivateApt  # noqa: E402

REPO = boards.REPO
OUT = REPO / "out"
EPOCH = int(os.environ.get("SOURCE_DATE_EPOCH", "1767225600"))  # 2026-01-01: fixed unless set
ROOT_UUID = "4d524d54-0000-4000-8000-00000000726f"
HASH_SEED = "4d524d54-0000-4000-8000-000000006873"
MARMOSET_UID = 1000
BOOKWORM = ["busybox-static", "dropbear-bin", "libtomcrypt1", "libtommath1", "libgmp10", "zlib1g", "libcrypt1",
            "openssh-sftp-server"]
TRIXIE = ["micropython", "libc6", "libffi8", "libgcc-s1", "libmbedtls21", "libmbedx509-7", "libmbedcrypto16"]
INITRD_MODULES = ["virtio_blk", "virtio_net", "virtio_mmio", "crc32c_generic", "ext4"]
MPY_CROSS_ARGS = []


class BuildError(Exception):
    pass


class Steps:
    """Progress for the long steps: a numbered line each, with its time."""

    def __init__(self, total: int):
        self.total, self.n, self.t = total, 0, time.monotonic()

    def __call__(self, text: str):
        now = time.monotonic()
        self.n += 1
        print("image: [%d/%d] %s (%.1fs)" % (self.n, self.total, text, now - self.t), file=sys.stderr, flush=True)


def run(cmd: list[str], **kw) -> str:
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise BuildError("%s failed (%d):\n%s%s" % (" ".join(map(str, cmd)), p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    return p.stdout


# ---------------------------------------------------------------- packages
def fetch(board: boards.Board) -> tuple[dict, dict, str]:
    arch = board.debian_arch
    book = PrivateApt("bookworm")
    kernel_pkg = book.depends(board.kernel_package, arch)
    kernel_pkg = [k for k in kernel_pkg if k.startswith("linux-image-")]
    if not kernel_pkg:
        raise BuildError("cannot resolve %s for %s" % (board.kernel_package, arch))
    bdebs = book.download(BOOKWORM + kernel_pkg[:1], arch, CACHE / "debs" / "bookworm" / arch)
    tdebs = PrivateApt("trixie").download(TRIXIE, arch, CACHE / "debs" / "trixie" / arch)
    return bdebs, tdebs, kernel_pkg[0]


def unpack(debs: dict, dest: Path) -> None:
    for name in sorted(debs):
        run(["dpkg-deb", "-x", str(debs[name]), str(dest)])


# ---------------------------------------------------------------- root filesystem
def elf_needed(path: Path) -> tuple[list[str], str]:
    out = run(["readelf", "-d", "-l", "-W", str(path)])
    needed = [line.split("[", 1)[1].split("]", 1)[0] for line in out.splitlines() if "(NEEDED)" in line]
    interp = ""
    for line in out.splitlines():
        if "Requesting program interpreter:" in line:
            interp = line.split(":", 1)[1].strip().rstrip("]")
    return needed, interp


def find_lib(src: Path, name: str) -> Path:
    for d in ("usr/lib/arm-linux-gnueabihf", "usr/lib/aarch64-linux-gnu", "lib/arm-linux-gnueabihf", "lib/aarch64-linux-gnu",
              "usr/lib", "lib"):
        p = src / d / name
        if p.exists() or p.is_symlink():
            return p
    raise BuildError("library %s not found in the unpacked packages" % name)


def copy_file(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    real = src.resolve() if src.is_symlink() else src
    shutil.copy2(real, dst)


def install_binaries(src: Path, root: Path, binaries: dict[str, str]) -> list[str]:
    """Copy binaries (src path -> image path) and the DT_NEEDED closure of their libraries."""
    todo = []
    for s, d in binaries.items():
        copy_file(src / s, root / d)
        todo.append(root / d)
    seen: set[str] = set()
    libs = []
    while todo:
        needed, interp = elf_needed(todo.pop())
        if interp and interp not in seen:
            seen.add(interp)
            lib = src / interp.lstrip("/")
            if not lib.exists():
                lib = src / "usr" / interp.lstrip("/")
            copy_file(lib, root / "usr" / interp.lstrip("/").removeprefix("usr/"))
        for name in needed:
            if name in seen:
                continue
            seen.add(name)
            lib = find_lib(src, name)
            rel = lib.relative_to(src).as_posix()
            rel = rel[4:] if rel.startswith("usr/") else rel
            dst = root / "usr" / rel
            copy_file(lib, dst)
            libs.append(name)
            todo.append(dst)
    return sorted(libs)


def busybox_links(root: Path, busybox: Path, board: boards.Board) -> int:
    out = run([board.qemu_user, "-cpu", board.user_cpu, str(busybox), "--list-full"])
    count = 0
    for line in out.split():
        rel = line.strip()
        if not rel or rel.endswith("busybox"):
            continue
        rel = rel[4:] if rel.startswith("usr/") else rel  # merged /usr: bin -> usr/bin
        link = root / "usr" / rel
        if link.exists() or link.is_symlink():
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(root / "usr/bin/busybox", link.parent))
        count += 1
    return count


def compile_server(dest: Path) -> int:
    """The server as .mpy (mpy-cross matching MicroPython 1.25's bytecode), like marmoset.mk."""
    src = REPO / "server" / "marmoset"
    count = 0
    for py in sorted(src.rglob("*.py")):
        rel = py.relative_to(src.parent).with_suffix(".mpy")
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        run([sys.executable, "-m", "mpy_cross", "-o", str(out), str(py)] + MPY_CROSS_ARGS, cwd=str(src.parent))
        count += 1
    return count


_INITTAB = """::sysinit:/etc/init.d/rcS
{console}::respawn:/sbin/getty -L {console} 115200 vt100
::ctrlaltdel:/sbin/reboot
::shutdown:/etc/init.d/rcK
"""
_RCS = """#!/bin/sh
# Mount the kernel file systems, then run every /etc/init.d/S??* in order.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /run /tmp
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
hostname -F /etc/hostname
for s in /etc/init.d/S??*; do
	[ -x "$s" ] && "$s" start
done
"""
_RCK = """#!/bin/sh
# Stop every /etc/init.d/S??* in reverse order.
for s in $(ls -r /etc/init.d/S??*); do
	[ -x "$s" ] && "$s" stop
done
"""
_NETWORK = """#!/bin/sh
# Loopback and DHCP on eth0.
case "$1" in
	start)
		printf 'Starting network: '
		ifconfig lo 127.0.0.1 up
		ifconfig eth0 up && udhcpc -b -q -i eth0 -s /usr/share/udhcpc/default.script >/dev/null 2>&1
		echo "OK";;
	stop)
		ifconfig eth0 down;;
esac
"""
_UDHCPC = """#!/bin/sh
# udhcpc event script: configure the address, route and resolver it was given.
case "$1" in
	deconfig)
		ifconfig "$interface" 0.0.0.0;;
	bound|renew)
		ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}"
		[ -n "$router" ] && route add default gw "${router%% *}" dev "$interface"
		: > /etc/resolv.conf
		for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done;;
esac
"""
_DROPBEAR = """#!/bin/sh
# Dropbear: host keys made at first boot (-R); keys only, no passwords (-s).
case "$1" in
	start)
		printf 'Starting dropbear: '
		mkdir -p /etc/dropbear
		dropbear -R -s -p 22 && echo "OK" || echo "FAIL";;
	stop)
		killall dropbear;;
	restart)
		"$0" stop; "$0" start;;
esac
"""


def write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)


def build_root(board: boards.Board, src: Path, root: Path, authorized_key: str | None) -> dict:
    for d in ("usr/bin", "usr/sbin", "usr/lib", "etc/init.d", "proc", "sys", "dev", "run", "tmp", "root", "var/log",
              "var/lib/marmoset", "mnt", "srv"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for link in ("bin", "sbin", "lib"):
        (root / link).symlink_to("usr/" + link)
    (root / "var/run").symlink_to("../run")  # as Buildroot's skeleton: pidfiles live on the tmpfs
    os.chmod(root / "root", 0o700)
    os.chmod(root / "tmp", 0o1777)
    libs = install_binaries(src, root, {
        "usr/bin/micropython": "usr/bin/micropython",
        "usr/sbin/dropbear": "usr/sbin/dropbear",
        "usr/bin/dropbearkey": "usr/bin/dropbearkey",
        "usr/lib/openssh/sftp-server": "usr/lib/sftp-server",  # where dropbear looks for it
    })
    copy_file(src / "bin/busybox", root / "usr/bin/busybox")
    applets = busybox_links(root, root / "usr/bin/busybox", board)
    # What the Buildroot package installs (marmoset.mk), the same way.
    mpy = compile_server(root / "usr/lib/micropython")
    copy_file(REPO / "server" / "bin" / "cheetah", root / "usr/bin/cheetah")
    os.chmod(root / "usr/bin/cheetah", 0o755)
    shutil.copytree(REPO / "www", root / "srv/www.releases/factory")
    (root / "srv/www").symlink_to("www.releases/factory")
    write(root / "etc/init.d/S50marmoset", (overlay.OVERLAY / "package/marmoset/S50marmoset").read_text(), 0o755)
    # What the board's rootfs overlay holds.
    shutil.copytree(overlay.OVERLAY / "board" / board.name / "rootfs-overlay", root, dirs_exist_ok=True, symlinks=True)
    # The base system Buildroot's skeleton and busybox would provide.
    write(root / "etc/inittab", _INITTAB.format(console=board.console))
    write(root / "etc/init.d/rcS", _RCS, 0o755)
    write(root / "etc/init.d/rcK", _RCK, 0o755)
    write(root / "etc/init.d/S40network", _NETWORK, 0o755)
    write(root / "etc/init.d/S50dropbear", _DROPBEAR, 0o755)
    write(root / "usr/share/udhcpc/default.script", _UDHCPC, 0o755)
    write(root / "etc/hostname", board.name + "\n")
    write(root / "etc/hosts", "127.0.0.1\tlocalhost\n127.0.1.1\t%s\n" % board.name)
    write(root / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nmarmoset:x:%d:%d:Marmoset HTTP server:/var/lib/marmoset:/bin/false\n"
          % (MARMOSET_UID, MARMOSET_UID))
    write(root / "etc/group", "root:x:0:\nmarmoset:x:%d:\n" % MARMOSET_UID)
    # '*': no password can ever match, so console and SSH password logins are impossible.
    write(root / "etc/shadow", "root:*:20000:0:99999:7:::\nmarmoset:*:20000:0:99999:7:::\n", 0o600)
    write(root / "etc/shells", "/bin/sh\n")
    write(root / "etc/profile", "export PATH=/usr/bin:/usr/sbin\n")
    if authorized_key:
        write(root / "root/.ssh/authorized_keys", authorized_key.strip() + "\n", 0o600)
        os.chmod(root / "root/.ssh", 0o700)
    return {"libraries": libs, "applets": applets, "mpy_files": mpy}


def normalize_times(root: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in dirnames + filenames:
            os.utime(os.path.join(dirpath, name), (EPOCH, EPOCH), follow_symlinks=False)
    os.utime(root, (EPOCH, EPOCH))


# ---------------------------------------------------------------- initrd
def _cpio_entry(out: io.BytesIO, name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0), ino: int = 0):
    name_b = name.encode() + b"\0"
    header = "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X" % (
        ino, mode, 0, 0, 1, EPOCH, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0)
    out.write(header.encode() + name_b)
    out.write(b"\0" * ((4 - (110 + len(name_b)) % 4) % 4))
    out.write(data)
    out.write(b"\0" * ((4 - len(data) % 4) % 4))


def module_order(moddir: Path, wanted: list[str]) -> list[str]:
    """Module files (relative to moddir) for wanted, dependencies first (from modules.dep)."""
    deps = {}
    for line in (moddir / "modules.dep").read_text().splitlines():
        mod, _, rest = line.partition(":")
        deps[Path(mod).name.split(".ko")[0].replace("-", "_")] = (mod, rest.split())
    builtin = {Path(line).name.split(".ko")[0].replace("-", "_") for line in (moddir / "modules.builtin").read_text().splitlines()}
    order: list[str] = []

    def add(name: str):
        if name in builtin:
            return
        if name not in deps:
            raise BuildError("kernel module %s not found" % name)
        mod, needs = deps[name]
        for n in needs:
            add(Path(n).name.split(".ko")[0].replace("-", "_"))
        if mod not in order:
            order.append(mod)

    for w in wanted:
        add(w)
    return order


def build_initrd(src: Path, kver: str, board: boards.Board, dest: Path) -> list[str]:
    moddir = src / "lib/modules" / kver
    if not (moddir / "modules.dep").exists():
        run(["depmod", "-b", str(src), kver])  # the package leaves this to its postinst
    mods = module_order(moddir, INITRD_MODULES)
    out = io.BytesIO()
    ino = 1
    entries = []
    for d in ("dev", "proc", "sys", "newroot", "bin", "lib", "lib/modules"):
        entries.append((d, stat.S_IFDIR | 0o755, b""))
    entries.append(("bin/busybox", stat.S_IFREG | 0o755, (src / "bin/busybox").read_bytes()))
    for applet in ("sh", "mount", "umount", "insmod", "switch_root", "sleep", "mkdir", "echo", "cat"):
        entries.append(("bin/" + applet, stat.S_IFLNK | 0o777, b"busybox"))
    names = []
    for mod in mods:
        data = (moddir / mod).read_bytes()
        base = Path(mod).name
        if base.endswith(".xz"):
            import lzma

            data, base = lzma.decompress(data), base[:-3]
        entries.append(("lib/modules/" + base, stat.S_IFREG | 0o644, data))
        names.append(base)
    init = ["#!/bin/sh", "# Load what the root disk needs, mount it, hand over to its init.",
            "mount -t proc proc /proc", "mount -t sysfs sysfs /sys", "mount -t devtmpfs devtmpfs /dev"]
    init += ["insmod /lib/modules/%s" % n for n in names]
    init += ["i=0", "while [ ! -b %s ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done" % board.root_device,
             "mount -t ext4 -o rw %s /newroot || { echo 'initrd: cannot mount %s'; exec sh; }" % (board.root_device, board.root_device),
             "umount /sys /proc", "mount --move /dev /newroot/dev", "exec switch_root /newroot /sbin/init", ""]
    entries.append(("init", stat.S_IFREG | 0o755, "\n".join(init).encode()))
    for name, mode, data in sorted(entries):
        _cpio_entry(out, name, mode, data, ino=ino)
        ino += 1
    _cpio_entry(out, "dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1), ino=ino)
    _cpio_entry(out, "TRAILER!!!", 0)
    with open(dest, "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=EPOCH, compresslevel=9, filename="") as gz:
            gz.write(out.getvalue())
    return names


# ---------------------------------------------------------------- images
def build(board: boards.Board, authorized_key: str | None, out: Path) -> Path:
    steps = Steps(8)
    work = out / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    steps("fetching Debian packages for %s (cached after the first build)" % board.debian_arch)
    bdebs, tdebs, kernel_pkg = fetch(board)
    steps("unpacking %d packages" % (len(bdebs) + len(tdebs)))
    src = work / "debs"
    unpack(bdebs, src)
    unpack(tdebs, src)
    kver = kernel_pkg.removeprefix("linux-image-")
    steps("assembling the root filesystem")
    root = work / "rootfs"
    info = build_root(board, src, root, authorized_key)
    steps("building the initrd (%s)" % ", ".join(INITRD_MODULES))
    boot = work / "boot"
    boot.mkdir()
    info["modules"] = build_initrd(src, kver, board, boot / "initrd.img")
    kernel = (src / "boot" / ("vmlinuz-" + kver)).read_bytes()
    if kernel[:2] == b"\x1f\x8b":
        kernel = gzip.decompress(kernel)  # U-Boot's booti wants the uncompressed arm64 Image
    (boot / "vmlinuz").write_bytes(kernel)
    values = {"board": board, "flavour": "debian", "boot_files": overlay.boot_files(board, "debian"),
              "kernel": "vmlinuz", "initrd": "initrd.img", "fdtdir": False}
    (boot / "extlinux.conf").write_text(render.render("buildroot/extlinux.conf.j2", **values))
    (work / "genimage.cfg").write_text(render.render("buildroot/genimage.cfg.j2", **values))
    normalize_times(root)
    normalize_times(boot)
    steps("making rootfs.ext4 (%s), files owned by root" % board.rootfs_size)
    rootfs = boot / "rootfs.ext4"
    script = ("chown -hR 0:0 \"$1\" && chown -hR %d:%d \"$1/var/lib/marmoset\" \"$1/srv/www.releases\" && "
              "mke2fs -q -t ext4 -d \"$1\" -L rootfs -U %s -E hash_seed=%s -N 2048 -m 0 -F \"$2\" %s" % (
                  MARMOSET_UID, MARMOSET_UID, ROOT_UUID, HASH_SEED, board.rootfs_size))
    env = dict(os.environ, E2FSPROGS_FAKE_TIME=str(EPOCH), SOURCE_DATE_EPOCH=str(EPOCH), TZ="UTC")
    run(["fakeroot", "sh", "-c", script, "sh", str(root), str(rootfs)], env=env)
    # mke2fs -d copies each file's ctime (which utime() cannot set) and atime (which reading
    # a symlink may touch): pin both afterwards ('@' makes debugfs read epoch seconds).
    cmds = []
    paths = ["/"]
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            paths.append("/" + os.path.relpath(os.path.join(dirpath, name), root))
    for rel in paths:
        cmds.append('sif "%s" ctime @%d' % (rel, EPOCH))
        cmds.append('sif "%s" atime @%d' % (rel, EPOCH))
    (work / "ctime.debugfs").write_text("\n".join(cmds) + "\n")
    run(["debugfs", "-w", "-f", str(work / "ctime.debugfs"), str(rootfs)], env=env)
    steps("making disk.img with genimage")
    empty = work / "genimage-root"
    empty.mkdir()
    # mtools' mmd stamps the directories it makes with the clock: freeze it (libfaketime).
    frozen = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(EPOCH))
    run(["faketime", "-f", frozen, "genimage", "--rootpath", str(empty), "--tmppath", str(work / "genimage-tmp"), "--inputpath", str(boot),
         "--outputpath", str(work / "images"), "--config", str(work / "genimage.cfg")], env=env)
    steps("checksums")
    for name in ("disk.img",):
        shutil.copyfile(work / "images" / name, out / name)
    shutil.copyfile(rootfs, out / "rootfs.ext4")
    digest = hashlib.sha256((out / "disk.img").read_bytes()).hexdigest()
    (out / "disk.img.sha256").write_text("%s  disk.img\n" % digest)
    steps("done: %s (%d MB), sha256 %s" % (out / "disk.img", (out / "disk.img").stat().st_size >> 20, digest[:16]))
    (out / "build-info.txt").write_text(
        "board %s\nkernel %s\nlibraries %s\nbusybox applets %d\nserver .mpy files %d\ninitrd modules %s\nsha256 %s\n" % (
            board.name, kver, " ".join(info["libraries"]), info["applets"], info["mpy_files"], " ".join(info["modules"]), digest))
    shutil.rmtree(work, ignore_errors=True)
    return out / "disk.img"


def main() -> int:
    ap = argparse.ArgumentParser(description="build a board's flashable image from Debian's ARM packages")
    ap.add_argument("--board", required=True)
    ap.add_argument("--authorized-key", help="public key file for root's SSH login")
    ap.add_argument("--out", help="output folder (default out/<board>)")
    args = ap.parse_args()
    for tool in ("genimage", "mke2fs", "fakeroot", "readelf", "dpkg-deb", "mcopy", "mkdosfs", "depmod", "debugfs", "faketime"):
        if shutil.which(tool) is None:
            print("image: %s is missing (run scripts/install-deps)" % tool, file=sys.stderr)
            return 2
    try:
        board = boards.by_name(args.board)
        if board.machine != "virt":
            # A Pi boots through the Foundation's firmware blobs and its own drivers; only
            # Buildroot's rpi-firmware path (buildroot-overlay) builds that. Refuse, rather
            # than produce an image that cannot boot.
            print("image: %s is a %s board: build its image with Buildroot and buildroot-overlay "
                  "(configs/%s); make image builds the QEMU 'virt' boards (%s)" % (
                      board.name, board.machine, board.defconfig_name,
                      ", ".join(b.name for b in boards.load_all() if b.machine == "virt")), file=sys.stderr)
            return 2
        key = None
        if args.authorized_key:
            key = Path(args.authorized_key).read_text()
            if not key.startswith(("ssh-", "ecdsa-", "sk-")):
                print("image: %s does not look like an SSH public key" % args.authorized_key, file=sys.stderr)
                return 2
        build(board, key, Path(args.out) if args.out else OUT / board.name)
    except (boards.BoardError, BuildError, AptError, OSError) as exc:
        print("image: error: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
