"""Rate limits: a fixed window per client and route, shared in the database or per worker; 429 with a Dutch page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from diagnostics import ratelimit
from diagnostics.app import create_app
from diagnostics.db import create_schema, make_engine
from diagnostics.localtime import duration_words
from diagnostics.settings import RateLimitConfig, load_settings
from tests.helpers.sqlite_lock import write_locked

HTML = {"accept": "text/html"}


def routes_for(app: FastAPI, method: str) -> list[str]:
    """Every path the app serves for ``method`` (FastAPI keeps included routers as route groups)."""
    paths = []
    for route in app.routes:
        contexts: Any = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for context in contexts:
            if method in (getattr(context, "methods", None) or ()):
                paths.append(context.path)
    return paths


@pytest.fixture
def make_client(
    app_client: Callable[..., TestClient], write_config: Callable[..., Path]
) -> Iterator[Callable[..., TestClient]]:
    def _make(limits: dict[str, int]) -> TestClient:
        client: TestClient = app_client(load_settings(write_config({"rate_limits": limits})))
        return client

    yield _make


def test_roundtrip_start_over_the_limit_gets_429_with_retry_after(make_client: Callable[..., TestClient]) -> None:
    client = make_client({"roundtrip_start": 2})
    statuses = [client.post("/diagnose/start", data={"broker": "bestaat-niet"}).status_code for _ in range(2)]
    assert 429 not in statuses
    response = client.post("/diagnose/start", data={"broker": "bestaat-niet"})
    assert response.status_code == 429
    assert response.json()["error"]["id"] == "rate-limited"
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert "content-security-policy" in response.headers


def test_browser_gets_a_dutch_page(make_client: Callable[..., TestClient]) -> None:
    client = make_client({"login": 1})
    client.post("/servicedesk/login", data={"name": "a", "password": "b"}, headers=HTML)
    response = client.post("/servicedesk/login", data={"name": "a", "password": "b"}, headers=HTML)
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("text/html")
    assert "U hebt het te vaak geprobeerd" in response.text
    assert re.search(r'<html\b[^>]*\blang="nl"', response.text)
    assert f"Wacht {duration_words(int(response.headers['retry-after']))}." in response.text


def test_limits_are_per_route(make_client: Callable[..., TestClient]) -> None:
    client = make_client({"login": 1, "explain": 1})
    client.post("/servicedesk/login", data={})
    assert client.post("/servicedesk/login", data={}).status_code == 429
    assert client.post("/servicedesk/analyse", data={}).status_code != 429
    assert client.get("/healthz").status_code == 200


def test_zero_switches_a_limit_off(make_client: Callable[..., TestClient]) -> None:
    client = make_client({"explain": 0})
    assert all(client.post("/servicedesk/analyse", data={}).status_code != 429 for _ in range(5))


def test_every_rule_guards_a_real_route(settings: Any) -> None:
    app = create_app(settings)
    for rule in ratelimit.RULES:
        # Path parameters as a real request would fill them in.
        paths = [path.replace("{ref}", "BHP-7K3Q-9D2F") for path in routes_for(app, rule.method)]
        assert any(rule.path.match(path) for path in paths), f"rule {rule.id} matches no {rule.method} route: {paths}"


def test_lookups_by_reference_code_are_limited(make_client: Callable[..., TestClient]) -> None:
    client = make_client({"lookup": 3})
    answers = [client.get(f"/api/v1/diagnose/BHP-7K3Q-9D{n}F").status_code for n in range(2, 5)]
    assert answers == [404, 404, 404]
    assert client.get("/diagnose/BHP-7K3Q-9D5F").status_code == 429
    # The chooser and starting a test are not lookups.
    assert client.get("/diagnose").status_code != 429


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def limiter_pair(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[ratelimit.RateLimiter, ratelimit.RateLimiter]]:
    """Two workers: two engines on one database (a SQLite file, or a fresh PostgreSQL database)."""
    if request.param == "postgresql":
        from tests.pg import fresh_database

        url = fresh_database(request.getfixturevalue("pg_url"))
    else:
        url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    config = RateLimitConfig(window_seconds=60, login=3)
    engines = [make_engine(url), make_engine(url)]
    create_schema(engines[0])
    yield (
        ratelimit.RateLimiter(engines[0], config, "secret-1234567890"),
        ratelimit.RateLimiter(engines[1], config, "secret-1234567890"),
    )
    for engine in engines:
        engine.dispose()


LOGIN = next(rule for rule in ratelimit.RULES if rule.id == "login")
NOW = datetime(2026, 3, 2, 9, 30, 5, tzinfo=UTC)


def test_workers_share_one_count(limiter_pair: tuple[ratelimit.RateLimiter, ratelimit.RateLimiter]) -> None:
    one, two = limiter_pair
    decisions = [(one if i % 2 else two).hit(LOGIN, "192.0.2.7", NOW) for i in range(4)]
    assert [d.count for d in decisions] == [1, 2, 3, 4]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].retry_after == 55


def test_each_client_has_its_own_count(limiter_pair: tuple[ratelimit.RateLimiter, ratelimit.RateLimiter]) -> None:
    one, _ = limiter_pair
    for _ in range(3):
        one.hit(LOGIN, "192.0.2.7", NOW)
    assert not one.hit(LOGIN, "192.0.2.7", NOW).allowed
    assert one.hit(LOGIN, "198.51.100.9", NOW).allowed


def test_a_new_window_starts_from_zero(limiter_pair: tuple[ratelimit.RateLimiter, ratelimit.RateLimiter]) -> None:
    one, _ = limiter_pair
    for _ in range(4):
        one.hit(LOGIN, "192.0.2.7", NOW)
    later = one.hit(LOGIN, "192.0.2.7", NOW + timedelta(seconds=60))
    assert later.allowed and later.count == 1


def test_the_database_holds_no_ip_address_and_no_old_windows(
    limiter_pair: tuple[ratelimit.RateLimiter, ratelimit.RateLimiter],
) -> None:
    one, _ = limiter_pair
    one.hit(LOGIN, "192.0.2.7", NOW)
    one.hit(LOGIN, "192.0.2.7", NOW + timedelta(minutes=5))
    with one.engine.connect() as connection:
        rows = connection.execute(select(ratelimit.RateLimitHit.__table__)).mappings().all()
    assert len(rows) == 1, "the expired window is deleted"
    assert all("192.0.2" not in row["bucket"] for row in rows)
    assert rows[0]["bucket"].startswith("login:" + one.client_key("192.0.2.7"))


def test_concurrent_hits_are_counted_exactly(limiter_pair: tuple[ratelimit.RateLimiter, ratelimit.RateLimiter]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    one, two = limiter_pair
    with ThreadPoolExecutor(max_workers=8) as pool:
        decisions = list(pool.map(lambda i: (one if i % 2 else two).hit(LOGIN, "192.0.2.7", NOW), range(40)))
    assert sorted(d.count for d in decisions) == list(range(1, 41))
    assert sum(d.allowed for d in decisions) == 3


# ── per worker: the round trip's own limits write nothing ──


def _rows(client: TestClient) -> list[str]:
    engine = client.app.state.resources.store.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        return [str(bucket) for (bucket,) in connection.execute(select(ratelimit.RateLimitHit.bucket))]


def test_round_trip_limits_count_in_the_worker_and_write_nothing(make_client: Callable[..., TestClient]) -> None:
    client = make_client({"lookup": 2, "roundtrip_start": 1, "login": 5})
    assert [client.get("/api/v1/diagnose/BHP-7K3Q-9D2F").status_code for _ in range(3)] == [404, 404, 429]
    assert client.post("/diagnose/start", data={"broker": "bestaat-niet"}).status_code != 429
    assert client.post("/diagnose/start", data={"broker": "bestaat-niet"}).status_code == 429
    assert _rows(client) == []
    # A shared rule still counts in the database, for every worker together.
    client.post("/servicedesk/login", data={})
    assert [bucket.split(":")[0] for bucket in _rows(client)] == ["login"]


def test_a_result_page_answers_while_the_database_is_locked(make_client: Callable[..., TestClient]) -> None:

    client = make_client({"lookup": 120})
    path = Path(client.app.state.resources.settings.database_url.removeprefix("sqlite:///"))  # type: ignore[attr-defined]
    with write_locked(path):
        # Only a read: no counter row to write, so no wait for the lock and no 503.
        assert client.get("/diagnose/BHP-7K3Q-9D2F").status_code == 404
        assert client.get("/api/v1/diagnose/BHP-7K3Q-9D2F").status_code == 404


def test_a_database_error_in_a_shared_counter_is_a_dutch_503_and_not_raised_on(
    make_client: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    def locked_database(*_args: object) -> int:
        raise OperationalError("counter", {}, Exception("database is locked"))

    monkeypatch.setattr(ratelimit.RateLimiter, "_increment", locked_database)
    # The test client raises whatever the app raises on after answering: the old middleware failed here.
    client = make_client({"login": 5})
    response = client.post("/servicedesk/login", data={}, headers=HTML)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"
    assert "De inloghulp kan nu niet bij zijn gegevens" in response.text
    assert "content-security-policy" in response.headers


def test_local_counts_start_again_each_window_and_stay_bounded() -> None:
    counts = ratelimit.LocalCounts()
    first, second = ratelimit.Window(60, 5), ratelimit.Window(120, 60)
    assert [counts.hit("lookup", "192.0.2.7", first) for _ in range(3)] == [1, 2, 3]
    assert counts.hit("login", "192.0.2.7", first) == 1  # per rule
    assert counts.hit("lookup", "192.0.2.7", second) == 1
    counts.MAX_CLIENTS = 2
    counts.hit("lookup", "198.51.100.1", second)
    # The table is full: newcomers share one count.
    assert [counts.hit("lookup", f"203.0.113.{n}", second) for n in range(3)] == [1, 2, 3]
    assert counts.hit("lookup", "192.0.2.7", second) == 2  # clients already counted keep their own


def test_the_window_and_its_retry_after() -> None:
    window = ratelimit.Window.at(NOW, 60)
    assert (window.start % 60, window.retry_after) == (0, 55)
