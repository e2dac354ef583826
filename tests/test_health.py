"""Liveness, readiness (database and broker metadata) and the Prometheus endpoint."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from diagnostics import certs
from diagnostics.settings import load_settings
from tests.broker_network import answering_only_together, pinned_brokers
from tests.conftest import LiveServer, free_port
from tests.helpers.brokers import client_for
from tests.test_brokers import metadata_xml


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
    assert body["checks"]["database"].startswith("unavailable: ")
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
