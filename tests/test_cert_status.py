from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from diagnostics import certs
from diagnostics.cert_status import WARNING_DAYS, sp_statuses, status_for
from diagnostics.settings import load_settings
from diagnostics.simulator.keys import keys_for
from diagnostics.simulator.metadata import broker_metadata


def test_status_boundaries() -> None:
    assert status_for(-1) == "error"
    assert status_for(0) == "warning"
    assert status_for(WARNING_DAYS - 1) == "warning"
    assert status_for(WARNING_DAYS) == "ok"


def test_current_and_next_certificate(write_config: Callable[..., Path], tmp_path: Path) -> None:
    soon = certs.generate("Next", days=20)
    certs.write(soon, tmp_path / "next-key.pem", tmp_path / "next-cert.pem")
    settings = load_settings(
        write_config({"sp": {"next_cert_file": str(tmp_path / "next-cert.pem"), "next_cert_activation": "2030-01-01"}})
    )
    current, upcoming = sp_statuses(settings)
    assert (current.role, current.status) == ("current", "ok")
    assert current.fingerprint_sha256 == certs.fingerprint_sha256(certs.load_cert(settings.sp.cert_file))
    assert (upcoming.role, upcoming.status, upcoming.days_left) == ("next", "warning", 19)
    assert upcoming.activation == date(2030, 1, 1)
    assert "Verloopt over 19 dagen" in upcoming.message


def test_expired_and_unreadable_certificates_are_errors(write_config: Callable[..., Path], tmp_path: Path) -> None:
    old = certs.generate("Old", days=5, not_before=datetime.now(UTC) - timedelta(days=10))
    certs.write(old, tmp_path / "old-key.pem", tmp_path / "old-cert.pem")
    settings = load_settings(
        write_config(
            {
                "sp": {
                    "cert_file": str(tmp_path / "old-cert.pem"),
                    "next_cert_file": str(tmp_path / "missing.pem"),
                    "next_cert_activation": "2030-01-01",
                }
            }
        )
    )
    current, upcoming = sp_statuses(settings)
    assert current.status == "error" and current.days_left is not None and current.days_left < 0
    assert current.message.startswith("Verlopen op")
    assert upcoming.status == "error" and upcoming.fingerprint_sha256 is None


def test_api_lists_sp_and_broker_certificates(
    app_client: Callable[..., TestClient], write_config: Callable[..., Path], tmp_path: Path
) -> None:
    base = load_settings(write_config())
    metadata_file = tmp_path / "broker-metadata.xml"
    metadata_file.write_bytes(broker_metadata(base))
    settings = load_settings(
        write_config(
            {
                "brokers": [
                    {"id": "hm", "name": "Makelaar", "metadata_file": str(metadata_file)},
                    {"id": "gone", "name": "Weg", "metadata_url": "http://127.0.0.1:9/metadata"},
                ]
            }
        )
    )
    body = app_client(settings).get("/api/v1/certificates").json()
    assert body["status"] == "error"  # the unreachable broker
    rows = {(row["owner"], row["role"]): row for row in body["certificates"]}
    assert rows[("sp", "current")]["status"] == "ok"
    broker_cert = keys_for(base.simulator.key_dir).broker.cert
    assert rows[("hm", "signing")]["fingerprint_sha256"] == certs.fingerprint_sha256(broker_cert)
    assert rows[("hm", "signing")]["days_left"] == certs.days_left(broker_cert)
    assert rows[("gone", "signing")]["status"] == "error"
    assert rows[("gone", "signing")]["days_left"] is None
