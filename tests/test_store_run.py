"""``Store.run``: a blocking store operation run from async code, without a thread hop where the database allows.

* SQLite file: on the event loop, with a connection that never waits for a lock; a busy database makes the
  operation run once more in a thread, which waits as before.
* PostgreSQL: on the loop, with psycopg's asyncio mode (the statements are awaited in a greenlet).
* A SQLite database without a loop engine: in a thread.

The thread an operation ran on is compared with the loop's; "the loop keeps running" is a coroutine that
counts its 10 ms sleeps while the operation waits for a lock that another task releases after 0.5 s.
"""

from __future__ import annotations

import gc
import os
import sqlite3
import threading
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import anyio
import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from diagnostics import db
from diagnostics.db import is_busy
from diagnostics.store import DiagSession, Store
from tests.helpers.sqlite_lock import write_locked

T = TypeVar("T")

# The root conftest's ``store_url`` narrowed to one backend.
SQLITE = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
POSTGRES = pytest.mark.parametrize("store_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
# Who else holds the lock lets go after this long; the operation waiting for it may wait 3 s.
RELEASE_AFTER_SECONDS = 0.5
# A loop that keeps running counts about 50 sleeps of 10 ms while the lock is held; a blocked loop counts none.
MIN_TICKS = 10


@pytest.fixture
async def store(store_url: str, open_store: Callable[[str], Store]) -> AsyncIterator[Store]:
    """The store under test, closed on the loop that used it: PostgreSQL's async pool belongs to that loop."""
    opened = open_store(store_url)
    yield opened
    await opened.aclose()


def _start(store: Store, request_id: str) -> DiagSession:
    return store.create_session(broker_id="simulator", supplier_id=None, request_id=request_id)


def _sqlite_path(store: Store) -> Path:
    return Path(str(make_url(store.url).database))


def _how_it_waits(store: Store) -> object:
    """What tells the two engines apart on a connection of ``store.engine``: SQLite's busy timeout (ms), or
    PostgreSQL's driver connection (psycopg's ``AsyncConnection`` on the loop, ``Connection`` in a thread)."""
    with store.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            return connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        return type(connection.connection.driver_connection).__name__


# Per backend: how a connection waits inside ``Store.run`` (the loop engine), and outside it (the shared pool).
LOOP_AND_SHARED = {"sqlite": (0, 3000), "postgresql": ("AsyncConnection", "Connection")}


def _counted(operation: Callable[[], T]) -> tuple[Callable[[], T], list[int]]:
    """``operation``, and the list of threads it ran on: one entry per attempt."""
    threads: list[int] = []

    def _run() -> T:
        threads.append(threading.get_ident())
        return operation()

    return _run, threads


async def _while_locked(lock: ExitStack, waiting: Awaitable[T]) -> tuple[T, int | None]:
    """The result of ``waiting``, and how often another coroutine on this loop woke up (every 10 ms) while the
    lock was held; a third coroutine releases it (closes ``lock``) after ``RELEASE_AFTER_SECONDS``."""
    ticks = 0
    ticks_while_locked: int | None = None

    async def _tick() -> None:
        nonlocal ticks
        while True:
            await anyio.sleep(0.01)
            ticks += 1

    async def _release() -> None:
        nonlocal ticks_while_locked
        await anyio.sleep(RELEASE_AFTER_SECONDS)
        ticks_while_locked = ticks
        lock.close()

    async with anyio.create_task_group() as group:
        group.start_soon(_tick)
        group.start_soon(_release)
        # Both are counting before the operation starts: an operation that blocks the loop blocks them too.
        await anyio.sleep(0)
        result = await waiting
        group.cancel_scope.cancel()
    return result, ticks_while_locked


@pytest.mark.anyio
async def test_an_operation_runs_on_the_loop_with_the_loop_engine(
    store: Store, store_url: str, open_store: Callable[[str], Store]
) -> None:
    def _start_and_look() -> tuple[DiagSession, int, object]:
        return _start(store, "_on_loop"), threading.get_ident(), _how_it_waits(store)

    session, thread, inside = await store.run(_start_and_look)
    assert thread == threading.get_ident()  # no thread hop
    assert (inside, _how_it_waits(store)) == LOOP_AND_SHARED[store.engine.dialect.name]
    # Written for real: another store on the database reads it.
    assert open_store(store_url).get_session(session.reference) == session


@SQLITE
@pytest.mark.anyio
async def test_sqlite_a_write_that_finds_the_database_locked_waits_in_a_thread(
    store: Store, store_url: str, open_store: Callable[[str], Store]
) -> None:
    start, threads = _counted(lambda: _start(store, "_locked"))
    with ExitStack() as lock:
        lock.enter_context(write_locked(_sqlite_path(store)))  # another worker is writing
        session, ticks = await _while_locked(lock, store.run(start))
    # Busy at once on the loop, then once more in a thread, which waited for the lock without stopping the loop.
    assert len(threads) == 2 and threads[0] == threading.get_ident() != threads[1]
    assert ticks is not None and ticks >= MIN_TICKS
    assert open_store(store_url).get_session(session.reference) == session


@SQLITE
@pytest.mark.anyio
async def test_sqlite_a_lock_held_past_the_busy_timeout_is_the_usual_error(
    store_url: str, open_store: Callable[[str], Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_SECONDS", 0.2)  # the thread gives up sooner than after 3 s
    store = open_store(store_url)
    start, threads = _counted(lambda: _start(store, "_too_long"))
    with write_locked(_sqlite_path(store)), pytest.raises(OperationalError) as caught:
        await store.run(start)
    # The error the 503 page is made from: a busy database, after the thread waited too.
    assert is_busy(caught.value)
    assert len(threads) == 2 and threads[0] == threading.get_ident() != threads[1]
    assert open_store(store_url).recent_sessions() == []  # neither attempt left anything behind


@SQLITE
@pytest.mark.anyio
async def test_sqlite_a_deleted_database_file_is_an_error_without_a_retry(store: Store) -> None:
    await store.run(store.get_session, "BHP-2222-2222")  # the loop engine has opened the file
    _sqlite_path(store).unlink()
    look, threads = _counted(lambda: store.get_session("BHP-2222-2222"))
    with pytest.raises(OperationalError, match="database file deleted") as caught:
        await store.run(look)
    # Not busy: waiting in a thread would not bring the file back.
    assert not is_busy(caught.value)
    assert threads == [threading.get_ident()]


@SQLITE
@pytest.mark.anyio
async def test_sqlite_a_file_swapped_in_before_the_loop_engine_connects_is_refused(store: Store) -> None:
    """The loop engine opens the file only at the first request. By then it must hold on to the file the store
    opened at start, not take one that was put at the path meanwhile (and write sessions into it)."""
    path = _sqlite_path(store)
    other = path.with_name("other.sqlite3")
    sqlite3.connect(other).close()
    os.replace(other, path)  # the store's own engine opened the original at start (the migration)
    with pytest.raises(OperationalError, match="database file replaced"):
        await store.run(store.get_session, "BHP-3333-3333")


@POSTGRES
@pytest.mark.anyio
async def test_postgresql_a_statement_waiting_for_a_lock_does_not_stop_the_loop(store: Store) -> None:
    session = await store.run(_start, store, "_pg_locked")
    look, threads = _counted(lambda: store.get_session(session.reference))
    with ExitStack() as lock:
        holder = lock.enter_context(psycopg.connect(store.url))
        # Another connection's open transaction: even a read of the table waits until it ends.
        holder.execute("LOCK TABLE diag_sessions IN ACCESS EXCLUSIVE MODE")
        lock.callback(holder.rollback)
        found, ticks = await _while_locked(lock, store.run(look))
    assert found == session
    assert threads == [threading.get_ident()]  # it waited on the loop, in no thread
    assert ticks is not None and ticks >= MIN_TICKS


@pytest.mark.anyio
async def test_a_sqlite_database_without_a_loop_engine_runs_in_a_thread(
    tmp_path: Path, open_store: Callable[[str], Store]
) -> None:
    # A ``file:`` URI (SQLite's own syntax, which may also name a shared in-memory database): no loop engine.
    url = f"sqlite:///file:{tmp_path / 'store.sqlite3'}?uri=true"
    store = open_store(url)
    start, threads = _counted(lambda: _start(store, "_thread"))
    session = await store.run(start)
    assert len(threads) == 1 and threads[0] != threading.get_ident()
    assert open_store(url).get_session(session.reference) == session


def _connections(url: str) -> int:
    """Connections to the database of ``url``, other than the one asking."""
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    return int(row[0]) if row is not None else 0


async def _until(condition: Callable[[], Any], seconds: float = 5.0) -> bool:
    """Whether ``condition`` became true within ``seconds`` (the server notices a closed connection late)."""
    with anyio.move_on_after(seconds):
        while not condition():
            await anyio.sleep(0.05)
        return True
    return False


@POSTGRES
@pytest.mark.anyio
async def test_aclose_closes_the_postgresql_connections_of_both_pools(store: Store, store_url: str) -> None:
    session = await store.run(_start, store, "_pg_close")  # a connection of the async pool
    assert store.get_session(session.reference) == session  # and one of the thread pool
    assert _connections(store_url) == 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await store.aclose()
        gc.collect()  # a connection dropped unclosed warns when it is collected
    assert [str(warning.message) for warning in caught if issubclass(warning.category, ResourceWarning)] == []
    assert await _until(lambda: _connections(store_url) == 0)


# ── PostgreSQL restarts: the loop engine pings only connections that were idle ──


@pytest.fixture
def own_cluster() -> Iterator[Any]:
    """A PostgreSQL server of this test's own: it is restarted, which the session's shared one must not be."""
    import tempfile

    from tests.pg import PostgresCluster

    # Not under pytest's tmp_path: the postgres user must reach the directory (tests/pg.py).
    cluster = PostgresCluster(Path(tempfile.mkdtemp(prefix="inloghulp-restart-"))).start()
    yield cluster
    cluster.stop()


async def _restart_with_a_pooled_connection(
    cluster: Any, store: Store, monkeypatch: pytest.MonkeyPatch, *, idle_after_seconds: float
) -> str:
    """A session's reference, read once so that a connection waits in the loop engine's pool; then the
    server restarts. ``idle_after_seconds``: how long unused a pooled connection must be to get a ping."""
    reference = _start(store, "before-restart").reference
    assert await store.run(store.get_session, reference) is not None
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", idle_after_seconds)
    await anyio.to_thread.run_sync(cluster.restart)
    return reference


@pytest.mark.postgres
@pytest.mark.anyio
async def test_an_idle_connection_to_a_restarted_postgresql_is_replaced_before_use(
    own_cluster: Any, open_store: Callable[[str], Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(own_cluster.url)
    reference = await _restart_with_a_pooled_connection(own_cluster, store, monkeypatch, idle_after_seconds=0.0)
    # The ping finds the pooled connection dead; the pool takes a new one, and the read succeeds at once.
    session = await store.run(store.get_session, reference)
    assert session is not None and session.reference == reference
    await store.aclose()


@pytest.mark.postgres
@pytest.mark.anyio
async def test_a_connection_used_just_before_a_restart_fails_once_then_the_pool_reconnects(
    own_cluster: Any, open_store: Callable[[str], Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The price of not pinging busy connections: one statement per stale connection gets the 503 error."""
    store = open_store(own_cluster.url)
    reference = await _restart_with_a_pooled_connection(own_cluster, store, monkeypatch, idle_after_seconds=3600.0)
    with pytest.raises(OperationalError):
        await store.run(store.get_session, reference)
    # That failure invalidated the pool: the next statement connects afresh.
    session = await store.run(store.get_session, reference)
    assert session is not None and session.reference == reference
    await store.aclose()
