"""Board definitions load, and broken ones are refused with file, key and problem."""

from pathlib import Path

import pytest
import yaml

from firmware import boards, render


def test_every_board_loads():
    names = boards.names()
    for required in ("qemu-armv7", "qemu-aarch64", "raspberrypi3", "raspberrypi4-64"):
        assert required in names
    for b in boards.load_all():
        assert b.debian_arch in ("armhf", "arm64")
        assert b.heap_bytes >= 1 << 20
        assert b.defconfig_name.startswith("marmoset_") and b.defconfig_name.endswith("_defconfig")


def _broken(tmp_path, changes, board="qemu-armv7"):
    data = yaml.safe_load((boards.BOARD_DIR / ("%s.yaml" % board)).read_text())
    for dotted, value in changes.items():
        cur = data
        parts = dotted.split("__")
        for p in parts[:-1]:
            cur = cur[p]
        if value is None:
            del cur[parts[-1]]
        else:
            cur[parts[-1]] = value
    path = tmp_path / ("%s.yaml" % board)
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(boards.BoardError) as info:
        boards.load(path)
    return str(info.value)


@pytest.mark.parametrize("changes, words", [
    ({"arch__debian": "mips"}, "arch.debian: must be one of armhf, arm64"),
    ({"arch__qemu_user": "qemu-aarch64"}, "arch.qemu_user: qemu-arm runs armhf binaries"),
    ({"server__heap": "lots"}, "server.heap: must be a size like 64M"),
    ({"server__heap": "4G"}, "larger than the board's memory"),
    ({"image__rootfs_size": None}, "image.rootfs_size: missing"),
    ({"server__workers": 0}, "server.workers: must be a positive whole number"),
    ({"server__listen": ["http"]}, "bad Listen value"),
    ({"name": "other"}, "name: must match the file name"),
    ({"colour": "blue"}, "colour: unknown key"),
    ({"arch__buildroot": ["arm=y"]}, "is not a BR2_ option line"),
])
def test_broken_boards_name_the_key(tmp_path, changes, words):
    message = _broken(tmp_path, changes)
    assert words in message and str(tmp_path) in message


def test_not_yaml(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("name: [unclosed\n")
    with pytest.raises(boards.BoardError, match="not valid YAML"):
        boards.load(p)


def test_unknown_board_lists_the_known_ones():
    with pytest.raises(boards.BoardError, match="qemu-armv7"):
        boards.by_name("nope")


def test_device_config_renders_and_loads(tmp_path):
    import sys

    sys.path.insert(0, str(Path(boards.REPO / "server")))
    from marmoset import config

    for b in boards.load_all():
        stage = render.install_tree(b, tmp_path / b.name)
        conf = config.load(str(stage / "etc" / "marmoset"))
        assert conf.server["Workers"] == b.workers
        assert [lst[1] for lst in conf.listeners] == [int(s.rsplit(":", 1)[-1]) for s in b.listen]
        assert conf.vhosts[0].docroot == str(stage / "srv" / "www")
        assert (stage / "usr/lib/micropython/marmoset/__main__.py").exists()
