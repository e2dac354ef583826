"""The paste box: whatever the servicedesk pastes goes through the same checks as ``inloghulp explain``."""

from __future__ import annotations

import importlib

from diagnostics import brokers, checks
from diagnostics.settings import Settings
from diagnostics.verdict import CheckResult, Verdict


def _message(text: str) -> bytes:
    """The broker answer inside the pasted text (XML, base64, HAR or SAML-tracer export)."""
    try:
        inputs = importlib.import_module("diagnostics.saml.inputs")
    except ModuleNotFoundError:  # the input reader is delivered separately; until then only raw XML works
        return text.strip().encode("utf-8")
    message: bytes = inputs.extract_message(text.encode("utf-8"))
    return message


def _broker(settings: Settings, broker_id: str) -> brokers.BrokerInfo:
    """The broker's verified metadata; the embedded simulator's is made in process, not fetched."""
    config = settings.broker(broker_id)
    if config.embedded:
        from diagnostics.simulator.metadata import broker_metadata

        trust = brokers.metadata_trust(settings, config)
        return brokers.parse_metadata(broker_metadata(settings), config, trust, source="simulator")
    return brokers.load_broker(settings, broker_id)


def _failed(check_id: str, detail: str, diagnosis: str) -> Verdict:
    return checks.verdict_from([CheckResult(id=check_id, status="fail", detail=detail, diagnosis=diagnosis)])


def analyse(settings: Settings, text: str, broker_id: str) -> Verdict:
    """The verdict for a pasted message, checked against ``broker_id``'s signing certificates."""
    try:
        broker = _broker(settings, broker_id)
    except brokers.BrokerError as exc:
        return _failed("broker", exc.message, exc.diagnosis)
    try:
        message = _message(text)
    except ValueError as exc:
        return _failed("input", str(exc), str(getattr(exc, "diagnosis", "malformed")))
    # No expected request and no replay memory: a pasted message is looked at, not logged in with.
    return checks.run(message, checks.context_from_settings(settings, broker))
