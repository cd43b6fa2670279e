"""Files derived from a board definition, rendered with jinja2 (templates/ beside this file).

``device_config(board, dest, root)`` writes the device's /etc/marmoset for that board;
``root`` prefixes the absolute paths inside it ("" on a device, a staging folder in tests).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2

from firmware.boards import REPO, Board

TEMPLATES = Path(__file__).resolve().parent / "templates"


def environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True, autoescape=False)


def render(template: str, **values) -> str:
    return environment().get_template(template).render(**values)


def device_config(board: Board, dest: Path, root: str = "", plugins: list[str] | None = None) -> Path:
    """Write monkey.conf, monkey.mime, plugins.load and sites/default for board under dest."""
    dest = Path(dest)
    (dest / "sites").mkdir(parents=True, exist_ok=True)
    values = {"board": board, "root": root, "plugins": plugins or []}
    names = ["monkey.conf", "plugins.load", "sites/default"]
    if "cheetah" in values["plugins"]:
        (dest / "plugins" / "cheetah").mkdir(parents=True, exist_ok=True)
        names.append("plugins/cheetah/cheetah.conf")
    for name in names:
        (dest / name).write_text(render("etc/marmoset/%s.j2" % name, **values))
    if not root:  # a device tree: the init script's settings for this board
        (dest.parent / "default").mkdir(exist_ok=True)
        (dest.parent / "default" / "marmoset").write_text(render("etc/default/marmoset.j2", **values))
    shutil.copyfile(REPO / "conf" / "monkey.mime", dest / "monkey.mime")
    return dest


def install_tree(board: Board, stage: Path, root: str | None = None) -> Path:
    """The server installed as on the device: /usr/lib/micropython/marmoset, /etc/marmoset, /srv/www."""
    stage = Path(stage)
    lib = stage / "usr" / "lib" / "micropython"
    lib.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "server" / "marmoset", lib / "marmoset", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    device_config(board, stage / "etc" / "marmoset", str(stage) if root is None else root)
    shutil.copytree(REPO / "www", stage / "srv" / "www", dirs_exist_ok=True)
    (stage / "run" / "marmoset").mkdir(parents=True, exist_ok=True)
    return stage
