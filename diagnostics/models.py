"""Every table of the service, declared once: the SQLAlchemy models on one ``Base``.

The modules that use a table import its model from here (``store`` the sessions, assertion IDs and
artifacts; ``ratelimit`` its counters; ``metadata_watch`` the snapshots; ``servicedesk`` its accounts,
sessions, audit log and feedback). The database follows these models only through Alembic revisions
in ``diagnostics/migrations``: a new table or column here needs a revision too (see that package's
docstring), and ``tests/test_migrations.py`` fails until the two agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, LargeBinary, String
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class Base(DeclarativeBase):
    """Declarative base for every table; ``Base.metadata`` is what Alembic compares the database with."""


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python on every backend (SQLite has no time zones, PostgreSQL does)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# ── diagnostics sessions, replay protection, simulator artifacts (diagnostics.store) ──


class SessionRow(Base):
    __tablename__ = "diag_sessions"
    __table_args__ = (Index("ix_diag_sessions_state_created", "state", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    broker_id: Mapped[str] = mapped_column(String(32))
    supplier_id: Mapped[str | None] = mapped_column(String(255))
    request_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    scenario: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="started")
    verdict: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    diagnosis_id: Mapped[str | None] = mapped_column(String(64))
    no_response_answer: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Set by the one ACS request that evaluates this session's artifact (see ``Store.claim_session``).
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SeenAssertion(Base):
    __tablename__ = "seen_assertions"

    assertion_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class ArtifactRow(Base):
    __tablename__ = "sim_artifacts"

    handle: Mapped[str] = mapped_column(String(128), primary_key=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


# ── rate limits (diagnostics.ratelimit) ──


class RateLimitHit(Base):
    __tablename__ = "rate_limit_hits"

    # "<rule>:<client hash>:<window start>": one row per client, route and window.
    bucket: Mapped[str] = mapped_column(String(128), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


# ── broker metadata watch (diagnostics.metadata_watch) ──


class MetadataSnapshot(Base):
    """One fetched copy of a broker's metadata: what we trusted, and what changed since the previous one."""

    __tablename__ = "broker_metadata"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    broker_id: Mapped[str] = mapped_column(String(32), index=True)
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime)
    xml_sha256: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(1024))
    # fingerprint -> certificate notAfter (ISO 8601)
    signing_certs: Mapped[dict[str, str]] = mapped_column(JSON)
    endpoints: Mapped[dict[str, Any]] = mapped_column(JSON)
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    signature_verified: Mapped[bool] = mapped_column()
    changes: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    # Set for a refused fetch (then the other columns are empty): "<diagnosis>: <message>".
    error: Mapped[str | None] = mapped_column(String(500))


# ── servicedesk: console accounts, login attempts (lockout), sessions, audit log, page feedback ──


class ConsoleUser(Base):
    __tablename__ = "servicedesk_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LoginAttempt(Base):
    """Every console login attempt; the lockout counts recent failures here (shared by all workers)."""

    __tablename__ = "servicedesk_login_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Kept for unknown names too, so a lockout does not reveal which accounts exist.
    name: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    success: Mapped[bool] = mapped_column(Boolean)


class AuditEntry(Base):
    """Who looked at what and when (every lookup, analysis and save)."""

    __tablename__ = "servicedesk_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    user: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str | None] = mapped_column(String(16))


class PageFeedback(Base):
    """One "Was deze pagina nuttig?" answer: the page path and the rating, nothing about the reader."""

    __tablename__ = "page_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    page: Mapped[str] = mapped_column(String(255), index=True)
    rating: Mapped[int] = mapped_column(Integer)


class ConsoleSession(Base):
    """A console login; the signed cookie names it, and logging out ends it for good."""

    __tablename__ = "servicedesk_session"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    user: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# ── outages people can see (diagnostics.outage, diagnostics.notices) ──

# The automatic outage notice counts recent broker-side failures per broker (diagnostics.outage): by finish
# time, and with broker and diagnosis in the index too, the query never reads the sessions table itself.
Index("ix_diag_sessions_finished_broker", SessionRow.finished_at, SessionRow.broker_id, SessionRow.diagnosis_id)


class NoticeRow(Base):
    """An operator's notice about a broker (``inloghulp notice add``), shown until ``until`` or until ended."""

    __tablename__ = "broker_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    broker_id: Mapped[str] = mapped_column(String(32))
    # Checked against the writing rules and limited to 300 characters (diagnostics.notices.MAX_TEXT).
    text: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    until: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
