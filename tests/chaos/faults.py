"""The faults: each starts real processes, does one thing wrong to them, and says what came of it.

A fault passes when the service behaves as ``expected`` says and loses nothing it had acknowledged.
``make chaos`` prints one row per fault (``tests/chaos/run.py``); ``make test`` runs the same faults as
pytest tests (``tests/chaos/test_chaos.py``).
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from bench.load import Trip, round_trip
from diagnostics.settings import RateLimitConfig, load_settings
from diagnostics.simulator import entities
from diagnostics.simulator.artifacts import new_artifact
from tests.chaos.ars_tls import ars_refuses_without_client_certificate
from tests.chaos.worker_kill import worker_killed_mid_resolve
from tests.chaos.world import (
    PATIENCE_SECONDS,
    FakeBroker,
    HangingBroker,
    Outcome,
    World,
    sqlite_path,
    start,
    timed_get,
    wait_until_ready,
)
from tests.helpers.sqlite_lock import write_locked

SUPPLIER = entities.SUPPLIERS[0].entity_id
# The faults are about the service, not about the per-address limits, which would stop the one test client.
NO_LIMITS = {"rate_limits": {name: 100_000 for name in RateLimitConfig.model_fields if name != "window_seconds"}}
# A page that must come although the database is locked or gone: the bound the issue sets.
DATABASE_BOUND_SECONDS = 5.0
HEALTH_BOUND_SECONDS = 1.0
PARALLEL = 45
T = TypeVar("T")


def _blocking(run: Callable[[], Awaitable[T]]) -> T:
    """Run ``run`` on an event loop of its own and wait for it.

    The faults are plain functions: ``make chaos`` calls them outside pytest, and some of this work runs in a
    thread beside the /healthz probes (``_health_while``). So they start their own loop here; the anyio
    pytest plugin only helps test functions.
    """
    return asyncio.run(run())


@dataclass(frozen=True)
class Fault:
    id: str
    fault: str
    expected: str
    run: Callable[[World], Outcome]
    needs_postgres: bool = False


def _health_while(server_url: str, busy: Callable[[], Any]) -> tuple[list[float | None], Any]:
    """Run ``busy`` in a thread and probe /healthz every 0.25 s meanwhile; (seconds per probe or None, result)."""
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["value"] = busy()
        except Exception as exc:  # reported in the row, not raised in a thread
            result["error"] = exc

    worker = threading.Thread(target=work)
    worker.start()
    probes: list[float | None] = []
    time.sleep(0.3)
    while worker.is_alive() and len(probes) < 40:
        response, seconds = timed_get(f"{server_url}/healthz", HEALTH_BOUND_SECONDS)
        probes.append(seconds if response is not None and response.status_code == 200 else None)
        time.sleep(0.25)
    worker.join(timeout=PATIENCE_SECONDS * 2)
    if "error" in result:
        raise result["error"]
    return probes, result.get("value")


def _parallel_gets(url: str, count: int) -> list[int]:
    async def run() -> list[int]:
        limits = httpx.Limits(max_connections=count)
        async with httpx.AsyncClient(timeout=PATIENCE_SECONDS, limits=limits) as client:
            answers = await asyncio.gather(*(client.get(url) for _ in range(count)), return_exceptions=True)
        return [answer.status_code if isinstance(answer, httpx.Response) else 0 for answer in answers]

    return _blocking(run)


def _health_verdict(probes: list[float | None]) -> tuple[bool, str]:
    answered = [seconds for seconds in probes if seconds is not None]
    worst = max(answered, default=0.0)
    ok = bool(probes) and len(answered) == len(probes)
    return ok, f"healthz {len(answered)}/{len(probes)} under {HEALTH_BOUND_SECONDS:g} s (worst {worst:.2f} s)"


# ── brokers ──


def hanging_broker(world: World) -> Outcome:
    hang = HangingBroker()
    try:
        brokers = [
            {"id": "simulator", "name": "Simulator", "embedded": True, "soap_content_type": "text/xml"},
            {"id": "hangt", "name": "Hangende makelaar", "metadata_url": f"{hang.url}/metadata"},
        ]
        config = world.config({**NO_LIMITS, "brokers": brokers})
        server = world.serve(config, workers=2)
        probes, codes = _health_while(server.url, lambda: _parallel_gets(f"{server.url}/diagnose", PARALLEL))
        healthy, health = _health_verdict(probes)
        ready, ready_seconds = timed_get(f"{server.url}/readyz", 5)
        ready_ok = ready is not None and ready.json()["checks"].get("broker:hangt", "").startswith("unavailable")
        pages = sum(code == 200 for code in codes)
        got = f"{health}; /diagnose {pages}/{PARALLEL} 200; readyz {ready_seconds:.1f} s"
        return Outcome(healthy and pages == PARALLEL and ready_ok and ready_seconds < 3, got)
    finally:
        world.stop()
        hang.close()


def _fake_broker_trip(world: World, *, delay: float, ars_status: int, scenario: str) -> tuple[str, str, float]:
    """One login through a fake broker on another port; (diagnosis or ok, verdict, seconds from start to verdict)."""
    fake = FakeBroker(delay=delay, ars_status=ars_status)
    try:
        brokers = [
            {"id": "simulator", "name": "Simulator", "embedded": True, "soap_content_type": "text/xml"},
            fake.config(),
        ]
        config = world.config({**NO_LIMITS, "brokers": brokers})
        fake.use(load_settings(config))
        server = world.serve(config)
        settings = world.settings_of(config, server)
        with httpx.Client(base_url=server.url, timeout=PATIENCE_SECONDS) as client:
            started_at = time.monotonic()
            started = start(client, "nep", SUPPLIER)
            fake.answer_with(settings, scenario, started.request_id)
            artifact, _ = new_artifact()
            back = client.get("/saml/acs", params={"SAMLart": artifact, "RelayState": f"/diagnose/{started.reference}"})
            if back.status_code != 303:
                return f"ACS HTTP {back.status_code}", "?", time.monotonic() - started_at
            verdict = client.get(f"/api/v1/diagnose/{started.reference}").json()
            seconds = time.monotonic() - started_at
        return (verdict["diagnosis"] or {}).get("id") or verdict["verdict"], verdict["verdict"], seconds
    finally:
        world.stop()
        fake.close()


def broker_500(world: World) -> Outcome:
    diagnosis, verdict, seconds = _fake_broker_trip(world, delay=0.0, ars_status=500, scenario="success-loa2plus")
    passed = diagnosis == "broker-error" and verdict == "failed"
    return Outcome(passed, f"verdict {verdict}, {diagnosis}, in {seconds:.1f} s; session kept")


def slow_broker(world: World) -> Outcome:
    delay = 1.5
    diagnosis, verdict, seconds = _fake_broker_trip(world, delay=delay, ars_status=200, scenario="success-loa2plus")
    passed = verdict == "ok"
    return Outcome(passed, f"every answer {delay:g} s late: verdict {diagnosis} in {seconds:.1f} s")


# ── SQLite ──


def _one_trip(url: str) -> Trip:
    async def run() -> Trip:
        async with httpx.AsyncClient(timeout=PATIENCE_SECONDS) as client:
            return await round_trip(client, url, scenario="success-loa3")

    return _blocking(run)


def locked_sqlite(world: World) -> Outcome:
    config = world.config(NO_LIMITS)
    server = world.serve(config)
    try:
        before = _one_trip(server.url)
        with write_locked(sqlite_path(config)):
            started = time.monotonic()
            try:
                page = httpx.post(
                    f"{server.url}/diagnose/start",
                    data={"broker": "simulator", "supplier": SUPPLIER},
                    headers={"Accept": "text/html"},
                    timeout=DATABASE_BOUND_SECONDS,
                )
            except httpx.TimeoutException:
                page = None
            page_seconds = time.monotonic() - started
            ready, ready_seconds = timed_get(f"{server.url}/readyz", 3)
            health, _ = timed_get(f"{server.url}/healthz", HEALTH_BOUND_SECONDS)
        dutch = page is not None and page.status_code == 503 and "kan nu niet bij zijn gegevens" in page.text
        locked = ready is not None and ready.json()["checks"]["database"] == "locked"
        resumed = wait_until_ready(server.url, 15)
        after = _one_trip(server.url)
        kept = before.reference is not None and _verdict(server.url, before.reference) == before.verdict == "ok"
        got = (
            f"start {page.status_code if page else 'no answer'} Dutch page in {page_seconds:.1f} s; "
            f"readyz {ready.json()['checks']['database'] if ready else 'no answer'} in {ready_seconds:.1f} s; "
            f"after: trip {after.verdict or after.error}, earlier session {'kept' if kept else 'LOST'}"
        )
        passed = (
            dutch
            and page_seconds < DATABASE_BOUND_SECONDS
            and locked
            and health is not None
            and resumed
            and after.verdict == "ok"
            and kept
        )
        return Outcome(passed, got)
    finally:
        world.stop()


def _verdict(url: str, reference: str) -> str | None:
    response = httpx.get(f"{url}/api/v1/diagnose/{reference}", timeout=PATIENCE_SECONDS)
    return str(response.json()["verdict"]) if response.status_code == 200 else None


def deleted_sqlite(world: World) -> Outcome:
    config = world.config(NO_LIMITS)
    server = world.serve(config)
    path = sqlite_path(config)
    try:
        before = _one_trip(server.url)
        path.unlink()
        ready, ready_seconds = timed_get(f"{server.url}/readyz", 3)
        started = time.monotonic()
        write = httpx.post(
            f"{server.url}/diagnose/start",
            data={"broker": "simulator", "supplier": SUPPLIER},
            headers={"Accept": "text/html"},
            timeout=DATABASE_BOUND_SECONDS,
        )
        write_seconds = time.monotonic() - started
        state = ready.json()["checks"]["database"] if ready is not None else "no answer"
        # Nothing was acknowledged after the file went, and no new, empty database took its place.
        refused = write.status_code == 503 and not path.exists()
        got = (
            f"readyz {state} in {ready_seconds:.1f} s; start {write.status_code} in {write_seconds:.1f} s; "
            f"no empty file made: {not path.exists()}; before: trip {before.verdict or before.error}"
        )
        passed = before.verdict == "ok" and state in {"unavailable", "replaced"} and refused
        return Outcome(passed, got)
    finally:
        world.stop()


# ── PostgreSQL ──


def postgres_restart(world: World) -> Outcome:
    from tests.pg import PostgresCluster, fresh_database

    cluster = PostgresCluster(Path(tempfile.mkdtemp(prefix="inloghulp-chaos-pg-"))).start()
    try:
        database = fresh_database(cluster.url)
        config = world.config({**NO_LIMITS, "database_url": database})
        server = world.serve(config, workers=2)
        trips, stored_before, restarted = _trips_across_a_restart(server.url, cluster, database)
        resumed = wait_until_ready(server.url, 30)
        after = [_one_trip(server.url) for _ in range(3)]
        stored_after = _references(database)
        # Nothing committed before the restart is gone, and every verdict a browser saw is the one stored.
        lost = sorted(stored_before - stored_after)
        changed = [
            trip.reference
            for trip in trips
            if trip.verdict and _verdict(server.url, trip.reference or "") != trip.verdict
        ]
        cut = Counter(_answer_of(trip.error) for trip in trips if trip.error)
        how = ", ".join(f"{count}× {answer}" for answer, count in sorted(cut.items()))
        got = (
            f"{len(trips)} trips, 2 workers; restart at {restarted:.1f} s with {len(stored_before)} sessions stored; "
            f"cut off by it: {sum(cut.values())} ({how or 'none'}); lost {len(lost)}, changed {len(changed)}; "
            f"after: {sum(trip.verdict == 'ok' for trip in after)}/3 ok"
        )
        # A trip cut off by the restart gets the Dutch 503, never a 500.
        clean = all(answer != "HTTP 500" for answer in cut)
        passed = not lost and not changed and clean and resumed and all(trip.verdict == "ok" for trip in after)
        errors = sorted({trip.error for trip in trips if trip.error})[:3]
        return Outcome(passed, got, "" if passed else f"lost {lost} changed {changed} errors {errors}")
    finally:
        world.stop()
        cluster.stop()


def _answer_of(error: str) -> str:
    """What a cut-off trip got: "HTTP 503" from the service, or the client's error type."""
    found = re.search(r"(?:HTTP |error ')(\d{3})\b", error)
    return f"HTTP {found[1]}" if found else error.split(":")[1].strip() if ":" in error else error


