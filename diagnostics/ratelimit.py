"""Rate limits on the routes that cost the most or invite guessing: starting a round trip, the paste
analyser (explain), the servicedesk login and lookups by reference code; and on the one anonymous
write, page feedback.

A fixed window per client address and route, counted in the shared database (table ``rate_limit_hits``)
so that every worker sees the same count. The client address is stored only as a keyed hash.
Over the limit: 429 with ``Retry-After``, a Dutch page for browsers and ``{"error": {"id": "rate-limited"}}``
for everything else.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from anyio import to_thread
from sqlalchemy import Engine, delete
from sqlalchemy.dialects import postgresql, sqlite
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from diagnostics.errors import error_response
from diagnostics.models import RateLimitHit
from diagnostics.resources import resources_in
from diagnostics.settings import RateLimitConfig, Settings


@dataclass(frozen=True)
class Rule:
    id: str
    method: str
    path: re.Pattern[str]
    # The RateLimitConfig field with the number of requests per window.
    limit_field: str

    def limit(self, config: RateLimitConfig) -> int:
        value: int = getattr(config, self.limit_field)
        return value


RULES: tuple[Rule, ...] = (
    Rule("roundtrip-start", "POST", re.compile(r"^/diagnose/start/?$"), "roundtrip_start"),
    Rule("explain", "POST", re.compile(r"^/(servicedesk/analyse(/bewaar)?|api/v1/explain)/?$"), "explain"),
    Rule("login", "POST", re.compile(r"^/servicedesk/login/?$"), "login"),
    Rule("feedback", "POST", re.compile(r"^/api/v1/feedback/?$"), "feedback"),
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
        """Count one request of ``address`` on ``rule`` and say whether it may pass."""
        limit = rule.limit(self.config)
        if limit <= 0:
            return Decision(True, 0, 0, 0)
        now = now or datetime.now(UTC)
        window = self.config.window_seconds
        epoch = int(now.timestamp())
        start = epoch - epoch % window
        retry_after = max(1, start + window - epoch)
        bucket = f"{rule.id}:{self.client_key(address)}:{start}"
        expires = datetime.fromtimestamp(start + window, UTC)
        count = self._increment(bucket, expires, now)
        return Decision(count <= limit, count, limit, retry_after)

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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = rule_for(scope["method"], scope["path"])
        if rule is None or rule.limit(self.settings.rate_limits) <= 0:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        limiter = RateLimiter(resources_in(scope).store.engine, self.settings.rate_limits, self.settings.session_secret)
        decision = await to_thread.run_sync(limiter.hit, rule, address)
        if decision.allowed:
            await self.app(scope, receive, send)
            return
        response = error_response(
            Request(scope, receive),
            429,
            "rate-limited",
            headers={"Retry-After": str(decision.retry_after)},
            retry_after=decision.retry_after,
        )
        await response(scope, receive, send)
