"""The cookie that says which tests a browser started (diagnostics.ownership), read and made in tests."""

from __future__ import annotations

from http.cookies import SimpleCookie

from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import Response

from diagnostics import ownership
from diagnostics.settings import Settings


def latest_reference(cookie_value: str | None) -> str:
    """The most recent reference in the cookie's value (``REF.MAC~REF.MAC``)."""
    assert cookie_value, "no test started in this browser"
    return cookie_value.split("~")[-1].partition(".")[0]


def owner_cookie(settings: Settings, *refs: str) -> str:
    """The cookie value a browser gets after starting ``refs`` (in that order)."""
    value = ""
    for ref in refs:
        request = Request({"type": "http", "headers": [(b"cookie", f"{ownership.COOKIE}={value}".encode())]})
        response = Response()
        ownership.remember(response, request, settings, ref)
        cookie: SimpleCookie = SimpleCookie(response.headers["set-cookie"])
        value = cookie[ownership.COOKIE].value
    return value


def own(client: TestClient, settings: Settings, *refs: str) -> None:
    """Make ``client`` the browser that started ``refs`` (for tests that create sessions in the store)."""
    client.cookies.set(ownership.COOKIE, owner_cookie(settings, *refs))
