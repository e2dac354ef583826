"""The engine and the schema step shared by every module that stores something.

The tables are declared in ``diagnostics.models``; the database follows them through Alembic revisions
(``diagnostics.migrations``). ``create_schema`` runs those revisions when a worker starts, under a lock
that serialises concurrent starts, after adopting a database that the hand-written steps made before
Alembic (``diagnostics.migrations.legacy``).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from alembic import command
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import SingletonThreadPool

from diagnostics import migrations
from diagnostics.migrations import legacy

log = logging.getLogger(__name__)

# An arbitrary constant: the PostgreSQL advisory lock that serialises schema changes.
_PG_LOCK_KEY = 0x1B407E5
# Alembic runs a migration through module-level proxies (``alembic.op``, ``alembic.context``): two threads
# of one process must not migrate at the same time, even on different databases.
_ALEMBIC_IN_PROCESS = threading.Lock()


def _alembic_progress_only(record: logging.LogRecord) -> bool:
    """Keep Alembic's "Running upgrade 0004 -> 0005" lines; drop the lines it writes at every start of every
    worker ("Context impl SQLiteImpl.", "Will assume non-transactional DDL.", which is wrong here anyway:
    the schema lock's transaction holds the DDL)."""
    return record.levelno >= logging.WARNING or record.getMessage().startswith("Running ")


logging.getLogger("alembic.runtime.migration").addFilter(_alembic_progress_only)


def latest_version() -> int:
    """The ``schema_version`` of the newest revision: what ``create_schema`` brings a database to."""
    return migrations.version_number(migrations.head_revision())


def normalise_url(url: str) -> str:
    """``postgresql://`` means the psycopg 3 driver (the one installed)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


# How long a statement waits for another connection's lock before it fails: a page then answers with the
# Dutch 503 (diagnostics.errors) within 5 seconds, instead of a 500 after half a minute.
BUSY_TIMEOUT_SECONDS = 3.0
# How long a request waits for a free connection in the pool, and (PostgreSQL) for the server to accept one.
POOL_TIMEOUT_SECONDS = 3.0
CONNECT_TIMEOUT_SECONDS = 3
# PostgreSQL: the longest a statement may run and a lock may be waited for (milliseconds).
STATEMENT_TIMEOUT_MS = 5000
LOCK_TIMEOUT_MS = 3000
# Schema changes at start wait far longer: another worker may be migrating (``_schema_lock``).
SCHEMA_PATIENCE_SECONDS = 30.0


def _switch_to_wal(cursor: Any, *, patience_seconds: float = SCHEMA_PATIENCE_SECONDS) -> None:
    """Put a SQLite database in WAL mode, waiting while another worker holds the write lock.

    SQLite answers "database is locked" at once, without its busy handler, when this connection would
    have to upgrade its read lock while another one (say, a worker creating the schema) holds the
    write lock: waiting there could deadlock. So the wait happens here, between attempts. A database
    already in WAL mode (every connection after the first) needs no switch and no wait.
    """
    if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return
    deadline = time.monotonic() + patience_seconds
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


FileState = Literal["ok", "unavailable", "replaced"]


class SqliteFile:
    """The database file an engine opened first: a file deleted or swapped under a running service is
    noticed, and no connection writes on into a file that is no longer at its path (or into a new, empty
    one that SQLite would create there), where every session would be lost at the next start."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.identity: tuple[int, int] | None = None
        # Once the file was seen gone, whatever appears at the path later is another file, even when the
        # file system gives it the old inode number (it does, once the last connection let go of it).
        self.lost = False

    def state(self) -> FileState:
        """``ok``; ``unavailable`` when no file is at the path; ``replaced`` when another file is."""
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            self.lost = self.identity is not None
            return "unavailable"
        if self.identity is not None and (self.lost or (found.st_dev, found.st_ino) != self.identity):
            self.lost = True
            return "replaced"
        return "ok"

    def remember(self) -> None:
        if self.identity is None:
            found = os.stat(self.path)
            self.identity = (found.st_dev, found.st_ino)

    def check(self) -> None:
        """Raises OperationalError (the 503 page) once the file that was opened is gone from its path."""
        if self.identity is None:
            return
        state = self.state()
        if state != "ok":
            problem = "deleted" if state == "unavailable" else state
            raise OperationalError(
                "database file check", {}, sqlite3.OperationalError(f"database file {problem}: {self.path.name}")
            )


# The file of each SQLite engine (``sqlite_file``); PostgreSQL engines have none.
_SQLITE_FILES: weakref.WeakKeyDictionary[Engine, SqliteFile] = weakref.WeakKeyDictionary()


def sqlite_file(engine: Engine) -> SqliteFile | None:
    """The file guard of a SQLite engine on a file; None for PostgreSQL and in-memory databases."""
    return _SQLITE_FILES.get(engine)


def _postgres_options(url: str) -> dict[str, Any]:
    """Connect, statement and lock timeouts, unless the URL sets its own ``options``."""
    arguments: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    if "options" not in make_url(url).query:
        arguments["options"] = f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS}"
    return arguments


