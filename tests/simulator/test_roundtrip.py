"""Every scenario end to end over real HTTP: SP AuthnRequest → simulator → artifact → SOAP resolve."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from lxml import etree

from diagnostics import crypto
from diagnostics.saml.artifact import ArtifactError, parse_artifact, source_id
from diagnostics.simulator.entities import BROKER_ENTITY_ID, SUPPLIERS
from diagnostics.simulator.scenarios import SCENARIO_IDS
from tests.helpers.simulated import Simulated
from tests.simulator.flow import (
    SUPPLIER,
    ad_cert,
    decrypt,
    login,
    metadata_cert,
    mr_cert,
    one,
    resolve,
    start_login,
    status_codes,
)

STATUS = "urn:oasis:names:tc:SAML:2.0:status:"
LOA = "urn:etoegang:core:assurance-class:"


def _time(value: str | None) -> datetime:
    assert value is not None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _resolved(sim: Simulated, scenario: str) -> tuple[str, etree._Element, etree._Element]:
    """(request id, ArtifactResponse, inner Response) after a verified outer signature."""
    returned = login(sim, scenario)
    wrapper = resolve(sim, returned.artifact)
    assert wrapper.tag == f"{{{crypto.SAML.replace('assertion', 'protocol')}}}ArtifactResponse"
    assert status_codes(wrapper)[0] == STATUS + "Success"
    return returned.request_id, wrapper, one(wrapper, "samlp:Response")


def test_success_has_the_eherkenning_shape(simulated: Simulated, sp_keypair: tuple) -> None:
    sim, settings = simulated, simulated.settings
    broker_cert = metadata_cert(sim)
    returned = login(sim, "success-loa2plus")
    assert returned.relay_state == "/terug?x=1"
    wrapper = resolve(sim, returned.artifact)
    crypto.verify(wrapper, [broker_cert])
    assert one(wrapper, "saml:Issuer").text == BROKER_ENTITY_ID
    response = one(wrapper, "samlp:Response")
    assert response.get("InResponseTo") == returned.request_id
    assert response.get("Destination") == settings.acs_url
    assert one(response, "saml:Issuer").text == BROKER_ENTITY_ID
    assert status_codes(response) == [STATUS + "Success"]

    assertion = one(response, "saml:Assertion")
    info = crypto.verify(assertion, [broker_cert])
    assert info.signature_algorithm == "RSA-SHA256"
    assert one(assertion, "saml:Issuer").text == BROKER_ENTITY_ID
    name_id = one(assertion, "saml:Subject/saml:NameID")
    assert name_id.get("Format") == "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
    assert name_id.get("NameQualifier") == SUPPLIER
    data = one(
        assertion,
        "saml:Subject/saml:SubjectConfirmation[@Method='urn:oasis:names:tc:SAML:2.0:cm:bearer']/saml:SubjectConfirmationData",
    )
    assert data.get("Recipient") == settings.acs_url
    assert data.get("InResponseTo") == returned.request_id
    conditions = one(assertion, "saml:Conditions")
    start, end = _time(conditions.get("NotBefore")), _time(conditions.get("NotOnOrAfter"))
    assert end - start == timedelta(minutes=4)
    assert start <= datetime.now(UTC) + timedelta(seconds=5) < end
    assert one(conditions, "saml:AudienceRestriction/saml:Audience").text == settings.sp.entity_id
    assert one(assertion, "saml:AuthnStatement/saml:AuthnContext/saml:AuthnContextClassRef").text == LOA + "loa2plus"
    assert one(assertion, "saml:AuthnStatement/saml:AuthnContext/saml:AuthenticatingAuthority").text == SUPPLIER

    # Advice: the supplier's (AD) and the machtigingenregister's (MR) own signed assertions.
    ad, mr = assertion.findall("saml:Advice/saml:Assertion", {"saml": crypto.SAML})
    assert one(ad, "saml:Issuer").text == SUPPLIER
    crypto.verify(ad, [ad_cert(sim, SUPPLIER)])
    with pytest.raises(crypto.SignatureError):
        crypto.verify(ad, [broker_cert])
    crypto.verify(mr, [mr_cert(sim)])

    values = {
        attribute.get("Name"): one(attribute, "saml:AttributeValue")
        for attribute in assertion.iterfind("saml:AttributeStatement/saml:Attribute", {"saml": crypto.SAML})
    }
    assert values["urn:etoegang:core:ServiceID"].text == settings.service.service_id
    assert values["urn:etoegang:core:ServiceUUID"].text == settings.service.uuid
    key_pem = sp_keypair[0].read_bytes()
    legal = decrypt(values["urn:etoegang:core:LegalSubjectID"], key_pem)
    assert legal.get("NameQualifier") == "urn:etoegang:1.9:EntityConcernedID:KvKnr"
    assert re.fullmatch(r"\d{8}", legal.text or "")
    acting = decrypt(values["urn:etoegang:core:ActingSubjectID"], key_pem)
    assert acting.get("NameQualifier") == "urn:etoegang:1.9:EntityConcernedID:Pseudo"
    assert re.fullmatch(r"[0-9a-f]{64}", acting.text or "")
    encrypted_key = one(values["urn:etoegang:core:LegalSubjectID"], "saml:EncryptedID/*[local-name()='EncryptedKey']")
    assert encrypted_key.get("Recipient") == settings.sp.entity_id


def test_artifact_is_type_0004_with_the_broker_source_id(simulated: Simulated) -> None:
    returned = login(simulated, "success-loa2plus")
    assert parse_artifact(returned.artifact) == (0, source_id(BROKER_ENTITY_ID))


def test_each_artifact_resolves_once(simulated: Simulated) -> None:
    returned = login(simulated, "success-loa3")
    first = resolve(simulated, returned.artifact)
    assert one(first, "samlp:Response/saml:Assertion") is not None
    second = resolve(simulated, returned.artifact)
    crypto.verify(second, [metadata_cert(simulated)])
    assert status_codes(second)[0] == STATUS + "Success"
    inner = one(second, "samlp:Response")
    assert status_codes(inner) == [STATUS + "Requester"]
    assert inner.find("saml:Assertion", {"saml": crypto.SAML}) is None


def test_post_binding_and_post_return(simulated: Simulated) -> None:
    request_id, page = start_login(simulated, binding="post", params={"scenario": "success-loa2plus", "return": "post"})
    assert page.status_code == 200
    form = re.search(r'<form id="artifact-form" method="post" action="([^"]+)"', page.text)
    assert form and form[1] == simulated.settings.acs_url
    artifact = re.search(r'name="SAMLart" value="([^"]+)"', page.text)
    assert artifact
    assert 'name="RelayState" value="/terug?x=1"' in page.text
    assert "<button" in page.text  # works without JavaScript
    response = one(resolve(simulated, artifact[1]), "samlp:Response")
    assert response.get("InResponseTo") == request_id


EXPECTED_STATUS = {
    "cancelled": ([STATUS + "Responder", STATUS + "AuthnFailed"], "The user cancelled."),
    "auth-failed": ([STATUS + "Responder", STATUS + "AuthnFailed"], "wrong credentials"),
    "stopped-at-broker": ([STATUS + "Responder", STATUS + "AuthnFailed"], None),
    "unknown-principal": ([STATUS + "Responder", STATUS + "UnknownPrincipal"], None),
    "request-unsupported": ([STATUS + "Responder", STATUS + "RequestUnsupported"], None),
    "requester-error": ([STATUS + "Requester"], "ServiceUUID"),
    "unknown-status": ([STATUS + "Responder", STATUS + "RequestDenied"], "Request denied."),
}


@pytest.mark.parametrize("scenario", list(EXPECTED_STATUS))
def test_error_statuses(simulated: Simulated, scenario: str) -> None:
    request_id, wrapper, response = _resolved(simulated, scenario)
    crypto.verify(wrapper, [metadata_cert(simulated)])
    codes, message = EXPECTED_STATUS[scenario]
    assert status_codes(response) == codes
    assert response.get("InResponseTo") == request_id
    if message:
        assert message in (
            response.findtext(
                "samlp:Status/samlp:StatusMessage", namespaces={"samlp": crypto.SAML.replace("assertion", "protocol")}
            )
            or ""
        )
    assert response.find("saml:Assertion", {"saml": crypto.SAML}) is None


@pytest.mark.parametrize(
    ("scenario", "loa"), [("success-loa2plus", "loa2plus"), ("success-loa3", "loa3"), ("loa-too-low", "loa2")]
)
def test_levels(simulated: Simulated, scenario: str, loa: str) -> None:
    _, _, response = _resolved(simulated, scenario)
    assertion = one(response, "saml:Assertion")
    crypto.verify(assertion, [metadata_cert(simulated)])
    assert one(assertion, "saml:AuthnStatement//saml:AuthnContextClassRef").text == LOA + loa
    assert one(assertion, "saml:Advice/saml:Assertion[1]//saml:AuthnContextClassRef").text == LOA + loa


@pytest.mark.parametrize(
    ("scenario", "diagnosis"),
    [("bad-signature", "bad-signature"), ("unsigned", "unsigned"), ("untrusted-key", "untrusted-certificate")],
)
def test_broken_signatures(simulated: Simulated, scenario: str, diagnosis: str) -> None:
    _, _, response = _resolved(simulated, scenario)
    assertion = one(response, "saml:Assertion")
    with pytest.raises(crypto.SignatureError) as raised:
        crypto.verify(assertion, [metadata_cert(simulated)])
    assert raised.value.diagnosis == diagnosis
    # The nested AD assertion is still intact.
    crypto.verify(one(assertion, "saml:Advice/saml:Assertion[1]"), [ad_cert(simulated, SUPPLIER)])


def test_untrusted_key_signs_the_whole_answer(simulated: Simulated) -> None:
    _, wrapper, _ = _resolved(simulated, "untrusted-key")
    with pytest.raises(crypto.SignatureError) as raised:
        crypto.verify(wrapper, [metadata_cert(simulated)])
    assert raised.value.diagnosis == "untrusted-certificate"


def test_tampered_level_is_raised_above_the_signed_one(simulated: Simulated) -> None:
    _, _, response = _resolved(simulated, "bad-signature")
    assert one(response, "saml:Assertion/saml:AuthnStatement//saml:AuthnContextClassRef").text == LOA + "loa4"


def _valid_assertion(sim: Simulated, scenario: str) -> tuple[str, etree._Element, etree._Element]:
    request_id, _, response = _resolved(sim, scenario)
    assertion = one(response, "saml:Assertion")
    crypto.verify(assertion, [metadata_cert(sim)])
    return request_id, response, assertion


def test_expired(simulated: Simulated) -> None:
    _, _, assertion = _valid_assertion(simulated, "expired")
    assert _time(one(assertion, "saml:Conditions").get("NotOnOrAfter")) < datetime.now(UTC) - timedelta(minutes=5)


def test_not_yet_valid(simulated: Simulated) -> None:
    _, _, assertion = _valid_assertion(simulated, "not-yet-valid")
    assert _time(one(assertion, "saml:Conditions").get("NotBefore")) > datetime.now(UTC) + timedelta(minutes=5)


def test_wrong_audience(simulated: Simulated) -> None:
    _, _, assertion = _valid_assertion(simulated, "wrong-audience")
    audience = one(assertion, "saml:Conditions/saml:AudienceRestriction/saml:Audience").text
    assert audience and audience != simulated.settings.sp.entity_id


def test_wrong_destination(simulated: Simulated) -> None:
    _, response, assertion = _valid_assertion(simulated, "wrong-destination")
    assert response.get("Destination") != simulated.settings.acs_url
    assert one(assertion, "saml:Subject//saml:SubjectConfirmationData").get("Recipient") != simulated.settings.acs_url


def test_wrong_service(simulated: Simulated) -> None:
    _, _, assertion = _valid_assertion(simulated, "wrong-service")
    service_id = one(
        assertion, "saml:AttributeStatement/saml:Attribute[@Name='urn:etoegang:core:ServiceID']/saml:AttributeValue"
    ).text
    assert service_id and service_id.startswith("urn:etoegang:DV:")
    assert service_id != simulated.settings.service.service_id


@pytest.mark.parametrize("supplier", [s.entity_id for s in SUPPLIERS])
def test_each_supplier_signs_its_advice_with_its_own_key(simulated: Simulated, supplier: str) -> None:
    returned = login(simulated, "success-loa2plus", supplier=supplier)
    assertion = one(resolve(simulated, returned.artifact), "samlp:Response/saml:Assertion")
    ad = one(assertion, "saml:Advice/saml:Assertion[1]")
    assert one(ad, "saml:Issuer").text == supplier
    crypto.verify(ad, [ad_cert(simulated, supplier)])
    for other in SUPPLIERS:
        if other.entity_id == supplier:
            continue
        with pytest.raises(crypto.SignatureError) as raised:
            crypto.verify(ad, [ad_cert(simulated, other.entity_id)])
        assert raised.value.diagnosis == "untrusted-certificate"
    # Only the AD assertion changes signer: the MR's and the broker's stay the same.
    crypto.verify(one(assertion, "saml:Advice/saml:Assertion[2]"), [mr_cert(simulated)])
    crypto.verify(assertion, [metadata_cert(simulated)])


def test_slow_broker_answers_late(simulated: Simulated) -> None:
    returned = login(simulated, "slow")
    with pytest.raises(ArtifactError) as raised:
        resolve(simulated, returned.artifact, timeout=0.2)
    assert raised.value.diagnosis == "broker-unreachable"
    patient = login(simulated, "slow")
    assert one(resolve(simulated, patient.artifact, timeout=30), "samlp:Response/saml:Assertion") is not None


def test_broker_error_is_a_soap_fault(simulated: Simulated) -> None:
    returned = login(simulated, "broker-error")
    with pytest.raises(ArtifactError) as raised:
        resolve(simulated, returned.artifact)
    assert raised.value.diagnosis == "broker-error"


def test_no_authorisation_never_returns(simulated: Simulated) -> None:
    _, page = start_login(simulated, params={"scenario": "no-authorisation"})
    assert page.status_code == 200
    assert "U hebt geen machtiging voor deze dienst" in page.text
    assert "SAMLart" not in page.text
    assert simulated.settings.acs_url not in page.text
    assert "/simulator/login?state=" in page.text


def test_every_scenario_is_covered_here() -> None:
    covered = set(EXPECTED_STATUS) | {
        "success-loa2plus",
        "success-loa3",
        "loa-too-low",
        "no-authorisation",
        "wrong-service",
        "expired",
        "not-yet-valid",
        "bad-signature",
        "unsigned",
        "untrusted-key",
        "wrong-audience",
        "wrong-destination",
        "slow",
        "broker-error",
    }
    assert covered == set(SCENARIO_IDS)


def test_wrong_content_type_is_refused(simulated: Simulated) -> None:
    returned = login(simulated, "success-loa2plus")
    with pytest.raises(ArtifactError) as raised:
        resolve(simulated, returned.artifact, content_type="application/soap+xml")
    assert raised.value.diagnosis == "artifact-resolve-failed"
    raw = httpx.post(simulated.ars_url, content=b"<x/>", headers={"Content-Type": "application/soap+xml"})
    assert raw.status_code == 415
    # The refused attempt did not use up the artifact.
    assert one(resolve(simulated, returned.artifact), "samlp:Response/saml:Assertion") is not None


def test_unsigned_artifact_resolve_is_a_soap_fault(simulated: Simulated) -> None:
    returned = login(simulated, "success-loa2plus")
    envelope = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
        '<samlp:ArtifactResolve xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_x" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">'
        f"<saml:Issuer>{simulated.settings.sp.entity_id}</saml:Issuer><samlp:Artifact>{returned.artifact}</samlp:Artifact>"
        "</samlp:ArtifactResolve></soapenv:Body></soapenv:Envelope>"
    )
    answer = httpx.post(simulated.ars_url, content=envelope.encode(), headers={"Content-Type": "text/xml"})
    assert answer.status_code == 500
    assert b"Fault" in answer.content and b"unsigned" in answer.content
    assert one(resolve(simulated, returned.artifact), "samlp:Response/saml:Assertion") is not None
