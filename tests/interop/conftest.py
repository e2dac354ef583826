"""The interop tests drive Lasso (Debian's python3-lasso) in /usr/bin/python3, beside our venv's interpreter.

Lasso is a SAML library that shares no code with pysaml2 or with us. It is installed for Debian's own
Python only, so its side runs as a subprocess (``lasso_sp.py``, ``lasso_idp.py``) that imports nothing of
ours; the tests talk to it through files, JSON and real HTTP on loopback.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

LASSO_PYTHON = "/usr/bin/python3"


def lasso_missing() -> str | None:
    """Why Lasso cannot be used here, or None when ``/usr/bin/python3 -c 'import lasso'`` works."""
    if not Path(LASSO_PYTHON).exists():
        return f"{LASSO_PYTHON} ontbreekt / is missing"
    probe = subprocess.run([LASSO_PYTHON, "-c", "import lasso"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        return (
            "python3-lasso ontbreekt / is not installed (`make system-deps` installs it): "
            + (probe.stderr.strip().splitlines() or ["import lasso failed"])[-1]
        )
    return None


@pytest.fixture(scope="session")
def lasso_python() -> str:
    """The interpreter that has Lasso. Skips when Lasso cannot be imported at all, except in CI: there
    `make test` installs it first, so a missing Lasso is a broken machine and fails the run."""
    missing = lasso_missing()
    if missing is not None:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    return LASSO_PYTHON
