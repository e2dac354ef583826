"""The back channel's files: settings, check-config, and the certificate report with our TLS client certificate."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from pydantic import ValidationError

from diagnostics import certs
from diagnostics.cert_page import OPERATOR, owner_groups
from diagnostics.cert_status import tls_client_statuses
from diagnostics.config_check import check_files
from diagnostics.operator_status import certificate_days_left
from diagnostics.settings import Settings, load_settings
from diagnostics.simulator.metadata import broker_metadata
from tests.helpers.tls import TlsFiles, issue

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return TlsFiles(tmp_path_factory.mktemp("tls"))


def _with_broker(write_config: Callable[..., Path], tmp_path: Path, **tls_settings: str) -> Settings:
    base = load_settings(write_config())
    metadata = tmp_path / "hm-metadata.xml"
    metadata.write_bytes(broker_metadata(base))
    broker: dict[str, Any] = {"id": "hm", "name": "Makelaar", "metadata_file": str(metadata), **tls_settings}
    return load_settings(write_config({"brokers": [broker]}, name="hm.toml"))


def _pair(tls: TlsFiles) -> dict[str, str]:
    return {"tls_client_cert_file": str(tls.client_cert), "tls_client_key_file": str(tls.client_key)}


def _problems(settings: Settings) -> list[str]:
    return [f"{problem.severity} {problem}" for problem in check_files(settings)]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"tls_client_cert_file": "CERT"}, "tls_client_key_file: tls_client_cert_file en tls_client_key_file horen"),
        ({"tls_client_key_file": "KEY"}, "tls_client_cert_file: tls_client_cert_file en tls_client_key_file horen"),
        ({"ca_bundle_file": "/nonexistent/ca.pem"}, "ca_bundle_file: bestand niet gevonden"),
        (
            {"tls_client_cert_file": "/nonexistent/c.pem", "tls_client_key_file": "KEY"},
            "tls_client_cert_file: bestand niet gevonden",
        ),
    ],
)
def test_settings_want_both_client_files_and_existing_ones(
    write_config: Callable[..., Path], tmp_path: Path, tls: TlsFiles, given: dict[str, str], message: str
) -> None:
    paths = {"CERT": str(tls.client_cert), "KEY": str(tls.client_key)}
    broker = {"id": "hm", "name": "Makelaar", "metadata_url": "https://hm.test/md"}
    broker |= {key: paths.get(value, value) for key, value in given.items()}
    with pytest.raises(ValidationError) as caught:
        load_settings(write_config({"brokers": [broker]}, name="bad.toml"))
    assert message in str(caught.value)


def test_a_good_pair_and_bundle_pass(write_config: Callable[..., Path], tmp_path: Path, tls: TlsFiles) -> None:
    settings = _with_broker(write_config, tmp_path, **_pair(tls), ca_bundle_file=str(tls.ca_file))
    assert _problems(settings) == []


def test_a_key_that_does_not_match_is_named(write_config: Callable[..., Path], tmp_path: Path, tls: TlsFiles) -> None:
    settings = _with_broker(write_config, tmp_path, **{**_pair(tls), "tls_client_key_file": str(tls.server_key)})
    assert _problems(settings) == [
        f"error brokers.0.tls_client_key_file: sleutel hoort niet bij tls_client_cert_file / key does not match "
        f"{tls.client_cert}"
    ]


def test_expiry_follows_the_rules_of_the_sp_pair(
    write_config: Callable[..., Path], tmp_path: Path, tls: TlsFiles
) -> None:
    soon_key, soon_cert = tmp_path / "soon-key.pem", tmp_path / "soon-cert.pem"
    certs.write(issue(tls.ca, "Bijna verlopen", days=20), soon_key, soon_cert)
    settings = _with_broker(
        write_config, tmp_path, tls_client_cert_file=str(soon_cert), tls_client_key_file=str(soon_key)
    )
    (problem,) = _problems(settings)
    assert problem.startswith("warning brokers.0.tls_client_cert_file: certificaat verloopt over 19 dagen")
    later = datetime.now(UTC) + timedelta(days=25)
    assert [str(p) for p in check_files(settings, now=later)][0].startswith(
        "brokers.0.tls_client_cert_file: certificaat is verlopen op"
    )


def test_a_bundle_without_certificates_is_refused(
    write_config: Callable[..., Path], tmp_path: Path, tls: TlsFiles
) -> None:
    bundle = tmp_path / "not-a-bundle.pem"
    bundle.write_text("dit is geen certificaat\n")
    settings = _with_broker(write_config, tmp_path, ca_bundle_file=str(bundle))
    assert _problems(settings) == [
        f"error brokers.0.ca_bundle_file: geen PEM-certificaten / no PEM certificates: {bundle}"
    ]


def test_an_ec_key_is_fine_for_tls(write_config: Callable[..., Path], tmp_path: Path, tls: TlsFiles) -> None:
    # Unlike our SAML signing key, a TLS client key may be EC.
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "EC client")])
    start = datetime.now(UTC) - timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(tls.ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=90))
        .sign(tls.ca.key, hashes.SHA256())
    )
    key_file, cert_file = tmp_path / "ec-key.pem", tmp_path / "ec-cert.pem"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    settings = _with_broker(
        write_config, tmp_path, tls_client_cert_file=str(cert_file), tls_client_key_file=str(key_file)
    )
    assert _problems(settings) == []


def test_the_report_lists_our_client_certificate_per_broker(
    write_config: Callable[..., Path], tmp_path: Path, tls: TlsFiles, app_client: Callable[..., TestClient]
) -> None:
    settings = _with_broker(write_config, tmp_path, **_pair(tls))
    body = app_client(settings).get("/api/v1/certificates").json()
    rows = {(row["owner"], row["role"]): row for row in body["certificates"]}
    ours = rows[("hm", "tls-client")]
    expected_days = certs.days_left(certs.load_cert(tls.client_cert))
    assert (ours["owner_name"], ours["status"], ours["days_left"]) == ("Makelaar", "ok", expected_days)
    assert ("hm", "signing") in rows  # the broker's own certificate stays beside it

    statuses = tls_client_statuses(settings.brokers[0])
    assert certificate_days_left(statuses) == {"tls-client-hm": expected_days}
    (group,) = owner_groups(statuses)
    (view,) = group.certificates
    assert (view.title, view.who) == ("Ons clientcertificaat voor de verbinding", OPERATOR)

    page = app_client(settings).get("/beheer/certificaten").text
    assert "Ons clientcertificaat voor de verbinding" in page
    assert "Vraag ruim voor de einddatum een nieuw clientcertificaat aan." in page


def test_an_unreadable_client_certificate_is_an_error_not_left_out(tmp_path: Path, settings: Settings) -> None:
    broken = tmp_path / "broken.pem"
    broken.write_text("kapot")
    broker = settings.brokers[0].model_copy(update={"tls_client_cert_file": broken, "tls_client_key_file": broken})
    (status,) = tls_client_statuses(broker)
    assert (status.role, status.status, status.validity) == ("tls-client", "error", "unreadable")


def test_check_config_prints_the_client_certificate(
    write_config: Callable[..., Path], tmp_path: Path, tls: TlsFiles
) -> None:
    settings = _with_broker(write_config, tmp_path, **_pair(tls), ca_bundle_file=str(tls.ca_file))
    del settings
    result = subprocess.run(
        [sys.executable, "-m", "diagnostics", "check-config", str(tmp_path / "hm.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "brokers.0.tls-client: ok - Geldig tot" in result.stdout
