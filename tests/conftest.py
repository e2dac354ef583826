"""Shared fixtures: generated keys, a configuration per test, and a real server on a free port."""

from __future__ import annotations

import copy
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w
from fastapi import FastAPI
from fastapi.testclient import TestClient

from diagnostics import certs
from diagnostics.app import create_app
from diagnostics.resources import Resources, open_resources
from diagnostics.settings import Settings, load_settings
from diagnostics.store import Store

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

BASE_CONFIG: dict[str, Any] = {
    "public_base_url": "http://127.0.0.1:8000",
    "environment": "development",
    "service": {
        "example_values": True,
        "provider_name": "Voorbeeld Dienstverlener BRO",
        "provider_oin": "00000009999999999000",
        "name": "Bronhouderportaal (voorbeeld)",
        "description": "Inloggen in het Bronhouderportaal. Voorbeeldwaarde.",
        "uuid": "9f1c6a52-3b7e-4d0a-9c55-000000009001",
        "service_id": "urn:etoegang:DV:00000009999999999000:services:9001",
        "required_loa": "urn:etoegang:core:assurance-class:loa2plus",
        "attribute_consuming_service_index": 9001,
    },
    "sp": {
        "entity_id": "urn:etoegang:DV:00000009999999999000:entities:9001",
    },
    "brokers": [{"id": "simulator", "name": "Simulator", "embedded": True, "soap_content_type": "text/xml"}],
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: pytest-playwright keeps an event loop running in the main thread for the rest
    of the session, after which every test that starts a loop of its own there (an ``anyio`` test, or a
    helper's ``asyncio.run``) fails."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``overrides`` into a copy of ``base``; a value of None removes the key."""
    result = copy.deepcopy(base)
    for key, value in overrides.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = value
    return result


def config_file(
    directory: Path,
    key_file: Path,
    cert_file: Path,
    overrides: dict[str, Any] | None = None,
    *,
    name: str = "inloghulp.toml",
) -> Path:
    """A valid configuration file in ``directory``, with the database and simulator keys there too."""
    data = merge(
        BASE_CONFIG,
        {
            "database_url": f"sqlite:///{directory / 'inloghulp.sqlite3'}",
            "site_dir": str(ROOT / "site"),
            "sp": {"key_file": str(key_file), "cert_file": str(cert_file)},
            "simulator": {"key_dir": str(directory / "simulator")},
        },
    )
    path = directory / name
    path.write_text(tomli_w.dumps(merge(data, overrides or {})), encoding="utf-8")
    return path


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


class LiveServer:
    """``inloghulp serve`` in its own process on a free loopback port."""

    def __init__(self, config: Path, workers: int = 1, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, "INLOGHULP_PUBLIC_BASE_URL": self.url, **(env or {})}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "diagnostics",
                "serve",
                "--config",
                str(config),
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            env=environment,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        # Read the server's output all the time: a pipe nobody reads fills up (64 KiB, a few hundred request
        # log lines), and then the server blocks on its next log line and stops answering.
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._wait()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in iter(self.process.stdout.readline, b""):
            self.lines.append(line.decode(errors="replace"))

    def output(self) -> str:
        return "".join(self.lines)

    def _wait(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._reader.join(timeout=5)
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not answer /healthz within 30 s")

    def stop(self) -> str:
        """Stop the server; everything it printed."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.output()


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
