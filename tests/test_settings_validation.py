"""Table-driven: every bad field is rejected by ``inloghulp check-config`` with its name in the message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from diagnostics import certs
from diagnostics.cli import app

OIN = "00000009999999999000"


def _file_case(kind: str, directory: Path) -> dict[str, Any]:
    """Overrides pointing the SP at a broken key or certificate file of the given kind."""
    if kind == "missing-key":
        return {"sp": {"key_file": str(directory / "nope-key.pem")}}
    if kind == "missing-cert":
        return {"sp": {"cert_file": str(directory / "nope-cert.pem")}}
    if kind == "garbage-cert":
        (directory / "garbage.pem").write_text("-----BEGIN CERTIFICATE-----\nnonsense\n-----END CERTIFICATE-----\n")
        return {"sp": {"cert_file": str(directory / "garbage.pem")}}
    if kind == "garbage-key":
        (directory / "garbage-key.pem").write_text("not a key")
        return {"sp": {"key_file": str(directory / "garbage-key.pem")}}
    if kind == "mismatch":
        other = certs.generate("Other", serial_number=OIN)
        certs.write(other, directory / "other-key.pem", directory / "other-cert.pem")
        return {"sp": {"key_file": str(directory / "other-key.pem")}}
    if kind == "expired":
        old = certs.generate("Old", serial_number=OIN, days=10, not_before=datetime.now(UTC) - timedelta(days=20))
        certs.write(old, directory / "old-key.pem", directory / "old-cert.pem")
        return {"sp": {"key_file": str(directory / "old-key.pem"), "cert_file": str(directory / "old-cert.pem")}}
    if kind == "next-missing":
        return {"sp": {"next_cert_file": str(directory / "nope.pem"), "next_cert_activation": "2030-01-01"}}
    if kind == "broker-metadata-missing":
        return {"brokers": [{"id": "hm", "name": "HM", "metadata_file": str(directory / "nope.xml")}]}
    raise AssertionError(kind)


BAD_CASES: list[tuple[str, dict[str, Any] | str, str]] = [
    ("oin-too-short", {"service": {"provider_oin": "123"}}, "service.provider_oin"),
    ("oin-letters", {"service": {"provider_oin": "0000000999999999900A"}}, "service.provider_oin"),
    ("provider-name-empty", {"service": {"provider_name": ""}}, "service.provider_name"),
    ("provider-name-spaces", {"service": {"provider_name": " BRO "}}, "service.provider_name"),
    ("name-too-long", {"service": {"name": "x" * 65}}, "service.name"),
    ("name-newline", {"service": {"name": "Bronhouder\nportaal"}}, "service.name"),
    ("description-too-long", {"service": {"description": "x" * 1025}}, "service.description"),
    ("uuid-bad", {"service": {"uuid": "9f1c6a52-not-a-uuid"}}, "service.uuid"),
    ("uuid-missing", {"service": {"uuid": None}}, "service.uuid"),
    (
        "service-id-shape",
        {"service": {"service_id": "urn:etoegang:HM:00000009999999999000:services:1"}},
        "service.service_id",
    ),
    ("service-id-index-0", {"service": {"service_id": f"urn:etoegang:DV:{OIN}:services:0"}}, "service.service_id"),
    (
        "service-id-other-oin",
        {"service": {"service_id": "urn:etoegang:DV:00000001111111111000:services:9001"}},
        "service.service_id",
    ),
    ("loa-unknown", {"service": {"required_loa": "urn:etoegang:core:assurance-class:loa5"}}, "service.required_loa"),
    ("loa-1-stopped", {"service": {"required_loa": "urn:etoegang:core:assurance-class:loa1"}}, "service.required_loa"),
    (
        "acs-index-range",
        {"service": {"attribute_consuming_service_index": 10000}},
        "service.attribute_consuming_service_index",
    ),
    (
        "acs-index-mismatch",
        {"service": {"attribute_consuming_service_index": 9002}},
        "service.attribute_consuming_service_index",
    ),
    ("service-unknown-field", {"service": {"colour": "blue"}}, "service.colour"),
    ("entity-id-shape", {"sp": {"entity_id": "https://sp.example/metadata"}}, "sp.entity_id"),
    (
        "entity-id-other-oin",
        {"sp": {"entity_id": "urn:etoegang:DV:00000001111111111000:entities:9001"}},
        "sp.entity_id",
    ),
    ("acs-url-scheme", {"sp": {"acs_url": "ftp://sp.example/acs"}}, "sp.acs_url"),
    ("next-cert-without-date", {"sp": {"next_cert_file": "var/keys/next.pem"}}, "sp.next_cert_activation"),
    (
        "next-cert-date-bad",
        {"sp": {"next_cert_file": "var/keys/next.pem", "next_cert_activation": "morgen"}},
        "sp.next_cert_activation",
    ),
    ("base-url-with-path", {"public_base_url": "http://127.0.0.1:8000/inloghulp"}, "public_base_url"),
    (
        "production-http-acs",
        {"environment": "production", "session_secret": "a-real-secret-of-some-length"},
        "sp.acs_url",
    ),
    ("no-brokers", {"brokers": []}, "brokers"),
    ("broker-id-shape", {"brokers": [{"id": "Bad Id", "name": "X", "embedded": True}]}, "brokers.0.id"),
    (
        "broker-two-sources",
        {"brokers": [{"id": "hm", "name": "X", "embedded": True, "metadata_url": "https://hm.example/md"}]},
        "brokers.0.metadata",
    ),
    (
        "broker-url-scheme",
        {"brokers": [{"id": "hm", "name": "X", "metadata_url": "hm.example/md"}]},
        "brokers.0.metadata_url",
    ),
    (
        "broker-soap-type",
        {"brokers": [{"id": "hm", "name": "X", "embedded": True, "soap_content_type": "text/plain"}]},
        "brokers.0.soap_content_type",
    ),
    ("key-missing", "missing-key", "sp.key_file"),
    ("cert-missing", "missing-cert", "sp.cert_file"),
    ("cert-garbage", "garbage-cert", "sp.cert_file"),
    ("key-garbage", "garbage-key", "sp.key_file"),
    ("key-cert-mismatch", "mismatch", "sp.key_file"),
    ("cert-expired", "expired", "sp.cert_file"),
    ("next-cert-missing", "next-missing", "sp.next_cert_file"),
    ("broker-metadata-missing", "broker-metadata-missing", "brokers.0.metadata_file"),
]


@pytest.mark.parametrize(("case", "overrides", "field"), BAD_CASES, ids=[case[0] for case in BAD_CASES])
def test_check_config_names_the_bad_field(
    case: str, overrides: dict[str, Any] | str, field: str, write_config: Callable[..., Path], tmp_path: Path
) -> None:
    data = _file_case(overrides, tmp_path) if isinstance(overrides, str) else overrides
    result = CliRunner().invoke(app, ["check-config", str(write_config(data))])
    assert result.exit_code == 1, result.output
    assert "Configuratie ongeldig / invalid configuration:" in result.stderr
    assert f"  - {field}" in result.stderr, result.stderr
    assert "Traceback" not in result.output


def test_at_least_fifteen_bad_cases() -> None:
    assert len(BAD_CASES) >= 15


def test_good_config_passes(write_config: Callable[..., Path]) -> None:
    result = CliRunner().invoke(app, ["check-config", str(write_config())])
    assert result.exit_code == 0, result.output
    assert "configuration OK" in result.stdout


def test_certificate_expiring_soon_is_a_warning(write_config: Callable[..., Path], tmp_path: Path) -> None:
    pair = certs.generate("Soon", serial_number=OIN, days=12)
    certs.write(pair, tmp_path / "soon-key.pem", tmp_path / "soon-cert.pem")
    path = write_config(
        {"sp": {"key_file": str(tmp_path / "soon-key.pem"), "cert_file": str(tmp_path / "soon-cert.pem")}}
    )
    result = CliRunner().invoke(app, ["check-config", str(path)])
    assert result.exit_code == 0, result.output
    assert "Waarschuwing / warning:" in result.stderr
    assert "sp.cert_file: certificaat verloopt over 11 dagen" in result.stderr


def test_wrong_oin_in_certificate_is_a_warning(write_config: Callable[..., Path], tmp_path: Path) -> None:
    certs.write(
        certs.generate("Other OIN", serial_number="00000001111111111000"), tmp_path / "k.pem", tmp_path / "c.pem"
    )
    path = write_config({"sp": {"key_file": str(tmp_path / "k.pem"), "cert_file": str(tmp_path / "c.pem")}})
    result = CliRunner().invoke(app, ["check-config", str(path)])
    assert result.exit_code == 0, result.output
    assert "sp.cert_file: serialNumber in het certificaat (00000001111111111000)" in result.stderr


def test_invalid_toml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[service\nname = 1")
    result = CliRunner().invoke(app, ["check-config", str(path)])
    assert result.exit_code == 1
    assert "geen geldige TOML / not valid TOML" in result.stderr


def test_missing_file_is_reported(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check-config", str(tmp_path / "absent.toml")])
    assert result.exit_code == 1
    assert "configuratiebestand niet gevonden" in result.stderr


def test_good_config_lists_certificate_status(write_config: Callable[..., Path], sp_keypair: tuple[Path, Path]) -> None:
    result = CliRunner().invoke(app, ["check-config", str(write_config())])
    fingerprint = certs.fingerprint_sha256(certs.load_cert(sp_keypair[1]))
    assert "sp.current: ok - Geldig tot" in result.stdout
    assert fingerprint in result.stdout
