"""POST /api/v1/feedback: counted per page, and rate limited like the other anonymous writes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from diagnostics.app import create_app
from diagnostics.servicedesk import records
from diagnostics.settings import Settings, load_settings
from diagnostics.store import Store

LIMIT = 3


@pytest.fixture
def limited(write_config: Callable[..., Path]) -> Iterator[tuple[TestClient, Settings]]:
    settings = load_settings(write_config({"rate_limits": {"feedback": LIMIT}}))
    with TestClient(create_app(settings), base_url=settings.public_base_url) as client:
        yield client, settings


def stored(settings: Settings) -> list[tuple[str, int, int]]:
    counts = records.feedback_counts(Store(settings.database_url).engine)
    return [(count.page, count.useful, count.not_useful) for count in counts]


def test_post_over_the_limit_gets_429_and_stores_nothing(limited: tuple[TestClient, Settings]) -> None:
    client, settings = limited
    for _ in range(LIMIT):
        assert client.post("/api/v1/feedback", json={"page": "/eherkenning/", "rating": 1}).status_code == 201

    refused = client.post("/api/v1/feedback", json={"page": "/eherkenning/", "rating": 0})

    assert refused.status_code == 429
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 60
    # The same body every rate-limited route answers with.
    assert refused.json() == {
        "error": {
            "id": "rate-limited",
            "message": "U hebt het te vaak geprobeerd. Wacht even en probeer het daarna opnieuw.",
            "retry_after": retry_after,
        }
    }
    assert "content-security-policy" in refused.headers
    assert stored(settings) == [("/eherkenning/", LIMIT, 0)]


def test_default_limit_allows_normal_use(settings: Settings) -> None:
    assert settings.rate_limits.feedback > LIMIT
    with TestClient(create_app(settings), base_url=settings.public_base_url) as client:
        for rating in (1, 0, 1, 1):
            assert client.post("/api/v1/feedback", json={"page": "/email/", "rating": rating}).status_code == 201
    assert stored(settings) == [("/email/", 3, 1)]
