from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from diagnostics.app import create_app
from diagnostics.settings import Settings
from diagnostics.store import Store


def test_healthz_answers(settings: Settings) -> None:
    with TestClient(create_app(settings), base_url=settings.public_base_url) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_is_served_without_cdn_pages(settings: Settings) -> None:
    with TestClient(create_app(settings), base_url=settings.public_base_url) as client:
        spec = client.get("/openapi.json")
        docs = client.get("/docs")
    assert spec.status_code == 200
    assert "/api/v1/service-info" in spec.json()["paths"]
    assert "cdn.jsdelivr.net" not in docs.text
    assert docs.status_code == 404


def test_sessions_past_the_retention_are_purged_at_start(settings: Settings) -> None:
    store = Store(settings.database_url)
    old = store.create_session(
        broker_id="simulator", supplier_id=None, request_id="_old", now=datetime.now(UTC) - timedelta(days=31)
    )
    recent = store.create_session(broker_id="simulator", supplier_id=None, request_id="_recent")
    with TestClient(create_app(settings), base_url=settings.public_base_url):
        pass
    assert store.get_session(old.reference) is None
    assert store.get_session(recent.reference) is not None
