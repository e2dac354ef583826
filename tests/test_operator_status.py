"""/api/v1/status and /metrics report the certificates /api/v1/certificates reports, from the same metadata."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from diagnostics import certs
from diagnostics.metadata_watch import refresh
from diagnostics.settings import load_settings
from diagnostics.store import Store
from tests.helpers.broker_documents import metadata_xml


def _metric(text: str, name: str) -> float | None:
    prefix = f'inloghulp_certificate_days_left{{certificate="{name}"}} '
    return next((float(line.removeprefix(prefix)) for line in text.splitlines() if line.startswith(prefix)), None)


def test_a_broker_key_roll_before_refresh_metadata_shows_the_same_certificates_everywhere(
    app_client: Callable[..., TestClient], write_config: Callable[..., Path], tmp_path: Path
) -> None:
    old, new = certs.generate("Broker key old"), certs.generate("Broker key new", days=10)
    metadata = tmp_path / "hm.xml"
    metadata.write_bytes(metadata_xml(old))
    settings = load_settings(
        write_config({"brokers": [{"id": "hm", "name": "Test HM", "metadata_file": str(metadata)}]})
    )
    refresh(settings, Store(settings.database_url))  # the cron job saw the old key ...
    metadata.write_bytes(metadata_xml(new))  # ... then the broker rolled to a key that expires soon
    client = app_client(settings)

    report = client.get("/api/v1/certificates").json()
    status = client.get("/api/v1/status").json()
    metrics = client.get("/metrics").text

    (broker,) = [row for row in report["certificates"] if row["owner"] == "hm"]
    assert broker["fingerprint_sha256"] == certs.fingerprint_sha256(new.cert) and broker["days_left"] == 9
    name = "broker-hm-" + certs.fingerprint_sha256(new.cert).replace(":", "")[:16].lower()
    assert {row["name"]: (row["days_left"], row["status"]) for row in status["certificates"]} == {
        "sp-current": (report["certificates"][0]["days_left"], "ok"),
        name: (9, "warning"),
    }
    assert _metric(metrics, name) == 9.0
    old_name = "broker-hm-" + certs.fingerprint_sha256(old.cert).replace(":", "")[:16].lower()
    assert _metric(metrics, old_name) is None


def test_an_unreadable_certificate_is_an_error_in_the_status_too(
    app_client: Callable[..., TestClient], write_config: Callable[..., Path], tmp_path: Path
) -> None:
    settings = load_settings(
        write_config(
            {
                "sp": {"next_cert_file": str(tmp_path / "missing.pem"), "next_cert_activation": "2030-01-01"},
                "brokers": [{"id": "hm", "name": "Test HM", "metadata_file": str(tmp_path / "missing.xml")}],
            }
        )
    )
    client = app_client(settings)
    report = client.get("/api/v1/certificates").json()
    status = client.get("/api/v1/status").json()
    assert report["status"] == status["status"] == "error"
    rows = {row["name"]: (row["days_left"], row["status"]) for row in status["certificates"]}
    assert rows["sp-next"] == (None, "error") and rows["broker-hm"] == (None, "error")
    assert rows["sp-current"][1] == "ok"
    metrics = client.get("/metrics").text
    assert _metric(metrics, "sp-current") is not None  # one unreadable certificate does not hide the others
