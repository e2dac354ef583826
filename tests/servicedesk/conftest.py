"""A console client with one account, and helpers to read CSRF tokens and log in."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from argon2 import PasswordHasher
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


def login(client: TestClient, name: str = USER, password: str = PASSWORD) -> None:
    page = client.get("/servicedesk/login")
    response = client.post(
        "/servicedesk/login",
        data={"name": name, "password": password, "csrf_token": csrf_token(page.text), "next": "/servicedesk"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Still argon2id, with test-sized cost: the production cost (~0.5 s per hash) would slow every test."""
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", hasher)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", hasher.hash("dummy"))


@pytest.fixture
def store(settings: Settings) -> Store:
    return Store(settings.database_url)


@pytest.fixture
def client(settings: Settings, store: Store) -> Iterator[TestClient]:
    accounts.create_user(store.engine, USER, PASSWORD)
    # The broker's documents come from the simulator in process, not from a server on port 8000.
    app = create_app(settings, broker_transport=httpx.MockTransport(simulator_handler(settings)))
    with TestClient(app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


@pytest.fixture
def logged_in(client: TestClient) -> TestClient:
    login(client)
    return client
