"""make image: reproducible, root-owned, no credentials unless asked for, the server as .mpy."""

import hashlib
import subprocess
import sys

import pytest
from conftest import REPO

IMAGE = REPO / "firmware" / "image.py"


def build(out, *extra):
    p = subprocess.run([sys.executable, str(IMAGE), "--board", "qemu-aarch64", "--out", str(out)] + list(extra),
                       capture_output=True, text=True, timeout=1800)
    assert p.returncode == 0, p.stderr[-3000:]
    return p


def debugfs(image, command):
    p = subprocess.run(["debugfs", "-R", command, str(image)], capture_output=True, text=True, timeout=60)
    return p.stdout + p.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    a = tmp_path_factory.mktemp("image-a")
    b = tmp_path_factory.mktemp("image-b")
    log = build(a).stderr
    build(b)
    return a, b, log


def test_two_builds_give_the_same_image(built):
    a, b, log = built
    sha_a = (a / "disk.img.sha256").read_text().split()[0]
    assert sha_a == (b / "disk.img.sha256").read_text().split()[0]
    assert sha_a == hashlib.sha256((a / "disk.img").read_bytes()).hexdigest()
    assert "[8/8] done" in log  # progress was shown


def test_files_are_owned_by_root_and_marmoset_owns_its_data(built):
    rootfs = built[0] / "rootfs.ext4"
    assert "User:     0   Group:     0" in debugfs(rootfs, "stat /usr/bin/micropython")
    assert "User:     0   Group:     0" in debugfs(rootfs, "stat /etc/marmoset/monkey.conf")
    assert "User:  1000   Group:  1000" in debugfs(rootfs, "stat /var/lib/marmoset")
    assert "Mode:  0600" in debugfs(rootfs, "stat /etc/shadow")


def test_no_password_and_no_key_by_default(built, tmp_path):
    rootfs = built[0] / "rootfs.ext4"
    subprocess.run(["debugfs", "-R", "dump /etc/shadow %s" % (tmp_path / "shadow"), str(rootfs)], capture_output=True, timeout=60)
    for line in (tmp_path / "shadow").read_text().splitlines():
        assert line.split(":")[1] == "*", line
    assert "File not found" in debugfs(rootfs, "stat /root/.ssh/authorized_keys")
    assert ".ssh" not in debugfs(rootfs, "ls /root")


def test_authorized_key_is_installed_when_given(tmp_path):
    pub = tmp_path / "k.pub"
    pub.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMarmosetTestKeyMarmosetTestKeyMarmoset test\n")
    build(tmp_path / "out", "--authorized-key", str(pub))
    rootfs = tmp_path / "out" / "rootfs.ext4"
    subprocess.run(["debugfs", "-R", "dump /root/.ssh/authorized_keys %s" % (tmp_path / "ak"), str(rootfs)], capture_output=True, timeout=60)
    assert (tmp_path / "ak").read_text() == pub.read_text()
    assert "Mode:  0600" in debugfs(rootfs, "stat /root/.ssh/authorized_keys")
    bad = tmp_path / "bad.pub"
    bad.write_text("not a key\n")
    p = subprocess.run([sys.executable, str(IMAGE), "--board", "qemu-aarch64", "--out", str(tmp_path / "x"),
                        "--authorized-key", str(bad)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "does not look like an SSH public key" in p.stderr


def test_the_server_is_installed_as_bytecode(built):
    listing = debugfs(built[0] / "rootfs.ext4", "ls -l /usr/lib/micropython/marmoset")
    assert "server.mpy" in listing and "__main__.mpy" in listing and ".py " not in listing
    assert "S50marmoset" in debugfs(built[0] / "rootfs.ext4", "ls /etc/init.d")
    assert "www.releases/factory" in debugfs(built[0] / "rootfs.ext4", "stat /srv/www")


def test_raspberry_pi_images_are_left_to_buildroot(tmp_path):
    p = subprocess.run([sys.executable, str(IMAGE), "--board", "raspberrypi3", "--out", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "marmoset_raspberrypi3_defconfig" in p.stderr and "qemu-armv7" in p.stderr


def test_unknown_board_is_a_clear_error(tmp_path):
    p = subprocess.run([sys.executable, str(IMAGE), "--board", "nosuch", "--out", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "no such board" in p.stderr
