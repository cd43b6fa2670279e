"""The unit tests in tests/unit/ under MicroPython, through the runner both interpreters share."""

import os
import subprocess

import pytest
from conftest import INTERPRETERS, REPO, UPY


@pytest.mark.parametrize("interp", [i for i in INTERPRETERS if i.startswith("upy")])
def test_unit_suite_under_micropython(interp):
    arch = ["--arch", interp[4:]] if interp.startswith("upy-") else []
    env = dict(os.environ, MICROPYPATH="%s:%s" % (REPO / "server", REPO / "tests" / "unit"))
    p = subprocess.run([str(UPY)] + arch + [str(REPO / "tests" / "unit" / "run.py")], env=env,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    assert " passed, 0 failed" in p.stdout