def make_engine(url: str) -> Engine:
    """SQLite in WAL mode (several workers on one host) or any SQLAlchemy URL (PostgreSQL).

    Every wait is bounded (``BUSY_TIMEOUT_SECONDS``, ``POOL_TIMEOUT_SECONDS``, the PostgreSQL timeouts), so
    a locked or unreachable database is an error within seconds; PostgreSQL connections are pinged before
    use, so a restarted server costs one reconnect, not a failed request.
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, busy_timeout_seconds=BUSY_TIMEOUT_SECONDS, pool_timeout=POOL_TIMEOUT_SECONDS)
    return create_engine(url, **_postgres_engine_options(url))


def make_loop_engine(url: str, *, file_guard: SqliteFile | None = None) -> Engine | AsyncEngine | None:
    """The engine an event loop uses for a store call without a thread (``Store.run``); None: threads only.

    * A SQLite file: an engine that never waits for a lock (busy timeout 0) and holds one connection per
      thread. A call on the loop that finds the database busy fails at once, and ``Store.run`` repeats it
      in a thread, which may wait. A lock held by another worker never stops this worker's loop.
    * PostgreSQL: the same driver (psycopg) in its asyncio mode. The statements wait on the loop without
      holding it, so a slow or hanging server stalls only the requests that need it.
    * A SQLite ``file:`` URI, or any other database: threads only (a URI has no file guard, ``SqliteFile``).

    ``file_guard``: the guard of the store's other engine (``sqlite_file``), so that both hold on to the file
    that was opened first: this engine connects only at the first request, and must not take a file that
    was swapped in meanwhile for the real one.
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        database = make_url(url).database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return _sqlite_engine(url, busy_timeout_seconds=0, guard=file_guard, poolclass=SingletonThreadPool)
    if url.startswith("postgresql+psycopg://"):
        # Many requests of one worker wait on the database at once here (on threads it was at most the
        # thread pool's share), so a larger pool: a connection opened and closed per request costs more
        # than the request. Per worker at most 12 here and 10 in the threads' pool (``_postgres_engine_options``,
        # now for the console, housekeeping and the CLI): 4 workers stay under PostgreSQL's default of 100.
        options = {**_postgres_engine_options(url), "pool_size": 8, "max_overflow": 4, "pool_pre_ping": False}
        engine = create_async_engine(url.replace("postgresql+psycopg://", "postgresql+psycopg_async://", 1), **options)
        _ping_when_idle(engine.sync_engine)
        return engine
    return None


