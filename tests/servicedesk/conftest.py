"""The console tests' client, with one account (tests/helpers/console.py), and cheap password hashing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from diagnostics.settings import Settings
from diagnostics.store import Store
from tests.helpers.console import console_client, login


@pytest.fixture(autouse=True)
def cheap_argon2(cheap_argon2: None) -> None:
    """Every console test hashes with the test-sized cost (the root conftest's ``cheap_argon2``)."""


@pytest.fixture
def client(settings: Settings, store: Store) -> Iterator[TestClient]:
    """The console's client (it follows redirects, unlike the root conftest's ``client``)."""
    with console_client(settings, store) as test_client:
        yield test_client


@pytest.fixture
def logged_in(client: TestClient) -> TestClient:
    login(client)
    return client
