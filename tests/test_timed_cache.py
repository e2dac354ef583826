"""The fetch cache behind the broker registry: shared fetches, bounded waits, remembered failures."""

from __future__ import annotations

import asyncio
import threading
import traceback
from collections.abc import Awaitable, Callable

import anyio
import pytest

from diagnostics.timed_cache import TimedCache


class Down(Exception):
    """The kind of failure the cache remembers (for brokers: BrokerError)."""


class Late(Exception):
    def __init__(self, key: str, seconds: float) -> None:
        super().__init__(f"{key} not within {seconds}")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_cache(clock: Clock, *, wait_seconds: float = 5.0) -> TimedCache[str]:
    return TimedCache(
        failure=Down,
        ttl_seconds=300,
        failure_ttl_seconds=30,
        wait_seconds=wait_seconds,
        on_wait_timeout=Late,
        clock=clock,
    )


class Source:
    """A fetch that counts its calls and, when told to, fails or waits for a release."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail: Exception | None = None
        self.release: asyncio.Event | None = None

    async def __call__(self) -> str:
        self.calls += 1
        if self.release is not None:
            await self.release.wait()
        if self.fail is not None:
            raise self.fail
        return f"value {self.calls}"


@pytest.mark.anyio
async def test_a_value_is_kept_for_its_ttl() -> None:
    clock, source = Clock(), Source()
    cache = make_cache(clock)

    first = await cache.get("a", source)
    again = await cache.get("a", source)
    clock.now += 301
    assert [first, again, await cache.get("a", source)] == ["value 1", "value 1", "value 2"]


@pytest.mark.anyio
async def test_a_failure_is_remembered_for_the_shorter_failure_ttl() -> None:
    clock, source = Clock(), Source()
    source.fail = Down("refused")
    cache = make_cache(clock)

    async def attempt() -> str:
        try:
            return await cache.get("a", source)
        except Down as exc:
            return f"down: {exc}"

    results = [await attempt(), await attempt()]
    clock.now += 31
    source.fail = None
    results.append(await attempt())

    # The second caller gets the remembered failure without a fetch; after 30 s the broker is asked again.
    assert results == ["down: refused", "down: refused", "value 2"]
    assert source.calls == 2


@pytest.mark.anyio
async def test_a_remembered_failure_does_not_grow_its_traceback() -> None:
    source = Source()
    source.fail = Down("refused")
    cache = make_cache(Clock())

    async def depth() -> int:
        try:
            await cache.get("a", source)
        except Down as exc:
            return len(traceback.extract_tb(exc.__traceback__))
        raise AssertionError("no failure")

    depths = [await depth() for _ in range(4)]
    assert depths[1] == depths[2] == depths[3], depths
    assert source.calls == 1


@pytest.mark.anyio
async def test_other_errors_are_not_remembered() -> None:
    source = Source()
    source.fail = ValueError("a bug, not an outage")
    cache = make_cache(Clock())

    for _ in range(2):
        with pytest.raises(ValueError):
            await cache.get("a", source)
    assert source.calls == 2


@pytest.mark.anyio
async def test_callers_that_arrive_together_share_one_fetch() -> None:
    source = Source()
    cache = make_cache(Clock())

    source.release = asyncio.Event()
    waiting = [asyncio.ensure_future(cache.get("a", source)) for _ in range(5)]
    await asyncio.sleep(0)
    source.release.set()

    assert list(await asyncio.gather(*waiting)) == ["value 1"] * 5
    assert source.calls == 1


@pytest.mark.anyio
async def test_a_caller_waits_at_most_wait_seconds_and_the_fetch_is_kept() -> None:
    source = Source()
    cache = make_cache(Clock(), wait_seconds=0.05)

    source.release = asyncio.Event()
    with pytest.raises(Late) as late:
        await cache.get("a", source)
    # The fetch went on without the caller that gave up; when it ends, its value is kept.
    source.release.set()
    await asyncio.sleep(0.01)

    assert (str(late.value), await cache.get("a", source)) == ("a not within 0.05", "value 1")
    assert source.calls == 1


@pytest.mark.anyio
async def test_a_cancelled_caller_does_not_cancel_the_shared_fetch() -> None:
    source = Source()
    cache = make_cache(Clock())

    source.release = asyncio.Event()
    leaving = asyncio.ensure_future(cache.get("a", source))
    staying = asyncio.ensure_future(cache.get("a", source))
    await asyncio.sleep(0)
    leaving.cancel()  # e.g. the browser closed the page
    await asyncio.sleep(0)
    source.release.set()

    assert await staying == "value 1"
    assert source.calls == 1


@pytest.mark.anyio
async def test_clear_forgets_values_failures_and_the_fetch_under_way() -> None:
    source = Source()
    cache = make_cache(Clock())

    results = [await cache.get("a", source)]
    cache.clear()
    source.release = asyncio.Event()
    stale = asyncio.ensure_future(cache.get("a", source))  # fetch 2, under way at the next clear()
    await asyncio.sleep(0)
    cache.clear()
    source.release.set()
    results.append(await stale)
    source.release = None
    # Fetch 2 ended after clear(): its value may be stale and is not kept, so this asks again.
    results.append(await cache.get("a", source))
    results.append(await cache.get("a", source))

    assert results == ["value 1", "value 2", "value 3", "value 3"]


def run_on_a_loop_of_its_own(hang: Callable[[], Awaitable[None]]) -> threading.Thread:
    """Run ``hang`` on a second event loop, in a thread of its own (the test's loop is the first)."""
    thread = threading.Thread(target=anyio.run, args=(hang,))
    thread.start()
    return thread


@pytest.mark.anyio
async def test_a_fetch_left_behind_by_a_closed_event_loop_is_started_again() -> None:
    # A test client (or anyio portal) runs each request on its own loop; a fetch cannot outlive its loop.
    source = Source()
    cache = make_cache(Clock(), wait_seconds=0.05)

    async def hanging() -> None:
        source.release = asyncio.Event()  # never set: the loop closes with the fetch still waiting
        with pytest.raises(Late):
            await cache.get("a", source)

    # The other loop has closed when its thread ends.
    await anyio.to_thread.run_sync(run_on_a_loop_of_its_own(hanging).join)
    source.release = None
    assert await cache.get("a", source) == "value 2"


@pytest.mark.anyio
async def test_a_fetch_under_way_on_another_running_event_loop_is_not_awaited_here() -> None:
    # Two test clients (two portal threads) may share one app; a task can only be awaited on its own loop.
    cache = make_cache(Clock(), wait_seconds=1.0)
    elsewhere, here = Source(), Source()
    under_way = threading.Event()

    async def hang_elsewhere() -> None:
        elsewhere.release = asyncio.Event()  # never set: this loop's fetch stays under way
        waiting = asyncio.ensure_future(cache.get("a", elsewhere))
        await asyncio.sleep(0.01)
        under_way.set()
        with pytest.raises(Late):
            await waiting

    thread = run_on_a_loop_of_its_own(hang_elsewhere)
    assert await anyio.to_thread.run_sync(under_way.wait, 5)
    assert await cache.get("a", here) == "value 1"
    await anyio.to_thread.run_sync(thread.join)
    assert (elsewhere.calls, here.calls) == (1, 1)
