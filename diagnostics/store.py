"""The shared store: diagnostics sessions, seen assertion IDs and simulator artifacts.

Nothing another worker needs lives in process memory. Every cross-worker guarantee is made by
the database itself: a unique reference and request ID per session, a primary key on assertion
IDs (replay protection), and ``DELETE … RETURNING`` for single-use artifacts. Only masked data is
stored: the verdict handed to ``finish_session`` has already passed through ``diagnostics.privacy``.

Every session passes through ``create_session`` and ``finish_session``/``expire_stale`` on whichever
worker handles it, so the round-trip metrics and the session log lines are recorded here, once.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from anyio import to_thread
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from diagnostics import metrics
from diagnostics.db import create_schema, is_busy, make_engine, make_loop_engine, sqlite_file
from diagnostics.models import ArtifactRow, SeenAssertion, SessionRow, UtcDateTime
from diagnostics.reference import new_reference
from diagnostics.verdict import Verdict

log = logging.getLogger(__name__)

T = TypeVar("T")
# Set while ``Store.run`` runs an operation on the event loop: the engine that operation's statements use.
_LOOP_ENGINE: ContextVar[Engine | None] = ContextVar("loop_engine", default=None)


def _with_engine(engine: Engine, operation: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
    token = _LOOP_ENGINE.set(engine)
    try:
        return operation(*args, **kwargs)
    finally:
        _LOOP_ENGINE.reset(token)


SessionState = Literal["started", "finished", "no-response", "answered"]
_REFERENCE_ATTEMPTS = 8
# A session's columns as DiagSession reads them (RETURNING of an update).
_COLUMNS = tuple(column for column in SessionRow.__table__.columns if column.key != "id")


@dataclass(frozen=True)
class DiagSession:
    """A snapshot of one diagnostics session (not bound to a database connection)."""

    reference: str
    created_at: datetime
    broker_id: str
    supplier_id: str | None
    request_id: str | None
    scenario: str | None
    state: SessionState
    verdict_data: dict[str, Any] | None
    diagnosis_id: str | None
    no_response_answer: str | None
    finished_at: datetime | None
    # When an ACS request took this session to evaluate its artifact (``Store.claim_session``).
    claimed_at: datetime | None = None

    @functools.cached_property
    def verdict(self) -> Verdict | None:
        # Parsed (and its texts checked by the masker) once per snapshot: a result page asks several times.
        return Verdict.model_validate(self.verdict_data) if self.verdict_data is not None else None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> DiagSession:
        """From a row of ``diag_sessions`` as a mapping: no ORM object on the way (every page reads one)."""
        return cls(
            reference=row["reference"],
            created_at=row["created_at"],
            broker_id=row["broker_id"],
            supplier_id=row.get("supplier_id"),
            request_id=row.get("request_id"),
            scenario=row.get("scenario"),
            state=row["state"],
            verdict_data=row.get("verdict"),
            diagnosis_id=row.get("diagnosis_id"),
            no_response_answer=row.get("no_response_answer"),
            finished_at=row.get("finished_at"),
            claimed_at=row.get("claimed_at"),
        )


# A checked answer from the broker outranks what the user remembers, even when it comes late: every state
# but "finished" (started, no-response, answered) still takes the verdict. A comparison, not IN (...):
# SQLAlchemy expands an IN list again on every execution.
_AWAITING_VERDICT = SessionRow.state != "finished"


def _now() -> datetime:
    return datetime.now(UTC)


# The round trip's statements, built once. Building one per call (column comparisons, the key of the
# compiled-statement cache) cost about twice what running it costs on SQLite.
_SESSIONS = SessionRow.__table__
_INSERT_SESSION = insert(SessionRow)
_SESSION_BY_REFERENCE = select(_SESSIONS).where(_SESSIONS.c.reference == bindparam("ref"))
_SESSION_BY_REQUEST_ID = select(_SESSIONS).where(_SESSIONS.c.request_id == bindparam("request"))
# Take a session that still waits for its verdict and that no request has taken yet.
_CLAIM = (
    update(SessionRow)
    .where(
        SessionRow.reference == bindparam("ref"),
        _AWAITING_VERDICT,
        SessionRow.claimed_at.is_(None),
    )
    .values(claimed_at=bindparam("claimed", type_=UtcDateTime()))
)
_CLAIM_RETURNING = _CLAIM.returning(*_COLUMNS)
_FINISH = (
    update(SessionRow)
    .where(SessionRow.reference == bindparam("ref"), _AWAITING_VERDICT)
    .values(
        state="finished",
        verdict=bindparam("verdict_data", type_=_SESSIONS.c.verdict.type),
        diagnosis_id=bindparam("diagnosis"),
        finished_at=bindparam("finished", type_=UtcDateTime()),
    )
    # RETURNING: the finished row comes back with the update, no second query.
    .returning(*_COLUMNS)
)
_REMEMBER_ASSERTION = insert(SeenAssertion)
_PUT_ARTIFACT = insert(ArtifactRow)
_TAKE_ARTIFACT = (
    delete(ArtifactRow)
    .where(ArtifactRow.handle == bindparam("handle"))
    .returning(ArtifactRow.payload, ArtifactRow.expires_at)
)


def _mark_no_response(connection: Connection, which: ColumnElement[bool], now: datetime, why: str) -> list[str]:
    """Sessions among ``which`` still waiting for the broker become ``no-response``; their references."""
    rows = connection.execute(
        update(SessionRow)
        .where(SessionRow.state == "started", which)
        .values(state="no-response", diagnosis_id="no-response", finished_at=now)
        .returning(SessionRow.reference, SessionRow.broker_id)
    ).all()
    for reference, broker_id in rows:
        metrics.roundtrip_finished(broker_id, "no-response")
        log.info("diagnostics session without response from the broker (%s)", why, extra={"reference": reference})
    return sorted(reference for reference, _ in rows)


class Store:
    """All persistent state of the diagnostics service, on SQLite or PostgreSQL."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        """Connect and bring the schema up to date (blocking: call it from a thread in async code).

        ``migrate=False`` leaves the schema to :meth:`migrate`: the service starts even while its
        database is down, and ``/readyz`` says so until it is back (see ``ping``).
        """
        self.url = url
        self._engine: Engine = make_engine(url)
        self._loop_engine = make_loop_engine(url, file_guard=sqlite_file(self._engine))
        self.schema_version: int | None = None
        if migrate:
            self.migrate()

    @property
    def engine(self) -> Engine:
        """The engine of this call: inside ``run`` on the event loop its own engine, else the shared pool."""
        return _LOOP_ENGINE.get() or self._engine

    async def run(self, operation: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run one blocking store operation from async code, without a thread hop where the database allows.

        A thread hop costs more than most of our statements, and under load the hand-offs between the
        loop and the threads were the largest share of the server's time. So (``db.make_loop_engine``):

        * SQLite: on the loop, with a connection that never waits for a lock. When the database is busy
          (another worker is writing), the operation runs again in a thread, which may wait for it.
          So an operation here must be safe to repeat after it failed: one transaction, or reads before
          its one write. ``operation`` may be a check run whose only write is the assertion ID.
        * PostgreSQL: on the loop, with psycopg's asyncio mode (SQLAlchemy runs the operation's statements
          in a greenlet that awaits each one).
        * Anything else (a SQLite ``file:`` URI): in a thread.

        An operation must not hold a thread lock while it reads or writes: on PostgreSQL another request on
        the same loop may run while it waits for the database, and would wait for that lock for ever.
        """
        loop_engine = self._loop_engine
        if isinstance(loop_engine, AsyncEngine):
            return await greenlet_spawn(_with_engine, loop_engine.sync_engine, operation, args, kwargs)
        if loop_engine is not None:
            try:
                return _with_engine(loop_engine, operation, args, kwargs)
            except OperationalError as exc:
                if not is_busy(exc):
                    raise
        return await to_thread.run_sync(functools.partial(operation, *args, **kwargs))

    def migrate(self) -> int:
        """Create or upgrade the schema; safe when several workers start at once."""
        self.schema_version = create_schema(self.engine)
        return self.schema_version

    def close(self) -> None:
        """Close the connection pools (at shutdown; ``aclose`` from async code)."""
        self._engine.dispose()
        if isinstance(self._loop_engine, AsyncEngine):
            # Its connections belong to an event loop; ``aclose`` closes them there. Here they are let go.
            self._loop_engine.sync_engine.dispose(close=False)
        elif self._loop_engine is not None:
            self._loop_engine.dispose()

    async def aclose(self) -> None:
        """Close the connection pools from the event loop that used them."""
        if isinstance(self._loop_engine, AsyncEngine):
            await self._loop_engine.dispose()
        await to_thread.run_sync(self.close)

    def ping(self) -> None:
        """Raises when the database cannot be reached; migrates first if it was down at start."""
        if self.schema_version is None:
            self.migrate()
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    @contextlib.contextmanager
    def _statement(self) -> Iterator[Connection]:
        """A connection for one statement that commits itself (autocommit).

        A single statement is atomic on its own, so a transaction around it only adds round trips: on
        PostgreSQL BEGIN and COMMIT (or ROLLBACK after a read) are one each, as many as the statement.
        """
        with self.engine.connect() as connection:
            yield connection.execution_options(isolation_level="AUTOCOMMIT")

    # ── diagnostics sessions ──

    def create_session(
        self,
        *,
        broker_id: str,
        supplier_id: str | None,
        request_id: str | None,
        scenario: str | None = None,
        now: datetime | None = None,
        reference: str | None = None,
    ) -> DiagSession:
        """A new session in state ``started`` with ``reference`` when it is still free, else a fresh code."""
        for attempt in range(_REFERENCE_ATTEMPTS):
            row: dict[str, Any] = {
                "reference": reference if reference is not None and attempt == 0 else new_reference(),
                "created_at": now or _now(),
                "broker_id": broker_id,
                "supplier_id": supplier_id,
                "request_id": request_id,
                "scenario": scenario,
                "state": "started",
            }
            try:
                with self._statement() as connection:
                    connection.execute(_INSERT_SESSION, [row])
            except IntegrityError:
                if request_id is not None and self.get_session_by_request_id(request_id) is not None:
                    raise ValueError(f"request_id already used: {request_id}") from None
                continue  # a reference collision: draw another code
            metrics.roundtrip_started(broker_id)
            log.info("diagnostics session started (broker %s)", broker_id, extra={"reference": row["reference"]})
            return DiagSession.from_row(row)
        raise RuntimeError("could not draw a unique reference code")

    def _one(self, statement: Select[Any], parameters: dict[str, str]) -> DiagSession | None:
        with self._statement() as connection:
            row = connection.execute(statement, parameters).mappings().first()
        return DiagSession.from_row(row) if row is not None else None

    def get_session(self, reference: str) -> DiagSession | None:
        return self._one(_SESSION_BY_REFERENCE, {"ref": reference})

    def get_session_by_request_id(self, request_id: str) -> DiagSession | None:
        return self._one(_SESSION_BY_REQUEST_ID, {"request": request_id})

    def claim_session(self, reference: str) -> bool:
        """True for exactly one caller per session (on any worker): the one that may evaluate its artifact.

        A double-submitted ACS form or a reload sends the same artifact twice at once; only the first
        resolves it, and the second would otherwise record "artifact unknown" over a good login.
        Callers that get False wait for the verdict instead. A claim holder that dies leaves the
        session ``started``, so ``expire_stale`` still ends it.
        """
        with self._statement() as connection:
            return connection.execute(_CLAIM, {"ref": reference, "claimed": _now()}).rowcount == 1

    def claim_for_evaluation(self, reference: str) -> tuple[DiagSession | None, bool]:
        """The session, and whether this caller holds its claim (see ``claim_session``).

        The ACS's first step: one statement when the session can be claimed (nearly always), a read only
        when it cannot (unknown, finished, or claimed by a request that got there first).
        """
        with self._statement() as connection:
            row = connection.execute(_CLAIM_RETURNING, {"ref": reference, "claimed": _now()}).mappings().first()
        if row is not None:
            return DiagSession.from_row(row), True
        return self.get_session(reference), False

    def finish_session(self, reference: str, verdict: Verdict) -> DiagSession | None:
        """Record the verdict once; None when the session is unknown or already finished."""
        data = verdict.model_copy(update={"reference": reference}).model_dump(mode="json")
        parameters = {
            "ref": reference,
            "verdict_data": data,
            "diagnosis": verdict.diagnosis.id if verdict.diagnosis else None,
            "finished": _now(),
        }
        with self._statement() as connection:
            row = connection.execute(_FINISH, parameters).mappings().first()
        if row is None:
            return None
        session = DiagSession.from_row(row)
        metrics.roundtrip_finished(session.broker_id, session.diagnosis_id)
        log.info(
            "diagnostics session finished: %s (%s)",
            verdict.verdict,
            session.diagnosis_id or "ok",
            extra={"reference": reference},
        )
        return session

    def expire_stale(self, timeout_seconds: int, now: datetime | None = None) -> list[str]:
        """Sessions started more than ``timeout_seconds`` ago become ``no-response``; their references."""
        now = now or _now()
        with self.engine.begin() as connection:
            return _mark_no_response(
                connection, SessionRow.created_at < now - timedelta(seconds=timeout_seconds), now, "timeout"
            )

    def stale_claims(self, older_than_seconds: float, now: datetime | None = None) -> list[str]:
        """Sessions claimed for evaluation longer ago than ``older_than_seconds`` and still without a verdict.

        Their evaluating request is gone (its worker was killed or restarted mid-resolve): nobody will
        finish them. The caller records the verdict ``interrupted`` through ``finish_session``.
        """
        moment = (now or _now()) - timedelta(seconds=older_than_seconds)
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(SessionRow.reference).where(_AWAITING_VERDICT, SessionRow.claimed_at < moment)
            )
            return sorted(str(reference) for (reference,) in rows)

    def answer_no_response(
        self, reference: str, answer: str, diagnosis_id: str, *, finished: bool = False
    ) -> DiagSession | None:
        """What the user saw at the broker; None when the session is unknown or came back from the broker.

        A session still waiting for the broker may be answered too: the user says they stopped there (the
        most common case, a missing machtiging), so it becomes ``no-response`` now instead of at the timeout.
        Not once it is claimed: then the broker's answer is in and being checked, and its verdict must stand.

        ``finished``: the broker's answer came back but did not say why the login stopped (stopped-at-broker).
        The session stays finished with its checked verdict; the answer is kept beside it.
        """
        with self.engine.begin() as connection:
            if finished:
                answerable, state = SessionRow.state == "finished", {}
            else:
                waiting = and_(SessionRow.reference == reference, SessionRow.claimed_at.is_(None))
                _mark_no_response(connection, waiting, _now(), "user answered")
                answerable, state = SessionRow.state.in_(("no-response", "answered")), {"state": "answered"}
            row = (
                connection.execute(
                    update(SessionRow)
                    .where(SessionRow.reference == reference, answerable)
                    .values(no_response_answer=answer[:64], diagnosis_id=diagnosis_id, **state)
                    .returning(*_COLUMNS)
                )
                .mappings()
                .first()
            )
        return DiagSession.from_row(row) if row is not None else None

    def recent_sessions(self, limit: int = 50) -> list[DiagSession]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(SessionRow.__table__).order_by(SessionRow.created_at.desc()).limit(limit)
            ).mappings()
            return [DiagSession.from_row(row) for row in rows]

    def counts_by_diagnosis(self, since: datetime) -> dict[str, int]:
        """Finished sessions since ``since`` per diagnosis id; a verdict without diagnosis counts as "ok"."""
        key = func.coalesce(SessionRow.diagnosis_id, "ok")
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(key, func.count())
                .where(SessionRow.created_at >= since, SessionRow.state != "started")
                .group_by(key)
            )
            return {str(name): int(count) for name, count in rows}

    # ── replay protection ──

    def remember_assertion(self, assertion_id: str, expires_at: datetime) -> bool:
        """True the first time an assertion ID is seen (by any worker), False on every replay."""
        try:
            with self._statement() as connection:
                connection.execute(_REMEMBER_ASSERTION, [{"assertion_id": assertion_id, "expires_at": expires_at}])
        except IntegrityError:
            return False
        return True

    # ── simulator artifacts ──

    def put_artifact(self, handle: str, payload: bytes, expires_at: datetime) -> None:
        with self._statement() as connection:
            connection.execute(_PUT_ARTIFACT, [{"handle": handle, "payload": payload, "expires_at": expires_at}])

    def take_artifact(self, handle: str) -> bytes | None:
        """The payload, exactly once across all workers; None when unknown, taken or expired."""
        with self._statement() as connection:
            row = connection.execute(_TAKE_ARTIFACT, {"handle": handle}).first()
        if row is None or row.expires_at <= _now():
            return None
        return bytes(row.payload)

    # ── retention ──

    def purge(self, older_than_days: int, now: datetime | None = None) -> int:
        """Delete sessions older than the retention, and expired assertion IDs and artifacts.

        Returns the number of sessions deleted.
        """
        now = now or _now()
        with self.engine.begin() as connection:
            sessions = connection.execute(
                delete(SessionRow).where(SessionRow.created_at < now - timedelta(days=older_than_days))
            ).rowcount
            connection.execute(delete(SeenAssertion).where(SeenAssertion.expires_at < now))
            connection.execute(delete(ArtifactRow).where(ArtifactRow.expires_at < now))
        return int(sessions)
