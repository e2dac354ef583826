"""The checker on simulator responses: every scenario, and hand-spoiled variants re-signed with the broker key."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from diagnostics import certs, checks, crypto
from diagnostics.settings import Settings
from diagnostics.simulator import entities, responses
from diagnostics.simulator.keys import SimulatorKeys, keys_for
from diagnostics.simulator.scenarios import SCENARIO_IDS
from tests.helpers.messages import resign

SAML, SAMLP, DS = checks.SAML, checks.SAMLP, checks.DS
REQUEST_ID = "_request0123456789"
CHECK_ORDER = [
    "input",
    "structure",
    "artifact-status",
    "status",
    "issuer",
    "signature",
    "wrapping",
    "destination",
    "audience",
    "in-response-to",
    "time",
    "loa",
    "service",
    "identifiers",
    "replay",
]
EXPECTED: dict[str, str | None] = {
    "success-loa2plus": None,
    "success-loa3": None,
    "loa-too-low": "loa-too-low",
    "cancelled": "cancelled",
    "auth-failed": "auth-failed",
    "stopped-at-broker": "stopped-at-broker",
    "unknown-principal": "unknown-principal",
    "request-unsupported": "request-unsupported",
    "requester-error": "config-error",
    "unknown-status": "broker-error",
    "wrong-service": "wrong-service",
    "expired": "expired",
    "not-yet-valid": "not-yet-valid",
    "bad-signature": "bad-signature",
    "unsigned": "unsigned",
    "untrusted-key": "untrusted-certificate",
    "wrong-audience": "wrong-audience",
    "wrong-destination": "wrong-destination",
    "slow": None,
    "broker-error": "broker-error",
}


@pytest.fixture
def keys(settings: Settings) -> SimulatorKeys:
    return keys_for(settings.simulator.key_dir)


@pytest.fixture
def context(settings: Settings, keys: SimulatorKeys) -> Callable[..., checks.CheckContext]:
    def _make(**overrides: object) -> checks.CheckContext:
        base = checks.context_from_settings(
            settings, [keys.broker.cert], entities.BROKER_ENTITY_ID, expected_request_id=REQUEST_ID
        )
        return checks.CheckContext(**{**base.__dict__, **overrides})  # type: ignore[arg-type]

    return _make


@pytest.fixture
def success(settings: Settings) -> bytes:
    return responses.issue(settings, "success-loa2plus", request_id=REQUEST_ID)


def by_id(verdict: checks.Verdict) -> dict[str, checks.CheckResult]:
    return {check.id: check for check in verdict.checks}


def without_outer_signature(message: bytes) -> etree._Element:
    """The attacker cannot re-sign the ArtifactResponse, so wrapping tests drop its signature."""
    root = etree.fromstring(message)
    signature = root.find(f"{{{DS}}}Signature")
    assert signature is not None
    root.remove(signature)
    return root


def assertion_of(root: etree._Element) -> etree._Element:
    node = root.find(f"{{{SAMLP}}}Response/{{{SAML}}}Assertion")
    assert node is not None
    return node


def attribute_value(assertion: etree._Element, name: str) -> etree._Element:
    for attribute in assertion.iter(f"{{{SAML}}}Attribute"):
        if attribute.get("Name") == name:
            value = attribute.find(f"{{{SAML}}}AttributeValue")
            assert value is not None
            return value
    raise AssertionError(name)


@pytest.mark.parametrize("scenario", [s for s in SCENARIO_IDS if s != "no-authorisation"])
def test_every_simulator_scenario(
    settings: Settings, context: Callable[..., checks.CheckContext], scenario: str
) -> None:
    message = responses.issue(settings, scenario, request_id=REQUEST_ID)
    verdict = checks.run(message, context())
    assert [check.id for check in verdict.checks] == CHECK_ORDER
    expected = EXPECTED[scenario]
    if expected is None:
        assert verdict.verdict == "ok", [c for c in verdict.checks if c.status != "pass"]
        assert verdict.diagnosis is None
    else:
        assert verdict.verdict == "failed"
        assert verdict.diagnosis is not None and verdict.diagnosis.id == expected
        assert verdict.diagnosis.title and verdict.diagnosis.advice
        first = next(check for check in verdict.checks if check.status == "fail")
        assert first.diagnosis == expected


def test_success_trace_has_measured_values_and_masked_identifiers(
    success: bytes, context: Callable[..., checks.CheckContext], keys: SimulatorKeys
) -> None:
    verdict = checks.run(success, context())
    assert verdict.verdict == "ok"
    found = by_id(verdict)
    assert all(check.status == "pass" for check in verdict.checks if check.id != "replay")
    assert found["replay"].status == "skip"  # no replay memory given
    signature = found["signature"].data
    assert signature["assertion_certificate_sha256"] == certs.fingerprint_sha256(keys.broker.cert)
    assert signature["assertion_algorithm"] == "RSA-SHA256 / SHA-256"
    time_data = found["time"].data
    for key in ("server_time", "response_issue_instant", "not_before", "not_on_or_after", "allowed_skew_seconds"):
        assert time_data[key], key
    assert time_data["subject_confirmation_not_on_or_after"].endswith("UTC")
    identifiers = found["identifiers"].data
    assert identifiers["legalsubjectid"] == f"KvKnr: ******{entities.DEFAULT_KVK[-2:]}"
    assert identifiers["legalsubjectid_cipher"] == "aes256-cbc"
    dump = verdict.model_dump_json()
    assert entities.DEFAULT_KVK not in dump
    assert re.search(r"[0-9a-f]{64}", dump.replace(signature["assertion_certificate_sha256"], "")) is None


def test_no_trusted_certificate_is_inconclusive(success: bytes, context: Callable[..., checks.CheckContext]) -> None:
    verdict = checks.run(success, context(trusted_certs=()))
    assert verdict.verdict == "inconclusive"
    assert by_id(verdict)["signature"].status == "skip"
    assert by_id(verdict)["wrapping"].status == "skip"


def test_no_sp_key_is_inconclusive(success: bytes, context: Callable[..., checks.CheckContext]) -> None:
    verdict = checks.run(success, context(sp_key_pems=()))
    assert verdict.verdict == "inconclusive"
    assert by_id(verdict)["identifiers"].status == "skip"


def test_wrong_sp_key_is_decryption_failed(success: bytes, context: Callable[..., checks.CheckContext]) -> None:
    verdict = checks.run(success, context(sp_key_pems=(certs.generate("other").key_pem,)))
    assert verdict.diagnosis is not None and verdict.diagnosis.id == "decryption-failed"


def test_replay_of_the_same_assertion(success: bytes, context: Callable[..., checks.CheckContext]) -> None:
    seen: dict[str, datetime] = {}

    def remember(assertion_id: str, expires: datetime) -> bool:
        if assertion_id in seen:
            return False
        seen[assertion_id] = expires
        return True

    first = checks.run(success, context(remember_assertion=remember))
    assert first.verdict == "ok"
    assert by_id(first)["replay"].status == "pass"
    (expires,) = seen.values()
    assert expires > datetime.now(UTC)
    second = checks.run(success, context(remember_assertion=remember))
    assert second.diagnosis is not None and second.diagnosis.id == "replay"


def test_forged_assertion_is_not_remembered(settings: Settings, context: Callable[..., checks.CheckContext]) -> None:
    remembered: list[str] = []
    forged = responses.issue(settings, "bad-signature", request_id=REQUEST_ID)
    verdict = checks.run(forged, context(remember_assertion=lambda i, e: remembered.append(i) or True))
    assert by_id(verdict)["replay"].status == "skip"
    assert remembered == []


def test_in_response_to(success: bytes, context: Callable[..., checks.CheckContext]) -> None:
    other = checks.run(success, context(expected_request_id="_someoneelse"))
    assert other.diagnosis is not None and other.diagnosis.id == "unsolicited"
    unknown = checks.run(success, context(expected_request_id=None))
    assert unknown.verdict == "ok"
    assert by_id(unknown)["in-response-to"].status == "skip"


def test_unsolicited_response_without_in_response_to(
    success: bytes, keys: SimulatorKeys, context: Callable[..., checks.CheckContext]
) -> None:
    def drop(root: etree._Element) -> None:
        response = root.find(f"{{{SAMLP}}}Response")
        assert response is not None
        del response.attrib["InResponseTo"]
        data = next(assertion_of(root).iter(f"{{{SAML}}}SubjectConfirmationData"))
        del data.attrib["InResponseTo"]

    verdict = checks.run(resign(success, keys, drop), context())
    assert verdict.diagnosis is not None and verdict.diagnosis.id == "unsolicited"


def test_time_window_with_measured_numbers(success: bytes, context: Callable[..., checks.CheckContext]) -> None:
    later = checks.run(success, context(now=datetime.now(UTC) + timedelta(minutes=6)))
    assert later.diagnosis is not None and later.diagnosis.id == "expired"
    assert "Servertijd" in by_id(later)["time"].detail
    assert int(by_id(later)["time"].data["measured_skew_seconds"]) < -300
    earlier = checks.run(success, context(now=datetime.now(UTC) - timedelta(minutes=3)))
    assert earlier.diagnosis is not None and earlier.diagnosis.id == "not-yet-valid"
    within_skew = checks.run(success, context(now=datetime.now(UTC) - timedelta(seconds=30)))
    assert within_skew.verdict == "ok"


def test_wrong_issuer(success: bytes, context: Callable[..., checks.CheckContext]) -> None:
    verdict = checks.run(success, context(broker_entity_id="urn:etoegang:HM:00000003520354760000:entities:9632"))
    assert verdict.diagnosis is not None and verdict.diagnosis.id == "wrong-issuer"


def test_required_level_higher_than_received(success: bytes, context: Callable[..., checks.CheckContext]) -> None:
    verdict = checks.run(success, context(required_loa="urn:etoegang:core:assurance-class:loa3"))
    assert verdict.diagnosis is not None and verdict.diagnosis.id == "loa-too-low"
    assert by_id(verdict)["loa"].data["received"].endswith("loa2plus")


def test_service_id_leading_zeros_do_not_count(success: bytes, context: Callable[..., checks.CheckContext]) -> None:
    verdict = checks.run(success, context(service_id="urn:etoegang:DV:00000009999999999000:services:09001"))
    assert verdict.verdict == "ok"


def test_sha1_signature_is_weak(
    success: bytes, keys: SimulatorKeys, context: Callable[..., checks.CheckContext]
) -> None:
    root = etree.fromstring(success)
    crypto.sign(assertion_of(root), keys.broker.key_pem, keys.broker.cert_pem, algorithm="rsa-sha1")
    crypto.sign(root, keys.broker.key_pem, keys.broker.cert_pem)
    verdict = checks.run(etree.tostring(root), context())
    assert verdict.diagnosis is not None and verdict.diagnosis.id == "weak-algorithm"


def test_comment_injection_reads_the_canonical_value(
    success: bytes, keys: SimulatorKeys, context: Callable[..., checks.CheckContext], settings: Settings
) -> None:
    """A comment inside a signed value does not change the signature; the value read must ignore it too."""
    root = etree.fromstring(success)
    value = attribute_value(assertion_of(root), checks.SERVICE_ID)
    service_id = value.text or ""
    value.text = service_id[:-2]
    comment = etree.Comment("evil")
    comment.tail = service_id[-2:]
    value.append(comment)
    verdict = checks.run(etree.tostring(root), context())  # not re-signed: signatures must still hold
    assert verdict.verdict == "ok", [c for c in verdict.checks if c.status != "pass"]
    assert by_id(verdict)["service"].data["service_id"] == settings.service.service_id


def test_comment_in_decrypted_name_id(
    success: bytes, keys: SimulatorKeys, context: Callable[..., checks.CheckContext], settings: Settings
) -> None:
    def inject(root: etree._Element) -> None:
        name_id = etree.fromstring(
            f'<saml:NameID xmlns:saml="{SAML}" NameQualifier="urn:etoegang:1.9:EntityConcernedID:KvKnr">'
            "9000<!-- 1111 -->0042</saml:NameID>".encode()
        )
        value = attribute_value(assertion_of(root), checks.LEGAL_SUBJECT)
        value[0] = crypto.encrypt_id(name_id, settings.sp.cert_file.read_bytes(), recipient=settings.sp.entity_id)

    verdict = checks.run(resign(success, keys, inject), context())
    assert verdict.verdict == "ok"
    assert by_id(verdict)["identifiers"].data["legalsubjectid"] == "KvKnr: ******42"


def _unsigned_copy(signed: etree._Element) -> etree._Element:
    """A forger's copy of the signed assertion: another ID, no signature."""
    evil = etree.fromstring(etree.tostring(signed))
    evil.set("ID", "_evil")
    signature = evil.find(f"{{{DS}}}Signature")
    assert signature is not None
    evil.remove(signature)
    return evil


