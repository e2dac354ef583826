"""The simulator's signed metadata and AD list, and an independent check of its signatures with xmlsec1."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree

from diagnostics import certs, crypto, xmlsafe
from diagnostics.saml.artifact import source_id
from diagnostics.settings import Settings
from diagnostics.simulator import responses
from diagnostics.simulator.entities import BROKER_ENTITY_ID, SUPPLIERS
from diagnostics.simulator.keys import ensure_keys
from diagnostics.simulator.metadata import ad_list, broker_metadata
from diagnostics.simulator.scenarios import SCENARIO_IDS
from tests.helpers.simulated import Simulated
from tests.simulator.flow import NS, login, metadata_cert, one

BINDINGS = "urn:oasis:names:tc:SAML:2.0:bindings:"


@pytest.fixture(scope="module")
def settings(simulated: Simulated) -> Settings:
    """In-process tests share the running simulator's keys (generating keys per test is slow)."""
    return simulated.settings


def _fetch(sim: Simulated, path: str) -> etree._Element:
    answer = httpx.get(f"{sim.server.url}{path}")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/samlmetadata+xml")
    return xmlsafe.parse(answer.content, max_bytes=1_000_000)


def test_metadata_is_a_signed_entities_descriptor(simulated: Simulated) -> None:
    root = _fetch(simulated, "/simulator/metadata")
    assert root.tag == "{urn:oasis:names:tc:SAML:2.0:metadata}EntitiesDescriptor"
    crypto.verify(root, [metadata_cert(simulated)])
    entity = one(root, "md:EntityDescriptor")
    assert entity.get("entityID") == BROKER_ENTITY_ID
    assert ":entities:9" in BROKER_ENTITY_ID  # test index range
    idp = one(entity, "md:IDPSSODescriptor")
    assert idp.get("WantAuthnRequestsSigned") == "true"
    key = one(idp, "md:KeyDescriptor[@use='signing']")
    assert one(key, "ds:KeyInfo/ds:KeyName").text == certs.fingerprint_sha256(metadata_cert(simulated))
    sso = {s.get("Binding"): s.get("Location") for s in idp.iterfind("md:SingleSignOnService", NS)}
    assert sso == {BINDINGS + "HTTP-Redirect": simulated.sso_url, BINDINGS + "HTTP-POST": simulated.sso_url}
    ars = one(idp, "md:ArtifactResolutionService")
    assert (ars.get("Binding"), ars.get("Location"), ars.get("index")) == (BINDINGS + "SOAP", simulated.ars_url, "0")
    assert "geen echte" in (one(entity, "md:Organization/md:OrganizationDisplayName").text or "")


def test_ad_list_is_signed_and_ordered(simulated: Simulated) -> None:
    root = _fetch(simulated, f"/simulator/listAD.xml?ServiceUUID={simulated.settings.service.uuid}")
    crypto.verify(root, [metadata_cert(simulated)])
    entities = root.findall("md:EntityDescriptor", NS)
    assert len(entities) >= 3
    names = [one(e, "md:Organization/md:OrganizationDisplayName").text or "" for e in entities]
    assert names == sorted(names, key=str.casefold)
    assert all("(simulator)" in name for name in names)
    assert [e.get("entityID") for e in entities] == [s.entity_id for s in SUPPLIERS]
    assert all(e.get("entityID", "").startswith("urn:etoegang:AD:") for e in entities)
    assert all(":entities:9" in e.get("entityID", "") for e in entities)