# A pooled connection that was returned this recently is used without a ping first (``_ping_when_idle``).
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled PostgreSQL connection before use only when it has been idle for a while.

    ``pool_pre_ping`` pings before every use; under load that was a second round trip for each statement:
    0.50 -> 0.34 ms of our CPU and 0.09 -> 0.06 ms of PostgreSQL's per ``get_session``. A connection that
    answered less than ``PING_AFTER_IDLE_SECONDS`` ago is used as it is. If the server restarted in that
    second, the statement fails (the Dutch 503), and SQLAlchemy then invalidates the whole pool, so the
    next statements reconnect. A failed ping (an idle connection to a restarted server) is a
    ``DisconnectionError``: the pool drops that connection and takes another, as ``pool_pre_ping`` did.
    """
    dbapi_error = engine.dialect.loaded_dbapi.Error

    @event.listens_for(engine.pool, "connect")
    @event.listens_for(engine.pool, "checkin")
    def _used(_dbapi_connection: Any, record: Any) -> None:
        record.info["used_at"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("used_at", 0.0) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)  # pool_pre_ping's own ping, outside a transaction
        except dbapi_error as exc:
            raise DisconnectionError(f"ping failed: {type(exc).__name__}") from exc


def _postgres_engine_options(url: str) -> dict[str, Any]:
    return {
        "pool_pre_ping": True,
        "pool_size": 5,
        "max_overflow": 5,
        "pool_timeout": POOL_TIMEOUT_SECONDS,
        "connect_args": _postgres_options(url),
    }


def _sqlite_engine(
    url: str, *, busy_timeout_seconds: float, guard: SqliteFile | None = None, **engine_options: Any
) -> Engine:
    database = make_url(url).database
    if guard is None and database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        guard = SqliteFile(Path(database).resolve())
    engine = create_engine(url, connect_args={"timeout": busy_timeout_seconds}, **engine_options)

    @event.listens_for(engine, "do_connect")
    def _before_connect(*_args: Any) -> None:
        # Before SQLite would create a new, empty file where the real one was.
        if guard is not None:
            guard.check()

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        # busy_timeout first: switching to WAL needs a lock another worker may hold.
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_seconds * 1000)}")
        # An engine that never waits (``make_loop_engine``) does not wait for the switch either.
        _switch_to_wal(cursor, patience_seconds=SCHEMA_PATIENCE_SECONDS if busy_timeout_seconds else 0)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        if guard is not None:
            guard.remember()

    @event.listens_for(engine, "checkout")
    def _still_the_same_file(*_args: Any) -> None:
        if guard is not None:
            guard.check()

    if guard is not None:
        _SQLITE_FILES[engine] = guard
    return engine


_BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def is_busy(error: BaseException) -> bool:
    """True when SQLite refused because another connection holds a lock (SQLITE_BUSY or SQLITE_LOCKED)."""
    cause = error.orig if isinstance(error, DBAPIError) else error
    # Our own file check (SqliteFile) raises an OperationalError without a SQLite error code.
    code = getattr(cause, "sqlite_errorcode", None)
    return isinstance(cause, sqlite3.OperationalError) and code is not None and code & 0xFF in _BUSY_CODES


@contextmanager
def _schema_lock(engine: Engine) -> Iterator[Connection]:
    """One connection in one transaction that no other process can enter at the same time."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            # Waiting for another worker's migration, and the migration itself, may take longer than a request.
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
            connection.exec_driver_sql("SET LOCAL lock_timeout = 0")
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
            yield connection
        return
    if engine.dialect.name == "sqlite":
        # pysqlite would not open a transaction before DDL; take the write lock ourselves.
        with engine.connect() as raw:
            connection = raw.execution_options(isolation_level="AUTOCOMMIT")
            # Another worker may be migrating: wait for it longer than a request waits for a lock.
            connection.exec_driver_sql(f"PRAGMA busy_timeout={int(SCHEMA_PATIENCE_SECONDS * 1000)}")
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                try:
                    yield connection
                except BaseException:
                    connection.exec_driver_sql("ROLLBACK")
                    raise
                connection.exec_driver_sql("COMMIT")
            finally:
                connection.exec_driver_sql(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
        return
    with engine.begin() as connection:
        yield connection


def current_version(connection: Connection) -> int | None:
    """The ``schema_version`` of the database's revision, or None for a database Alembic has not touched."""
    revision = migrations.current_revision(connection)
    return None if revision is None else migrations.version_number(revision)


def create_schema(engine: Engine) -> int:
    """Create, adopt or migrate the schema; safe when several workers start at once. Returns the version."""
    with _ALEMBIC_IN_PROCESS, _schema_lock(engine) as connection:
        before = migrations.current_revision(connection)
        legacy.adopt(connection, migrations.script_directory())
        command.upgrade(migrations.alembic_config(connection), "head")
        after = migrations.current_revision(connection)
        if after is None:
            raise RuntimeError("database: no schema revision after the upgrade")
        if after != before:
            log.info("database schema: revision %s, was %s", after, before or "none")
        return migrations.version_number(after)
