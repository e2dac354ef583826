"""The "Test de inlog" round trip: start a diagnostics session, receive the artifact, check, explain.

Flow 3 of ARCHITECTURE.md, without the web layer: the routes in ``diagnostics.routes.roundtrip`` only
translate HTTP to these calls, and ``diagnostics.roundtrip_view`` words the result for people. Blocking
work (the store, the checks) runs in a worker thread so the event loop stays free: the embedded simulator
answers the SOAP call from this same process.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from urllib.parse import urlencode

from anyio import to_thread

from diagnostics import checks, metrics, reference, user_answer
from diagnostics.brokers import BrokerError, BrokerInfo, BrokerRegistry
from diagnostics.catalogue import load_catalogue
from diagnostics.certs import KeyFiles
from diagnostics.localtime import duration_words
from diagnostics.problems import Problem
from diagnostics.saml import artifact, authn
from diagnostics.settings import Settings
from diagnostics.store import DiagSession, Store
from diagnostics.verdict import CheckResult, Verdict

# A claim older than the resolve timeout plus this has no live request behind it: the checks and the write
# of the verdict after the resolve take well under a second.
INTERRUPTED_MARGIN_SECONDS = 10


def interrupted_after(settings: Settings) -> timedelta:
    """How old a claim without a verdict must be before its check counts as cut off."""
    return timedelta(seconds=settings.resolve_timeout_seconds + INTERRUPTED_MARGIN_SECONDS)


RELAY_PREFIX = "/diagnose/"
_RELAY_RE = re.compile(rf"^{RELAY_PREFIX}(?P<reference>{reference.PATTERN.pattern.strip('^$')})$")

# The answers to "Wat zag u?" (diagnostics.user_answer), where the pages and the console have long found them.
NO_RESPONSE_ANSWERS = user_answer.ANSWERS
answer_option = user_answer.answer_option


class StartError(Problem):
    """A test cannot start; ``diagnosis`` is a catalogue id, ``message`` Dutch."""


class ChoiceError(StartError):
    """The user chose no eHerkenningsmakelaar, or one the broker does not list: ask again, no problem page."""

    def __init__(self, message: str) -> None:
        super().__init__("config-error", message)


class RoundTripResources(Protocol):
    """What the round trip takes from the composition root (``diagnostics.resources.Resources`` is one).

    A protocol, not an import: the domain does not import the composition root, which sits above it
    (ARCHITECTURE.md, "Layers").
    """

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> Store: ...

    @property
    def registry(self) -> BrokerRegistry: ...

    @property
    def sp_keys(self) -> KeyFiles: ...


@dataclass(frozen=True)
class LoginStart:
    """A started test: its session and what the browser must be sent to reach the broker."""

    session: DiagSession
    request: authn.AuthnRequestOut


# ── relay state ──


def relay_state_for(ref: str) -> str:
    """A same-origin relative path to the result page (well under SAML's 80 bytes)."""
    return f"{RELAY_PREFIX}{ref}"


def reference_from_relay_state(value: str | None) -> str | None:
    """The reference in a RelayState of exactly ``/diagnose/BHP-XXXX-XXXX``; anything else is ignored."""
    if not value or len(value) > 80:
        return None
    match = _RELAY_RE.fullmatch(value)
    return match["reference"] if match else None


# ── start ──


async def start_login(
    resources: RoundTripResources,
    *,
    broker_id: str,
    supplier_id: str | None,
    scenario: str | None = None,
    now: datetime | None = None,
    reference: str | None = None,
) -> LoginStart:
    """A new session and a signed AuthnRequest naming ``supplier_id`` in Scoping/IDPList.

    ``reference``: the code the chooser showed the user (taken when still free, else a fresh one).
    """
    settings, store, registry = resources.settings, resources.store, resources.registry
    try:
        config = settings.broker(broker_id)
    except KeyError:
        raise StartError("config-error", "Deze herkenningsmakelaar is niet ingesteld.")
    try:
        # The list first: it fetches the metadata inside its own deadline, so the user waits at most the
        # registry's wait for both together; the metadata is then in the cache.
        suppliers = await registry.suppliers(broker_id)
        info = await registry.broker(broker_id)
    except BrokerError as exc:
        raise StartError(exc.diagnosis, exc.message)
    if suppliers and supplier_id not in {supplier.entity_id for supplier in suppliers}:
        raise ChoiceError(
            "Kies uw eHerkenningsmakelaar." if not supplier_id else "Kies een eHerkenningsmakelaar uit de lijst."
        )
    if not suppliers:
        supplier_id = None
    # Scenarios are a test mode of our own simulator; a real broker never sees the parameter.
    scenario = scenario if config.embedded and scenario else None
    request_id = authn.new_id()
    session = await store.run(
        store.create_session,
        broker_id=broker_id,
        supplier_id=supplier_id,
        request_id=request_id,
        scenario=scenario,
        reference=reference,
    )
    binding: authn.Binding = "redirect" if info.sso_redirect_url else "post"
    destination = info.sso_redirect_url or info.sso_post_url
    assert destination is not None  # parse_metadata demands one of them
    signing_key = resources.sp_keys.loaded_if_unchanged()  # a thread only when a key file changed
    if signing_key is None:
        signing_key = await to_thread.run_sync(resources.sp_keys.current)
    request = authn.build_authn_request(
        settings,
        signing_key=signing_key,
        destination=destination,
        supplier_id=supplier_id,
        relay_state=relay_state_for(session.reference),
        binding=binding,
        now=now,
        request_id=request_id,
    )
    if scenario:
        request = _with_scenario(request, scenario)
    return LoginStart(session, request)


def _with_scenario(request: authn.AuthnRequestOut, scenario: str) -> authn.AuthnRequestOut:
    # A query parameter outside the signed part (SAMLRequest, RelayState, SigAlg), for both bindings.
    separator = "&" if "?" in request.url else "?"
    url = f"{request.url}{separator}{urlencode({'scenario': scenario})}"
    return authn.AuthnRequestOut(request.request_id, request.binding, url, request.xml, request.form)


# ── the artifact comes back ──


def _failed(hops: list[CheckResult], diagnosis: str) -> Verdict:
    return Verdict(verdict="failed", diagnosis=load_catalogue().diagnosis(diagnosis), checks=hops)


async def evaluate_artifact(
    resources: RoundTripResources, session: DiagSession, saml_art: str, *, now: datetime | None = None
) -> Verdict:
    """Read the artifact, resolve it over SOAP at the session's broker, and run every check."""
    settings, registry = resources.settings, resources.registry
    hops: list[CheckResult] = []
    try:
        info = await registry.broker(session.broker_id)
    except (BrokerError, KeyError) as exc:
        diagnosis = exc.diagnosis if isinstance(exc, BrokerError) else "config-error"
        detail = exc.message if isinstance(exc, BrokerError) else "Deze herkenningsmakelaar is niet meer ingesteld."
        hops.append(CheckResult(id="broker-metadata", status="fail", detail=detail, diagnosis=diagnosis))
        return _failed(hops, diagnosis)
    try:
        endpoint_index, source = artifact.parse_artifact(saml_art)
    except artifact.ArtifactError as exc:
        hops.append(CheckResult(id="artifact", status="fail", detail=str(exc), diagnosis=exc.diagnosis))
        return _failed(hops, exc.diagnosis)
    if source != info.source_id:
        hops.append(
            CheckResult(
                id="artifact",
                status="fail",
                detail=f"Het artefact komt niet van {info.name}: de SourceID past niet bij {info.entity_id}.",
                diagnosis="wrong-issuer",
            )
        )
        return _failed(hops, "wrong-issuer")
    hops.append(
        CheckResult(
            id="artifact",
            status="pass",
            detail=f"Artefact ontvangen; de SourceID hoort bij {info.entity_id}.",
            data={"endpoint_index": str(endpoint_index)},
        )
    )
    ars_url = info.ars_url_for(endpoint_index)
    sp_key = resources.sp_keys.loaded_if_unchanged()  # a thread only when a key file changed
    if sp_key is None:
        sp_key = await to_thread.run_sync(resources.sp_keys.current)
    started = time.perf_counter()
    try:
        message = await artifact.resolve_artifact(
            registry.client(session.broker_id),
            settings,
            signing_key=sp_key,
            artifact=saml_art,
            ars_url=ars_url,
            content_type=info.soap_content_type,
            timeout=settings.resolve_timeout_seconds,
        )
    except artifact.ArtifactError as exc:
        hops.append(CheckResult(id="artifact-resolve", status="fail", detail=str(exc), diagnosis=exc.diagnosis))
        return _failed(hops, exc.diagnosis)
    finally:
        metrics.observe_resolve(time.perf_counter() - started)
    hops.append(
        CheckResult(
            id="artifact-resolve",
            status="pass",
            detail=f"Het bericht is via SOAP opgehaald bij {ars_url} (Content-Type {info.soap_content_type}).",
            data={"ars_url": ars_url, "content_type": info.soap_content_type},
        )
    )
    # Its one write is the assertion ID (the replay check), so the store may repeat it (``Store.run``).
    verdict = await resources.store.run(
        _run_checks, settings, resources.store, info, session, message, now, sp_key.key_pem
    )
    return verdict.model_copy(update={"checks": [*hops, *verdict.checks]})


def _run_checks(
    settings: Settings,
    store: Store,
    info: BrokerInfo,
    session: DiagSession,
    message: bytes,
    now: datetime | None,
    sp_key_pem: bytes,
) -> Verdict:
    context = checks.context_from_settings(
        settings,
        info,
        expected_request_id=session.request_id,
        remember_assertion=store.remember_assertion,
        now=now,
        sp_key_pems=(sp_key_pem,),
    )
    return checks.run(message, context)


async def receive_artifact(
    resources: RoundTripResources,
    *,
    saml_art: str,
    relay_state: str | None,
    now: datetime | None = None,
) -> str | None:
    """The reference whose result page to show, or None when this artifact belongs to no test of ours."""
    store = resources.store
    ref = reference_from_relay_state(relay_state)
    if ref is None:
        return None
    session, claimed = await store.run(store.claim_for_evaluation, ref)
    if session is None:
        return None
    if session.state == "finished":
        # A reload or a second submit: the artifact was single use, the verdict stands. (A session the
        # user answered still takes the broker's answer: a checked response outranks a memory.)
        return ref
    if not claimed:
        # The same artifact arrived twice at once (double submit): another request, maybe on another
        # worker, is resolving it. Resolving again would record "artifact unknown" over a good login.
        await _wait_for_verdict(store, ref, resources.settings.resolve_timeout_seconds)
        return ref
    verdict = await evaluate_artifact(resources, session, saml_art, now=now)
    await store.run(store.finish_session, ref, verdict)
    return ref


async def _wait_for_verdict(store: Store, ref: str, resolve_timeout_seconds: int) -> None:
    """Wait (bounded) until the request that claimed the session has stored its verdict."""
    deadline = time.monotonic() + resolve_timeout_seconds + 5
    while time.monotonic() < deadline:
        session = await store.run(store.get_session, ref)
        if session is None or session.state == "finished":
            return
        await asyncio.sleep(0.1)


# ── never came back ──


def expire_stale(settings: Settings, store: Store, now: datetime | None = None) -> list[str]:
    """Sessions older than the configured timeout become ``no-response``, and evaluations that were cut off
    become ``interrupted``; their references."""
    moment = now or datetime.now(UTC)
    interrupted = [
        ref
        for ref in store.stale_claims(interrupted_after(settings).total_seconds(), moment)
        if store.finish_session(ref, interrupted_verdict()) is not None
    ]
    return sorted([*interrupted, *store.expire_stale(settings.no_response_timeout_seconds, moment)])


def interrupted_verdict() -> Verdict:
    """The final verdict of a test whose check was cut off: the user tries again. Never "no answer came"."""
    detail = "De controle van het inlogantwoord werd onderbroken, bijvoorbeeld doordat de dienst herstartte."
    return Verdict(
        verdict="failed",
        diagnosis=load_catalogue().diagnosis("interrupted"),
        checks=[CheckResult(id="artifact-resolve", status="fail", detail=detail, diagnosis="interrupted")],
    )


def _interrupted(settings: Settings, session: DiagSession, now: datetime) -> bool:
    """Claimed for evaluation so long ago that its request can no longer be running."""
    return (
        session.state != "finished"
        and session.claimed_at is not None
        and now - session.claimed_at > interrupted_after(settings)
    )


def timeout_words(settings: Settings) -> str:
    """The no-response timeout in Dutch words: "30 seconden", "10 minuten"."""
    return duration_words(settings.no_response_timeout_seconds)


def asked_for(session: DiagSession) -> str | None:
    """The diagnosis the user's answer to "Wat zag u?" completes for this session; None when there is nothing to ask.

    A test that has not come back (yet) is ``no-response`` once answered. One that came back finished stays as the
    broker's checked answer, unless that answer did not say why the login stopped (``stopped-at-broker``).
    """
    if session.state != "finished":
        return "no-response"
    verdict = session.verdict
    diagnosis = verdict.diagnosis.id if verdict is not None and verdict.diagnosis is not None else None
    return diagnosis if diagnosis in user_answer.ASKED_FOR else None


def question_open(session: DiagSession) -> bool:
    """True when the result page asks "Wat zag u bij uw eHerkenningsmakelaar?" (not yet answered)."""
    if session.state == "finished":
        return asked_for(session) is not None and session.no_response_answer is None
    # A claimed session's answer came back: its verdict (or ``interrupted``) follows, not the user's memory.
    return session.claimed_at is None and session.state in ("started", "no-response")


def record_answer(store: Store, ref: str, key: str) -> DiagSession | None:
    """Record what the user saw, for a test that did not come back or came back as ``stopped-at-broker``.

    None when the answer is unknown, or the session takes none: the broker's checked answer said why.
    """
    option = answer_option(key)
    session = store.get_session(ref) if option is not None else None
    asked = asked_for(session) if session is not None else None
    if option is None or session is None or asked is None:
        return None
    return store.answer_no_response(
        ref, option.key, user_answer.refined(option, asked), finished=session.state == "finished"
    )


def _with_answer(verdict: Verdict, session: DiagSession) -> Verdict:
    """The user's answer on top of what the test found: one more line in the trace, and the diagnosis it leads to.

    Only where the answer was asked for: a broker's answer that came back late, after the user's, outranks it.
    """
    option = answer_option(session.no_response_answer or "")
    asked = asked_for(session)
    if option is None or asked is None:
        return verdict
    diagnosis = user_answer.refined(option, asked)
    answer = CheckResult(
        id="user-answer", status="warn", detail=f"Wat de gebruiker zag: {option.label}", diagnosis=diagnosis
    )
    return verdict.model_copy(
        update={"diagnosis": load_catalogue().diagnosis(diagnosis), "checks": [*verdict.checks, answer]}
    )


# ── a session's verdict ──


def session_verdict(settings: Settings, session: DiagSession) -> Verdict:
    """The verdict contract for any session state (finished, waiting, never came back, answered)."""
    verdict = session.verdict
    if session.state == "finished" and verdict is not None:
        return _with_answer(verdict.model_copy(update={"reference": session.reference}), session)
    if _interrupted(settings, session, datetime.now(UTC)):
        # Shown at once, before the periodic expiry records it: the page never says the broker was silent.
        return interrupted_verdict().model_copy(update={"reference": session.reference})
    if session.state == "started":
        return Verdict(
            verdict="inconclusive",
            diagnosis=None,
            checks=[
                CheckResult(
                    id="response",
                    status="skip",
                    detail="Er is nog geen antwoord van de herkenningsmakelaar.",
                )
            ],
            reference=session.reference,
        )
    timeout = timedelta(seconds=settings.no_response_timeout_seconds)
    if session.finished_at is not None and session.finished_at - session.created_at < timeout:
        waited = (
            "Er kwam geen antwoord terug van de herkenningsmakelaar. "
            "De gebruiker kwam zelf terug en beantwoordde de vraag wat hij zag."
        )
    else:
        waited = f"Binnen {timeout_words(settings)} kwam er geen antwoord terug van de herkenningsmakelaar."
    trace = [CheckResult(id="response", status="fail", detail=waited, diagnosis="no-response")]
    unanswered = Verdict(
        verdict="failed",
        diagnosis=load_catalogue().diagnosis("no-response"),
        checks=trace,
        reference=session.reference,
    )
    return _with_answer(unanswered, session)
