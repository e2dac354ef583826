"""A 405 names every method the path accepts, over all its routes, not only the first route's."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from diagnostics.allow import allowed_methods


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "HEAD"])
def test_acs_refuses_other_methods_naming_get_and_post(client: TestClient, method: str) -> None:
    # /saml/acs is two routes (GET and POST); neither accepts HEAD.
    response = client.request(method, "/saml/acs")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


def test_health_probe_names_head_beside_get(client: TestClient) -> None:
    assert client.head("/healthz").status_code == 200
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_a_path_only_mounts_serve_names_nothing(client: TestClient) -> None:
    """The file servers behind mounts set their own Allow; the probe must not claim every method."""
    scope = {"type": "http", "method": "POST", "path": "/static/bestaat-niet.css", "headers": []}
    assert allowed_methods(client.app.router.routes, scope) == []  # type: ignore[attr-defined]
