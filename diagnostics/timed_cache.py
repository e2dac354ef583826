"""A per-process cache for documents fetched from other servers: one fetch at a time, bounded waits.

Broker metadata and AD lists are needed by the chooser, the round trip, readiness, metrics and the
certificate report. When a broker is down, each of them would otherwise wait for the network timeout
again, on every request. So this cache

* runs at most one fetch per key; callers that arrive meanwhile wait for that same fetch;
* lets a caller wait at most ``wait_seconds``: the fetch itself goes on in the background (up to its
  own timeout) and its outcome is kept for the next caller;
* keeps a value for ``ttl_seconds`` and a failure for the shorter ``failure_ttl_seconds``, so during an
  outage one request per ``failure_ttl_seconds`` pays for the timeout and the others get the answer at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class _Kept(Generic[T]):
    until: float
    value: T


@dataclass(frozen=True)
class _Failed:
    until: float
    error: Exception


class TimedCache(Generic[T]):
    """Values of type ``T`` by key; only exceptions of type ``failure`` are remembered as failures."""

    def __init__(
        self,
        *,
        failure: type[Exception],
        ttl_seconds: float,
        failure_ttl_seconds: float,
        wait_seconds: float,
        on_wait_timeout: Callable[[str, float], Exception],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._failure = failure
        self._ttl = ttl_seconds
        self._failure_ttl = failure_ttl_seconds
        self._wait = wait_seconds
        self._on_wait_timeout = on_wait_timeout
        self._clock = clock
        self._outcomes: dict[str, _Kept[T] | _Failed] = {}
        self._fetches: dict[str, asyncio.Task[T]] = {}

    async def get(
        self, key: str, fetch: Callable[[], Coroutine[Any, Any, T]], *, wait_seconds: float | None = None
    ) -> T:
        """The kept value for ``key``, or the outcome of ``fetch()`` (shared with other callers).

        ``wait_seconds`` shortens this caller's wait (e.g. what is left of a deadline for several documents).
        """
        outcome = self._outcomes.get(key)
        if outcome is not None and outcome.until > self._clock():
            if isinstance(outcome, _Failed):
                # Raised again for each caller: without the old traceback, which would grow every time.
                raise outcome.error.with_traceback(None)
            return outcome.value
        loop = asyncio.get_running_loop()
        task = self._fetches.get(key)
        # A task of another event loop (a test client's portal that has closed) cannot be awaited here.
        if task is None or task.done() or task.get_loop() is not loop:
            task = self._fetches[key] = loop.create_task(self._fetch(key, fetch))
            task.add_done_callback(_observe)
        try:
            # shield: a caller that gives up (or is cancelled) does not cancel the fetch the others share.
            return await asyncio.wait_for(asyncio.shield(task), self._wait if wait_seconds is None else wait_seconds)
        except TimeoutError:
            raise self._on_wait_timeout(key, self._wait) from None

    async def _fetch(self, key: str, fetch: Callable[[], Coroutine[Any, Any, T]]) -> T:
        try:
            value = await fetch()
        except self._failure as exc:
            self._keep(key, _Failed(until=self._clock() + self._failure_ttl, error=exc))
            raise
        self._keep(key, _Kept(until=self._clock() + self._ttl, value=value))
        return value

    def _keep(self, key: str, outcome: _Kept[T] | _Failed) -> None:
        # Only the fetch still registered for the key keeps its outcome: after clear() it may be stale.
        if self._fetches.get(key) is asyncio.current_task():
            del self._fetches[key]
            self._outcomes[key] = outcome

    def clear(self) -> None:
        """Forget every kept value and failure; a fetch under way is not kept when it ends."""
        self._outcomes.clear()
        self._fetches.clear()


def _observe(task: asyncio.Task[Any]) -> None:
    # When every caller gave up before the fetch failed, nobody reads its exception; read it here so
    # asyncio does not log "Task exception was never retrieved" (the failure itself is kept).
    if not task.cancelled():
        task.exception()
