"""The Lasso side of the interop tests: where its scripts live, and waiting until a script says it is ready.

Not named ``lasso.py``: the scripts run with this folder first on ``sys.path``, and would import it instead of
Debian's Lasso.
"""

from __future__ import annotations

import select
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def wait_for_line(process: subprocess.Popen[str], expected: str, seconds: float = 20) -> None:
    """Block until ``process`` prints ``expected`` on stdout; fail with its stderr when it dies or stalls."""
    assert process.stdout is not None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            line = process.stdout.readline()
            if line.strip() == expected:
                return
            if not line and process.poll() is not None:
                break
    process.kill()
    _, err = process.communicate(timeout=10)
    raise RuntimeError(f"{process.args!r} did not print {expected!r}:\n{err[-3000:]}")
