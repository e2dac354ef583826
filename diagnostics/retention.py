"""Retention without a cron job: every worker purges old diagnostics sessions on a schedule.

The privacy page promises that sessions are deleted after ``retention_days``; relying on an operator's
cron entry for ``inloghulp purge`` alone would break that promise silently. Purging is idempotent, so
several workers doing it is harmless.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from anyio import to_thread

from diagnostics.store import Store

log = logging.getLogger(__name__)

PURGE_INTERVAL_SECONDS = 6 * 3600


def purge_once(store: Store, retention_days: int, now: datetime | None = None) -> int:
    """Delete what is past the retention; the number of sessions deleted."""
    deleted = store.purge(retention_days, now=now)
    if deleted:
        log.info("retention: %d diagnostics sessions older than %d days deleted", deleted, retention_days)
    return deleted


async def purge_safely(store: Store, retention_days: int) -> None:
    """One purge off the event loop; a failure is logged, not fatal (``/readyz`` reports the database)."""
    try:
        await to_thread.run_sync(purge_once, store, retention_days)
    except Exception:
        log.exception("retention: purge failed; trying again later")


async def purge_periodically(
    store: Store, retention_days: int, interval_seconds: float = PURGE_INTERVAL_SECONDS
) -> None:
    """Purge every ``interval_seconds`` until cancelled."""
    while True:
        await asyncio.sleep(interval_seconds)
        await purge_safely(store, retention_days)
