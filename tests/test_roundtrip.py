"""The round-trip flow without HTTP: relay state, start, artifact checks, never came back, the timeline."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import update

from diagnostics import ownership, roundtrip, roundtrip_view
from diagnostics.catalogue import load_catalogue
from diagnostics.resources import Resources, open_resources
from diagnostics.settings import Settings
from diagnostics.simulator import entities
from diagnostics.store import DiagSession, SessionRow, Store
from diagnostics.verdict import CheckResult, Verdict
from tests.helpers.brokers import simulator_handler
from tests.helpers.jargon import JARGON
from tests.helpers.live_server import free_port
from tests.helpers.messages import metadata_with_ars


@pytest.fixture
async def resources(settings: Settings) -> AsyncIterator[Resources]:
    """The embedded simulator's metadata and AD list, served in process instead of over the network."""
    transport = httpx.MockTransport(simulator_handler(settings))
    async with open_resources(settings, broker_transport=transport) as opened:
        yield opened


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/diagnose/BHP-7K3Q-9D2F", "BHP-7K3Q-9D2F"),
        ("https://evil.example/diagnose/BHP-7K3Q-9D2F", None),
        ("//evil.example/diagnose/BHP-7K3Q-9D2F", None),
        ("/diagnose/BHP-7K3Q-9D2F?next=https://evil.example", None),
        ("/diagnose/BHP-7K3Q-9D2F/../../elders", None),
        ("/diagnose/bhp-7k3q-9d2f", None),
        ("/diagnose/BHP-0000-1111", None),  # 0 and 1 are not in the alphabet
        ("/elders", None),
        ("", None),
        (None, None),
    ],
)
def test_only_our_own_result_path_is_accepted_as_relay_state(value: str | None, expected: str | None) -> None:
    assert roundtrip.reference_from_relay_state(value) == expected


def test_relay_state_fits_in_80_bytes() -> None:
    assert len(roundtrip.relay_state_for("BHP-7K3Q-9D2F").encode()) <= 80


@pytest.mark.anyio
async def test_start_login_stores_the_session_and_signs_a_scoped_request(resources: Resources) -> None:
    supplier = entities.SUPPLIERS[1].entity_id
    started = await roundtrip.start_login(resources, broker_id="simulator", supplier_id=supplier, scenario="cancelled")
    session = resources.store.get_session(started.session.reference)
    assert session is not None
    assert session.state == "started"
    assert session.supplier_id == supplier
    assert session.request_id == started.request.request_id
    assert session.scenario == "cancelled"
    assert started.request.binding == "redirect"
    url = urlsplit(started.request.url)
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}".endswith("/simulator/sso")
    assert query["RelayState"] == [f"/diagnose/{session.reference}"]
    assert query["scenario"] == ["cancelled"]
    assert query["SigAlg"] == ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"]
    xml = started.request.xml.decode()
    assert f'ProviderID="{supplier}"' in xml
    assert 'ForceAuthn="true"' in xml
    assert f'ID="{session.request_id}"' in xml


@pytest.mark.anyio
async def test_start_login_refuses_a_supplier_the_broker_does_not_list(resources: Resources) -> None:
    with pytest.raises(roundtrip.StartError) as caught:
        await roundtrip.start_login(resources, broker_id="simulator", supplier_id="urn:evil:AD:1")
    assert caught.value.diagnosis == "config-error"
    with pytest.raises(roundtrip.StartError):
        await roundtrip.start_login(resources, broker_id="nope", supplier_id=None)
    assert resources.store.recent_sessions() == []


def _artifact(source: bytes, handle: bytes = b"\x01" * 20) -> str:
    return base64.b64encode(b"\x00\x04\x00\x00" + source + handle).decode()


