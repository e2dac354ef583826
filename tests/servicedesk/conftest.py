"""A console client with one account (the account and the login helper are in tests/helpers/console.py)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from diagnostics.app import create_app
from diagnostics.servicedesk import accounts
from diagnostics.settings import Settings
from diagnostics.store import Store
from tests.helpers.brokers import simulator_handler
from tests.helpers.console import PASSWORD, USER, login


@pytest.fixture(autouse=True)
def cheap_argon2(cheap_argon2: None) -> None:
    """Every console test hashes with the test-sized cost (the root conftest's ``cheap_argon2``)."""


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
