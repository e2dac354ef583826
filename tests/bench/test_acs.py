"""`python -m bench.acs` runs end to end with both pysaml2 rows; timings are printed, never asserted."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_bench_acs_runs_and_prints_both_pysaml2_rows() -> None:
    if shutil.which("xmlsec1") is None:
        pytest.fail("Debian package 'xmlsec1' is missing; `make system-deps` installs it")
    result = subprocess.run(
        [sys.executable, "-m", "bench.acs", "--runs", "3", "--pysaml2-runs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    names = [line.split("  ")[0] for line in lines]
    for row in ("ours (checks.run, in process)", "pysaml2 default, same work", "pysaml2 as-is (assertion only)"):
        assert row in names, result.stdout
    # The like-for-like row must have run both signature checks and both decrypts in xmlsec1.
    same_work = next(line for line in lines if line.startswith("xmlsec1 processes per response, pysaml2 default, same"))
    assert "2 --verify" in same_work and "2 --decrypt" in same_work, same_work
    as_is = next(line for line in lines if line.startswith("xmlsec1 processes per response, pysaml2 as-is"))
    assert "1 --verify" in as_is and "--decrypt" not in as_is, as_is
    verdicts = [line for line in lines if "target >= 50x" in line]
    assert verdicts and all("pysaml2 same work / ours" in line for line in verdicts), result.stdout
    assert sum("pysaml2 as-is / ours" in line for line in lines) == len(verdicts), result.stdout
    assert "Keys: RSA-2048 (our SP decryption key and the broker's signing key)" in lines, result.stdout
    summary = [line for line in lines if line.startswith("Verdict for RSA-2048 (")]
    assert len(summary) == 1, result.stdout
    assert re.search(r"50x pysaml2 same work: (met|MISSED); <= 2x floor: (met|MISSED)$", summary[0]), summary
