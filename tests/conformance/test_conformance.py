"""The conformance suite as pytest tests: every hostile case fails with its own diagnosis id."""

from __future__ import annotations

from pathlib import Path

import pytest

from diagnostics import checks
from diagnostics.store import Store
from tests.conformance.cases import CASES, Case
from tests.conformance.harness import run_case
from tests.conformance.world import World, make_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(tmp_path_factory.mktemp("conformance"))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case(case: Case, world: World) -> None:
    outcome = run_case(case, world)
    assert not outcome.accepted, f"{case.id}: hostile response accepted"
    assert outcome.passed, (
        f"{case.id}: expected {case.expected}, got {outcome.diagnosis or outcome.verdict} ({outcome.note})"
    )


def test_suite_is_large_and_covers_every_family() -> None:
    hostile = [case for case in CASES if case.expected != "ok"]
    assert len(hostile) >= 60
    assert len({case.id for case in CASES}) == len(CASES)
    families = {case.family for case in CASES}
    assert {"signature", "xsw", "canonical", "xml", "protocol", "time", "structure", "status", "encryption"} <= families
    xsw = {case.id.split("-")[0] for case in CASES if case.family == "xsw"}
    assert {f"xsw{n}" for n in range(1, 9)} <= xsw


def test_replay_is_refused_across_two_workers(world: World, tmp_path: Path) -> None:
    """Two processes share the database: two Store objects with their own engines on one file."""
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    first, second = Store(url), Store(url)
    try:
        message = world.valid
        verdict_one = checks.run(message, world.context(remember_assertion=first.remember_assertion))
        verdict_two = checks.run(message, world.context(remember_assertion=second.remember_assertion))
    finally:
        first.engine.dispose()
        second.engine.dispose()
    assert verdict_one.verdict == "ok"
    assert verdict_two.verdict == "failed"
    assert verdict_two.diagnosis is not None and verdict_two.diagnosis.id == "replay"
