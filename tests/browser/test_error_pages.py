"""The Dutch error pages (404, 413, 429, 403, 500) pass axe and show no internals, in Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Page, Route

from diagnostics import middleware
from diagnostics.app import create_app
from diagnostics.settings import Settings
from tests.browser.pages import settled

pytestmark = pytest.mark.browser

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
HTML = {"accept": "text/html"}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app: FastAPI = create_app(settings)
    router = APIRouter()

    @router.get("/_test/boom")
    def boom() -> None:
        raise RuntimeError("internal detail")

    @router.get("/_test/missing")
    def missing() -> None:
        from fastapi import HTTPException

        raise HTTPException(404)

    before = len(app.router.routes)
    app.include_router(router)
    added = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[0:0] = added
    with TestClient(app, base_url=settings.public_base_url, raise_server_exceptions=False) as test_client:
        yield test_client


def _pages(client: TestClient, settings: Settings) -> dict[str, str]:
    big = b"x" * (middleware.max_body_bytes(settings) + 1)
    pages = {
        "404": client.get("/_test/missing", headers=HTML),
        "500": client.get("/_test/boom", headers=HTML),
        "413": client.post("/diagnose/start", content=big, headers=HTML),
        "403": client.post("/diagnose/start", data={}, headers={**HTML, "sec-fetch-site": "cross-site"}),
    }
    for _ in range(settings.rate_limits.login):
        client.post("/servicedesk/login", data={}, headers=HTML)
    pages["429"] = client.post("/servicedesk/login", data={}, headers=HTML)
    for status, response in pages.items():
        assert str(response.status_code) == status, (status, response.text[:300])
    return {status: response.text for status, response in pages.items()}


def test_error_pages_pass_axe(page: Page, client: TestClient, settings: Settings) -> None:
    pages = _pages(client, settings)

    def serve(route: Route) -> None:
        """Each error page at /_page/<status>; everything else (stylesheet, script) from the app."""
        path = urlsplit(route.request.url).path
        if path.startswith("/_page/"):
            route.fulfill(status=200, content_type="text/html", body=pages[path.rsplit("/", 1)[-1]])
            return
        response = client.get(path)
        route.fulfill(status=response.status_code, headers=dict(response.headers), body=response.content)

    page.route("http://inloghulp.test/**", serve)
    for status, html in pages.items():
        page.goto(f"http://inloghulp.test/_page/{status}")
        assert page.locator("h1").count() == 1, status
        assert "internal detail" not in html and "Traceback" not in html
        settled(page)
        result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
        assert result.violations_count == 0, f"{status}:\n{result.generate_report()}"