def test_ad_list_publishes_each_suppliers_own_certificate(simulated: Simulated) -> None:
    keys = ensure_keys(simulated.settings.simulator.key_dir)
    root = _fetch(simulated, f"/simulator/listAD.xml?ServiceUUID={simulated.settings.service.uuid}")
    published: dict[str, bytes] = {}
    for entity in root.findall("md:EntityDescriptor", NS):
        key_info = one(entity, "md:IDPSSODescriptor/md:KeyDescriptor[@use='signing']/ds:KeyInfo")
        der = base64.b64decode("".join((one(key_info, "ds:X509Data/ds:X509Certificate").text or "").split()))
        own = keys.supplier(entity.get("entityID", "")).cert
        assert der == own.public_bytes(serialization.Encoding.DER)
        assert one(key_info, "ds:KeyName").text == certs.fingerprint_sha256(own)
        published[entity.get("entityID", "")] = der
    assert set(published) == {s.entity_id for s in SUPPLIERS}
    assert len(set(published.values())) == len(SUPPLIERS)
    assert keys.broker.cert.public_bytes(serialization.Encoding.DER) not in published.values()


def test_artifact_source_id_is_sha1_of_the_metadata_entity_id(simulated: Simulated) -> None:
    returned = login(simulated, "success-loa2plus")
    raw = base64.b64decode(returned.artifact)
    entity_id = one(_fetch(simulated, "/simulator/metadata"), "md:EntityDescriptor").get("entityID")
    assert raw[:4] == b"\x00\x04\x00\x00"
    assert raw[4:24] == source_id(entity_id or "")


@pytest.fixture(scope="module")
def xmlsec1() -> str:
    path = shutil.which("xmlsec1")
    if path is None:
        pytest.fail("Debian package 'xmlsec1' is missing; `make system-deps` installs it")
    return path


def _xmlsec1_verify(xmlsec1: str, element: etree._Element, cert: bytes, tmp_path: Path, id_tag: str) -> int:
    (tmp_path / "cert.pem").write_bytes(cert)
    document = tmp_path / "signed.xml"
    document.write_bytes(etree.tostring(element))
    args = [xmlsec1, "--verify", "--id-attr:ID", id_tag, "--pubkey-cert-pem", str(tmp_path / "cert.pem"), str(document)]
    return subprocess.run(args, capture_output=True, check=False).returncode


def test_xmlsec1_verifies_the_simulators_assertion(settings: Settings, xmlsec1: str, tmp_path: Path) -> None:
    keys = ensure_keys(settings.simulator.key_dir)
    wrapper = etree.fromstring(responses.issue(settings, "success-loa2plus", request_id="_req"))
    assertion = one(wrapper, "samlp:Response/saml:Assertion")
    # The first ds:Signature in the extracted assertion is the broker's own (the Advice ones follow).
    tag = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"
    assert _xmlsec1_verify(xmlsec1, assertion, keys.broker.cert_pem, tmp_path, tag) == 0
    assert _xmlsec1_verify(xmlsec1, assertion, keys.untrusted.cert_pem, tmp_path, tag) != 0
    ad = one(assertion, "saml:Advice/saml:Assertion[1]")
    assert _xmlsec1_verify(xmlsec1, ad, keys.supplier(SUPPLIERS[0].entity_id).cert_pem, tmp_path, tag) == 0
    assert _xmlsec1_verify(xmlsec1, ad, keys.supplier(SUPPLIERS[1].entity_id).cert_pem, tmp_path, tag) != 0
    outer = "urn:oasis:names:tc:SAML:2.0:protocol:ArtifactResponse"
    assert _xmlsec1_verify(xmlsec1, wrapper, keys.broker.cert_pem, tmp_path, outer) == 0


def test_xmlsec1_rejects_the_tampered_assertion(settings: Settings, xmlsec1: str, tmp_path: Path) -> None:
    keys = ensure_keys(settings.simulator.key_dir)
    wrapper = etree.fromstring(responses.issue(settings, "bad-signature", request_id="_req"))
    assertion = one(wrapper, "samlp:Response/saml:Assertion")
    tag = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"
    assert _xmlsec1_verify(xmlsec1, assertion, keys.broker.cert_pem, tmp_path, tag) != 0


