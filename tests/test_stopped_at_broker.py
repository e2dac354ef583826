"""A test that came back as stopped-at-broker asks "Wat zag u?", and the answer refines it like a no-response one."""

from __future__ import annotations

import pytest

from diagnostics import roundtrip, roundtrip_view, user_answer
from diagnostics.catalogue import load_catalogue
from diagnostics.settings import Settings
from diagnostics.store import DiagSession, Store
from diagnostics.verdict import CheckResult, Verdict

HOPS = [
    CheckResult(id="artifact", status="pass", detail="ok"),
    CheckResult(id="artifact-resolve", status="pass", detail="ok"),
]


def _verdict(diagnosis: str | None) -> Verdict:
    if diagnosis is None:
        return Verdict(verdict="ok", diagnosis=None, checks=HOPS)
    status = CheckResult(id="status", status="fail", detail="Responder / AuthnFailed", diagnosis=diagnosis)
    return Verdict(verdict="failed", diagnosis=load_catalogue().diagnosis(diagnosis), checks=[*HOPS, status])


def _finished(store: Store, diagnosis: str | None) -> DiagSession:
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id=None)
    finished = store.finish_session(session.reference, _verdict(diagnosis))
    assert finished is not None
    return finished


def test_the_question_is_open_for_a_silent_authn_failed_only(store: Store) -> None:
    assert roundtrip.question_open(_finished(store, "stopped-at-broker"))
    for other in (None, "cancelled", "auth-failed", "loa-too-low"):
        assert not roundtrip.question_open(_finished(store, other)), other
    waiting = store.create_session(broker_id="simulator", supplier_id=None, request_id=None)
    assert roundtrip.question_open(waiting)


@pytest.mark.parametrize(
    ("answer", "diagnosis"),
    [
        ("geen-machtiging", "no-authorisation"),
        ("geannuleerd", "cancelled"),
        ("code-werkte-niet", "auth-failed"),
        # The servicedesk route: nothing learnt, the diagnosis stays what the broker's answer showed.
        ("weet-niet", "stopped-at-broker"),
    ],
)
def test_each_answer_refines_a_stopped_at_broker_test(
    settings: Settings, store: Store, answer: str, diagnosis: str
) -> None:
    session = _finished(store, "stopped-at-broker")
    answered = roundtrip.record_answer(store, session.reference, answer)
    assert answered is not None
    # Still the broker's checked answer, finished; the user's answer beside it.
    assert (answered.state, answered.no_response_answer, answered.diagnosis_id) == ("finished", answer, diagnosis)
    verdict = roundtrip.session_verdict(settings, answered)
    assert verdict.verdict == "failed"
    assert verdict.diagnosis is not None and verdict.diagnosis.id == diagnosis
    assert [check.id for check in verdict.checks] == ["artifact", "artifact-resolve", "status", "user-answer"]
    option = user_answer.answer_option(answer)
    assert option is not None and verdict.checks[-1].detail == f"Wat de gebruiker zag: {option.label}"
    assert not roundtrip.question_open(answered)


def test_a_test_whose_answer_said_why_takes_no_answer(settings: Settings, store: Store) -> None:
    for diagnosis in (None, "cancelled", "auth-failed"):
        session = _finished(store, diagnosis)
        assert roundtrip.record_answer(store, session.reference, "geen-machtiging") is None
        unchanged = store.get_session(session.reference)
        assert unchanged is not None and unchanged.no_response_answer is None
        assert roundtrip.session_verdict(settings, unchanged).diagnosis == _verdict(diagnosis).diagnosis


def test_an_answer_given_before_a_late_broker_answer_counts_only_where_that_answer_says_nothing(
    settings: Settings, store: Store
) -> None:
    # The user answered while the test waited; then the broker's answer came in after all.
    late_ok = store.create_session(broker_id="simulator", supplier_id=None, request_id=None)
    assert roundtrip.record_answer(store, late_ok.reference, "geannuleerd") is not None
    finished = store.finish_session(late_ok.reference, _verdict(None))
    assert finished is not None
    assert roundtrip.session_verdict(settings, finished).verdict == "ok"  # a checked login outranks a memory

    late_silent = store.create_session(broker_id="simulator", supplier_id=None, request_id=None)
    assert roundtrip.record_answer(store, late_silent.reference, "geannuleerd") is not None
    finished = store.finish_session(late_silent.reference, _verdict("stopped-at-broker"))
    assert finished is not None
    verdict = roundtrip.session_verdict(settings, finished)
    assert verdict.diagnosis is not None and verdict.diagnosis.id == "cancelled"
    assert not roundtrip.question_open(finished)


def test_the_timeline_of_a_stopped_at_broker_test_says_the_user_did_not_log_in(store: Store) -> None:
    session = _finished(store, "stopped-at-broker")
    verdict = _verdict("stopped-at-broker")
    steps = roundtrip_view.timeline(session, verdict, broker_name="B", supplier_name="S")
    assert [step.status for step in steps] == ["pass", "pass", "fail", "pass", "pass", "skip"]
    title = load_catalogue().entry("stopped-at-broker").title
    assert title in steps[2].detail
    for step in steps:
        assert "ingelogd." not in step.detail or "niet ingelogd" in step.detail, step
        assert "inloggegevens" not in step.detail, step


def test_check_titles_are_dutch_for_every_check_a_trace_can_hold() -> None:
    assert roundtrip_view.check_title("response") == "Antwoord van de eHerkenningsmakelaar"
    assert roundtrip_view.check_title("artifact-resolve") == "Inlogantwoord ophalen"
    assert roundtrip_view.check_title("loa") == "Betrouwbaarheidsniveau"
    for check_id in ("broker-metadata", "artifact", "user-answer", "status", "signature"):
        assert roundtrip_view.check_title(check_id) != check_id