def _references(database_url: str) -> set[str]:
    """Every session reference in the database, read directly (not through the service)."""
    from sqlalchemy import select

    from diagnostics.db import make_engine
    from diagnostics.models import SessionRow

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return {str(reference) for reference in connection.scalars(select(SessionRow.reference))}
    finally:
        engine.dispose()


def _trips_across_a_restart(
    url: str, cluster: Any, database_url: str, trips: int = 24, concurrency: int = 6
) -> tuple[list[Trip], set[str], float]:
    """``trips`` round trips, ``concurrency`` at a time; PostgreSQL restarts once a third of them are done.

    Returns the trips, the sessions stored just before the restart, and when it came (seconds from the start).
    """
    started = time.monotonic()
    found: dict[str, Any] = {"before": set(), "at": -1.0}

    async def run() -> list[Trip]:
        gate = asyncio.Semaphore(concurrency)
        done = 0

        async def one() -> Trip:
            nonlocal done
            # A browser each: one cookie jar per test, as real users have.
            async with gate, httpx.AsyncClient(timeout=PATIENCE_SECONDS) as client:
                trip = await round_trip(client, url, scenario="success-loa3")
            done += 1
            if done == trips // 3:
                found["before"] = await asyncio.to_thread(_references, database_url)
                found["at"] = time.monotonic() - started
                await asyncio.to_thread(cluster.restart)
            return trip

        return list(await asyncio.gather(*(one() for _ in range(trips))))

    result = _blocking(run)
    return result, found["before"], found["at"]


