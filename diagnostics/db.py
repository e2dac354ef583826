"""The engine and schema step shared by every module that stores something.

Every table is declared in ``diagnostics.models``. Schema handling is deliberately small: ``create_schema``
imports that module, then, under a lock that serialises concurrent worker start-up, either creates
everything on an empty database or runs the pending ``MIGRATIONS`` on an existing one, and finally
creates any table that is new since. ``schema_version`` records the highest applied step.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Integer, String, create_engine, event, insert, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Mapped, mapped_column

from diagnostics.models import Base, UtcDateTime

log = logging.getLogger(__name__)

# An arbitrary constant: the PostgreSQL advisory lock that serialises schema changes.
_PG_LOCK_KEY = 0x1B407E5


class SchemaVersion(Base):
    __tablename__ = "schema_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(200))
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime)


@dataclass(frozen=True)
class Migration:
    """One ordered step that changes an existing table (new tables need no step: they are created)."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _baseline(_connection: Connection) -> None:
    """Version 1 is whatever ``create_all`` made; nothing to change."""


def _recreate_broker_metadata(connection: Connection) -> None:
    """The first snapshot table lacked columns; snapshots are re-fetchable, so start it afresh."""
    table = Base.metadata.tables["broker_metadata"]
    table.drop(connection, checkfirst=True)
    table.create(connection)


def _add_column(connection: Connection, table: str, column: str, ddl_type: str) -> None:
    """ALTER TABLE … ADD COLUMN, unless an earlier step already (re)created the table with it."""
    if column not in {info["name"] for info in inspect(connection).get_columns(table)}:
        connection.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {ddl_type}")


def _broker_metadata_error(connection: Connection) -> None:
    """Refused metadata fetches are recorded."""
    _add_column(connection, "broker_metadata", "error", "VARCHAR(500)")


def _session_claimed_at(connection: Connection) -> None:
    """One ACS request per session evaluates the artifact (``Store.claim_session``)."""
    _add_column(connection, "diag_sessions", "claimed_at", "TIMESTAMP WITH TIME ZONE")


# Append steps with the next version number; never edit or remove a step that has shipped.
MIGRATIONS: list[Migration] = [
    Migration(1, "baseline: sessions, seen assertions, simulator artifacts, broker metadata", _baseline),
    Migration(2, "broker_metadata: entity id, certificate expiry, signature flag", _recreate_broker_metadata),
    Migration(3, "broker_metadata: refused fetches", _broker_metadata_error),
    Migration(4, "diag_sessions: claimed_at", _session_claimed_at),
]


def latest_version() -> int:
    return max(step.version for step in MIGRATIONS)


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
    """The highest applied step, or None for a database without our schema."""
    if not connection.dialect.has_table(connection, SchemaVersion.__tablename__):
        return None
    version = connection.scalar(select(SchemaVersion.version).order_by(SchemaVersion.version.desc()).limit(1))
    return int(version) if version is not None else None


def create_schema(engine: Engine) -> int:
    """Create or migrate the schema; safe when several workers start at once. Returns the version."""
    with _schema_lock(engine) as connection:
        version = current_version(connection)
        now = datetime.now(UTC)
        if version is None:
            Base.metadata.create_all(connection)
            connection.execute(
                insert(SchemaVersion),
                [{"version": latest_version(), "description": "created", "applied_at": now}],
            )
            log.info("database schema created at version %d", latest_version())
            return latest_version()
        for step in sorted(MIGRATIONS, key=lambda m: m.version):
            if step.version > version:
                log.info("database migration %d: %s", step.version, step.description)
                step.apply(connection)
                connection.execute(
                    insert(SchemaVersion),
                    [{"version": step.version, "description": step.description, "applied_at": now}],
                )
                version = step.version
        # Tables added by a module since the last start need no migration step.
        Base.metadata.create_all(connection)
        return version