@pytest.mark.parametrize(
    ("artifact", "diagnosis"),
    [
        (_artifact(hashlib.sha1(b"urn:etoegang:HM:00000003520354760000:entities:9632").digest()), "wrong-issuer"),
        ("bm90IGFuIGFydGlmYWN0", "malformed"),
        ("%%%", "malformed"),
    ],
)
@pytest.mark.anyio
async def test_an_artifact_from_another_issuer_is_never_resolved(
    resources: Resources, artifact: str, diagnosis: str
) -> None:
    session = resources.store.create_session(broker_id="simulator", supplier_id=None, request_id="_req1")
    verdict = await roundtrip.evaluate_artifact(resources, session, artifact)
    assert verdict.verdict == "failed"
    assert verdict.diagnosis is not None and verdict.diagnosis.id == diagnosis
    assert [check.id for check in verdict.checks] == ["artifact"]
    assert verdict.diagnosis.title  # the Dutch title comes from the catalogue


def test_expire_stale_uses_the_configured_timeout(settings: Settings, store: Store) -> None:
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id="_req2")
    timeout = settings.no_response_timeout_seconds
    assert roundtrip.expire_stale(settings, store, now=session.created_at + timedelta(seconds=timeout - 1)) == []
    assert roundtrip.expire_stale(settings, store, now=session.created_at + timedelta(seconds=timeout + 1)) == [
        session.reference
    ]
    expired = store.get_session(session.reference)
    assert expired is not None and expired.state == "no-response"
    verdict = roundtrip.session_verdict(settings, expired)
    assert verdict.verdict == "failed"
    assert verdict.diagnosis is not None and verdict.diagnosis.id == "no-response"


@pytest.mark.parametrize(
    ("answer", "diagnosis"),
    [
        ("geen-machtiging", "no-authorisation"),
        ("geannuleerd", "cancelled"),
        ("code-werkte-niet", "auth-failed"),
        ("weet-niet", "no-response"),
    ],
)
def test_each_answer_leads_to_its_diagnosis(settings: Settings, store: Store, answer: str, diagnosis: str) -> None:
    settings = settings.model_copy(update={"no_response_timeout_seconds": 1})
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id=f"_req-{answer}")
    roundtrip.expire_stale(settings, store, now=session.created_at + timedelta(seconds=2))
    answered = roundtrip.record_answer(store, session.reference, answer)
    assert answered is not None
    verdict = roundtrip.session_verdict(settings, answered)
    assert verdict.diagnosis is not None and verdict.diagnosis.id == diagnosis
    assert verdict.checks[-1].id == "user-answer"
    assert verdict.checks[0].detail.startswith("Binnen 1 seconde kwam er geen antwoord terug")


def test_an_answer_before_the_timeout_says_the_user_stopped(settings: Settings, store: Store) -> None:
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id="_req-early")
    answered = roundtrip.record_answer(store, session.reference, "geen-machtiging")
    assert answered is not None
    verdict = roundtrip.session_verdict(settings, answered)
    assert verdict.diagnosis is not None and verdict.diagnosis.id == "no-authorisation"
    assert [check.id for check in verdict.checks] == ["response", "user-answer"]
    assert "De gebruiker kwam zelf terug en beantwoordde de vraag wat hij zag." in verdict.checks[0].detail


def test_an_unknown_answer_is_refused(settings: Settings, store: Store) -> None:
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id="_req3")
    roundtrip.expire_stale(settings, store, now=session.created_at + timedelta(days=1))
    assert roundtrip.record_answer(store, session.reference, "iets-anders") is None
    still = store.get_session(session.reference)
    assert still is not None and still.state == "no-response"


def _finished(store: Store, verdict: Verdict) -> DiagSession:
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id=None)
    finished = store.finish_session(session.reference, verdict)
    assert finished is not None
    return finished


def _statuses(steps: list[roundtrip_view.Step]) -> list[str]:
    return [step.status for step in steps]


