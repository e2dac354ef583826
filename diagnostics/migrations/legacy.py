"""Before Alembic: the schema the hand-written steps made, frozen, and how a database they made is adopted.

Until Alembic, ``diagnostics/db.py`` created every table with ``create_all``, ran ordered steps 1 to 4 on
an existing database, recorded them in a ``schema_version`` table, and at every start also created any
table that was new since. ``SCHEMA_V4`` is the schema the last of those releases made; the baseline
revision ``0004`` creates exactly these tables.

A database that still has ``schema_version`` is adopted in place, under the schema lock, with its rows:
the steps it missed run first (frozen copies of steps 2 to 4), then any table of ``SCHEMA_V4`` it lacks is
created (what the old start did), it is stamped ``0004``, and ``schema_version`` is dropped. Dropping it
keeps one record of the schema's state: left behind, it would say 4 for ever while Alembic moves on.
Its history is written to the log first.

Never edit this module: the schema changes through new revisions only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    inspect,
    text,
)

from diagnostics.migrations import BASELINE

log = logging.getLogger(__name__)

LEGACY_TABLE = "schema_version"
LAST_LEGACY_VERSION = 4


def _utc() -> DateTime:
    """What ``UtcDateTime`` stores (its conversions happen in Python, not in the DDL)."""
    return DateTime(timezone=True)


SCHEMA_V4 = MetaData()

Table(
    "diag_sessions",
    SCHEMA_V4,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reference", String(16), nullable=False, unique=True),
    Column("created_at", _utc(), nullable=False, index=True),
    Column("broker_id", String(32), nullable=False),
    Column("supplier_id", String(255)),
    Column("request_id", String(128), unique=True),
    Column("scenario", String(64)),
    Column("state", String(16), nullable=False),
    Column("verdict", JSON),
    Column("diagnosis_id", String(64)),
    Column("no_response_answer", String(64)),
    Column("finished_at", _utc()),
    Column("claimed_at", _utc()),
    Index("ix_diag_sessions_state_created", "state", "created_at"),
)
Table(
    "seen_assertions",
    SCHEMA_V4,
    Column("assertion_id", String(255), primary_key=True),
    Column("expires_at", _utc(), nullable=False, index=True),
)
Table(
    "sim_artifacts",
    SCHEMA_V4,
    Column("handle", String(128), primary_key=True),
    Column("payload", LargeBinary, nullable=False),
    Column("expires_at", _utc(), nullable=False),
)
Table(
    "broker_metadata",
    SCHEMA_V4,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("broker_id", String(32), nullable=False, index=True),
    Column("fetched_at", _utc(), nullable=False),
    Column("xml_sha256", String(64), nullable=False),
    Column("entity_id", String(1024), nullable=False),
    Column("signing_certs", JSON, nullable=False),
    Column("endpoints", JSON, nullable=False),
    Column("valid_until", _utc()),
    Column("signature_verified", Boolean, nullable=False),
    Column("changes", JSON, nullable=False),
    Column("error", String(500)),
)
Table(
    "servicedesk_user",
    SCHEMA_V4,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", _utc(), nullable=False),
)
Table(
    "servicedesk_login_attempt",
    SCHEMA_V4,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, index=True),
    Column("at", _utc(), nullable=False, index=True),
    Column("success", Boolean, nullable=False),
)
Table(
    "servicedesk_audit",
    SCHEMA_V4,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", _utc(), nullable=False, index=True),
    Column("user", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("reference", String(16)),
)
Table(
    "page_feedback",
    SCHEMA_V4,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", _utc(), nullable=False, index=True),
    Column("page", String(255), nullable=False, index=True),
    Column("rating", Integer, nullable=False),
)
Table(
    "servicedesk_session",
    SCHEMA_V4,
    Column("nonce", String(64), primary_key=True),
    Column("user", String(64), nullable=False),
    Column("created_at", _utc(), nullable=False, index=True),
    Column("ended_at", _utc()),
)
Table(
    "rate_limit_hits",
    SCHEMA_V4,
    Column("bucket", String(128), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("expires_at", _utc(), nullable=False, index=True),
)


# ── the hand-written steps after version 1, as they shipped ──


def _recreate_broker_metadata(connection: Connection) -> None:
    """Step 2: the first snapshot table lacked columns; snapshots are re-fetchable, so start it afresh."""
    table = SCHEMA_V4.tables["broker_metadata"]
    table.drop(connection, checkfirst=True)
    table.create(connection)


def _add_column(connection: Connection, table: str, column: str, ddl_type: str) -> None:
    """ALTER TABLE … ADD COLUMN, unless an earlier step already (re)created the table with it."""
    if column not in {info["name"] for info in inspect(connection).get_columns(table)}:
        connection.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {ddl_type}")


_STEPS: dict[int, Callable[[Connection], None]] = {
    2: _recreate_broker_metadata,
    3: lambda connection: _add_column(connection, "broker_metadata", "error", "VARCHAR(500)"),
    4: lambda connection: _add_column(connection, "diag_sessions", "claimed_at", "TIMESTAMP WITH TIME ZONE"),
}


def adopt(connection: Connection, script: ScriptDirectory) -> bool:
    """Bring a database made by the hand-written steps to revision ``0004``; call it under the schema lock.

    Returns whether ``schema_version`` was found (and is now gone). Refuses (RuntimeError) a
    ``schema_version`` this code does not know: an empty one, or a version above 4.
    """
    if not connection.dialect.has_table(connection, LEGACY_TABLE):
        return False
    context = MigrationContext.configure(connection)
    if context.get_current_revision() is not None:
        # An older release was started again on a database Alembic already manages: it wrote a fresh
        # schema_version and created no table that is not already here. Alembic's record stands.
        log.warning("database: dropping schema_version that an older release wrote after the move to Alembic")
    else:
        history = connection.execute(
            text(f"SELECT version, description, applied_at FROM {LEGACY_TABLE} ORDER BY version")
        ).all()
        version = max((int(row.version) for row in history), default=None)
        if version is None or version > LAST_LEGACY_VERSION:
            raise RuntimeError(
                f"database: {LEGACY_TABLE} says version {version}; only versions 1 to {LAST_LEGACY_VERSION} "
                "of the hand-written schema can be adopted, so the schema is left untouched"
            )
        for step_version, step in sorted(_STEPS.items()):
            if step_version > version:
                step(connection)
        SCHEMA_V4.create_all(connection)
        context.stamp(script, BASELINE)
        log.info(
            "database: hand-written schema version %d adopted as Alembic revision %s; its history was %s",
            version,
            BASELINE,
            "; ".join(f"{row.version} {row.description} ({row.applied_at})" for row in history),
        )
    connection.exec_driver_sql(f"DROP TABLE {LEGACY_TABLE}")
    return True
