"""The SP's signed AuthnRequest (Redirect and POST) and the HTTP-Redirect query-string signature."""

from __future__ import annotations

import base64
import zlib
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from lxml import etree
from saml2 import samlp

from diagnostics import certs, crypto
from diagnostics.crypto import RSA_SHA256
from diagnostics.saml.authn import (
    RedirectSignatureError,
    build_authn_request,
    decode_redirect_message,
    encode_redirect_message,
    verify_redirect_query,
)
from diagnostics.settings import Settings
from tests.helpers.keys import sp_signing_key

SSO = "https://makelaar.example/broker/sso/1.13"
SUPPLIER = "urn:etoegang:AD:00000009999999999001:entities:9001"
NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol", "saml": "urn:oasis:names:tc:SAML:2.0:assertion"}


def _sp_cert(settings: Settings) -> x509.Certificate:
    return certs.load_cert(settings.sp.cert_file)


def _query(url: str) -> str:
    return urlsplit(url).query


def test_redirect_request_has_the_eherkenning_shape(settings: Settings) -> None:
    out = build_authn_request(
        settings, signing_key=sp_signing_key(settings), destination=SSO, supplier_id=SUPPLIER, relay_state="/terug"
    )
    assert out.binding == "redirect"
    assert out.url.startswith(SSO + "?SAMLRequest=")
    params = parse_qs(_query(out.url))
    assert params["SigAlg"] == [RSA_SHA256]
    assert params["RelayState"] == ["/terug"]
    xml = decode_redirect_message(params["SAMLRequest"][0], max_bytes=100_000)
    assert xml == out.xml
    root = etree.fromstring(xml)
    assert root.get("ID") == out.request_id
    assert root.get("Destination") == SSO
    assert root.get("ForceAuthn") == "true"
    assert root.get("AssertionConsumerServiceURL") == settings.acs_url
    assert root.get("ProtocolBinding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"
    assert root.get("AttributeConsumingServiceIndex") == str(settings.service.attribute_consuming_service_index)
    assert root.get("Version") == "2.0" and root.get("IssueInstant")
    assert root.findtext("saml:Issuer", namespaces=NS) == settings.sp.entity_id
    entries = root.findall("samlp:Scoping/samlp:IDPList/samlp:IDPEntry", NS)
    assert [e.get("ProviderID") for e in entries] == [SUPPLIER]
    assert root.find("samlp:NameIDPolicy", NS) is None  # eHerkenning: never sent
    verify_redirect_query(_query(out.url), "SAMLRequest", [_sp_cert(settings)])


def test_pysaml2_reads_our_request(settings: Settings) -> None:
    out = build_authn_request(
        settings, signing_key=sp_signing_key(settings), destination=SSO, supplier_id=SUPPLIER, relay_state="/x"
    )
    parsed = samlp.authn_request_from_string(out.xml.decode())
    assert parsed.id == out.request_id
    assert parsed.force_authn == "true"
    assert parsed.assertion_consumer_service_url == settings.acs_url
    assert parsed.scoping.idp_list.idp_entry[0].provider_id == SUPPLIER


def test_without_supplier_there_is_no_scoping(settings: Settings) -> None:
    out = build_authn_request(settings, signing_key=sp_signing_key(settings), destination=SSO, relay_state="/x")
    assert etree.fromstring(out.xml).find("samlp:Scoping", NS) is None


def test_ids_are_unique(settings: Settings) -> None:
    ids = {
        build_authn_request(
            settings, signing_key=sp_signing_key(settings), destination=SSO, relay_state="/x"
        ).request_id
        for _ in range(20)
    }
    assert len(ids) == 20


def test_redirect_signature_fails_for_another_key(settings: Settings) -> None:
    out = build_authn_request(settings, signing_key=sp_signing_key(settings), destination=SSO, relay_state="/x")
    other = certs.generate("Ander").cert
    with pytest.raises(RedirectSignatureError) as raised:
        verify_redirect_query(_query(out.url), "SAMLRequest", [other])
    assert raised.value.diagnosis == "bad-signature"


def test_redirect_signature_covers_relay_state(settings: Settings) -> None:
    out = build_authn_request(settings, signing_key=sp_signing_key(settings), destination=SSO, relay_state="/a")
    with pytest.raises(RedirectSignatureError) as raised:
        verify_redirect_query(
            _query(out.url).replace("RelayState=%2Fa", "RelayState=%2Fb"), "SAMLRequest", [_sp_cert(settings)]
        )
    assert raised.value.diagnosis == "bad-signature"


def test_redirect_without_signature_is_unsigned(settings: Settings) -> None:
    query = _query(
        build_authn_request(settings, signing_key=sp_signing_key(settings), destination=SSO, relay_state="/a").url
    )
    unsigned = query.split("&Signature=")[0]
    with pytest.raises(RedirectSignatureError) as raised:
        verify_redirect_query(unsigned, "SAMLRequest", [_sp_cert(settings)])
    assert raised.value.diagnosis == "unsigned"


def test_redirect_sha1_is_weak(settings: Settings) -> None:
    query = _query(
        build_authn_request(settings, signing_key=sp_signing_key(settings), destination=SSO, relay_state="/a").url
    )
    weak = query.replace("xmldsig-more%23rsa-sha256", "xmldsig%23rsa-sha1")
    with pytest.raises(RedirectSignatureError) as raised:
        verify_redirect_query(weak, "SAMLRequest", [_sp_cert(settings)])
    assert raised.value.diagnosis == "weak-algorithm"


def test_post_request_carries_an_enveloped_signature(settings: Settings) -> None:
    out = build_authn_request(
        settings,
        signing_key=sp_signing_key(settings),
        destination=SSO,
        supplier_id=SUPPLIER,
        relay_state="/terug",
        binding="post",
    )
    assert out.binding == "post" and out.url == SSO
    assert out.form["RelayState"] == "/terug"
    root = etree.fromstring(base64.b64decode(out.form["SAMLRequest"]))
    info = crypto.verify(root, [_sp_cert(settings)])
    assert info.signature_algorithm == "RSA-SHA256" and info.digest_algorithm == "SHA-256"
    # The signature comes right after the Issuer, as the schema requires.
    assert etree.QName(root[1]).localname == "Signature"
    assert root.get("ID") == out.request_id


def test_redirect_encoding_round_trips_and_refuses_bombs() -> None:
    xml = b"<a>" + b"x" * 1000 + b"</a>"
    assert decode_redirect_message(encode_redirect_message(xml), max_bytes=2000) == xml
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = base64.b64encode(compressor.compress(b"\0" * 5_000_000) + compressor.flush()).decode()
    with pytest.raises(ValueError):
        decode_redirect_message(bomb, max_bytes=10_000)


@pytest.mark.parametrize("value", ["A" * 5000, base64.b64encode(b"\xff" * 64).decode(), "////"])
def test_text_that_is_not_deflate_is_refused_as_unreadable(value: str) -> None:
    # Found by the API fuzzer: a long run of "A" is valid base64 but no DEFLATE stream; zlib's own error
    # escaped as a 500 from the simulator's SSO endpoint.
    with pytest.raises(ValueError):
        decode_redirect_message(value, max_bytes=100_000)