def test_timeline_marks_the_hop_that_failed(settings: Settings, store: Store) -> None:
    hops = [
        CheckResult(id="artifact", status="pass", detail="ok"),
        CheckResult(id="artifact-resolve", status="pass", detail="ok"),
    ]
    ok = _finished(store, Verdict(verdict="ok", diagnosis=None, checks=[*hops]))
    assert (
        _statuses(
            roundtrip_view.timeline(ok, roundtrip.session_verdict(settings, ok), broker_name="B", supplier_name="S")
        )
        == ["pass"] * 6
    )

    cancelled_verdict = Verdict(
        verdict="failed",
        diagnosis=load_catalogue().diagnosis("cancelled"),
        checks=[*hops, CheckResult(id="status", status="fail", detail="geannuleerd", diagnosis="cancelled")],
    )
    cancelled = _finished(store, cancelled_verdict)
    cancelled_steps = roundtrip_view.timeline(cancelled, cancelled_verdict, broker_name="B", supplier_name=None)
    assert _statuses(cancelled_steps) == ["pass", "pass", "fail", "pass", "pass", "skip"]
    # A refused login came back as an answer: no step may say the user logged in, or had login data fetched.
    for step in cancelled_steps:
        assert "ingelogd." not in step.detail or "niet ingelogd" in step.detail, step
        assert "inloggegevens" not in step.detail, step

    unreachable = Verdict(
        verdict="failed",
        diagnosis=load_catalogue().diagnosis("broker-unreachable"),
        checks=[
            hops[0],
            CheckResult(id="artifact-resolve", status="fail", detail="weg", diagnosis="broker-unreachable"),
        ],
    )
    session = _finished(store, unreachable)
    assert _statuses(roundtrip_view.timeline(session, unreachable, broker_name="B", supplier_name=None)) == [
        "pass",
        "pass",
        "pass",
        "pass",
        "fail",
        "skip",
    ]

    waiting = store.create_session(broker_id="simulator", supplier_id=None, request_id=None)
    steps = roundtrip_view.timeline(
        waiting, roundtrip.session_verdict(settings, waiting), broker_name="B", supplier_name="S"
    )
    assert _statuses(steps) == ["pass", "pass", "wait", "wait", "wait", "wait"]
    assert steps[2].title == "Inloggen bij uw eHerkenningsmakelaar (S)"


@pytest.mark.parametrize(
    ("checks", "diagnosis"),
    [
        (
            [
                CheckResult(
                    id="artifact",
                    status="fail",
                    detail="Het artefact komt niet van B: de SourceID past niet bij urn:etoegang:HM:1:entities:9.",
                    diagnosis="wrong-issuer",
                )
            ],
            "wrong-issuer",
        ),
        (
            [
                CheckResult(id="artifact", status="pass", detail="Artefact ontvangen; de SourceID hoort bij urn:x."),
                CheckResult(
                    id="artifact-resolve",
                    status="fail",
                    detail="De makelaar antwoordde met een SOAP-fout op https://hm.example/ars.",
                    diagnosis="broker-error",
                ),
            ],
            "broker-error",
        ),
        (
            [
                CheckResult(id="artifact", status="pass", detail="Artefact ontvangen; de SourceID hoort bij urn:x."),
                CheckResult(
                    id="artifact-resolve",
                    status="pass",
                    detail="Het bericht is via SOAP opgehaald bij https://hm.example/ars (Content-Type text/xml).",
                ),
                CheckResult(
                    id="loa",
                    status="fail",
                    detail="AuthnContextClassRef urn:etoegang:core:assurance-class:loa2 is lager dan loa2plus.",
                    diagnosis="loa-too-low",
                ),
            ],
            "loa-too-low",
        ),
    ],
)
def test_timeline_speaks_plain_dutch_and_names_the_problem(
    store: Store, checks: list[CheckResult], diagnosis: str
) -> None:
    verdict = Verdict(verdict="failed", diagnosis=load_catalogue().diagnosis(diagnosis), checks=checks)
    steps = roundtrip_view.timeline(_finished(store, verdict), verdict, broker_name="B", supplier_name="S")
    for step in steps:
        assert JARGON.search(f"{step.title} {step.detail}") is None, step
    failed = [step for step in steps if step.status == "fail"]
    assert len(failed) == 1 and load_catalogue().entry(diagnosis).title in failed[0].detail


