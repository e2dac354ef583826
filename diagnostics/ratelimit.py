"""Rate limits on the routes that cost the most or invite guessing: starting a round trip, the paste
analyser (explain), the servicedesk login and lookups by reference code; and on the one anonymous
write, page feedback.

A fixed window per client address and route. Two kinds of counter:

* **shared** (``Rule.shared``): counted in the database (table ``rate_limit_hits``), so every worker sees
  one count. For the rules where the ceiling must hold across workers and a write is no extra cost:
  the console login (beside the lockout in ``servicedesk.accounts``), the paste analyser and feedback.
  The client address is stored only as a keyed hash.
* **per worker**: counted in this process's memory (``LocalCounts``): no database write, no thread, on
  the round trip's own path (starting a test, result pages and their JSON, the simulator's login). With
  N workers one address gets at most N times the limit; the limits stay what they are for: a ceiling
  on cost, and far too few lookups to guess a reference code. A result page only reads, so it answers
  while the database is locked.

Over the limit: 429 with ``Retry-After``, a Dutch page for browsers and ``{"error": {"id": "rate-limited"}}``
for everything else. A database error in a shared counter is the Dutch 503, answered here (not raised
on, so the server does not log it as a crash).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from anyio import to_thread
from sqlalchemy import Engine, delete
from sqlalchemy.dialects import postgresql, sqlite
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from diagnostics import errors
from diagnostics.models import RateLimitHit
from diagnostics.resources import resources_in
from diagnostics.settings import RateLimitConfig, Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    id: str
    method: str
    path: re.Pattern[str]
    # The RateLimitConfig field with the number of requests per window.
    limit_field: str
    # Counted in the database for all workers together; otherwise per worker process (see the module text).
    shared: bool = False

    def limit(self, config: RateLimitConfig) -> int:
        value: int = getattr(config, self.limit_field)
        return value


RULES: tuple[Rule, ...] = (
    Rule("roundtrip-start", "POST", re.compile(r"^/diagnose/start/?$"), "roundtrip_start"),
    Rule("explain", "POST", re.compile(r"^/(servicedesk/analyse(/bewaar)?|api/v1/explain)/?$"), "explain", shared=True),
    Rule("login", "POST", re.compile(r"^/servicedesk/login/?$"), "login", shared=True),
    Rule("feedback", "POST", re.compile(r"^/api/v1/feedback/?$"), "feedback", shared=True),
    # By reference code: the result page, its JSON and the answer form (not /diagnose/start, a POST above).
    Rule("lookup", "GET", re.compile(r"^/(api/v1/)?diagnose/(?!start/?$)[^/]+/?$"), "lookup"),
    Rule("lookup", "POST", re.compile(r"^/diagnose/(?!start/?$)[^/]+/antwoord/?$"), "lookup"),
    Rule("simulator-login", "POST", re.compile(r"^/simulator/login/?$"), "simulator_login"),
)


def rule_for(method: str, path: str) -> Rule | None:
    return next((rule for rule in RULES if rule.method == method and rule.path.match(path)), None)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int
    limit: int
    retry_after: int


@dataclass(frozen=True)
class Window:
    """The fixed window ``now`` falls in."""

    start: int  # epoch seconds
    retry_after: int  # seconds until the next window

    @classmethod
    def at(cls, now: datetime, seconds: int) -> Window:
        epoch = int(now.timestamp())
        start = epoch - epoch % seconds
        return cls(start, max(1, start + seconds - epoch))


class LocalCounts:
    """Fixed-window counts in this worker's memory; one instance per app (the middleware holds it).

    Only the current window is kept: a new window starts from an empty table. Used from the event loop
    only (no lock needed). A flood from very many addresses in one window cannot grow the table without
    bound: past ``MAX_CLIENTS`` the newcomers share one count per rule, which is soon over its limit.
    """

    MAX_CLIENTS = 100_000

    def __init__(self) -> None:
        self._start: int | None = None
        self._counts: dict[tuple[str, str], int] = {}

    def hit(self, rule_id: str, client: str, window: Window) -> int:
        if window.start != self._start:
            self._start, self._counts = window.start, {}
        key = (rule_id, client)
        if key not in self._counts and len(self._counts) >= self.MAX_CLIENTS:
            key = (rule_id, "*")
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        return count


class RateLimiter:
    """Fixed-window counters in the database; safe with many workers on SQLite or PostgreSQL."""

    def __init__(self, engine: Engine, config: RateLimitConfig, secret: str) -> None:
        self.engine = engine
        self.config = config
        self._secret = secret.encode("utf-8")

    def client_key(self, address: str) -> str:
        """A keyed hash: the database never holds a client's IP address."""
        return hmac.new(self._secret, address.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def hit(self, rule: Rule, address: str, now: datetime | None = None) -> Decision:
        """Count one request of ``address`` on ``rule`` in the database and say whether it may pass."""
        limit = rule.limit(self.config)
        if limit <= 0:
            return Decision(True, 0, 0, 0)
        now = now or datetime.now(UTC)
        window = Window.at(now, self.config.window_seconds)
        bucket = f"{rule.id}:{self.client_key(address)}:{window.start}"
        expires = datetime.fromtimestamp(window.start + self.config.window_seconds, UTC)
        count = self._increment(bucket, expires, now)
        return Decision(count <= limit, count, limit, window.retry_after)

    def _increment(self, bucket: str, expires: datetime, now: datetime) -> int:
        dialect = self.engine.dialect.name
        values = {"bucket": bucket, "count": 1, "expires_at": expires}
        if dialect == "postgresql":
            pg = postgresql.insert(RateLimitHit).values(values)
            statement = pg.on_conflict_do_update(
                index_elements=[RateLimitHit.bucket], set_={"count": RateLimitHit.count + 1}
            ).returning(RateLimitHit.count)
        elif dialect == "sqlite":
            lite = sqlite.insert(RateLimitHit).values(values)
            statement = lite.on_conflict_do_update(
                index_elements=[RateLimitHit.bucket], set_={"count": RateLimitHit.count + 1}
            ).returning(RateLimitHit.count)
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            raise RuntimeError(f"rate limits need SQLite or PostgreSQL, not {dialect}")
        with self.engine.begin() as connection:
            count = connection.execute(statement).scalar_one()
            # Old windows are worthless; they go in the same transaction (a cheap indexed delete).
            connection.execute(delete(RateLimitHit).where(RateLimitHit.expires_at < now - timedelta(seconds=1)))
        return int(count)


class RateLimitMiddleware:
    """Applies ``RULES`` before the route runs; other requests pass untouched."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.local = LocalCounts()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        config = self.settings.rate_limits
        rule = rule_for(scope["method"], scope["path"])
        limit = rule.limit(config) if rule is not None else 0
        if rule is None or limit <= 0:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        if rule.shared:
            limiter = RateLimiter(resources_in(scope).store.engine, config, self.settings.session_secret)
            try:
                decision = await to_thread.run_sync(limiter.hit, rule, address)
            except errors.DATABASE_ERRORS as exc:
                # Answered here: raised on, Starlette would send the same 503 and the server would then log
                # the error as a crash of the application.
                answer = await errors.database_unavailable(Request(scope, receive), exc)
                await answer(scope, receive, send)
                return
        else:
            window = Window.at(datetime.now(UTC), config.window_seconds)
            count = self.local.hit(rule.id, address, window)
            decision = Decision(count <= limit, count, limit, window.retry_after)
        if decision.allowed:
            await self.app(scope, receive, send)
            return
        response = errors.error_response(
            Request(scope, receive),
            429,
            "rate-limited",
            headers={"Retry-After": str(decision.retry_after)},
            retry_after=decision.retry_after,
        )
        await response(scope, receive, send)
