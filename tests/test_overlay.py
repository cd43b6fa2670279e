"""buildroot-overlay/ is a real BR2_EXTERNAL tree: rendered files are current, and every file
follows the rules Buildroot's utils/check-package enforces."""

import os
import re
import stat
import subprocess

import pytest

from firmware import boards, overlay

OVERLAY = overlay.OVERLAY
PKG = OVERLAY / "package" / "marmoset"
ALL_FILES = sorted(p for p in OVERLAY.rglob("*") if p.is_file())


def test_committed_files_match_the_templates():
    assert overlay.differences() == [], "run: make overlay"


def test_external_tree_mandatory_files():
    assert re.fullmatch(r"name: [A-Za-z0-9_]+\ndesc: .+\n", (OVERLAY / "external.desc").read_text())
    assert (OVERLAY / "external.desc").read_text().startswith("name: MARMOSET\n")
    assert 'source "$BR2_EXTERNAL_MARMOSET_PATH/package/marmoset/Config.in"' in (OVERLAY / "Config.in").read_text()
    assert (OVERLAY / "external.mk").read_text().strip() == "include $(sort $(wildcard $(BR2_EXTERNAL_MARMOSET_PATH)/package/*/*.mk))"
    for b in boards.load_all():
        assert (OVERLAY / "configs" / b.defconfig_name).exists()
        for f in ("genimage.cfg", "post-build.sh", "post-image.sh", "rootfs-overlay/etc/marmoset/monkey.conf"):
            assert (OVERLAY / "board" / b.name / f).exists(), f


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(OVERLAY)))
def test_whitespace(path):
    text = path.read_text()
    assert text.endswith("\n"), "no newline at end of file"
    for n, line in enumerate(text.split("\n")[:-1], 1):
        assert line == line.rstrip(), "%s:%d trailing whitespace" % (path, n)
    assert "\n\n\n" not in text, "consecutive empty lines"


def test_mk_file():
    lines = (PKG / "marmoset.mk").read_text().split("\n")
    assert lines[:6] == ["#" * 80, "#", "# marmoset", "#", "#" * 80, ""]
    assert lines[-2] == "$(eval $(generic-package))" and lines[-1] == ""
    in_define = False
    for n, line in enumerate(lines, 1):
        if line.startswith("define "):
            in_define = True
            continue
        if line == "endef":
            in_define = False
            continue
        if in_define:
            assert line.startswith("\t"), "line %d: define bodies are indented with a tab" % n
            continue
        m = re.match(r"^([A-Z0-9_]+)\s*(\+?=|:=)", line)
        if m:
            assert m.group(1).startswith("MARMOSET_"), "line %d: variable %s not prefixed MARMOSET_" % (n, m.group(1))
        assert not line.startswith("ifdef") and not line.startswith("ifndef"), "line %d: use ifeq" % n
        assert not re.match(r"^MARMOSET_INSTALL_TARGET\s*=\s*YES", line), "line %d: useless default" % n
    text = "\n".join(lines)
    for var in ("MARMOSET_VERSION", "MARMOSET_SITE", "MARMOSET_SITE_METHOD = local", "MARMOSET_LICENSE = MIT",
                "MARMOSET_LICENSE_FILES = LICENSE", "MARMOSET_DEPENDENCIES = micropython", "MARMOSET_USERS",
                "MARMOSET_INSTALL_INIT_SYSV", "MARMOSET_INSTALL_INIT_SYSTEMD", "$(INSTALL) -D -m 0644"):
        assert var in text, var
    assert (boards.REPO / "LICENSE").exists()


def test_config_in():
    lines = (PKG / "Config.in").read_text().split("\n")
    order = {"bool": 0, "default": 1, "depends": 2, "select": 3, "help": 4}
    last = -1
    in_help = False
    for n, line in enumerate(lines, 1):
        if line.startswith("config ") or line.startswith("comment "):
            last, in_help = -1, False
            continue
        if in_help:
            if line:
                assert line.startswith("\t  "), "line %d: help text is tab + 2 spaces" % n
                assert len(line[3:]) <= 62, "line %d: help text over 62 columns" % n
            if line and not line.startswith("\t"):
                in_help = False
            continue
        word = line.strip().split(" ")[0]
        if line.startswith("\t") and word in order:
            assert line.startswith("\t") and not line.startswith("\t "), "line %d: attributes are tab-indented" % n
            assert order[word] >= last, "line %d: attribute order is type, default, depends on, select, help" % n
            last = order[word]
            in_help = word == "help"
    text = "\n".join(lines)
    assert "depends on BR2_TOOLCHAIN_HAS_THREADS" in text and "depends on !BR2_STATIC_LIBS" in text
    assert 'comment "marmoset needs a toolchain w/ threads, dynamic library"' in text


def test_defconfigs():
    for path in sorted((OVERLAY / "configs").iterdir()):
        text = path.read_text()
        assert re.fullmatch(r"marmoset_[a-z0-9_]+_defconfig", path.name)
        assert "BR2_DOWNLOAD_FORCE_CHECK_HASHES=y\n" in text, path
        assert "BR2_PACKAGE_MARMOSET=y\n" in text and "BR2_PACKAGE_MICROPYTHON=y\n" in text
        for line in text.splitlines():
            assert re.match(r"^(BR2_[A-Za-z0-9_]+=.+|# BR2_[A-Za-z0-9_]+ is not set)$", line), (path, line)


def _shellcheck(path):
    p = subprocess.run(["shellcheck", "-s", "sh", str(path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout


def test_init_script():
    path = PKG / "S50marmoset"
    assert re.fullmatch(r"S\d\d[a-z0-9-]+", path.name)
    assert not os.stat(path).st_mode & 0o111, "start scripts are not executable in the package folder"
    text = path.read_text()
    assert text.startswith("#!/bin/sh\n\nDAEMON=\"marmoset\"\nPIDFILE=\"/var/run/$DAEMON.pid\"\n")
    assert '[ -r "/etc/default/$DAEMON" ] && . "/etc/default/$DAEMON"' in text
    assert "MARMOSET_ARGS=" in text
    for fn in ("start() {", "stop() {", "restart() {", "start|stop|restart)", "reload)"):
        assert fn in text, fn
    for line in text.splitlines():
        assert not line.startswith("    "), "indent with tabs: %r" % line
    _shellcheck(path)


@pytest.mark.parametrize("path", sorted(OVERLAY.glob("board/*/post-*.sh")), ids=lambda p: str(p.relative_to(OVERLAY)))
def test_board_scripts(path):
    assert os.stat(path).st_mode & stat.S_IXUSR
    _shellcheck(path)
