"""The help site at ``/`` answers page paths; ``/api/`` paths get the API's JSON 404 and 405."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from diagnostics.app import create_app
from diagnostics.settings import load_settings

BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
SITE_404 = "<html><body><h1>Deze pagina van de inloghulp bestaat niet</h1></body></html>"
NOT_FOUND = {"error": {"id": "not-found", "message": "Deze pagina of dit adres bestaat niet."}}
NOT_ALLOWED = {"error": {"id": "method-not-allowed", "message": "Deze actie kan niet op dit adres."}}


@pytest.fixture
def client(tmp_path: Path, write_config: Callable[..., Path]) -> Iterator[TestClient]:
    site = tmp_path / "site"
    (site / "eherkenning").mkdir(parents=True)
    (site / "index.html").write_text("<html><body><h1>Start</h1></body></html>", encoding="utf-8")
    (site / "eherkenning" / "index.html").write_text("<html><body>eHerkenning</body></html>", encoding="utf-8")
    (site / "404.html").write_text(SITE_404, encoding="utf-8")
    app = create_app(load_settings(write_config({"site_dir": str(site)})))
    with TestClient(app) as test_client:
        yield test_client


def assert_security_headers(client: TestClient, response: Response) -> None:
    expected = client.app.state.security_headers  # type: ignore[attr-defined]
    assert expected["X-Frame-Options"] == "DENY"
    for name, value in expected.items():
        assert response.headers.get(name) == value, name


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
@pytest.mark.parametrize("path", ["/api/bestaat-niet", "/api/v1/bestaat/niet/", "/api", "/api/v1/feedback/extra"])
@pytest.mark.parametrize("headers", [{}, BROWSER], ids=["client", "browser"])
def test_unknown_api_path_gets_a_json_404(client: TestClient, method: str, path: str, headers: dict[str, str]) -> None:
    response = client.request(method, path, headers=headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == NOT_FOUND
    assert_security_headers(client, response)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("headers", [{}, BROWSER], ids=["client", "browser"])
def test_wrong_method_on_an_api_path_gets_a_json_405(client: TestClient, method: str, headers: dict[str, str]) -> None:
    response = client.request(method, "/api/v1/feedback", headers=headers)
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/json"
    assert response.headers["allow"] == "POST"
    assert response.json() == NOT_ALLOWED
    assert_security_headers(client, response)


def test_known_api_route_still_answers(client: TestClient) -> None:
    response = client.post("/api/v1/feedback", json={"page": "/eherkenning/", "rating": 1})
    assert response.status_code == 201


def test_unknown_page_still_gets_the_sites_html_404(client: TestClient) -> None:
    for path in ("/bestaat-niet/", "/apiverhaal/", "/eherkenning/api/x"):
        response = client.get(path, headers=BROWSER)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
        assert response.text == SITE_404
        assert_security_headers(client, response)


def test_site_pages_are_still_served(client: TestClient) -> None:
    assert "Start" in client.get("/").text
    assert client.get("/eherkenning/").text == "<html><body>eHerkenning</body></html>"


# (method, path, the Allow of all its routes). The site's file server would answer these with its own
# ``Allow: GET, HEAD`` (wrong methods) or with the site's HTML 404 (GET on a POST-only path).
SERVICE_PATHS = [
    ("POST", "/healthz", "GET, HEAD"),
    ("PUT", "/readyz", "GET, HEAD"),
    ("POST", "/metrics", "GET"),
    ("DELETE", "/diagnose", "GET"),
    ("POST", "/beheerder-kaart", "GET"),
    ("GET", "/servicedesk/zoek", "POST"),
    ("PUT", "/simulator/ars", "POST"),
]


@pytest.mark.parametrize(("method", "path", "allow"), SERVICE_PATHS)
def test_wrong_method_on_a_service_path_gets_the_routes_405(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.headers["content-type"] == "application/json"
    assert response.json() == NOT_ALLOWED
    assert_security_headers(client, response)


@pytest.mark.parametrize(("method", "path", "allow"), SERVICE_PATHS)
def test_a_browser_gets_the_services_405_page(client: TestClient, method: str, path: str, allow: str) -> None:
    response = client.request(method, path, headers=BROWSER)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.headers["content-type"].startswith("text/html")
    # The service's error page: its base template with the contact block, not the site's 404.
    assert "Deze actie kan niet op dit adres." in response.text
    assert "support@broservicedesk.nl" in response.text
    assert response.text != SITE_404
    assert_security_headers(client, response)


def test_service_paths_are_derived_from_the_routes(client: TestClient) -> None:
    """A route added after the app was built is owned too: nothing lists the paths twice."""
    from fastapi import APIRouter

    extra = APIRouter()

    @extra.get("/nieuw-in-de-dienst")
    def read_new() -> dict[str, str]:
        return {"status": "ok"}

    app = client.app
    site = app.router.routes.pop()  # type: ignore[attr-defined]
    app.include_router(extra)  # type: ignore[attr-defined]
    app.router.routes.append(site)  # type: ignore[attr-defined]
    response = client.post("/nieuw-in-de-dienst")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


def test_wrong_method_on_a_site_page_is_still_refused(client: TestClient) -> None:
    response = client.post("/eherkenning/")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert_security_headers(client, response)
