"""The paste box: the servicedesk's pasted text goes through the same reader and checks as ``inloghulp explain``."""

from __future__ import annotations

from anyio import to_thread

from diagnostics import brokers, checks, metrics
from diagnostics.saml import inputs
from diagnostics.settings import Settings
from diagnostics.verdict import CheckResult, Verdict


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
