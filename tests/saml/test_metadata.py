from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from cryptography import x509
from fastapi.testclient import TestClient
from lxml import etree
from saml2 import BINDING_HTTP_ARTIFACT, md
from saml2.attribute_converter import ac_factory
from saml2.mdstore import InMemoryMetaData
from typer.testing import CliRunner

from diagnostics import certs, crypto
from diagnostics.cli import app as cli_app
from diagnostics.saml.metadata import sp_metadata
from diagnostics.settings import Settings, load_settings

NS = {"md": "urn:oasis:names:tc:SAML:2.0:metadata", "ds": "http://www.w3.org/2000/09/xmldsig#"}


def test_pysaml2_parses_the_metadata(settings: Settings) -> None:
    xml = sp_metadata(settings)
    store = InMemoryMetaData(ac_factory(), xml.decode())
    store.load()
    assert list(store.keys()) == [settings.sp.entity_id]
    acs = store.service(settings.sp.entity_id, "spsso_descriptor", "assertion_consumer_service")
    assert acs == {
        BINDING_HTTP_ARTIFACT: [
            {
                "__class__": "urn:oasis:names:tc:SAML:2.0:metadata&AssertionConsumerService",
                "binding": BINDING_HTTP_ARTIFACT,
                "location": "http://127.0.0.1:8000/saml/acs",
                "index": "0",
                "is_default": "true",
            }
        ]
    }


def test_descriptor_follows_the_eherkenning_dv_rules(settings: Settings) -> None:
    descriptor = md.entity_descriptor_from_string(sp_metadata(settings))
    assert descriptor.entity_id == "urn:etoegang:DV:00000009999999999000:entities:9001"
    (sp,) = descriptor.spsso_descriptor
    assert (sp.authn_requests_signed, sp.want_assertions_signed) == ("true", "true")
    assert sp.name_id_format == []
    (service,) = sp.attribute_consuming_service
    assert service.index == "9001"
    assert service.service_name[0].text == "Bronhouderportaal (voorbeeld)"
    assert service.requested_attribute[0].name == "urn:etoegang:DV:00000009999999999000:services:9001"
    assert service.requested_attribute[0].is_required is None
    fingerprint = certs.fingerprint_sha256(certs.load_cert(settings.sp.cert_file))
    assert [(kd.use, kd.key_info.key_name[0].text) for kd in sp.key_descriptor] == [
        ("signing", fingerprint),
        ("encryption", fingerprint),
    ]
    der = sp.key_descriptor[0].key_info.x509_data[0].x509_certificate.text
    assert der == certs.der_base64(certs.load_cert(settings.sp.cert_file))


def test_next_certificate_is_published_beside_the_current_one(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    key_file, cert_file = tmp_path / "next-key.pem", tmp_path / "next-cert.pem"
    certs.write(certs.generate("Next SP"), key_file, cert_file)
    settings = load_settings(
        write_config({"sp": {"next_cert_file": str(cert_file), "next_cert_activation": date(2030, 1, 1)}})
    )
    tree = etree.fromstring(sp_metadata(settings))
    names = tree.xpath("//md:KeyDescriptor/ds:KeyInfo/ds:KeyName/text()", namespaces=NS)
    current = certs.fingerprint_sha256(certs.load_cert(settings.sp.cert_file))
    upcoming = certs.fingerprint_sha256(x509.load_pem_x509_certificate(cert_file.read_bytes()))
    assert names == [current, current, upcoming, upcoming]


def test_route_serves_saml_metadata(app_client: Callable[..., TestClient], settings: Settings) -> None:
    response = app_client(settings).get("/saml/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/samlmetadata+xml"
    assert response.content == sp_metadata(settings)


def test_cli_prints_metadata(write_config: Callable[..., Path]) -> None:
    path = write_config({"service": {"name": "Andere dienst"}})
    result = CliRunner().invoke(cli_app, ["metadata", "--config", str(path)])
    assert result.exit_code == 0, result.output
    tree = etree.fromstring(result.stdout.strip().encode())
    assert tree.xpath("//md:ServiceName/text()", namespaces=NS) == ["Andere dienst"]


def test_metadata_is_signed_in_process_with_the_sp_key(settings: Settings) -> None:
    root = etree.fromstring(sp_metadata(settings))
    assert etree.QName(root[0]).localname == "Signature"  # schema: ds:Signature comes first
    info = crypto.verify(root, [certs.load_cert(settings.sp.cert_file)])
    assert info.element_id == root.get("ID")
    assert (info.signature_algorithm, info.digest_algorithm) == ("RSA-SHA256", "SHA-256")
    assert sp_metadata(settings) == sp_metadata(settings)  # stable for caches and diffs


def test_tampered_metadata_fails_verification(settings: Settings) -> None:
    root = etree.fromstring(sp_metadata(settings))
    (location,) = root.xpath("//md:AssertionConsumerService", namespaces=NS)
    location.set("Location", "https://evil.example/acs")
    with pytest.raises(crypto.SignatureError):
        crypto.verify(root, [certs.load_cert(settings.sp.cert_file)])


def test_unsigned_variant_has_no_signature(settings: Settings) -> None:
    root = etree.fromstring(sp_metadata(settings, signed=False))
    assert root.xpath("//ds:Signature", namespaces=NS) == []
