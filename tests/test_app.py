from __future__ import annotations

from fastapi.testclient import TestClient

from diagnostics.app import create_app
from diagnostics.settings import Settings


def test_healthz_answers(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_is_served_without_cdn_pages(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        spec = client.get("/openapi.json")
        docs = client.get("/docs")
    assert spec.status_code == 200
    assert "/api/v1/service-info" in spec.json()["paths"]
    assert "cdn.jsdelivr.net" not in docs.text
    assert docs.status_code == 404
