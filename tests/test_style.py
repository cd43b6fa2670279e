"""server/ stays loadable on every MicroPython: no f-strings, no CPython-only machinery."""

import io
import tokenize
from pathlib import Path

SERVER = Path(__file__).resolve().parent.parent / "server" / "marmoset"
FILES = sorted(SERVER.rglob("*.py"))
FORBIDDEN_IMPORTS = ("dataclasses", "typing", "enum", "abc", "threading", "asyncio", "selectors", "pathlib")


def test_there_are_server_modules():
    assert len(FILES) > 10


def test_no_f_strings_in_server():
    for path in FILES:
        for tok in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
            if tok.type == tokenize.STRING:
                prefix = tok.string[: tok.string.find(tok.string.lstrip("rRbBuUfF")[0])].lower()
                assert "f" not in prefix, "%s:%d f-string" % (path, tok.start[0])
            assert getattr(tokenize, "FSTRING_START", None) != tok.type, "%s:%d" % (path, tok.start[0])


def test_no_cpython_only_modules_in_server():
    for path in FILES:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            words = line.split()
            if len(words) >= 2 and words[0] in ("import", "from") and words[1].split(".")[0] in FORBIDDEN_IMPORTS:
                raise AssertionError("%s:%d imports %s" % (path, n, words[1]))


def test_platform_checks_live_in_compat_only():
    for path in FILES:
        if path.name != "compat.py":
            assert "sys.implementation.name ==" not in path.read_text(), path


def test_modules_stay_small():
    for path in FILES:
        assert len(path.read_text().splitlines()) < 700, path
