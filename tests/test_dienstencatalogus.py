from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree
from typer.testing import CliRunner

from diagnostics import certs
from diagnostics.cli import app
from diagnostics.dienstencatalogus import FragmentError, fragment
from diagnostics.saml_names import ESC
from diagnostics.settings import Settings, load_settings
from diagnostics.simulator.entities import SIM_OIN

NS = {
    "esc": ESC,
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}


def _one(tree: etree._Element, path: str) -> str:
    values = tree.xpath(path, namespaces=NS)
    assert isinstance(values, list) and len(values) == 1, (path, values)
    return str(values[0])


def test_fragment_holds_the_configured_values(settings: Settings) -> None:
    tree = etree.fromstring(fragment(settings))
    assert tree.tag == f"{{{ESC}}}ServiceProvider"
    assert _one(tree, "esc:ServiceProviderID/text()") == "00000009999999999000"
    assert _one(tree, "esc:OrganizationDisplayName[@xml:lang='nl']/text()") == "Voorbeeld Dienstverlener BRO"
    definition = tree.xpath("esc:ServiceDefinition", namespaces=NS)[0]
    assert _one(definition, "esc:ServiceUUID/text()") == "9f1c6a52-3b7e-4d0a-9c55-000000009001"
    assert _one(definition, "esc:ServiceName[@xml:lang='nl']/text()") == "Bronhouderportaal (voorbeeld)"
    assert _one(definition, "esc:ServiceName[@xml:lang='en']/text()") == "Bronhouderportaal (voorbeeld)"
    assert _one(definition, "saml:AuthnContextClassRef/text()") == "urn:etoegang:core:assurance-class:loa2plus"
    assert _one(definition, "esc:HerkenningsmakelaarId/text()") == SIM_OIN
    assert _one(definition, "esc:EntityConcernedTypesAllowed/@esc:setNumber") == "1"
    assert _one(definition, "esc:EntityConcernedTypesAllowed/text()") == "urn:etoegang:1.9:EntityConcernedID:KvKnr"
    # Schema order inside the definition.
    assert [etree.QName(child).localname for child in definition][:6] == [
        "ServiceUUID",
        "ServiceName",
        "ServiceName",
        "ServiceDescription",
        "ServiceDescription",
        "AuthnContextClassRef",
    ]
    instance = tree.xpath("esc:ServiceInstance", namespaces=NS)[0]
    assert _one(instance, "esc:ServiceID/text()") == "urn:etoegang:DV:00000009999999999000:services:9001"
    assert _one(instance, "esc:InstanceOfService/text()") == "9f1c6a52-3b7e-4d0a-9c55-000000009001"
    assert _one(instance, "esc:ServiceUUID/text()") != "9f1c6a52-3b7e-4d0a-9c55-000000009001"
    cert = certs.load_cert(settings.sp.cert_file)
    key_descriptor = "esc:ServiceCertificate/md:KeyDescriptor[@use='encryption']/ds:KeyInfo"
    assert _one(instance, f"{key_descriptor}/ds:KeyName/text()") == certs.fingerprint_sha256(cert)
    assert _one(instance, f"{key_descriptor}/ds:X509Data/ds:X509Certificate/text()") == certs.der_base64(cert)


def test_instance_uuid_is_stable_and_configurable(write_config: Callable[..., Path]) -> None:
    derived = etree.fromstring(fragment(load_settings(write_config())))
    again = etree.fromstring(fragment(load_settings(write_config())))
    path = "esc:ServiceInstance/esc:ServiceUUID/text()"
    assert _one(derived, path) == _one(again, path)
    chosen = "0b3f2d6e-1111-4a4a-8b8b-000000009001"
    configured = etree.fromstring(fragment(load_settings(write_config({"service": {"instance_uuid": chosen}}))))
    assert _one(configured, path) == chosen


def test_english_names_and_broker_oin_from_config(write_config: Callable[..., Path]) -> None:
    overrides = {
        "service": {"name_en": "Source holder portal", "description_en": "Log in to the portal."},
        "brokers": [
            {"id": "hm", "name": "Makelaar", "metadata_url": "https://hm.example/md", "oin": "00000003520354760000"}
        ],
    }
    tree = etree.fromstring(fragment(load_settings(write_config(overrides))))
    assert _one(tree, "esc:ServiceDefinition/esc:ServiceName[@xml:lang='en']/text()") == "Source holder portal"
    assert _one(tree, "esc:ServiceDefinition/esc:ServiceDescription[@xml:lang='en']/text()") == "Log in to the portal."
    assert _one(tree, "esc:ServiceInstance/esc:HerkenningsmakelaarId/text()") == "00000003520354760000"


def test_broker_without_oin_is_refused(write_config: Callable[..., Path]) -> None:
    overrides = {"brokers": [{"id": "hm", "name": "Makelaar", "metadata_url": "https://hm.example/md"}]}
    with pytest.raises(FragmentError, match=r"brokers\.0\.oin"):
        fragment(load_settings(write_config(overrides)))
    result = CliRunner().invoke(app, ["catalogue", "--config", str(write_config(overrides))])
    assert result.exit_code == 1
    assert "brokers.0.oin" in result.stderr


def test_the_command_has_its_own_name_and_keeps_the_old_one(write_config: Callable[..., Path]) -> None:
    config = str(write_config())
    new = CliRunner().invoke(app, ["dienstencatalogus", "--config", config])
    old = CliRunner().invoke(app, ["catalogue", "--config", config])
    assert new.exit_code == old.exit_code == 0, new.output
    assert new.stdout == old.stdout and "esc:ServiceProvider" in new.stdout
    assert "dienstencatalogus" in CliRunner().invoke(app, ["--help"]).stdout


def test_cli_prints_the_fragment(write_config: Callable[..., Path], tmp_path: Path) -> None:
    out = tmp_path / "catalogue.xml"
    result = CliRunner().invoke(app, ["catalogue", "--config", str(write_config()), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert _one(etree.parse(str(out)).getroot(), "esc:ServiceDefinition/esc:ServiceUUID/text()") == (
        "9f1c6a52-3b7e-4d0a-9c55-000000009001"
    )
