"""Console accounts: argon2 password hashes and a lockout that holds, kept in the database.

The lockout limits password *checks*, and takes its budget before the password is checked, in one
atomic database step (``UPDATE … SET count = count + 1 WHERE count < limit RETURNING``): 30 guesses
sent at once to any number of workers get at most ``MAX_FAILURES`` checks, never "all checked, then
counted". Budgets are fixed windows of ``LOCKOUT`` in the shared counter table ``rate_limit_hits``
(rows ``lockout:…``; client addresses only as the rate limiter's keyed hash):

- per account and address: ``MAX_FAILURES`` checks. A guesser at one address locks only that address.
- per account, shared by every address without a recent successful login: ``ACCOUNT_BUDGET`` checks.
  Guessing from many addresses slows the account down, but the owner's own address, where they logged
  in within ``KNOWN_FOR``, never draws from it: nobody elsewhere can lock the owner out.

A successful login empties its address's budget and marks the address as known. Unknown names are
counted the same way, so the answers never reveal which accounts exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from diagnostics.models import ConsoleUser, LoginAttempt, RateLimitHit

# Password checks per account and address per window.
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
# Password checks per account per window from all addresses without a recent success together.
ACCOUNT_BUDGET = 10
# How long an address where the account logged in keeps its own budget.
KNOWN_FOR = timedelta(days=30)
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


def _window(now: datetime) -> tuple[int, datetime]:
    """The fixed window ``now`` falls in: its start (epoch seconds) and its end."""
    size = int(LOCKOUT.total_seconds())
    start = int(now.timestamp()) // size * size
    return start, datetime.fromtimestamp(start + size, UTC)


def _address_bucket(name: str, client: str, start: int) -> str:
    return f"lockout:addr:{name}:{client}:{start}"


def _account_bucket(name: str, start: int) -> str:
    return f"lockout:acct:{name}:{start}"


def _known_bucket(name: str, client: str) -> str:
    return f"lockout:known:{name}:{client}"


def _is_known(connection: Connection, name: str, client: str, now: datetime) -> bool:
    """True when ``name`` logged in from ``client`` within ``KNOWN_FOR``."""
    found = connection.scalar(
        select(RateLimitHit.bucket).where(
            RateLimitHit.bucket == _known_bucket(name, client), RateLimitHit.expires_at > now
        )
    )
    return found is not None


def _upsert(connection: Connection, bucket: str, expires: datetime) -> postgresql.Insert | sqlite.Insert:
    """``INSERT`` of a zero count for ``bucket``, in the dialect that knows ``ON CONFLICT``."""
    values = {"bucket": bucket, "count": 0, "expires_at": expires}
    if connection.dialect.name == "postgresql":
        return postgresql.insert(RateLimitHit).values(values)
    return sqlite.insert(RateLimitHit).values(values)


class _NoBudget(Exception):
    """Leaves the budget transaction, rolled back."""


def _take(connection: Connection, bucket: str, limit: int, expires: datetime) -> bool:
    """Take one unit of ``bucket``'s budget; False when none is left. Atomic on SQLite and PostgreSQL.

    The row is made first (a no-op when it exists); the conditional update then takes the row lock (or
    SQLite's write lock) and counts only while the count is below the limit, so concurrent callers on
    any worker can never both take the last unit.
    """
    connection.execute(
        _upsert(connection, bucket, expires).on_conflict_do_nothing(index_elements=[RateLimitHit.bucket])
    )
    taken = connection.execute(
        update(RateLimitHit)
        .where(RateLimitHit.bucket == bucket, RateLimitHit.count < limit)
        .values(count=RateLimitHit.count + 1)
        .returning(RateLimitHit.count)
    ).first()
    return taken is not None


def _take_budget(engine: Engine, name: str, client: str, now: datetime) -> datetime | None:
    """Take the budget for one password check of ``name`` from ``client``; the lock's end when there is none."""
    start, end = _window(now)
    with engine.connect() as connection:
        known = _is_known(connection, name, client, now)
    try:
        with engine.begin() as connection:
            if not _take(connection, _address_bucket(name, client, start), MAX_FAILURES, end):
                raise _NoBudget()
            if not known and not _take(connection, _account_bucket(name, start), ACCOUNT_BUDGET, end):
                # Both or neither: the address keeps the unit it would otherwise spend without a check.
                raise _NoBudget()
    except _NoBudget:
        return end
    return None


def locked_until(engine: Engine, name: str, client: str, now: datetime | None = None) -> datetime | None:
    """When the lock on ``name`` for ``client`` ends, or None while a password check is still allowed."""
    now = now or _now()
    name = normalise_name(name)[:64]
    start, end = _window(now)
    with engine.connect() as connection:
        rows = connection.execute(
            select(RateLimitHit.bucket, RateLimitHit.count).where(
                RateLimitHit.bucket.in_([_address_bucket(name, client, start), _account_bucket(name, start)])
            )
        )
        counts: dict[str, int] = {row[0]: row[1] for row in rows}
        known = _is_known(connection, name, client, now)
    if counts.get(_address_bucket(name, client, start), 0) >= MAX_FAILURES:
        return end
    if not known and counts.get(_account_bucket(name, start), 0) >= ACCOUNT_BUDGET:
        return end
    return None


def _record(engine: Engine, name: str, client: str, success: bool, now: datetime) -> None:
    """One row per password check (the history the servicedesk can read); on success the address's
    budget is emptied and the address is known for ``KNOWN_FOR``."""
    with engine.begin() as connection:
        connection.execute(insert(LoginAttempt), [{"name": name, "at": now, "success": success}])
        if not success:
            return
        start, _ = _window(now)
        connection.execute(delete(RateLimitHit).where(RateLimitHit.bucket == _address_bucket(name, client, start)))
        known = _upsert(connection, _known_bucket(name, client), now + KNOWN_FOR)
        connection.execute(
            known.on_conflict_do_update(index_elements=[RateLimitHit.bucket], set_={"expires_at": now + KNOWN_FOR})
        )


def authenticate(engine: Engine, name: str, password: str, *, client: str, now: datetime | None = None) -> LoginResult:
    """Check a name and password from ``client`` (a keyed hash of the address).

    The budget is taken first; without one the password is not checked at all.
    """
    now = now or _now()
    name = normalise_name(name)[:64]
    until = _take_budget(engine, name, client, now)
    if until is not None:
        return LoginResult("locked", name, until)
    with engine.connect() as connection:
        stored = connection.scalar(select(ConsoleUser.password_hash).where(ConsoleUser.name == name))
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
        valid = stored is not None
    except (VerificationError, InvalidHashError):
        valid = False
    _record(engine, name, client, valid, now)
    if not valid:
        until = locked_until(engine, name, client, now)
        return LoginResult("locked", name, until) if until is not None else LoginResult("wrong", name)
    if stored is not None and _hasher.check_needs_rehash(stored):
        with engine.begin() as connection:
            connection.execute(
                update(ConsoleUser).where(ConsoleUser.name == name).values(password_hash=_hasher.hash(password))
            )
    return LoginResult("ok", name)