def test_evil_assertion_beside_the_signed_one(
    success: bytes, keys: SimulatorKeys, context: Callable[..., checks.CheckContext]
) -> None:
    root = without_outer_signature(success)
    signed = assertion_of(root)
    evil = _unsigned_copy(signed)
    signed.addprevious(evil)
    verdict = checks.run(etree.tostring(root), context())
    assert verdict.diagnosis is not None and verdict.diagnosis.id == "bad-signature"


def test_signed_assertion_only_inside_advice(
    success: bytes, keys: SimulatorKeys, context: Callable[..., checks.CheckContext]
) -> None:
    """XSW: the top-level assertion is unsigned; a signed copy hides in its Advice."""
    root = without_outer_signature(success)
    signed = assertion_of(root)
    evil = _unsigned_copy(signed)
    advice = evil.find(f"{{{SAML}}}Advice")
    assert advice is not None
    response = signed.getparent()
    assert response is not None
    response.remove(signed)
    advice.append(signed)
    response.append(evil)
    verdict = checks.run(etree.tostring(root), context())
    assert verdict.diagnosis is not None and verdict.diagnosis.id == "unsigned"


def test_signed_assertion_moved_into_extensions(success: bytes, context: Callable[..., checks.CheckContext]) -> None:
    root = without_outer_signature(success)
    signed = assertion_of(root)
    response = signed.getparent()
    assert response is not None
    evil = etree.fromstring(etree.tostring(signed))
    signature = evil.find(f"{{{DS}}}Signature")
    assert signature is not None
    evil.remove(signature)
    extensions = etree.Element(f"{{{SAMLP}}}Extensions")
    response.insert(1, extensions)
    response.remove(signed)
    extensions.append(signed)
    response.append(evil)
    verdict = checks.run(etree.tostring(root), context())
    assert verdict.diagnosis is not None and verdict.diagnosis.id == "unsigned"
    assert by_id(verdict)["wrapping"].status == "fail"


