"""The automatic outage notice: many round trips with one broker failing on the broker's side, right now.

When at least ``[notices] outage_threshold`` (default 5) round trips with one broker ended in a broker-side
failure within :data:`WINDOW`, the chooser, the result of a failing test, the help-site widget and the
servicedesk console say "Mogelijk een storing bij <broker>" (``diagnostics.notices``), until fewer do.

The count comes from the sessions table with one indexed query (``ix_diag_sessions_finished_broker``), so
every worker sees the same failures. Each worker keeps the answer for :data:`CACHE_SECONDS`: a busy chooser
does not query per page view, and an outage shows (and ends) within that time. It sets a Prometheus gauge
and logs one line when a broker's outage starts and one when it ends, per worker. Only broker ids and
counts: never a reference code, never anything about a user.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select

from diagnostics import logs, metrics
from diagnostics.models import SessionRow

log = logging.getLogger(__name__)

WINDOW = timedelta(minutes=15)
CACHE_SECONDS = 20.0
# Failures on the broker's side of the round trip, not the user's or ours: the broker did not answer or
# answered with an error, the answer could not be fetched, or the user never came back from it.
BROKER_SIDE: tuple[str, ...] = (
    "broker-unreachable",
    "broker-error",
    "artifact-resolve-failed",
    "no-response",
    "stopped-at-broker",
)


def broker_side_failures(engine: Engine, since: datetime) -> dict[str, int]:
    """Per broker, the round trips that ended in a broker-side failure since ``since``."""
    query = (
        select(SessionRow.broker_id, func.count())
        .where(SessionRow.finished_at >= since, SessionRow.diagnosis_id.in_(BROKER_SIDE))
        .group_by(SessionRow.broker_id)
    )
    with engine.connect() as connection:
        return {str(broker): int(count) for broker, count in connection.execute(query)}


class OutageWatch:
    """This worker's view of which brokers seem to be down; one per process (``Resources.outage``)."""

    def __init__(
        self,
        threshold: int,
        *,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._counts: dict[str, int] = {}
        self._suspected: dict[str, int] = {}

    def suspected(self, engine: Engine, now: datetime | None = None) -> Mapping[str, int]:
        """Brokers that seem to be down, with their broker-side failures in the last :data:`WINDOW`.

        Blocking (one query at most every ``cache_seconds``): call it from a worker thread in async code.
        """
        with self._lock:  # pages ask from several threads at once; one of them queries
            moment = self._clock()
            if self._checked_at is None or now is not None or moment - self._checked_at >= self._cache_seconds:
                self._update(broker_side_failures(engine, (now or datetime.now(UTC)) - WINDOW))
                self._checked_at = moment
            return dict(self._suspected)

    def _update(self, counts: dict[str, int]) -> None:
        suspected = {broker: count for broker, count in counts.items() if count >= self.threshold}
        # A log line outside any round trip: the page that asked may be one user's result page.
        with logs.reference_bound(None):
            for broker in suspected.keys() - self._suspected.keys():
                log.warning(
                    "possible outage at broker %s: %d broker-side failures in %d minutes (threshold %d)",
                    broker,
                    suspected[broker],
                    WINDOW.seconds // 60,
                    self.threshold,
                )
            for broker in self._suspected.keys() - suspected.keys():
                log.warning(
                    "possible outage at broker %s is over: %d broker-side failures in %d minutes",
                    broker,
                    counts.get(broker, 0),
                    WINDOW.seconds // 60,
                )
        for broker in counts.keys() | self._counts.keys():
            metrics.set_broker_side_failures(broker, counts.get(broker, 0))
            metrics.set_outage_suspected(broker, broker in suspected)
        self._counts = counts
        self._suspected = suspected
