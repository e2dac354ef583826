from __future__ import annotations

from fastapi.testclient import TestClient

from diagnostics.app import create_app
from diagnostics.settings import Settings


def test_healthz_answers(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
