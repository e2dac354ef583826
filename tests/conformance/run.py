"""``make conformance``: every hostile case through the checker, one row each, then ``N passed, M failed``."""

from __future__ import annotations

import sys

from tests.conformance.cases import CASES
from tests.conformance.harness import Outcome, run_case
from tests.conformance.world import make_world


def _line(text: str) -> None:
    sys.stdout.write(text + "\n")


def main() -> int:
    world = make_world()
    outcomes: list[Outcome] = [run_case(case, world) for case in CASES]
    width = max(len(case.id) for case in CASES)
    ids = max(len(case.expected) for case in CASES) + 1
    _line(f"{'case':<{width}}  {'family':<10}  {'expected':<{ids}}  {'got':<{ids}}  result")
    for outcome in outcomes:
        got = outcome.diagnosis or outcome.verdict
        result = "pass" if outcome.passed else f"FAIL {outcome.note}"
        _line(
            f"{outcome.case.id:<{width}}  {outcome.case.family:<10}  {outcome.case.expected:<{ids}}  {got:<{ids}}  {result}"
        )
    passed = sum(outcome.passed for outcome in outcomes)
    hostile = sum(outcome.case.expected != "ok" for outcome in outcomes)
    accepted = [outcome.case.id for outcome in outcomes if outcome.accepted]
    _line(f"hostile cases: {hostile}; hostile responses accepted: {len(accepted)} {' '.join(accepted)}".rstrip())
    _line(f"{passed} passed, {len(outcomes) - passed} failed")
    return 0 if passed == len(outcomes) and not accepted else 1


if __name__ == "__main__":
    sys.exit(main())