def test_xmlsec1_verifies_the_metadata(settings: Settings, xmlsec1: str, tmp_path: Path) -> None:
    keys = ensure_keys(settings.simulator.key_dir)
    tag = "urn:oasis:names:tc:SAML:2.0:metadata:EntitiesDescriptor"
    for document in (broker_metadata(settings), ad_list(settings)):
        assert _xmlsec1_verify(xmlsec1, etree.fromstring(document), keys.broker.cert_pem, tmp_path, tag) == 0


@pytest.mark.parametrize("scenario", [s for s in SCENARIO_IDS if s != "no-authorisation"])
def test_issue_builds_every_scenario_in_process(settings: Settings, scenario: str) -> None:
    wrapper = etree.fromstring(responses.issue(settings, scenario, request_id="_req42"))
    response = one(wrapper, "samlp:Response")
    assert response.get("InResponseTo") == "_req42"
    keys = ensure_keys(settings.simulator.key_dir)
    signer = keys.untrusted if scenario == "untrusted-key" else keys.broker
    crypto.verify(wrapper, [signer.cert])


def test_issue_refuses_no_authorisation(settings: Settings) -> None:
    with pytest.raises(responses.NoResponse):
        responses.issue(settings, "no-authorisation", request_id="_req")


def test_keys_are_generated_once(tmp_path: Path) -> None:
    first = ensure_keys(tmp_path / "keys")
    second = ensure_keys(tmp_path / "keys")
    assert first == second
    pems = {first.broker.cert_pem, first.mr.cert_pem, first.untrusted.cert_pem}
    pems |= {pair.cert_pem for _, pair in first.suppliers}
    assert len(pems) == 3 + len(SUPPLIERS)
    assert [entity_id for entity_id, _ in first.suppliers] == [s.entity_id for s in SUPPLIERS]
    assert all(certs.key_matches_cert(pair) for _, pair in first.suppliers)
    assert ((tmp_path / "keys" / "broker-key.pem").stat().st_mode & 0o777) == 0o600


def test_key_dir_with_only_the_shared_ad_key_upgrades(tmp_path: Path) -> None:
    key_dir = tmp_path / "keys"
    key_dir.mkdir()
    # The layout from before per-supplier keys: one AD pair for every supplier.
    for name in ("broker", "ad", "mr", "untrusted"):
        certs.ensure(key_dir / f"{name}-key.pem", key_dir / f"{name}-cert.pem", f"oud {name}")
    before = {path.name: path.read_bytes() for path in key_dir.glob("*.pem")}

    keys = ensure_keys(key_dir)

    assert {name: (key_dir / name).read_bytes() for name in before} == before
    assert (keys.broker.cert_pem, keys.mr.cert_pem, keys.untrusted.cert_pem) == (
        before["broker-cert.pem"],
        before["mr-cert.pem"],
        before["untrusted-cert.pem"],
    )
    # Supplier A keeps the shared key; the others get a new pair each.
    heir = next(s for s in SUPPLIERS if s.short == "A")
    assert keys.supplier(heir.entity_id) == keys.ad
    assert keys.ad.cert_pem == before["ad-cert.pem"]
    added = sorted({path.name for path in key_dir.glob("*.pem")} - set(before))
    assert added == ["ad-b-cert.pem", "ad-b-key.pem", "ad-c-cert.pem", "ad-c-key.pem"]
    assert all(((key_dir / name).stat().st_mode & 0o777) == 0o600 for name in added if name.endswith("-key.pem"))
    assert len({pair.cert_pem for _, pair in keys.suppliers}) == len(SUPPLIERS)
    assert ensure_keys(key_dir) == keys


def test_key_size_applies_to_new_pairs_only(tmp_path: Path) -> None:
    key_dir = tmp_path / "keys"
    kept = certs.ensure(key_dir / "broker-key.pem", key_dir / "broker-cert.pem", "bestaand")

    keys = ensure_keys(key_dir, key_size=3072)

    assert keys.broker == kept and keys.broker.key.key_size == 2048
    assert {keys.mr.key.key_size, keys.untrusted.key.key_size} == {3072}
    assert {pair.key.key_size for _, pair in keys.suppliers} == {3072}
