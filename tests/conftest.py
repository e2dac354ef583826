"""Shared fixtures: generated keys, a configuration per test, stores, apps and real servers.

Plain helpers (configuration files, the live server) live in ``tests/helpers/``; tests import them from there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from diagnostics import certs
from diagnostics.app import create_app
from diagnostics.resources import Resources, open_resources
from diagnostics.servicedesk import accounts
from diagnostics.settings import Settings, load_settings
from diagnostics.store import Store
from tests.helpers.brokers import client_for, simulator_handler
from tests.helpers.config import config_file
from tests.helpers.live_server import LiveServer


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: pytest-playwright keeps an event loop running in the main thread for the rest
    of the session, after which every test that starts a loop of its own there (an ``anyio`` test, or a
    helper's ``asyncio.run``) fails."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def sp_keypair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One generated SP key and certificate for the whole session."""
    directory = tmp_path_factory.mktemp("sp-keys")
    key_file, cert_file = directory / "sp-key.pem", directory / "sp-cert.pem"
    certs.write(certs.generate("Test SP", serial_number="00000009999999999000"), key_file, cert_file)
    return key_file, cert_file


@pytest.fixture
def write_config(tmp_path: Path, sp_keypair: tuple[Path, Path]) -> Callable[..., Path]:
    """Write a valid configuration with ``overrides`` merged in; returns the file."""

    def _write(overrides: dict[str, Any] | None = None, name: str = "inloghulp.toml") -> Path:
        return config_file(tmp_path, *sp_keypair, overrides, name=name)

    return _write


@pytest.fixture
def settings(write_config: Callable[..., Path]) -> Settings:
    return load_settings(write_config())


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio (the anyio pytest plugin, bundled with anyio)."""
    return "asyncio"


@pytest.fixture
async def resources(settings: Settings) -> AsyncIterator[Resources]:
    """The composition root for ``settings``, open for one async test (``@pytest.mark.anyio``)."""
    async with open_resources(settings) as opened:
        yield opened


@pytest.fixture
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Console passwords still hashed with argon2id, at test-sized cost: the production cost (~0.5 s per
    hash) would slow every test that logs in."""
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", hasher)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", hasher.hash("dummy"))


@pytest.fixture
def open_store() -> Iterator[Callable[[str], Store]]:
    """Stores for a test's own look at a database; their connection pools are closed after the test
    (an open PostgreSQL connection left to the garbage collector is a ResourceWarning, an error here)."""
    opened: list[Store] = []

    def _open(url: str) -> Store:
        store = Store(url)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


@pytest.fixture
def store(settings: Settings, open_store: Callable[[str], Store]) -> Store:
    """The test's own look at the database of ``settings`` (closed after the test)."""
    return open_store(settings.database_url)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The app for ``settings`` with its lifespan running; its broker documents come from the embedded
    simulator in process, not from a server on port 8000. Redirects are not followed."""
    with client_for(settings, simulator_handler(settings)) as test_client:
        yield test_client


@pytest.fixture
def app_client() -> Iterator[Callable[..., TestClient]]:
    """Start apps with their lifespan running: ``app_client(settings_or_app, broker_transport=..., **client_kwargs)``.

    The lifespan builds the app's resources (store, broker registry, keys); all are closed after the test.
    """
    started: list[TestClient] = []

    def _start(
        target: Settings | FastAPI, *, broker_transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any
    ) -> TestClient:
        app = target if isinstance(target, FastAPI) else create_app(target, broker_transport=broker_transport)
        if isinstance(target, Settings):
            # The app answers only to its own host (diagnostics.middleware.HostAllowListMiddleware).
            kwargs.setdefault("base_url", target.public_base_url)
        client = TestClient(app, **kwargs)
        client.__enter__()
        started.append(client)
        return client

    yield _start
    for client in reversed(started):
        client.__exit__(None, None, None)


@pytest.fixture
def live_server(write_config: Callable[..., Path]) -> Iterator[Callable[..., LiveServer]]:
    """Start real servers: ``live_server(overrides, workers=1)``; all are stopped after the test."""
    started: list[LiveServer] = []

    def _start(
        overrides: dict[str, Any] | None = None, workers: int = 1, env: dict[str, str] | None = None
    ) -> LiveServer:
        server = LiveServer(write_config(overrides), workers=workers, env=env)
        started.append(server)
        return server

    yield _start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the session (tests/pg.py); fails clearly when not installed."""
    import tempfile

    from tests.pg import PostgresCluster

    try:
        cluster = PostgresCluster(Path(tempfile.mkdtemp(prefix="inloghulp-pg-"))).start()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield cluster.url
    cluster.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty database on each backend: a SQLite file, and a fresh database in the PostgreSQL cluster."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    from tests.pg import fresh_database

    return fresh_database(request.getfixturevalue("pg_url"))