FAULTS: tuple[Fault, ...] = (
    Fault(
        "hanging-broker",
        f"2nd broker accepts, never answers; {PARALLEL} parallel /diagnose",
        f"/healthz < {HEALTH_BOUND_SECONDS:g} s throughout; every page answers",
        hanging_broker,
    ),
    Fault("broker-500", "ARS answers HTTP 500", "verdict broker-error, session finished", broker_500),
    Fault("slow-broker", "every broker answer 1.5 s late", "verdict ok", slow_broker),
    Fault(
        "sqlite-locked",
        "BEGIN EXCLUSIVE held by another connection",
        f"Dutch 503 < {DATABASE_BOUND_SECONDS:g} s, readyz locked, resumes",
        locked_sqlite,
    ),
    Fault(
        "sqlite-deleted",
        "database file deleted while serving",
        "readyz unavailable/replaced, writes refused (503)",
        deleted_sqlite,
    ),
    Fault(
        "ars-tls-refused",
        "the broker's ARS demands a client certificate we do not have",
        "artifact-resolve-failed with the reason in words; service keeps serving",
        ars_refuses_without_client_certificate,
    ),
    Fault(
        "worker-killed",
        "SIGKILL of the worker inside a hanging resolve, then a restart",
        "the test ends as interrupted, never no-response",
        worker_killed_mid_resolve,
    ),
    Fault(
        "postgres-restart",
        "PostgreSQL restarts during concurrent round trips",
        "no session lost, service resumes",
        postgres_restart,
        needs_postgres=True,
    ),
)


def run_fault(fault: Fault, directory: Path) -> Outcome:
    """Run one fault in its own world; an exception is a failed row, not a crash of the suite."""
    world = World.make(directory)
    try:
        return fault.run(world)
    except Exception as exc:
        return Outcome(False, "error", f"{type(exc).__name__}: {exc}"[:300])
    finally:
        world.stop()
