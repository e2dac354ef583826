"""The service desk console's test account, and logging in to it the way a browser does (with its CSRF token)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from fastapi.testclient import TestClient

from diagnostics.app import create_app
from diagnostics.servicedesk import accounts
from diagnostics.settings import Settings
from diagnostics.store import Store
from tests.helpers.brokers import simulator_handler

USER = "anne.servicedesk"
PASSWORD = "correct horse battery staple"


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match[1]


@contextmanager
def console_client(settings: Settings, store: Store) -> Iterator[TestClient]:
    """The app with the console's test account; its broker documents come from the simulator in process
    (not from a server on port 8000)."""
    accounts.create_user(store.engine, USER, PASSWORD)
    app = create_app(settings, broker_transport=httpx.MockTransport(simulator_handler(settings)))
    with TestClient(app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def login(client: TestClient, name: str = USER, password: str = PASSWORD) -> None:
    page = client.get("/servicedesk/login")
    response = client.post(
        "/servicedesk/login",
        data={"name": name, "password": password, "csrf_token": csrf_token(page.text), "next": "/servicedesk"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
