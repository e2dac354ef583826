"""Is this instance ready to serve: a write probe on the database, and the state of each broker.

Both answer within a bound and never queue behind the request thread pool: the database probe runs on
its own one-thread executor (one probe at a time; callers that arrive meanwhile wait for the same
probe), the brokers are asked on the event loop and waited for at most ``BROKER_SECONDS``. The
database is one of ``ok``, ``locked`` (another connection holds the write lock), ``unavailable`` (no
connection, no schema, or no file at the path) or ``replaced`` (SQLite: the file at the path is not the
one the service opened at start; see ``diagnostics.db.SqliteFile``).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import Executable
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from diagnostics import db
from diagnostics.brokers import BrokerError, BrokerRegistry
from diagnostics.models import RateLimitHit
from diagnostics.store import Store

log = logging.getLogger(__name__)

DatabaseState = Literal["ok", "locked", "unavailable", "replaced"]
# The longest /readyz waits for the database probe, and for the brokers.
PROBE_SECONDS = 2.0
BROKER_SECONDS = 1.0
# Inside the probe: how long its write waits for a lock held by someone else (shorter than PROBE_SECONDS,
# so a locked database is reported as such, not as a probe that did not finish).
PROBE_LOCK_WAIT_MS = 1000
# The probe's row in the shared counter table: written on every probe, gone a minute later.
PROBE_BUCKET = "probe:readyz"
# PostgreSQL: lock_not_available and query_canceled (lock_timeout, statement_timeout).
_PG_LOCKED = {"55P03", "57014"}


def _classify(exc: Exception) -> DatabaseState:
    """What a failed probe means for the operator."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    text = str(orig).lower()
    if "database is locked" in text or "database is busy" in text:
        return "locked"
    if getattr(orig, "sqlstate", None) in _PG_LOCKED:
        return "locked"
    if "database file replaced" in text:
        return "replaced"
    return "unavailable"


class DatabaseProbe:
    """A write probe for one store; open for the life of the app (``close`` at shutdown)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="readyz-probe")
        self._running: asyncio.Future[DatabaseState] | None = None

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def state(self) -> DatabaseState:
        """The database's state now, within ``PROBE_SECONDS``."""
        guard = db.sqlite_file(self.store.engine)
        if guard is not None and (file_state := guard.state()) != "ok":
            return file_state
        if self._running is None or self._running.done():
            self._running = asyncio.get_running_loop().run_in_executor(self._executor, self._probe)
        try:
            return await asyncio.wait_for(asyncio.shield(self._running), PROBE_SECONDS)
        except TimeoutError:
            # Still waiting: for SQLite that is a lock (its waits are bounded below this), for a server
            # one that does not answer.
            return "locked" if guard is not None else "unavailable"

    def _probe(self) -> DatabaseState:
        try:
            if self.store.schema_version is None:
                self.store.migrate()  # the database was down when the service started
            self._write()
        except (SQLAlchemyError, OSError) as exc:
            state = _classify(exc)
            log.warning("readiness: database %s (%s)", state, type(getattr(exc, "orig", exc)).__name__)
            return state
        return "ok"

    def _write(self) -> None:
        """One real write, as any request would make: it needs the write lock and a writable file."""
        engine = self.store.engine
        expires = datetime.now(UTC) + timedelta(minutes=1)
        values = {"bucket": PROBE_BUCKET, "count": 1, "expires_at": expires}
        set_ = {"count": RateLimitHit.count + 1, "expires_at": expires}
        lite = engine.dialect.name == "sqlite"
        upsert: Executable = (
            sqlite.insert(RateLimitHit).values(values).on_conflict_do_update(index_elements=["bucket"], set_=set_)
            if lite
            else postgresql.insert(RateLimitHit)
            .values(values)
            .on_conflict_do_update(index_elements=["bucket"], set_=set_)
        )
        with engine.connect() as connection:
            if lite:
                connection.exec_driver_sql(f"PRAGMA busy_timeout={PROBE_LOCK_WAIT_MS}")
                connection.commit()  # SQLAlchemy began a transaction for the pragma; the write gets its own
            try:
                with connection.begin():
                    if not lite:
                        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {PROBE_LOCK_WAIT_MS}")
                    connection.execute(upsert)
            finally:
                if lite:
                    connection.exec_driver_sql(f"PRAGMA busy_timeout={int(db.BUSY_TIMEOUT_SECONDS * 1000)}")


async def broker_state(registry: BrokerRegistry, broker_id: str) -> str:
    """``ok`` or ``unavailable: <diagnosis>``, within ``BROKER_SECONDS``; a fetch still running goes on
    in the background (the registry keeps its result), so a later probe sees it."""
    try:
        await asyncio.wait_for(asyncio.shield(registry.broker(broker_id)), BROKER_SECONDS)
    except BrokerError as exc:
        return f"unavailable: {exc.diagnosis}"
    except TimeoutError:
        return "unavailable: broker-unreachable"
    return "ok"
