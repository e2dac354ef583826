"""The chaos suite as pytest tests: each fault against real processes (``make chaos`` prints the same as a table)."""

from __future__ import annotations

import pytest

from tests.chaos.faults import FAULTS, Fault, run_fault

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "fault",
    [pytest.param(fault, marks=[pytest.mark.postgres] if fault.needs_postgres else []) for fault in FAULTS],
    ids=[fault.id for fault in FAULTS],
)
def test_fault(fault: Fault, tmp_path_factory: pytest.TempPathFactory) -> None:
    outcome = run_fault(fault, tmp_path_factory.mktemp(f"chaos-{fault.id}"))
    assert outcome.passed, f"{fault.id}: expected {fault.expected}; got {outcome.got} {outcome.note}"


def test_every_fault_the_issue_names_is_here() -> None:
    ids = {fault.id for fault in FAULTS}
    assert {
        "hanging-broker",
        "broker-500",
        "slow-broker",
        "sqlite-locked",
        "sqlite-deleted",
        "postgres-restart",
        "worker-killed",
        "ars-tls-refused",
    } <= ids
    assert len(ids) == len(FAULTS)