def in_envelope(message: bytes, namespace: str, *, prefix: str, header: bool = False) -> bytes:
    """``message`` (without its XML declaration) as the Body of a SOAP envelope of ``namespace``."""
    body = message.split(b"?>", 1)[1]
    head = f"<{prefix}:Header/>" if header else ""
    return (
        f'<{prefix}:Envelope xmlns:{prefix}="{namespace}">{head}<{prefix}:Body>'.encode()
        + body
        + f"</{prefix}:Body></{prefix}:Envelope>".encode()
    )


def test_soap_envelope_and_fault(success: bytes, context: Callable[..., checks.CheckContext]) -> None:
    envelope = in_envelope(success, "http://schemas.xmlsoap.org/soap/envelope/", prefix="soapenv")
    assert checks.run(envelope, context()).verdict == "ok"
    fault = (
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>'
        b"<faultcode>s:Server</faultcode><faultstring>boom</faultstring></s:Fault></s:Body></s:Envelope>"
    )
    verdict = checks.run(fault, context())
    assert verdict.diagnosis is not None and verdict.diagnosis.id == "artifact-resolve-failed"
    assert "boom" in verdict.checks[0].detail


def test_bare_response_is_accepted(success: bytes, context: Callable[..., checks.CheckContext]) -> None:
    root = etree.fromstring(success)
    response = root.find(f"{{{SAMLP}}}Response")
    assert response is not None
    verdict = checks.run(etree.tostring(response), context())
    assert verdict.verdict == "ok"
    assert by_id(verdict)["artifact-status"].status == "skip"


