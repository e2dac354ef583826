"""The paste box: the servicedesk's pasted text goes through the same reader and checks as ``inloghulp explain``.

A HAR of a real test usually holds no SAML answer at all, only the artifact and the RelayState (the answer
goes over the back channel, see ``diagnostics.artifact_mentions``); a test that never came back left only its way
out to the broker. Such a paste is not "unreadable": it names an inlogtest, and the console finds that test
in the store or says which reference code to look up.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from anyio import to_thread

from diagnostics import artifact_mentions, brokers, checks, metrics, roundtrip_view
from diagnostics.saml import inputs
from diagnostics.settings import Settings
from diagnostics.store import DiagSession, Store
from diagnostics.verdict import CheckResult, Verdict


@dataclass(frozen=True)
class NamedTest:
    """An inlogtest named in pasted text, and what the console knows of it."""

    # The reference code, or None when the RelayState names none of our tests.
    reference: str | None
    # The stored test, or None: expired, started in another installation, or no reference at all.
    session: DiagSession | None
    # The herkenningsmakelaar that made the artifact, when known.
    broker_name: str | None
    # In Dutch, where in the pasted text (its last mention).
    where: str
    # Whether the browser came back from the broker with an artifact for this test.
    came_back: bool


@dataclass(frozen=True)
class ArtifactOnly:
    """Pasted text with no SAML answer that names inlogtests: the last one, and the earlier ones."""

    kind: str
    chosen: NamedTest
    others: tuple[NamedTest, ...]


def _failed(check_id: str, detail: str, diagnosis: str) -> Verdict:
    return checks.verdict_from([CheckResult(id=check_id, status="fail", detail=detail, diagnosis=diagnosis)])


async def analyse(settings: Settings, registry: brokers.BrokerRegistry, text: str, broker_id: str) -> Verdict:
    """The verdict for pasted XML, base64, HAR or SAML-tracer text, checked against ``broker_id``.

    The broker's metadata comes from the app's registry (cached, bounded wait), not a fetch per paste;
    reading and checking the message are CPU work and run in a worker thread.
    """
    try:
        extracted = await to_thread.run_sync(
            lambda: inputs.extract(text.encode("utf-8"), max_bytes=settings.max_message_bytes)
        )
    except inputs.InputError as exc:
        return _failed("input", exc.message, exc.diagnosis)
    try:
        broker = await registry.broker(broker_id)
    except brokers.BrokerError as exc:
        return _failed("broker", exc.message, exc.diagnosis)
    # No expected request and no replay memory: a pasted message is looked at, not logged in with.
    metrics.explain_called("servicedesk")
    context = checks.context_from_settings(settings, broker)
    return await to_thread.run_sync(checks.run, extracted.message, context)


async def read(
    settings: Settings, registry: brokers.BrokerRegistry, store: Store, text: str, broker_id: str
) -> Verdict | ArtifactOnly:
    """What the paste box shows: the checked answer when the text holds one (as before), else the
    inlogtests its artifacts name; an unusable text stays the ``malformed`` (or ``too-large``) verdict."""
    verdict = await analyse(settings, registry, text, broker_id)
    unreadable = (
        verdict.diagnosis is not None and verdict.diagnosis.id == "malformed" and verdict.checks[0].id == "input"
    )
    if not unreadable:
        return verdict
    found = await to_thread.run_sync(artifact_mentions.find, text, settings.acs_url)
    if found is None:
        return verdict
    named = await _named_tests(settings, registry, store, _distinct(found.mentions))
    return ArtifactOnly(found.kind, named[-1], tuple(reversed(named[:-1])))


def _distinct(mentions: tuple[artifact_mentions.Mention, ...]) -> list[artifact_mentions.Mention]:
    """One mention per test, at its last place: the way out and the way back of one test, or a reload of the
    ACS, are the same test. A test came back when any of its mentions is an artifact."""
    last: dict[str, int] = {m.reference: i for i, m in enumerate(mentions) if m.reference is not None}
    back = {m.reference for m in mentions if m.came_back}
    return [
        replace(m, came_back=m.reference in back) if m.reference is not None else m
        for i, m in enumerate(mentions)
        if m.reference is None or last[m.reference] == i
    ]


async def _named_tests(
    settings: Settings, registry: brokers.BrokerRegistry, store: Store, mentions: list[artifact_mentions.Mention]
) -> list[NamedTest]:
    sessions = {
        ref: await to_thread.run_sync(store.get_session, ref) for ref in {m.reference for m in mentions if m.reference}
    }
    makers: dict[bytes, str] | None = None
    named = []
    for mention in mentions:
        session = sessions.get(mention.reference) if mention.reference else None
        if session is not None:
            broker_name: str | None = roundtrip_view.broker_name(settings, session.broker_id)
        else:
            # Only for a test we do not have: the artifact's SourceID says which broker the melder used.
            makers = makers if makers is not None else await _brokers_by_source_id(settings, registry)
            broker_name = makers.get(mention.source_id) if mention.source_id else None
        named.append(NamedTest(mention.reference, session, broker_name, mention.where, mention.came_back))
    return named


async def _brokers_by_source_id(settings: Settings, registry: brokers.BrokerRegistry) -> dict[bytes, str]:
    """``{SourceID: name}`` of the configured brokers whose metadata the registry has (cached, bounded wait)."""
    known: dict[bytes, str] = {}
    for config in settings.brokers:
        try:
            known[(await registry.broker(config.id)).source_id] = config.name
        except (brokers.BrokerError, KeyError):
            continue  # a broker that is down now: the console says less, not nothing
    return known
