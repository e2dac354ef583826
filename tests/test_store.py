"""The store on SQLite and on a real PostgreSQL: sessions, replay protection, artifacts, retention."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from diagnostics import cli, db
from diagnostics.reference import PATTERN
from diagnostics.settings import load_settings
from diagnostics.store import Store
from diagnostics.verdict import CheckResult, Diagnosis, Verdict
from tests.helpers.racers import race


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    store = Store(store_url)
    yield store
    store.engine.dispose()


def _failed(diagnosis: str) -> Verdict:
    return Verdict(
        verdict="failed",
        diagnosis=Diagnosis(id=diagnosis, title="t", advice="a", who="medewerker"),
        checks=[CheckResult(id="status", status="fail", detail="d", diagnosis=diagnosis, data={"kvk": "******78"})],
    )


def test_create_and_get_session(store: Store) -> None:
    session = store.create_session(broker_id="simulator", supplier_id="sup-1", request_id="_r1", scenario="cancelled")
    assert PATTERN.fullmatch(session.reference)
    assert session.state == "started" and session.created_at.tzinfo is not None
    assert store.get_session(session.reference) == session
    assert store.get_session_by_request_id("_r1") == session
    assert store.get_session("BHP-2222-2222") is None
    assert store.get_session_by_request_id("_other") is None


def test_request_id_is_unique(store: Store) -> None:
    store.create_session(broker_id="simulator", supplier_id=None, request_id="_dup")
    with pytest.raises(ValueError, match="request_id"):
        store.create_session(broker_id="simulator", supplier_id=None, request_id="_dup")


def test_finish_session_once(store: Store) -> None:
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id="_r2")
    finished = store.finish_session(session.reference, _failed("loa-too-low"))
    assert finished is not None
    assert finished.state == "finished" and finished.diagnosis_id == "loa-too-low"
    assert finished.finished_at is not None
    assert finished.verdict is not None and finished.verdict.reference == session.reference
    assert finished.verdict.checks[0].data == {"kvk": "******78"}
    # A second verdict for the same session (a replayed artifact) does not overwrite the first.
    assert store.finish_session(session.reference, Verdict(verdict="ok", diagnosis=None, checks=[])) is None
    again = store.get_session(session.reference)
    assert again is not None and again.diagnosis_id == "loa-too-low"
    assert store.finish_session("BHP-2222-2222", _failed("expired")) is None


def test_expire_stale_and_answer(store: Store) -> None:
    now = datetime.now(UTC)
    old = store.create_session(broker_id="simulator", supplier_id=None, request_id="_old", now=now - timedelta(hours=1))
    done = store.create_session(
        broker_id="simulator", supplier_id=None, request_id="_done", now=now - timedelta(hours=1)
    )
    store.finish_session(done.reference, _failed("cancelled"))
    fresh = store.create_session(broker_id="simulator", supplier_id=None, request_id="_fresh", now=now)
    assert store.expire_stale(600, now=now) == [old.reference]
    assert store.expire_stale(600, now=now) == []
    still = store.get_session(fresh.reference)
    assert still is not None and still.state == "started"
    stale = store.get_session(old.reference)
    assert stale is not None and stale.state == "no-response" and stale.diagnosis_id == "no-response"
    assert store.answer_no_response(done.reference, "foutmelding", "auth-failed") is None
    answered = store.answer_no_response(old.reference, "foutmelding", "auth-failed")
    assert answered is not None
    assert (answered.state, answered.no_response_answer, answered.diagnosis_id) == (
        "answered",
        "foutmelding",
        "auth-failed",
    )


def test_a_waiting_session_can_be_answered_before_the_timeout(store: Store) -> None:
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id="_early")
    answered = store.answer_no_response(session.reference, "geen-machtiging", "no-authorisation")
    assert answered is not None and answered.finished_at is not None
    assert (answered.state, answered.no_response_answer, answered.diagnosis_id) == (
        "answered",
        "geen-machtiging",
        "no-authorisation",
    )
    # The timeout passes it by. A broker answer that still comes is checked and outranks the user's memory.
    assert store.expire_stale(0, now=datetime.now(UTC) + timedelta(hours=1)) == []
    assert store.claim_session(session.reference) is True
    finished = store.finish_session(session.reference, _failed("loa-too-low"))
    assert finished is not None and (finished.state, finished.diagnosis_id) == ("finished", "loa-too-low")
    assert store.answer_no_response(session.reference, "weet-niet", "no-response") is None


def test_a_session_that_came_back_cannot_be_answered(store: Store) -> None:
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id="_back")
    store.finish_session(session.reference, _failed("cancelled"))
    assert store.answer_no_response(session.reference, "geen-machtiging", "no-authorisation") is None
    kept = store.get_session(session.reference)
    assert kept is not None and (kept.state, kept.diagnosis_id) == ("finished", "cancelled")


def test_a_session_whose_artifact_is_being_checked_cannot_be_answered(store: Store) -> None:
    # The broker's answer is in (claimed, maybe on another worker) but its verdict is not stored yet: an
    # answer from a second tab now must not end the session, or the checked verdict is thrown away.
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id="_in-flight")
    assert store.claim_session(session.reference) is True
    assert store.answer_no_response(session.reference, "geen-machtiging", "no-authorisation") is None
    finished = store.finish_session(session.reference, _failed("loa-too-low"))
    assert finished is not None and (finished.state, finished.diagnosis_id) == ("finished", "loa-too-low")
    # A claim holder that died leaves the session to the timeout; after it the user can answer as usual.
    stuck = store.create_session(broker_id="simulator", supplier_id=None, request_id="_stuck", now=_long_ago())
    assert store.claim_session(stuck.reference) is True
    assert store.expire_stale(60) == [stuck.reference]
    answered = store.answer_no_response(stuck.reference, "weet-niet", "no-response")
    assert answered is not None and answered.state == "answered"


def _long_ago() -> datetime:
    return datetime.now(UTC) - timedelta(hours=1)


def test_counts_by_diagnosis(store: Store) -> None:
    for index, diagnosis in enumerate(["expired", "expired", "cancelled"]):
        session = store.create_session(broker_id="simulator", supplier_id=None, request_id=f"_c{index}")
        store.finish_session(session.reference, _failed(diagnosis))
    ok = store.create_session(broker_id="simulator", supplier_id=None, request_id="_ok")
    store.finish_session(ok.reference, Verdict(verdict="ok", diagnosis=None, checks=[]))
    store.create_session(broker_id="simulator", supplier_id=None, request_id="_open")
    since = datetime.now(UTC) - timedelta(hours=1)
    assert store.counts_by_diagnosis(since) == {"expired": 2, "cancelled": 1, "ok": 1}
    assert store.counts_by_diagnosis(datetime.now(UTC) + timedelta(hours=1)) == {}


def test_remember_assertion_refuses_replay(store: Store) -> None:
    expires = datetime.now(UTC) + timedelta(minutes=5)
    assert store.remember_assertion("_assertion-1", expires) is True
    assert store.remember_assertion("_assertion-1", expires) is False
    assert store.remember_assertion("_assertion-2", expires) is True
    # Another Store on the same database (another worker) sees the same IDs.
    other = Store(store.url)
    assert other.remember_assertion("_assertion-1", expires) is False
    other.engine.dispose()


def test_artifact_taken_once(store: Store) -> None:
    store.put_artifact("h-1", b"<ArtifactResponse/>", datetime.now(UTC) + timedelta(minutes=1))
    store.put_artifact("h-old", b"<old/>", datetime.now(UTC) - timedelta(seconds=1))
    assert store.take_artifact("h-1") == b"<ArtifactResponse/>"
    assert store.take_artifact("h-1") is None
    assert store.take_artifact("h-old") is None
    assert store.take_artifact("unknown") is None


def test_purge_removes_old_sessions_and_expired_ids(store: Store) -> None:
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id="_p1")
    store.remember_assertion("_gone", datetime.now(UTC) - timedelta(minutes=1))
    store.remember_assertion("_kept", datetime.now(UTC) + timedelta(days=60))
    assert store.purge(30) == 0
    assert store.get_session(session.reference) is not None
    assert store.purge(30, now=datetime.now(UTC) + timedelta(days=31)) == 1
    assert store.get_session(session.reference) is None
    # Expired IDs are gone (accepted again), the live one is still refused.
    assert store.remember_assertion("_gone", datetime.now(UTC) + timedelta(minutes=1)) is True
    assert store.remember_assertion("_kept", datetime.now(UTC) + timedelta(minutes=1)) is False


def test_schema_version_recorded_and_idempotent(store: Store) -> None:
    assert store.schema_version == db.latest_version()
    again = Store(store.url)
    assert again.schema_version == db.latest_version()
    with store.engine.connect() as connection:
        assert db.current_version(connection) == db.latest_version()
        rows = connection.execute(text("SELECT count(*) FROM alembic_version")).scalar()
    assert rows == 1
    again.engine.dispose()


def _start_and_take(url: str, handles: list[str], barrier: Any, queue: Any) -> None:
    """One 'worker': create the schema at the same moment as the others, then race for the artifacts."""
    barrier.wait(30)
    store = Store(url)
    barrier.wait(30)
    queue.put((store.schema_version, [handle for handle in handles if store.take_artifact(handle) is not None]))


def test_concurrent_start_and_single_take(store_url: str) -> None:
    """Four processes create the schema at once, then race for the same artifacts: each is taken once."""
    # The artifacts are put in a separate database handle first, so the schema exists for put_artifact;
    # the racers' own Store() calls still run the (then idempotent) schema step concurrently.
    handles = [f"h-{index}" for index in range(40)]
    setup = Store(store_url)
    for handle in handles:
        setup.put_artifact(handle, handle.encode(), datetime.now(UTC) + timedelta(minutes=5))
    setup.engine.dispose()
    collected = race(_start_and_take, (store_url, handles), 4)
    assert [version for version, _ in collected] == [db.latest_version()] * 4
    assert sorted(handle for _, taken in collected for handle in taken) == sorted(handles)


def test_concurrent_schema_creation_on_an_empty_database(store_url: str) -> None:
    """Four processes meet an empty database at the same moment; one creates, the others wait and agree."""
    collected = race(_start_and_take, (store_url, []), 4)
    assert [version for version, _ in collected] == [db.latest_version()] * 4
    check = Store(store_url)
    with check.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    check.engine.dispose()


def test_purge_command(write_config: Any, tmp_path: Path) -> None:
    config = write_config({"retention_days": 30})
    store = Store(load_settings(config).database_url)
    old = store.create_session(
        broker_id="simulator", supplier_id=None, request_id="_cli-old", now=datetime.now(UTC) - timedelta(days=31)
    )
    recent = store.create_session(broker_id="simulator", supplier_id=None, request_id="_cli-new")
    result = CliRunner().invoke(cli.app, ["purge", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "1 diagnosesessies ouder dan 30 dagen verwijderd" in result.output
    assert store.get_session(old.reference) is None and store.get_session(recent.reference) is not None
    result = CliRunner().invoke(cli.app, ["purge", "--config", str(config), "--days", "0"])
    assert "1 diagnosesessies ouder dan 0 dagen" in result.output
    assert store.get_session(recent.reference) is None


def test_claim_session_once_among_racers(store: Store) -> None:
    """Eight concurrent ACS requests for one session: exactly one may evaluate the artifact."""
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id="_claim")
    with ThreadPoolExecutor(max_workers=8) as pool:
        claims = list(pool.map(lambda _: store.claim_session(session.reference), range(8)))
    assert claims.count(True) == 1
    assert store.claim_session(session.reference) is False
    assert store.claim_session("BHP-2222-2222") is False
    finished = store.create_session(broker_id="simulator", supplier_id=None, request_id="_claim-done")
    store.finish_session(finished.reference, _failed("expired"))
    assert store.claim_session(finished.reference) is False


def test_claim_for_evaluation_gives_the_session_with_the_claim(store: Store) -> None:
    """The ACS's first step in one call: the session and whether this request may evaluate it."""
    session = store.create_session(broker_id="simulator", supplier_id="urn:sup", request_id="_claim-eval")
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: store.claim_for_evaluation(session.reference), range(8)))
    assert [claimed for _, claimed in answers].count(True) == 1
    for found, _ in answers:
        assert found is not None and found.claimed_at is not None
        assert (found.reference, found.request_id, found.supplier_id) == (session.reference, "_claim-eval", "urn:sup")
    assert store.claim_for_evaluation("BHP-2222-2222") == (None, False)
    finished = store.create_session(broker_id="simulator", supplier_id=None, request_id="_claim-eval-done")
    store.finish_session(finished.reference, _failed("expired"))
    found, claimed = store.claim_for_evaluation(finished.reference)
    assert found is not None and found.state == "finished" and not claimed


def test_finish_and_answer_return_the_row_as_stored(store: Store) -> None:
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id="_returning")
    finished = store.finish_session(session.reference, _failed("expired"))
    assert finished == store.get_session(session.reference)
    assert finished is not None and finished.state == "finished" and finished.diagnosis_id == "expired"
    assert store.finish_session(session.reference, _failed("expired")) is None
    waiting = store.create_session(broker_id="simulator", supplier_id=None, request_id="_returning-2")
    answered = store.answer_no_response(waiting.reference, "geen-machtiging", "no-authorisation")
    assert answered == store.get_session(waiting.reference)
    assert answered is not None and answered.state == "answered" and answered.no_response_answer == "geen-machtiging"
