"""The engine and the schema step shared by every module that stores something.

The tables are declared in ``diagnostics.models``; the database follows them through Alembic revisions
(``diagnostics.migrations``). ``create_schema`` runs those revisions when a worker starts, under a lock
that serialises concurrent starts, after adopting a database that the hand-written steps made before
Alembic (``diagnostics.migrations.legacy``).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

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


def _switch_to_wal(cursor: Any, *, patience_seconds: float = 30.0) -> None:
    """Put a SQLite database in WAL mode, waiting while another worker holds the write lock.

    SQLite answers "database is locked" at once, without its busy handler, when this connection would
    have to upgrade its read lock while another one (say, a worker creating the schema) holds the
    write lock: waiting there could deadlock. So the wait happens here, between attempts.
    """
    deadline = time.monotonic() + patience_seconds
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def make_engine(url: str) -> Engine:
    """SQLite in WAL mode (several workers on one host) or any SQLAlchemy URL (PostgreSQL)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            # busy_timeout first: switching to WAL needs a lock another worker may hold.
            cursor.execute("PRAGMA busy_timeout=30000")
            _switch_to_wal(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


@contextmanager
def _schema_lock(engine: Engine) -> Iterator[Connection]:
    """One connection in one transaction that no other process can enter at the same time."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
            yield connection
        return
    if engine.dialect.name == "sqlite":
        # pysqlite would not open a transaction before DDL; take the write lock ourselves.
        with engine.connect() as raw:
            connection = raw.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.exec_driver_sql("ROLLBACK")
                raise
            connection.exec_driver_sql("COMMIT")
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
