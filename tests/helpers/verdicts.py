"""Verdicts on the embedded simulator's answers, made the way the checker makes them for a stored test."""

from __future__ import annotations

from diagnostics import checks
from diagnostics.brokers import load_broker
from diagnostics.settings import Settings
from diagnostics.simulator.embedded import embedded_broker
from diagnostics.verdict import Verdict


def checked(settings: Settings, message: bytes | str) -> Verdict:
    """The checker's verdict on ``message`` from the embedded simulator.

    Synchronous on purpose: browser tests run while Playwright keeps an event loop busy in this thread.
    """
    raw = message.encode() if isinstance(message, str) else message
    return checks.run(
        raw,
        checks.context_from_settings(settings, load_broker(settings, "simulator", embedded=embedded_broker(settings))),
    )