def test_timeline_of_a_test_that_never_came_back_speaks_plain_dutch(settings: Settings, store: Store) -> None:
    waiting = store.create_session(broker_id="simulator", supplier_id=None, request_id=None)
    store.expire_stale(settings.no_response_timeout_seconds, waiting.created_at + timedelta(days=1))
    gone = store.get_session(waiting.reference)
    assert gone is not None and gone.state == "no-response"
    for session in (waiting, gone):
        verdict = roundtrip.session_verdict(settings, session)
        for step in roundtrip_view.timeline(session, verdict, broker_name="B", supplier_name=None):
            assert JARGON.search(f"{step.title} {step.detail}") is None, step


@pytest.mark.anyio
async def test_an_unreachable_artifact_service_is_a_verdict_not_a_crash(settings: Settings, store: Store) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}/ars"
    metadata = metadata_with_ars(settings, unreachable)

    def handler(request: httpx.Request) -> httpx.Response:
        if str(request.url) == unreachable:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, content=metadata)

    session = store.create_session(broker_id="simulator", supplier_id=None, request_id="_req4")
    artifact = _artifact(hashlib.sha1(entities.BROKER_ENTITY_ID.encode()).digest())
    async with open_resources(settings, broker_transport=httpx.MockTransport(handler)) as resources:
        verdict = await roundtrip.evaluate_artifact(resources, session, artifact)
    assert verdict.diagnosis is not None and verdict.diagnosis.id == "broker-unreachable"
    assert [(check.id, check.status) for check in verdict.checks] == [
        ("artifact", "pass"),
        ("artifact-resolve", "fail"),
    ]
    finished = store.finish_session(session.reference, verdict)
    assert finished is not None
    steps = roundtrip_view.timeline(finished, verdict, broker_name="B", supplier_name=None)
    assert [step.status for step in steps][3:] == ["pass", "fail", "skip"]


@pytest.mark.parametrize(
    ("seconds", "words"), [(1, "1 seconde"), (30, "30 seconden"), (60, "1 minuut"), (600, "10 minuten")]
)
def test_timeout_in_words(settings: Settings, seconds: int, words: str) -> None:
    assert roundtrip.timeout_words(settings.model_copy(update={"no_response_timeout_seconds": seconds})) == words


def _claimed_long_ago(settings: Settings, store: Store, request_id: str) -> DiagSession:
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id=request_id)
    assert store.claim_session(session.reference)
    with store.engine.begin() as connection:
        connection.execute(
            update(SessionRow)
            .where(SessionRow.reference == session.reference)
            .values(claimed_at=datetime.now(UTC) - roundtrip.interrupted_after(settings) - timedelta(seconds=1))
        )
    found = store.get_session(session.reference)
    assert found is not None
    return found


def test_a_check_cut_off_mid_resolve_is_interrupted_never_no_response(settings: Settings, store: Store) -> None:
    # The worker that claimed the session died during the resolve: nobody will finish it.
    session = _claimed_long_ago(settings, store, "_cut-off")
    shown = roundtrip.session_verdict(settings, session)
    assert (shown.verdict, shown.diagnosis and shown.diagnosis.id) == ("failed", "interrupted")
    assert not roundtrip.question_open(session)
    assert not ownership.is_open(settings, session, datetime.now(UTC))  # no banner either
    assert "geen antwoord" not in " ".join(check.detail for check in shown.checks)
    # The periodic expiry records it as the final verdict.
    assert roundtrip.expire_stale(settings, store) == [session.reference]
    final = store.get_session(session.reference)
    assert final is not None and (final.state, final.diagnosis_id) == ("finished", "interrupted")
    entry = load_catalogue().entry("interrupted")
    assert entry.who == "beheer"


def test_a_claim_within_the_resolve_time_is_still_waiting(settings: Settings, store: Store) -> None:
    session = store.create_session(broker_id="simulator", supplier_id=None, request_id="_in-flight")
    assert store.claim_session(session.reference)
    claimed = store.get_session(session.reference)
    assert claimed is not None
    assert roundtrip.session_verdict(settings, claimed).verdict == "inconclusive"
    assert roundtrip.expire_stale(settings, store) == []
