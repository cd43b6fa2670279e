"""scripts/flash against regular files standing in for cards, with a fake /sys and mounts table."""

import gzip
import hashlib
import lzma
import os
import subprocess
import sys

import pytest
from conftest import REPO

FLASH = REPO / "scripts" / "flash"


@pytest.fixture
def card(tmp_path):
    """A fake removable 'sdz' of 8 MB, a fake sysfs saying so, an empty mounts table, an image."""
    dev = tmp_path / "dev"
    dev.mkdir()
    target = dev / "sdz"
    target.write_bytes(b"\xff" * (8 << 20))
    sysfs = tmp_path / "sys"
    (sysfs / "block" / "sdz").mkdir(parents=True)
    (sysfs / "block" / "sdz" / "removable").write_text("1\n")
    (sysfs / "block" / "sda").mkdir(parents=True)
    (sysfs / "block" / "sda" / "removable").write_text("0\n")
    mounts = tmp_path / "mounts"
    mounts.write_text("proc /proc proc rw 0 0\n/dev/vda1 / ext4 rw 0 0\n")
    image = tmp_path / "disk.img"
    data = os.urandom(3 << 20) + b"\0" * (1 << 20)
    image.write_bytes(data)
    (tmp_path / "disk.img.sha256").write_text("%s  disk.img\n" % hashlib.sha256(data).hexdigest())
    return {"dev": target, "sysfs": sysfs, "mounts": mounts, "image": image, "data": data, "tmp": tmp_path}


def flash(card, *args, image=None, device=None, stdin=""):
    cmd = [sys.executable, str(FLASH), str(image or card["image"]), str(device or card["dev"]),
           "--sysfs", str(card["sysfs"]), "--mounts", str(card["mounts"])] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, input=stdin, timeout=120)


def test_writes_verifies_and_reports_progress(card):
    p = flash(card, "--yes")
    assert p.returncode == 0, p.stderr
    assert card["dev"].read_bytes()[: len(card["data"])] == card["data"]
    assert "matches its SHA-256" in p.stderr and "MB/s" in p.stderr and "verified" in p.stderr


def test_asks_for_confirmation(card):
    p = flash(card, stdin="no\n")
    assert p.returncode == 1 and "not confirmed" in p.stderr
    assert card["dev"].read_bytes()[:4] == b"\xff" * 4
    p = flash(card, stdin="yes\n")
    assert p.returncode == 0


def test_damaged_image_is_refused(card):
    data = bytearray(card["data"])
    data[100] ^= 1
    card["image"].write_bytes(bytes(data))
    p = flash(card, "--yes")
    assert p.returncode == 1 and "does not match" in p.stderr
    assert card["dev"].read_bytes()[:4] == b"\xff" * 4


def test_missing_checksum_is_refused(card):
    (card["tmp"] / "disk.img.sha256").unlink()
    p = flash(card, "--yes")
    assert p.returncode == 1 and "disk.img.sha256 is missing" in p.stderr


def test_mounted_device_is_refused_unless_forced(card):
    card["mounts"].write_text("%s1 /media/card vfat rw 0 0\n" % card["dev"])
    p = flash(card, "--yes")
    assert p.returncode == 1 and "is mounted on /media/card" in p.stderr
    assert flash(card, "--yes", "--force").returncode == 0


def test_system_root_is_refused(card):
    card["mounts"].write_text("%s2 / ext4 rw 0 0\n" % card["dev"])
    p = flash(card, "--yes")
    assert p.returncode == 1 and "running system's root" in p.stderr


def test_fixed_disk_is_refused(card):
    fixed = card["dev"].parent / "sda"
    fixed.write_bytes(b"\0" * (8 << 20))
    p = flash(card, "--yes", device=fixed)
    assert p.returncode == 1 and "not a removable device" in p.stderr


@pytest.mark.parametrize("kind", ["xz", "gz"])
def test_compressed_images(card, kind):
    packed = card["tmp"] / ("disk.img." + kind)
    packed.write_bytes(lzma.compress(card["data"]) if kind == "xz" else gzip.compress(card["data"]))
    (card["tmp"] / ("disk.img.%s.sha256" % kind)).write_text(hashlib.sha256(packed.read_bytes()).hexdigest() + "\n")
    p = flash(card, "--yes", image=packed)
    assert p.returncode == 0, p.stderr
    assert card["dev"].read_bytes()[: len(card["data"])] == card["data"]
