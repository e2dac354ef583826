"""Console sessions in the database: a stolen cookie stops working once its owner logs out."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, select, update

from diagnostics.models import ConsoleSession

MAX_AGE = timedelta(hours=8)


def _now() -> datetime:
    return datetime.now(UTC)


def open_session(engine: Engine, user: str, *, now: datetime | None = None) -> str:
    """A new session for ``user``; returns the nonce the cookie carries."""
    nonce = secrets.token_urlsafe(32)
    with engine.begin() as connection:
        connection.execute(insert(ConsoleSession), [{"nonce": nonce, "user": user, "created_at": now or _now()}])
    return nonce


def is_open(engine: Engine, user: str, nonce: str, *, now: datetime | None = None) -> bool:
    """True while the session exists, belongs to ``user``, is not ended and not older than 8 hours."""
    now = now or _now()
    with engine.connect() as connection:
        found = connection.scalar(
            select(ConsoleSession.nonce).where(
                ConsoleSession.nonce == nonce,
                ConsoleSession.user == user,
                ConsoleSession.ended_at.is_(None),
                ConsoleSession.created_at > now - MAX_AGE,
            )
        )
    return found is not None


def close_session(engine: Engine, nonce: str, *, now: datetime | None = None) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(ConsoleSession)
            .where(ConsoleSession.nonce == nonce, ConsoleSession.ended_at.is_(None))
            .values(ended_at=now or _now())
        )
