"""The broker metadata watch, with two versions of a broker's metadata: key roll, moved endpoint, refusal."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from diagnostics import certs, cli
from diagnostics.metadata_watch import latest_snapshot, refresh
from diagnostics.settings import Settings, load_settings
from diagnostics.store import Store
from tests.helpers.broker_documents import metadata_xml


@pytest.fixture(scope="module")
def key_a() -> certs.KeyPair:
    return certs.generate("Broker key A")


@pytest.fixture(scope="module")
def key_b() -> certs.KeyPair:
    return certs.generate("Broker key B")


def _changes(app_client: Callable[..., TestClient], settings: Settings, broker: str, kind: str) -> float:
    """The count /metrics reports (from the stored snapshots, whichever process refreshed them)."""
    text = app_client(settings).get("/metrics").text
    prefix = f'inloghulp_broker_metadata_changes{{broker="{broker}",kind="{kind}"}} '
    return next((float(line.removeprefix(prefix)) for line in text.splitlines() if line.startswith(prefix)), 0.0)


def _settings(write_config: Callable[..., Path], metadata: Path, pin: Path | None = None) -> Settings:
    broker: dict[str, str] = {"id": "hm", "name": "Test HM", "metadata_file": str(metadata)}
    if pin is not None:
        broker["metadata_signing_cert_file"] = str(pin)
    return load_settings(write_config({"brokers": [broker]}))


def test_two_versions_key_roll_and_moved_endpoint(
    app_client: Callable[..., TestClient],
    write_config: Callable[..., Path],
    tmp_path: Path,
    key_a: certs.KeyPair,
    key_b: certs.KeyPair,
    caplog: pytest.LogCaptureFixture,
) -> None:
    metadata = tmp_path / "hm.xml"
    metadata.write_bytes(metadata_xml(key_a))
    settings = _settings(write_config, metadata)
    store = Store(settings.database_url)

    first = refresh(settings, store)
    assert [r.error for r in first] == [None] and first[0].changes == []
    snapshot = latest_snapshot(store, "hm")
    assert snapshot is not None
    assert snapshot.signing_fingerprints == [certs.fingerprint_sha256(key_a.cert)]
    assert snapshot.endpoints["sso_redirect"] == "https://hm.example/sso/redirect"
    assert refresh(settings, store)[0].changes == []  # the same document again: nothing to report

    assert _changes(app_client, settings, "hm", "signing-key") == 0
    moved = metadata_xml(key_b).replace(b"https://hm.example/sso/redirect", b"https://hm-new.example/sso/redirect")
    metadata.write_bytes(moved)
    with caplog.at_level(logging.WARNING, logger="diagnostics.metadata_watch"):
        second = refresh(settings, store)[0]
    kinds = sorted(change.kind for change in second.changes)
    assert kinds == ["endpoint", "signing-key", "signing-key"]
    details = " ".join(change.detail for change in second.changes)
    assert certs.fingerprint_sha256(key_b.cert) in details and certs.fingerprint_sha256(key_a.cert) in details
    assert "hm-new.example" in details
    assert _changes(app_client, settings, "hm", "signing-key") == 2
    assert _changes(app_client, settings, "hm", "endpoint") == 1
    assert sum("metadata change" in record.getMessage() for record in caplog.records) == 3

    latest = latest_snapshot(store, "hm")
    assert latest is not None and latest.signing_fingerprints == [certs.fingerprint_sha256(key_b.cert)]
    status = app_client(settings).get("/api/v1/status").json()
    broker = status["brokers"][0]
    assert status["status"] == "warning"
    assert sorted(change["kind"] for change in broker["changes"]) == kinds
    assert broker["metadata"]["signing_fingerprints"] == [certs.fingerprint_sha256(key_b.cert)]


def test_untrusted_signature_is_refused_and_previous_copy_kept(
    app_client: Callable[..., TestClient],
    write_config: Callable[..., Path],
    tmp_path: Path,
    key_a: certs.KeyPair,
    key_b: certs.KeyPair,
) -> None:
    pin = tmp_path / "pin.pem"
    pin.write_bytes(key_a.cert_pem)
    metadata = tmp_path / "hm.xml"
    metadata.write_bytes(metadata_xml(key_a))
    settings = _settings(write_config, metadata, pin)
    store = Store(settings.database_url)
    good = refresh(settings, store)[0]
    assert good.error is None and good.snapshot is not None and good.snapshot.signature_verified is True

    metadata.write_bytes(metadata_xml(key_b, sign_with=key_b))  # a new key, signed by itself: not trusted
    bad = refresh(settings, store)[0]
    assert bad.error is not None and bad.error.startswith("untrusted-certificate")
    assert _changes(app_client, settings, "hm", "refused") == 1
    kept = latest_snapshot(store, "hm")
    assert kept is not None and kept.signing_fingerprints == [certs.fingerprint_sha256(key_a.cert)]
    status = app_client(settings).get("/api/v1/status").json()
    assert status["status"] == "error"
    assert status["brokers"][0]["refused"]["error"].startswith("untrusted-certificate")
    assert status["brokers"][0]["metadata"]["signing_fingerprints"] == [certs.fingerprint_sha256(key_a.cert)]

    result = CliRunner().invoke(cli.app, ["refresh-metadata", "--config", str(write_config_path(settings))])
    assert result.exit_code == 1
    assert "GEWEIGERD" in result.output
    assert _changes(app_client, settings, "hm", "refused") == 2

    # The broker's own key is back: accepted again, and the refusal is no longer current.
    metadata.write_bytes(metadata_xml(key_a))
    assert refresh(settings, store)[0].error is None
    assert app_client(settings).get("/api/v1/status").json()["brokers"][0]["refused"] is None


def write_config_path(settings: Settings) -> Path:
    """The file the settings came from (the test config in tmp_path)."""
    return Path(settings.database_url.removeprefix("sqlite:///")).parent / "inloghulp.toml"


def test_expiring_signing_certificate_is_a_warning(
    app_client: Callable[..., TestClient], write_config: Callable[..., Path], tmp_path: Path, key_a: certs.KeyPair
) -> None:
    short = certs.generate("Broker key expiring", days=10)
    metadata = tmp_path / "hm.xml"
    metadata.write_bytes(metadata_xml(short))
    settings = _settings(write_config, metadata)
    result = CliRunner().invoke(cli.app, ["refresh-metadata", "--config", str(write_config_path(settings))])
    assert result.exit_code == 0, result.output
    assert "waarschuwing" in result.output and "verloopt over 9 dagen" in result.output
    status = app_client(settings).get("/api/v1/status").json()
    assert status["status"] == "warning"
    assert status["brokers"][0]["warnings"]
    metrics = app_client(settings).get("/metrics").text
    fingerprint = certs.fingerprint_sha256(short.cert).replace(":", "")[:16].lower()
    line = next(line for line in metrics.splitlines() if f'certificate="broker-hm-{fingerprint}"' in line)
    assert float(line.rsplit(" ", 1)[1]) == 9.0
