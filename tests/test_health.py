"""Liveness, readiness (a write probe on the database, and broker metadata), database faults (a Dutch 503
within 5 s, GET pages that only read) and the Prometheus endpoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import anyio
import httpx
import pytest
from anyio import to_thread
from fastapi.testclient import TestClient

from diagnostics import certs, errors, readiness
from diagnostics.app import create_app
from diagnostics.settings import load_settings
from diagnostics.store import Store
from tests.helpers.broker_documents import metadata_xml
from tests.helpers.broker_network import answering_only_together, pinned_brokers
from tests.helpers.brokers import client_for
from tests.helpers.live_server import LiveServer, free_port
from tests.helpers.sqlite_lock import write_locked


def _client(
    app_client: Callable[..., TestClient], write_config: Callable[..., Path], overrides: dict[str, object]
) -> TestClient:
    return app_client(load_settings(write_config(overrides)))


def _file_broker(tmp_path: Path) -> dict[str, object]:
    metadata = tmp_path / "hm.xml"
    metadata.write_bytes(metadata_xml(certs.generate("Health broker")))
    return {"brokers": [{"id": "hm", "name": "Test HM", "metadata_file": str(metadata)}]}


def test_healthz(app_client: Callable[..., TestClient], write_config: Callable[..., Path]) -> None:
    response = _client(app_client, write_config, {}).get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_probes_answer_head_like_get_without_a_body(
    app_client: Callable[..., TestClient], write_config: Callable[..., Path], tmp_path: Path
) -> None:
    client = _client(app_client, write_config, _file_broker(tmp_path))
    for path in ("/healthz", "/readyz"):
        response = client.head(path)
        assert response.status_code == 200, path
        assert response.content == b"", path
    broken = _client(
        app_client, write_config, {"brokers": [{"id": "gone", "name": "Gone", "metadata_file": str(tmp_path / "x")}]}
    )
    assert broken.head("/readyz").status_code == 503


def test_ready_when_database_and_metadata_answer(
    app_client: Callable[..., TestClient], write_config: Callable[..., Path], tmp_path: Path
) -> None:
    response = _client(app_client, write_config, _file_broker(tmp_path)).get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker:hm": "ok"}}


def test_not_ready_without_database(
    app_client: Callable[..., TestClient], write_config: Callable[..., Path], tmp_path: Path
) -> None:
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    response = _client(app_client, write_config, {**_file_broker(tmp_path), "database_url": closed}).get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "unavailable"
    assert body["checks"]["broker:hm"] == "ok"
    assert "127.0.0.1" not in response.text  # no connection details for whoever asks


def test_not_ready_when_metadata_is_missing_or_unreachable(
    app_client: Callable[..., TestClient], write_config: Callable[..., Path], tmp_path: Path
) -> None:
    brokers = [
        {"id": "gone", "name": "Gone", "metadata_file": str(tmp_path / "missing.xml")},
        {"id": "down", "name": "Down", "metadata_url": f"http://127.0.0.1:{free_port()}/metadata"},
    ]
    response = _client(app_client, write_config, {"brokers": brokers}).get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "broker:gone": "unavailable: config-error",
        "broker:down": "unavailable: broker-unreachable",
    }


def test_readiness_asks_all_brokers_at_once(write_config: Callable[..., Path], tmp_path: Path) -> None:
    pair = certs.generate("Makelaar", serial_number="00000009999999999001")
    handler, arrived = answering_only_together(pair)
    with client_for(pinned_brokers(write_config, tmp_path, pair), handler) as client:
        response = client.get("/readyz")
    assert response.json()["checks"] == {"database": "ok", "broker:hm-a": "ok", "broker:hm-b": "ok"}
    assert sorted(arrived) == ["hm-a.example/md", "hm-b.example/md"]


def test_metrics_exposition(app_client: Callable[..., TestClient], write_config: Callable[..., Path]) -> None:
    response = _client(app_client, write_config, {}).get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    for name in (
        "inloghulp_roundtrips_started_total",
        "inloghulp_roundtrips_finished_total",
        "inloghulp_explain_calls_total",
        "inloghulp_artifact_resolve_seconds_bucket",
        "inloghulp_certificate_days_left",
    ):
        assert f"# TYPE {name.removesuffix('_total').removesuffix('_bucket')}" in text, name
    line = next(
        line
        for line in text.splitlines()
        if line.startswith('inloghulp_certificate_days_left{certificate="sp-current"}')
    )
    assert 360 <= float(line.rsplit(" ", 1)[1]) <= 365


def test_ready_with_the_embedded_simulator(live_server: Callable[..., LiveServer]) -> None:
    server = live_server()
    response = httpx.get(f"{server.url}/readyz", timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "broker:simulator": "ok"}


# ── database faults: seen by /readyz, a Dutch 503 within 5 s, and GET pages that do not write ──


@pytest.fixture
def sqlite_app(
    app_client: Callable[..., TestClient], write_config: Callable[..., Path], tmp_path: Path
) -> tuple[TestClient, Path]:
    """The app on a SQLite file, with a broker from a file (no network). Its rate limits stay on: a lookup is
    counted in memory, and a shared counter that meets a locked database answers the 503 itself, without
    raising (the test client would raise it)."""
    settings = load_settings(write_config(_file_broker(tmp_path)))
    client = app_client(settings, base_url="http://127.0.0.1:8000")
    return client, Path(settings.database_url.removeprefix("sqlite:///"))


def test_readiness_reports_a_locked_database_quickly(sqlite_app: tuple[TestClient, Path]) -> None:
    client, path = sqlite_app
    assert client.get("/readyz").json()["checks"]["database"] == "ok"
    with write_locked(path):
        started = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "locked"
    assert elapsed < readiness.PROBE_SECONDS + 1
    assert client.get("/readyz").json()["checks"]["database"] == "ok"  # and back when the lock is gone


def test_a_locked_database_is_a_dutch_503_within_5_seconds(sqlite_app: tuple[TestClient, Path]) -> None:
    client, path = sqlite_app
    client.get("/diagnose")
    with write_locked(path):
        started = time.monotonic()
        page = client.post("/diagnose/start", data={"broker": "hm"}, headers={"Accept": "text/html"})
        page_seconds = time.monotonic() - started
        started = time.monotonic()
        api = client.post("/api/v1/feedback", json={"page": "/", "rating": 1})
        api_seconds = time.monotonic() - started
    assert page.status_code == 503 and page_seconds < 5
    assert page.headers["retry-after"] == errors.DATABASE_RETRY_AFTER
    assert "De inloghulp kan nu niet bij zijn gegevens" in page.text and "Dat ligt niet aan u" in page.text
    assert "OperationalError" not in page.text and "locked" not in page.text
    assert api.status_code == 503 and api_seconds < 5
    assert api.json()["error"]["id"] == "database-unavailable"


def test_get_pages_do_not_write_and_show_an_expired_test_as_not_come_back(sqlite_app: tuple[TestClient, Path]) -> None:
    client, path = sqlite_app
    store = Store(f"sqlite:///{path}")
    old = store.create_session(
        broker_id="hm", supplier_id=None, request_id=None, now=datetime.now(UTC) - timedelta(hours=1)
    )
    # While another connection holds the write lock, the result page, its JSON and the chooser still answer:
    # they only read. The test past its timeout already reads as not come back.
    with write_locked(path):
        started = time.monotonic()
        page = client.get(f"/diagnose/{old.reference}")
        verdict = client.get(f"/api/v1/diagnose/{old.reference}").json()
        chooser = client.get("/diagnose")
        elapsed = time.monotonic() - started
    assert (page.status_code, chooser.status_code) == (200, 200) and elapsed < 3
    assert verdict["diagnosis"]["id"] == "no-response"
    # Nothing was written by those pages; the scheduled expiry (app lifespan) records it.
    assert store.get_session(old.reference).state in {"started", "no-response"}  # type: ignore[union-attr]
    store.close()


def test_the_lifespan_expires_unanswered_tests_on_a_schedule(
    app_client: Callable[..., TestClient], write_config: Callable[..., Path], tmp_path: Path
) -> None:
    settings = load_settings(write_config({**_file_broker(tmp_path), "no_response_timeout_seconds": 1}))
    store = Store(settings.database_url)
    session = store.create_session(broker_id="hm", supplier_id=None, request_id=None)
    app_client(settings)  # started: its lifespan runs the expiry every quarter of the timeout
    deadline = time.monotonic() + 10
    while store.get_session(session.reference).state == "started":  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the expiry never ran"
        time.sleep(0.1)
    assert store.get_session(session.reference).state == "no-response"  # type: ignore[union-attr]
    store.close()


def test_readiness_sees_a_deleted_and_a_replaced_database_file(sqlite_app: tuple[TestClient, Path]) -> None:
    client, path = sqlite_app
    assert client.get("/readyz").json()["checks"]["database"] == "ok"
    saved = path.read_bytes()
    path.unlink()
    assert client.get("/readyz").json()["checks"]["database"] == "unavailable"
    # No new, empty file is made where the real one was, and no write goes into the deleted one: a 503.
    assert client.post("/api/v1/feedback", json={"page": "/", "rating": 1}).status_code == 503
    assert not path.exists()
    path.write_bytes(saved)  # someone "restores" a copy: another file at the same path
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["checks"]["database"] == "replaced"
    assert client.post("/api/v1/feedback", json={"page": "/", "rating": 1}).status_code == 503


@pytest.mark.anyio
async def test_probes_do_not_wait_for_a_saturated_thread_pool(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    app = create_app(load_settings(write_config(_file_broker(tmp_path))))
    async with app.router.lifespan_context(app):
        limiter = to_thread.current_default_thread_limiter()
        release = threading.Event()
        async with anyio.create_task_group() as group:
            # Every thread of the request pool busy with something slow.
            for _ in range(int(limiter.total_tokens)):
                group.start_soon(partial(to_thread.run_sync, release.wait, 10))
            await anyio.sleep(0.2)
            try:
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
                    with anyio.fail_after(1.5):
                        health = await client.get("/healthz")
                        ready = await client.get("/readyz")
            finally:
                release.set()
    assert health.status_code == 200
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