def test_encrypted_assertion(
    success: bytes, keys: SimulatorKeys, context: Callable[..., checks.CheckContext], settings: Settings
) -> None:
    root = etree.fromstring(success)
    assertion = assertion_of(root)
    encrypted = crypto.encrypt_id(assertion, settings.sp.cert_file.read_bytes(), recipient=settings.sp.entity_id)
    encrypted.tag = f"{{{SAML}}}EncryptedAssertion"
    assertion.addnext(encrypted)
    response = assertion.getparent()
    assert response is not None
    response.remove(assertion)
    crypto.sign(root, keys.broker.key_pem, keys.broker.cert_pem)
    message = etree.tostring(root)
    verdict = checks.run(message, context())
    assert verdict.verdict == "ok", [c for c in verdict.checks if c.status != "pass"]
    wrong = checks.run(message, context(sp_key_pems=(certs.generate("x").key_pem,)))
    assert wrong.diagnosis is not None and wrong.diagnosis.id == "decryption-failed"


@pytest.mark.parametrize(
    ("message", "diagnosis"),
    [
        (b"not xml", "malformed"),
        (b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>', "malformed"),
        (b"<a>" + b"x" * 600_000 + b"</a>", "too-large"),
        (b'<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>', "malformed"),
    ],
)
def test_unusable_input(message: bytes, diagnosis: str, context: Callable[..., checks.CheckContext]) -> None:
    verdict = checks.run(message, context())
    assert verdict.diagnosis is not None and verdict.diagnosis.id == diagnosis
    assert [check.id for check in verdict.checks] == CHECK_ORDER
    assert all(check.status == "skip" for check in verdict.checks[2:])


def test_missing_assertion_parts_are_malformed(
    success: bytes, keys: SimulatorKeys, context: Callable[..., checks.CheckContext]
) -> None:
    def drop_conditions(root: etree._Element) -> None:
        assertion = assertion_of(root)
        conditions = assertion.find(f"{{{SAML}}}Conditions")
        assert conditions is not None
        assertion.remove(conditions)

    verdict = checks.run(resign(success, keys, drop_conditions), context())
    assert verdict.diagnosis is not None and verdict.diagnosis.id == "malformed"
    assert "Conditions" in by_id(verdict)["structure"].detail


def test_artifact_response_status_not_success(
    success: bytes, keys: SimulatorKeys, context: Callable[..., checks.CheckContext]
) -> None:
    def fail_outer(root: etree._Element) -> None:
        code = root.find(f"{{{SAMLP}}}Status/{{{SAMLP}}}StatusCode")
        assert code is not None
        code.set("Value", checks.STATUS + "Responder")

    verdict = checks.run(resign(success, keys, fail_outer), context())
    assert verdict.diagnosis is not None and verdict.diagnosis.id == "artifact-resolve-failed"


@pytest.mark.parametrize(
    ("top", "second", "message", "diagnosis"),
    [
        ("Responder", "AuthnFailed", "Gebruiker heeft geannuleerd", "cancelled"),
        # A bare AuthnFailed is a cancel as often as a wrong password: the user is asked, nothing is claimed.
        ("Responder", "AuthnFailed", None, "stopped-at-broker"),
        ("Responder", "AuthnFailed", "Onjuist wachtwoord", "auth-failed"),
        ("Responder", "AuthnFailed", "Authentication failed", "stopped-at-broker"),
        ("Responder", None, None, "broker-error"),
        ("Requester", None, None, "config-error"),
        ("Requester", "RequestDenied", None, "config-error"),
        ("VersionMismatch", None, None, "broker-error"),
        ("urn:example:unknown", None, None, "broker-error"),
    ],
)
def test_status_codes(
    settings: Settings,
    context: Callable[..., checks.CheckContext],
    top: str,
    second: str | None,
    message: str | None,
    diagnosis: str,
) -> None:
    root = etree.fromstring(responses.issue(settings, "auth-failed", request_id=REQUEST_ID))
    status = root.find(f"{{{SAMLP}}}Response/{{{SAMLP}}}Status")
    assert status is not None
    for child in list(status):
        status.remove(child)
    code = etree.SubElement(status, f"{{{SAMLP}}}StatusCode", Value=top if ":" in top else checks.STATUS + top)
    if second:
        etree.SubElement(code, f"{{{SAMLP}}}StatusCode", Value=checks.STATUS + second)
    if message:
        etree.SubElement(status, f"{{{SAMLP}}}StatusMessage").text = message
    verdict = checks.run(etree.tostring(root), context())
    assert verdict.diagnosis is not None and verdict.diagnosis.id == diagnosis


def test_unsigned_artifact_response_with_signed_assertion_is_fine(
    success: bytes, context: Callable[..., checks.CheckContext]
) -> None:
    root = without_outer_signature(success)
    assert checks.run(etree.tostring(root), context()).verdict == "ok"


def test_base64_is_not_accepted_by_run(success: bytes, context: Callable[..., checks.CheckContext]) -> None:
    """run() takes XML; decoding transport encodings is the job of diagnostics.saml.inputs."""
    verdict = checks.run(base64.b64encode(success), context())
    assert verdict.diagnosis is not None and verdict.diagnosis.id == "malformed"


def test_encrypted_id_that_hides_something_else_than_a_name_id(
    success: bytes, keys: SimulatorKeys, context: Callable[..., checks.CheckContext], settings: Settings
) -> None:
    def smuggle(root: etree._Element) -> None:
        other = etree.fromstring(f'<saml:Issuer xmlns:saml="{SAML}">12345678</saml:Issuer>'.encode())
        value = attribute_value(assertion_of(root), checks.LEGAL_SUBJECT)
        value[0] = crypto.encrypt_id(other, settings.sp.cert_file.read_bytes(), recipient=settings.sp.entity_id)

    verdict = checks.run(resign(success, keys, smuggle), context())
    assert verdict.diagnosis is not None and verdict.diagnosis.id == "decryption-failed"
    assert "NameID" in by_id(verdict)["identifiers"].detail


@pytest.mark.parametrize("tag", ["EncryptedElement", "EncryptedAttribute", "Iets"])
def test_an_identifier_in_an_element_we_cannot_read_is_never_shown_as_its_text(
    success: bytes, keys: SimulatorKeys, context: Callable[..., checks.CheckContext], tag: str
) -> None:
    # Lasso's default: the encrypted identifier in xenc's EncryptedElement instead of saml:EncryptedID. Its
    # text is base64 ciphertext and certificate; reading that as "the value" claims a decryption that never was.
    def wrap(root: etree._Element) -> None:
        value = attribute_value(assertion_of(root), checks.LEGAL_SUBJECT)
        encrypted = value[0]
        other = etree.SubElement(value, f"{{http://www.w3.org/2001/04/xmlenc#}}{tag}")
        other.extend(list(encrypted))
        value.remove(encrypted)

    verdict = checks.run(resign(success, keys, wrap), context())
    assert verdict.verdict == "failed"
    identifiers = by_id(verdict)["identifiers"]
    assert (identifiers.status, identifiers.diagnosis) == ("fail", "decryption-failed")
    assert tag in identifiers.detail and "waarde" not in identifiers.data.get("legalsubjectid", "")


def test_without_broker_entity_id_the_issuer_is_not_judged(
    success: bytes, context: Callable[..., checks.CheckContext]
) -> None:
    verdict = checks.run(success, context(broker_entity_id=None))
    assert verdict.verdict == "inconclusive"
    issuer = by_id(verdict)["issuer"]
    assert issuer.status == "skip"
    assert issuer.data["issuer_assertion"] == entities.BROKER_ENTITY_ID


def test_soap_1_2_envelope(success: bytes, context: Callable[..., checks.CheckContext]) -> None:
    envelope = in_envelope(success, "http://www.w3.org/2003/05/soap-envelope", prefix="env", header=True)
    assert checks.run(envelope, context()).verdict == "ok"
