"""Console accounts: argon2 password hashes and a lockout kept in the database.

After ``MAX_FAILURES`` wrong passwords within ``LOCKOUT`` a name is locked for ``LOCKOUT``, for every
worker alike. Unknown names are counted the same way, so the answers never reveal which accounts exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from diagnostics.models import ConsoleUser, LoginAttempt

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 12
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")

_hasher = PasswordHasher()
# Verified against when the name is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-only-for-timing")

Outcome = Literal["ok", "wrong", "locked"]


class AccountError(ValueError):
    """A name or password that cannot be used, with a Dutch message."""


@dataclass(frozen=True)
class LoginResult:
    outcome: Outcome
    name: str
    locked_until: datetime | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def normalise_name(name: str) -> str:
    return name.strip().lower()


def create_user(engine: Engine, name: str, password: str, *, now: datetime | None = None) -> None:
    """Add a console account; raises AccountError for a taken name or a weak password."""
    name = normalise_name(name)
    if not NAME_RE.fullmatch(name):
        raise AccountError("Gebruik 2 tot 64 tekens: kleine letters, cijfers, punt, streepje of liggend streepje.")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Kies een wachtwoord van minstens {MIN_PASSWORD} tekens.")
    row = {"name": name, "password_hash": _hasher.hash(password), "created_at": now or _now()}
    try:
        with engine.begin() as connection:
            connection.execute(insert(ConsoleUser), [row])
    except IntegrityError:
        raise AccountError(f"Er is al een account met de naam {name}.") from None


def user_exists(engine: Engine, name: str) -> bool:
    with engine.connect() as connection:
        found = connection.scalar(select(ConsoleUser.id).where(ConsoleUser.name == normalise_name(name)))
    return found is not None


def locked_until(engine: Engine, name: str, now: datetime | None = None) -> datetime | None:
    """When the lock on ``name`` ends, or None: 5 failures since the last success within 15 minutes."""
    now = now or _now()
    name = normalise_name(name)
    with engine.connect() as connection:
        last_success = connection.scalar(
            select(func.max(LoginAttempt.at)).where(LoginAttempt.name == name, LoginAttempt.success.is_(True))
        )
        since = now - LOCKOUT
        if last_success is not None and last_success > since:
            since = last_success
        failures = list(
            connection.scalars(
                select(LoginAttempt.at)
                .where(LoginAttempt.name == name, LoginAttempt.success.is_(False), LoginAttempt.at > since)
                .order_by(LoginAttempt.at.desc())
                .limit(MAX_FAILURES)
            )
        )
    if len(failures) < MAX_FAILURES:
        return None
    return failures[0] + LOCKOUT


def _record(engine: Engine, name: str, success: bool, now: datetime) -> None:
    with engine.begin() as connection:
        connection.execute(insert(LoginAttempt), [{"name": name[:64], "at": now, "success": success}])


def authenticate(engine: Engine, name: str, password: str, *, now: datetime | None = None) -> LoginResult:
    """Check a name and password; every attempt is recorded, a locked name is refused unchecked."""
    now = now or _now()
    name = normalise_name(name)[:64]
    until = locked_until(engine, name, now)
    if until is not None:
        return LoginResult("locked", name, until)
    with engine.connect() as connection:
        stored = connection.scalar(select(ConsoleUser.password_hash).where(ConsoleUser.name == name))
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
        valid = stored is not None
    except (VerificationError, InvalidHashError):
        valid = False
    _record(engine, name, valid, now)
    if not valid:
        until = locked_until(engine, name, now)
        return LoginResult("locked", name, until) if until is not None else LoginResult("wrong", name)
    if stored is not None and _hasher.check_needs_rehash(stored):
        with engine.begin() as connection:
            connection.execute(
                update(ConsoleUser).where(ConsoleUser.name == name).values(password_hash=_hasher.hash(password))
            )
    return LoginResult("ok", name)
