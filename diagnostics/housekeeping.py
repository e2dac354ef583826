"""Work no request waits for: tests that never came back become ``no-response`` on a schedule.

Every worker runs it from the app's lifespan; the database makes it happen once per session (an
``UPDATE … WHERE state = 'started'``), so several workers doing it is harmless. Pages only read: until
the next run, a page shows a test past its timeout as not come back without writing it
(``diagnostics.routes.roundtrip``), so a locked database cannot stall a GET page with a write.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from anyio import to_thread

from diagnostics import roundtrip
from diagnostics.settings import Settings
from diagnostics.store import DiagSession, Store

log = logging.getLogger(__name__)

# At most this long between runs; a short no-response timeout gets a run four times per timeout.
MAX_INTERVAL_SECONDS = 15.0


def expiry_interval(settings: Settings) -> float:
    return max(0.5, min(MAX_INTERVAL_SECONDS, settings.no_response_timeout_seconds / 4))


async def expire_once(settings: Settings, store: Store) -> list[str]:
    """One run off the event loop; a failure (say, a locked database) is logged and tried again next time."""
    try:
        return await to_thread.run_sync(roundtrip.expire_stale, settings, store)
    except Exception as exc:  # any driver error: the next run tries again, /readyz reports the database
        log.warning("expiry of unanswered tests failed (%s); trying again later", type(exc).__name__)
        return []


async def expire_periodically(settings: Settings, store: Store) -> None:
    """Run ``expire_once`` every ``expiry_interval`` until cancelled."""
    while True:
        await expire_once(settings, store)
        await asyncio.sleep(expiry_interval(settings))


def as_seen(settings: Settings, session: DiagSession, now: datetime | None = None) -> DiagSession:
    """``session`` as a page shows it, without writing: past the timeout, a test that is still ``started``
    reads as ``no-response``, which is what ``expire_once`` makes of it on its next run."""
    deadline = session.created_at + timedelta(seconds=settings.no_response_timeout_seconds)
    if session.state != "started" or (now or datetime.now(UTC)) <= deadline:
        return session
    return replace(session, state="no-response", diagnosis_id="no-response", finished_at=deadline)
