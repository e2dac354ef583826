"""``make chaos``: every fault against real processes, one row each, then ``N passed, M failed``."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from tests.chaos.faults import FAULTS, Outcome, run_fault


def _line(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main(selected: list[str]) -> int:
    faults = [fault for fault in FAULTS if not selected or fault.id in selected]
    directory = Path(tempfile.mkdtemp(prefix="inloghulp-chaos-"))
    width = max(len(fault.id) for fault in faults)
    what = max(len(fault.fault) for fault in faults)
    wanted = max(len(fault.expected) for fault in faults)
    _line(f"{'fault':<{width}}  {'what is done':<{what}}  {'expected':<{wanted}}  result  got")
    outcomes: list[Outcome] = []
    try:
        for number, fault in enumerate(faults):
            outcome = run_fault(fault, directory / str(number))
            outcomes.append(outcome)
            result = "pass" if outcome.passed else "FAIL"
            got = outcome.got + (f" ({outcome.note})" if outcome.note else "")
            _line(f"{fault.id:<{width}}  {fault.fault:<{what}}  {fault.expected:<{wanted}}  {result:<6}  {got}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    passed = sum(outcome.passed for outcome in outcomes)
    _line(f"{passed} passed, {len(outcomes) - passed} failed")
    return 0 if passed == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
