"""The hostile and broken responses: one row per case, each expected to fail with one diagnosis id.

Every case starts from the valid ``success-loa2plus`` response of the simulator (see ``world.py``).
Where an attack assumes a signature that still verifies, the case signs again with the key the
attacker is assumed to hold; the outer ArtifactResponse is always signed again as the broker
(``World.seal``), so that nothing but the spoiled part can make the case fail.

A few rows (family ``canonical``) are not attacks the checker must refuse but inputs whose *canonical*
value must be the one used: they expect ``ok`` (or a specific id) and a masked value in the trace.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from diagnostics import crypto
from diagnostics.saml.authn import instant, new_id
from diagnostics.simulator import responses
from tests.conformance.world import CHECKED, DS, ISSUED, NS, REQUEST_ID, SAML, SAMLP, XENC, World

LOA = "urn:etoegang:core:assurance-class:"
STATUS = "urn:oasis:names:tc:SAML:2.0:status:"
KVK = responses.entities.DEFAULT_KVK
HMAC_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"
RSA_MD5 = "http://www.w3.org/2001/04/xmldsig-more#rsa-md5"
C14N_INCLUSIVE = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
XSLT = "http://www.w3.org/TR/1999/REC-xslt-19991116"
XPATH = "http://www.w3.org/TR/1999/REC-xpath-19991116"
TRIPLEDES = "http://www.w3.org/2001/04/xmlenc#tripledes-cbc"


@dataclass(frozen=True)
class Case:
    id: str
    family: str
    mutate: Callable[[World], bytes]
    expected: str
    # "message": bytes go to checks.run; "redirect": base64 + DEFLATE first (HTTP-Redirect binding);
    # "paste": a pasted or uploaded file (HAR, SAML-tracer, form value) through saml.inputs first.
    stage: str = "message"
    # Extra CheckContext values for this case.
    context: dict[str, Any] = field(default_factory=dict)
    # For "canonical" cases: a masked value that must appear in the check trace.
    masked: str | None = None
    # Run the message twice with one replay memory; the second verdict counts.
    twice: bool = False


# ── small tools ──


def _loa_ref(assertion: etree._Element) -> etree._Element:
    return World.one(assertion, "saml:AuthnStatement/saml:AuthnContext/saml:AuthnContextClassRef")


def _attribute_value(assertion: etree._Element, name: str) -> etree._Element:
    return World.one(assertion, f"saml:AttributeStatement/saml:Attribute[@Name='{name}']/saml:AttributeValue")


def _signature(element: etree._Element) -> etree._Element:
    return World.one(element, "ds:Signature")


def _evil_copy(assertion: etree._Element, *, keep_id: bool = False) -> etree._Element:
    """The attacker's assertion: a copy at level 4 for someone else, without a valid signature."""
    evil = copy.deepcopy(assertion)
    if not keep_id:
        evil.set("ID", new_id())
    for signature in evil.findall("ds:Signature", NS):
        evil.remove(signature)
    _loa_ref(evil).text = LOA + "loa4"
    World.one(evil, "saml:Subject/saml:NameID").text = "_evil-subject"
    return evil


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _tweak_assertion(change: Callable[[etree._Element], None], *, resign: bool = True) -> Callable[[World], bytes]:
    """Change the assertion; by default the broker signs it again (the change is then 'authentic')."""

    def mutate(world: World) -> bytes:
        root = world.tree()
        assertion = world.assertion(root)
        change(assertion)
        if resign:
            world.sign_assertion(assertion)
        return world.seal(root)

    return mutate


def _tweak_response(change: Callable[[etree._Element], None]) -> Callable[[World], bytes]:
    def mutate(world: World) -> bytes:
        root = world.tree()
        change(world.response(root))
        return world.seal(root)

    return mutate


def _scenario(scenario_id: str) -> Callable[[World], bytes]:
    def mutate(world: World) -> bytes:
        return responses.issue(world.settings, scenario_id, request_id=REQUEST_ID, now=ISSUED)

    return mutate


def _status(
    code: str,
    sub_code: str | None = None,
    *,
    message: str | None = None,
    detail: str | None = None,
    keep_assertion: bool = False,
) -> Callable[[World], bytes]:
    def mutate(world: World) -> bytes:
        root = world.tree()
        response = world.response(root)
        status = World.one(response, "samlp:Status")
        for child in list(status):
            status.remove(child)
        top = etree.SubElement(status, f"{{{SAMLP}}}StatusCode", Value=code)
        if sub_code:
            etree.SubElement(top, f"{{{SAMLP}}}StatusCode", Value=sub_code)
        if message is not None:
            etree.SubElement(status, f"{{{SAMLP}}}StatusMessage").text = message
        if detail is not None:
            etree.SubElement(etree.SubElement(status, f"{{{SAMLP}}}StatusDetail"), "Reason").text = detail
        if not keep_assertion:
            response.remove(world.assertion(root))
        return world.seal(root)

    return mutate


# ── Responder + AuthnFailed: cancel and a wrong password or code look alike ──

# (case id, StatusMessage, expected): the message may name the cause; only a plain, single statement counts.
AUTHN_FAILED_MESSAGES: tuple[tuple[str, str | None, str], ...] = (
    ("bare", None, "stopped-at-broker"),
    ("empty-message", "", "stopped-at-broker"),
    ("cancel-en", "The user cancelled.", "cancelled"),
    ("cancel-en-us", "User canceled the login.", "cancelled"),
    ("cancel-en-aborted", "Authentication aborted by the user.", "cancelled"),
    ("cancel-nl", "De gebruiker heeft het inloggen geannuleerd.", "cancelled"),
    ("cancel-nl-afgebroken", "Inloggen afgebroken door de gebruiker.", "cancelled"),
    ("cancel-nl-annuleren", "Gebruiker koos Annuleren.", "cancelled"),
    ("credentials-en", "Invalid username or password.", "auth-failed"),
    ("credentials-en-code", "The SMS code is incorrect.", "auth-failed"),
    ("credentials-en-wrong", "Authentication failed: wrong credentials.", "auth-failed"),
    ("credentials-nl", "Onjuist wachtwoord.", "auth-failed"),
    ("credentials-nl-code", "De ingevoerde code klopt niet.", "auth-failed"),
    ("credentials-nl-gegevens", "Verkeerde gebruikersnaam of wachtwoord.", "auth-failed"),
    ("vague-en", "Authentication failed.", "stopped-at-broker"),
    ("vague-nl", "Inloggen mislukt.", "stopped-at-broker"),
    ("negated-cancel-en", "The user did not cancel.", "stopped-at-broker"),
    ("negated-cancel-nl", "Niet geannuleerd.", "stopped-at-broker"),
    ("negated-credentials-nl", "Het wachtwoord was niet fout.", "stopped-at-broker"),
    ("both-en", "Cancelled after a wrong password.", "stopped-at-broker"),
    ("both-nl", "Geannuleerd na een verkeerde code.", "stopped-at-broker"),
    ("status-code-is-not-a-user-code", "Invalid status code.", "stopped-at-broker"),
)


def _authn_failed_cases() -> list[Case]:
    cases = [
        Case(
            f"authnfailed-{name}",
            "status",
            _status(STATUS + "Responder", STATUS + "AuthnFailed", message=message),
            expected,
        )
        for name, message, expected in AUTHN_FAILED_MESSAGES
    ]
    return [
        *cases,
        # The simulator's silent cancel, signed as a broker sends it.
        Case("authnfailed-scenario-bare", "status", _scenario("stopped-at-broker"), "stopped-at-broker"),
        # Only the StatusMessage is read: a word elsewhere in the Status is no statement to the user.
        Case(
            "authnfailed-cancel-only-in-detail",
            "status",
            _status(STATUS + "Responder", STATUS + "AuthnFailed", detail="cancelled"),
            "stopped-at-broker",
        ),
    ]


# ── signature ──


def sig_tampered_after_signing(world: World) -> bytes:
    root = world.tree()
    _loa_ref(world.assertion(root)).text = LOA + "loa4"
    return world.seal(root)


def sig_tampered_attribute(world: World) -> bytes:
    root = world.tree()
    _attribute_value(world.assertion(root), "urn:etoegang:core:ServiceUUID").text = str(os.urandom(4).hex())
    return world.seal(root)


def sig_excluded(world: World) -> bytes:
    root = world.tree()
    assertion = world.assertion(root)
    assertion.remove(_signature(assertion))
    return world.seal(root)


def sig_empty_value(world: World) -> bytes:
    root = world.tree()
    World.one(_signature(world.assertion(root)), "ds:SignatureValue").text = ""
    return world.seal(root)


def sig_garbage_value(world: World) -> bytes:
    root = world.tree()
    value = World.one(_signature(world.assertion(root)), "ds:SignatureValue")
    value.text = base64.b64encode(os.urandom(256)).decode()
    return world.seal(root)


def sig_reference_to_response(world: World) -> bytes:
    root = world.tree()
    reference = World.one(_signature(world.assertion(root)), "ds:SignedInfo/ds:Reference")
    reference.set("URI", "#" + world.response(root).get("ID", ""))
    return world.seal(root)


def sig_reference_empty_uri(world: World) -> bytes:
    root = world.tree()
    World.one(_signature(world.assertion(root)), "ds:SignedInfo/ds:Reference").set("URI", "")
    return world.seal(root)


def _transform(algorithm: str, *, replace: str | None = None) -> Callable[[World], bytes]:
    def mutate(world: World) -> bytes:
        root = world.tree()
        transforms = World.one(_signature(world.assertion(root)), "ds:SignedInfo/ds:Reference/ds:Transforms")
        if replace is not None:
            for transform in transforms:
                if transform.get("Algorithm") == replace:
                    transform.set("Algorithm", algorithm)
        else:
            extra = etree.SubElement(transforms, f"{{{DS}}}Transform", Algorithm=algorithm)
            if algorithm == XPATH:
                etree.SubElement(extra, f"{{{DS}}}XPath").text = "not(ancestor-or-self::saml:AuthnStatement)"
        return world.seal(root)

    return mutate


def sig_c14n_inclusive(world: World) -> bytes:
    root = world.tree()
    World.one(_signature(world.assertion(root)), "ds:SignedInfo/ds:CanonicalizationMethod").set(
        "Algorithm", C14N_INCLUSIVE
    )
    return world.seal(root)


def sig_untrusted_keyinfo(world: World) -> bytes:
    root = world.tree()
    world.sign_assertion(world.assertion(root), world.stranger)
    return world.seal(root)


def sig_untrusted_key_trusted_cert(world: World) -> bytes:
    """Signed with the attacker's key, but KeyInfo names the broker's certificate."""
    root = world.tree()
    assertion = world.assertion(root)
    world.sign_assertion(assertion, world.stranger)
    broker_der = base64.b64encode(
        x509.load_pem_x509_certificate(world.keys.broker.cert_pem).public_bytes(Encoding.DER)
    ).decode()
    World.one(_signature(assertion), "ds:KeyInfo/ds:X509Data/ds:X509Certificate").text = broker_der
    return world.seal(root)


def sig_untrusted_no_keyinfo(world: World) -> bytes:
    root = world.tree()
    assertion = world.assertion(root)
    world.sign_assertion(assertion, world.stranger)
    signature = _signature(assertion)
    signature.remove(World.one(signature, "ds:KeyInfo"))
    return world.seal(root)


def sig_by_supplier_key(world: World) -> bytes:
    """The supplier (AD) is trusted by the broker, not by us: its key must not sign the HM assertion."""
    root = world.tree()
    world.sign_assertion(world.assertion(root), world.keys.ad)
    return world.seal(root)


def sig_rsa_sha1(world: World) -> bytes:
    root = world.tree()
    world.sign_assertion(world.assertion(root), algorithm="rsa-sha1")
    return world.seal(root)


def _signature_method(algorithm: str) -> Callable[[World], bytes]:
    def mutate(world: World) -> bytes:
        root = world.tree()
        World.one(_signature(world.assertion(root)), "ds:SignedInfo/ds:SignatureMethod").set("Algorithm", algorithm)
        return world.seal(root)

    return mutate


def sig_sha1_digest(world: World) -> bytes:
    root = world.tree()
    World.one(_signature(world.assertion(root)), "ds:SignedInfo/ds:Reference/ds:DigestMethod").set(
        "Algorithm", crypto.SHA1
    )
    return world.seal(root)


def sig_two_references(world: World) -> bytes:
    root = world.tree()
    signed_info = World.one(_signature(world.assertion(root)), "ds:SignedInfo")
    reference = World.one(signed_info, "ds:Reference")
    extra = copy.deepcopy(reference)
    extra.set("URI", "#" + world.response(root).get("ID", ""))
    reference.addnext(extra)
    return world.seal(root)


def sig_two_signatures(world: World) -> bytes:
    root = world.tree()
    assertion = world.assertion(root)
    signature = _signature(assertion)
    signature.addnext(copy.deepcopy(signature))
    return world.seal(root)


def sig_outer_broken(world: World) -> bytes:
    """The ArtifactResponse's own signature no longer matches (changed after signing)."""
    root = world.tree()
    root.set("IssueInstant", instant(ISSUED + timedelta(seconds=1)))
    return _bytes(root)


def sig_outer_untrusted(world: World) -> bytes:
    root = world.tree()
    crypto.sign(root, world.stranger.key_pem, world.stranger.cert_pem)
    return _bytes(root)


def sig_nested_signature_tampered(world: World) -> bytes:
    """The supplier's signature inside Advice changed: it is part of what the broker signed."""
    root = world.tree()
    advice_assertion = World.one(world.assertion(root), "saml:Advice/saml:Assertion")
    value = World.one(_signature(advice_assertion), "ds:SignatureValue")
    value.text = "AAAA" + (value.text or "")[4:]
    return world.seal(root)


def sig_nested_signature_object(world: World) -> bytes:
    """Content hidden in a nested Signature/Object: an enveloped transform must drop only its own signature."""
    root = world.tree()
    advice_assertion = World.one(world.assertion(root), "saml:Advice/saml:Assertion")
    etree.SubElement(_signature(advice_assertion), f"{{{DS}}}Object").text = "evil"
    return world.seal(root)


def sig_extra_signature_element(world: World) -> bytes:
    root = world.tree()
    etree.SubElement(World.one(world.assertion(root), "saml:AttributeStatement"), f"{{{DS}}}Signature").text = "x"
    return world.seal(root)


# ── XML signature wrapping (XSW) ──


def xsw1_evil_artifact_response(world: World) -> bytes:
    """XSW1: the signed ArtifactResponse hides in its own Signature/Object; an evil one takes its place."""
    root = world.tree()
    original = copy.deepcopy(root)
    evil = root
    evil.set("ID", new_id())
    assertion = world.assertion(evil)
    world.response(evil).replace(assertion, _evil_copy(assertion))
    signature = _signature(evil)
    etree.SubElement(signature, f"{{{DS}}}Object").append(original)
    return _bytes(evil)


def xsw2_evil_artifact_response_detached(world: World) -> bytes:
    """XSW2: as XSW1, but the original is a sibling before the signature (detached reference)."""
    root = world.tree()
    original = copy.deepcopy(root)
    root.set("ID", new_id())
    assertion = world.assertion(root)
    world.response(root).replace(assertion, _evil_copy(assertion))
    _signature(root).addprevious(original)
    return _bytes(root)


def xsw3_evil_before(world: World) -> bytes:
    """XSW3: an unsigned evil assertion before the signed one."""
    root = world.tree()
    assertion = world.assertion(root)
    assertion.addprevious(_evil_copy(assertion))
    return world.seal(root)


def xsw4_evil_around(world: World) -> bytes:
    """XSW4: the evil assertion wraps the signed one."""
    root = world.tree()
    assertion = world.assertion(root)
    evil = _evil_copy(assertion)
    world.response(root).replace(assertion, evil)
    evil.append(assertion)
    return world.seal(root)


def xsw5_evil_with_signature_original_after(world: World) -> bytes:
    """XSW5: evil assertion carries the original ID and signature; the original follows, unsigned."""
    root = world.tree()
    assertion = world.assertion(root)
    evil = _evil_copy(assertion, keep_id=True)
    World.one(evil, "saml:Issuer").addnext(copy.deepcopy(_signature(assertion)))
    original = copy.deepcopy(assertion)
    original.remove(_signature(original))
    world.response(root).replace(assertion, evil)
    evil.addnext(original)
    return world.seal(root)


def xsw6_original_inside_signature_object(world: World) -> bytes:
    """XSW6: evil assertion with the original ID and signature; the original inside Signature/Object."""
    root = world.tree()
    assertion = world.assertion(root)
    evil = _evil_copy(assertion, keep_id=True)
    signature = copy.deepcopy(_signature(assertion))
    World.one(evil, "saml:Issuer").addnext(signature)
    original = copy.deepcopy(assertion)
    original.remove(_signature(original))
    etree.SubElement(signature, f"{{{DS}}}Object").append(original)
    world.response(root).replace(assertion, evil)
    return world.seal(root)


def xsw7_original_in_extensions(world: World) -> bytes:
    """XSW7: the signed assertion moved into samlp:Extensions; an evil one in its place."""
    root = world.tree()
    response = world.response(root)
    assertion = world.assertion(root)
    evil = _evil_copy(assertion)
    response.replace(assertion, evil)
    extensions = etree.Element(f"{{{SAMLP}}}Extensions")
    World.one(response, "saml:Issuer").addnext(extensions)
    extensions.append(assertion)
    return world.seal(root)


def xsw8_original_in_evil_signature_object(world: World) -> bytes:
    """XSW8: evil assertion (original ID) whose Signature/Object holds the original, its signature removed."""
    root = world.tree()
    assertion = world.assertion(root)
    evil = _evil_copy(assertion, keep_id=True)
    signature = copy.deepcopy(_signature(assertion))
    World.one(evil, "saml:Issuer").addnext(signature)
    original = copy.deepcopy(assertion)
    original.remove(_signature(original))
    etree.SubElement(signature, f"{{{DS}}}Object").append(original)
    world.response(root).replace(assertion, evil)
    return world.seal(root)


def xsw_evil_after(world: World) -> bytes:
    """An unsigned evil assertion after the signed one."""
    root = world.tree()
    assertion = world.assertion(root)
    assertion.addnext(_evil_copy(assertion))
    return world.seal(root)


def xsw_original_in_advice(world: World) -> bytes:
    """The signed HM assertion moved into the Advice of an unsigned evil assertion."""
    root = world.tree()
    assertion = world.assertion(root)
    evil = _evil_copy(assertion)
    world.response(root).replace(assertion, evil)
    World.one(evil, "saml:Advice").append(assertion)
    return world.seal(root)


def xsw_only_advice_signed(world: World) -> bytes:
    """The HM signature removed: only the supplier's and MR's Advice assertions are still signed."""
    root = world.tree()
    assertion = world.assertion(root)
    assertion.remove(_signature(assertion))
    _loa_ref(assertion).text = LOA + "loa4"
    return world.seal(root)


def xsw_reference_to_advice(world: World) -> bytes:
    """A broker-made signature in the HM assertion that references only the nested Advice assertion."""
    root = world.tree()
    assertion = world.assertion(root)
    nested = World.one(assertion, "saml:Advice/saml:Assertion")
    assertion.remove(_signature(assertion))
    _loa_ref(assertion).text = LOA + "loa4"
    # Sign the nested assertion as the broker, then lift that signature into the outer assertion.
    world.sign_assertion(nested)
    signature = _signature(nested)
    nested.remove(signature)
    World.one(assertion, "saml:Issuer").addnext(signature)
    return world.seal(root)


def xsw_duplicate_id(world: World) -> bytes:
    """Another element carries the signed assertion's ID."""
    root = world.tree()
    response = world.response(root)
    assertion = world.assertion(root)
    evil = _evil_copy(assertion, keep_id=True)
    extensions = etree.Element(f"{{{SAMLP}}}Extensions")
    World.one(response, "saml:Issuer").addnext(extensions)
    extensions.append(evil)
    return world.seal(root)


def xsw_evil_response_before(world: World) -> bytes:
    """Two Responses in the ArtifactResponse: an evil one (unsigned assertion) first."""
    root = world.tree()
    response = world.response(root)
    evil = copy.deepcopy(response)
    evil.set("ID", new_id())
    assertion = World.one(evil, "saml:Assertion")
    evil.replace(assertion, _evil_copy(assertion))
    response.addprevious(evil)
    return world.seal(root)


def xsw_evil_assertion_signed_by_stranger_first(world: World) -> bytes:
    """An evil assertion with a valid signature of an untrusted key, before the broker's assertion."""
    root = world.tree()
    assertion = world.assertion(root)
    evil = _evil_copy(assertion)
    world.sign_assertion(evil, world.stranger)
    assertion.addprevious(evil)
    return world.seal(root)


# ── comments and whitespace: the canonical value counts ──


def _signed_with_comment(
    locate: Callable[[etree._Element], etree._Element], signed_value: str, split_at: int
) -> Callable[[World], bytes]:
    """The broker signs ``signed_value``; the attacker then splits it with a comment (c14n ignores comments).

    A checker that reads only the first text node sees ``signed_value[:split_at]``.
    """

    def mutate(world: World) -> bytes:
        root = world.tree()
        assertion = world.assertion(root)
        element = locate(assertion)
        element.text = signed_value
        world.sign_assertion(assertion)
        element.text = signed_value[:split_at]
        comment = etree.Comment(" ")
        comment.tail = signed_value[split_at:]
        element.append(comment)
        return world.seal(root)

    return mutate


def _service_id(assertion: etree._Element) -> etree._Element:
    return _attribute_value(assertion, "urn:etoegang:core:ServiceID")


def _audience(assertion: etree._Element) -> etree._Element:
    return World.one(assertion, "saml:Conditions/saml:AudienceRestriction/saml:Audience")


def _issuer(assertion: etree._Element) -> etree._Element:
    return World.one(assertion, "saml:Issuer")


def _encrypted_kvk(value_xml: bytes) -> Callable[[World], bytes]:
    """LegalSubjectID encrypted again (as the broker would) around a hand-written NameID."""

    def mutate(world: World) -> bytes:
        root = world.tree()
        assertion = world.assertion(root)
        holder = _attribute_value(assertion, "urn:etoegang:core:LegalSubjectID")
        name_id = etree.fromstring(value_xml)
        encrypted = crypto.encrypt_id(name_id, world.sp_cert_pem, recipient=world.settings.sp.entity_id)
        holder.replace(World.one(holder, "saml:EncryptedID"), encrypted)
        world.sign_assertion(assertion)
        return world.seal(root)

    return mutate


def _name_id(text: str) -> bytes:
    return (
        f'<saml:NameID xmlns:saml="{SAML}" Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" '
        f'NameQualifier="urn:etoegang:1.9:EntityConcernedID:KvKnr">{text}</saml:NameID>'
    ).encode()


def _whitespace_in(
    locate: Callable[[etree._Element], etree._Element], make: Callable[[str], str]
) -> Callable[[World], bytes]:
    def change(assertion: etree._Element) -> None:
        element = locate(assertion)
        element.text = make(element.text or "")

    return _tweak_assertion(change)


# ── unsafe XML ──


def _replace_issuer_text(world: World, marker: bytes) -> bytes:
    """The valid message with the first Issuer's text replaced by ``marker`` (raw bytes)."""
    data = world.valid
    start = data.index(b"<saml:Issuer>") + len(b"<saml:Issuer>")
    end = data.index(b"</saml:Issuer>", start)
    return data[:start] + marker + data[end:]


def _with_doctype(world: World, doctype: bytes, marker: bytes) -> bytes:
    body = _replace_issuer_text(world, marker)
    declaration_end = body.index(b"?>") + 2
    return body[:declaration_end] + b"\n" + doctype + body[declaration_end:]


def xxe_file(world: World) -> bytes:
    return _with_doctype(
        world, b'<!DOCTYPE samlp:ArtifactResponse [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', b"&xxe;"
    )


def xxe_parameter_entity(world: World) -> bytes:
    return _with_doctype(
        world,
        b'<!DOCTYPE samlp:ArtifactResponse [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>',
        b"x",
    )


def external_dtd(world: World) -> bytes:
    return _with_doctype(world, b'<!DOCTYPE samlp:ArtifactResponse SYSTEM "http://127.0.0.1:9/saml.dtd">', b"x")


def billion_laughs(world: World) -> bytes:
    entities = [b'<!ENTITY lol0 "lol">']
    for level in range(1, 10):
        entities.append(f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">'.encode())
    return _with_doctype(world, b"<!DOCTYPE samlp:ArtifactResponse [" + b"".join(entities) + b"]>", b"&lol9;")


def quadratic_blowup(world: World) -> bytes:
    doctype = b'<!DOCTYPE samlp:ArtifactResponse [<!ENTITY a "' + b"A" * 20_000 + b'">]>'
    return _with_doctype(world, doctype, b"&a;" * 20)


def doctype_without_entities(world: World) -> bytes:
    return _with_doctype(world, b"<!DOCTYPE samlp:ArtifactResponse>", b"x")


def xinclude(world: World) -> bytes:
    return _replace_issuer_text(
        world, b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>'
    )


def deep_nesting(world: World) -> bytes:
    depth = 5000
    return _replace_issuer_text(world, b"<a>" * depth + b"x" + b"</a>" * depth)


def over_size_limit(world: World) -> bytes:
    padding_comment = b"<!--" + b"x" * (world.settings.max_message_bytes + 1) + b"-->"
    return _replace_issuer_text(world, padding_comment + responses.entities.BROKER_ENTITY_ID.encode())


def invalid_utf8(world: World) -> bytes:
    return _replace_issuer_text(world, b"urn:etoegang:HM:\xff\xfe\xc3(")


def utf16_document(world: World) -> bytes:
    text = world.valid.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    return text.encode("utf-16")


def not_xml(_world: World) -> bytes:
    return b"Dit is geen SAML-bericht."


def empty_message(_world: World) -> bytes:
    return b""


def truncated(world: World) -> bytes:
    return world.valid[: len(world.valid) // 2]


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def deflate_bomb(world: World) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    chunk = b" " * (1 << 20)
    parts = [compressor.compress(b"<samlp:Response>")]
    parts.extend(compressor.compress(chunk) for _ in range(max(8, world.settings.max_message_bytes >> 18)))
    parts.append(compressor.flush())
    return base64.b64encode(b"".join(parts))


def redirect_invalid_base64(_world: World) -> bytes:
    return b"PHNhbWxwOlJlc3BvbnNl!!!$$$===="


def redirect_invalid_deflate(_world: World) -> bytes:
    return base64.b64encode(b"\xff\x00this is not deflate" * 4)


def redirect_valid_but_xxe(world: World) -> bytes:
    return base64.b64encode(_deflate(xxe_file(world)))


# ── protocol ──


def valid(world: World) -> bytes:
    """The untouched message: the case lies in the context (clock, expected request, replay memory)."""
    return world.valid


def resealed(world: World) -> bytes:
    """Control: the assertion and the ArtifactResponse signed again, nothing else changed."""
    root = world.tree()
    world.sign_assertion(world.assertion(root))
    return world.seal(root)


def subject_in_response_to_other(world: World) -> bytes:
    def change(assertion: etree._Element) -> None:
        World.one(assertion, "saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData").set(
            "InResponseTo", "_another-request"
        )

    return _tweak_assertion(change)(world)


def response_in_response_to_other(world: World) -> bytes:
    return _tweak_response(lambda response: response.set("InResponseTo", "_another-request"))(world)


def unsolicited(world: World) -> bytes:
    root = world.tree()
    response = world.response(root)
    del response.attrib["InResponseTo"]
    assertion = world.assertion(root)
    data = World.one(assertion, "saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData")
    del data.attrib["InResponseTo"]
    world.sign_assertion(assertion)
    return world.seal(root)


def _set_attr(path: str, name: str, value: str) -> Callable[[etree._Element], None]:
    def change(element: etree._Element) -> None:
        World.one(element, path).set(name, value) if path else element.set(name, value)

    return change


def _at(delta: timedelta) -> str:
    return instant(CHECKED + delta)


def _missing(path: str, *, in_response: bool = False) -> Callable[[World], bytes]:
    def mutate(world: World) -> bytes:
        root = world.tree()
        parent = world.response(root) if in_response else world.assertion(root)
        element = World.one(parent, path)
        element_parent = element.getparent()
        assert element_parent is not None
        element_parent.remove(element)
        if not in_response:
            world.sign_assertion(parent)
        return world.seal(root)

    return mutate


def _set_text(locate: Callable[[etree._Element], etree._Element], text: str) -> Callable[[etree._Element], None]:
    def change(assertion: etree._Element) -> None:
        locate(assertion).text = text

    return change


def issuer_other_broker(world: World) -> bytes:
    return _tweak_assertion(_set_text(_issuer, "urn:etoegang:HM:00000009999999999777:entities:9999"))(world)


def response_issuer_other(world: World) -> bytes:
    return _tweak_response(_set_text(lambda r: World.one(r, "saml:Issuer"), "urn:etoegang:HM:0000000999:entities:1"))(
        world
    )


# ── encryption ──


def _reencrypt(*, stranger: bool = False, **options: Any) -> Callable[[World], bytes]:
    """LegalSubjectID encrypted again by the broker with other options (or for someone else's key)."""

    def mutate(world: World) -> bytes:
        root = world.tree()
        assertion = world.assertion(root)
        holder = _attribute_value(assertion, "urn:etoegang:core:LegalSubjectID")
        cert_pem = world.stranger.cert_pem if stranger else world.sp_cert_pem
        name_id = etree.fromstring(_name_id(KVK))
        encrypted = crypto.encrypt_id(name_id, cert_pem, recipient=world.settings.sp.entity_id, **options)
        holder.replace(World.one(holder, "saml:EncryptedID"), encrypted)
        world.sign_assertion(assertion)
        return world.seal(root)

    return mutate


def _spoil_encrypted(change: Callable[[etree._Element], None]) -> Callable[[World], bytes]:
    def mutate(world: World) -> bytes:
        root = world.tree()
        assertion = world.assertion(root)
        holder = _attribute_value(assertion, "urn:etoegang:core:LegalSubjectID")
        change(World.one(holder, "saml:EncryptedID"))
        world.sign_assertion(assertion)
        return world.seal(root)

    return mutate


def _flip_cipher(path: str) -> Callable[[etree._Element], None]:
    def change(encrypted_id: etree._Element) -> None:
        value = World.one(encrypted_id, path)
        raw = bytearray(base64.b64decode(value.text or ""))
        raw[-1] ^= 0x01
        value.text = base64.b64encode(bytes(raw)).decode()

    return change


def _truncate_cipher(encrypted_id: etree._Element) -> None:
    value = World.one(encrypted_id, "xenc:EncryptedData/xenc:CipherData/xenc:CipherValue")
    value.text = base64.b64encode(base64.b64decode(value.text or "")[:20]).decode()


def _cipher_algorithm(algorithm: str) -> Callable[[etree._Element], None]:
    def change(encrypted_id: etree._Element) -> None:
        World.one(encrypted_id, "xenc:EncryptedData/xenc:EncryptionMethod").set("Algorithm", algorithm)

    return change


def _bad_oaep_params(encrypted_id: etree._Element) -> None:
    # Once a crash (binascii.Error out of the checker): OAEPparams that are not base64.
    method = World.one(encrypted_id, "xenc:EncryptedKey/xenc:EncryptionMethod")
    etree.SubElement(method, f"{{{XENC}}}OAEPparams").text = "not base64!"


def _content_type(encrypted_id: etree._Element) -> None:
    World.one(encrypted_id, "xenc:EncryptedData").set("Type", XENC + "Content")


def _raw_encrypted_id(world: World, plaintext: bytes) -> etree._Element:
    """An EncryptedID around arbitrary plaintext bytes, made like the broker makes one (AES-256-CBC, OAEP)."""
    session_key = os.urandom(32)
    iv = os.urandom(16)
    pad = 16 - len(plaintext) % 16
    encryptor = Cipher(algorithms.AES(session_key), modes.CBC(iv)).encryptor()
    cipher = iv + encryptor.update(plaintext + bytes([pad]) * pad) + encryptor.finalize()
    public_key = x509.load_pem_x509_certificate(world.sp_cert_pem).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    wrapped = public_key.encrypt(
        session_key, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    )
    return etree.fromstring(
        f"""<saml:EncryptedID xmlns:saml="{SAML}" xmlns:xenc="{XENC}" xmlns:ds="{DS}">
<xenc:EncryptedData Type="{XENC}Element"><xenc:EncryptionMethod Algorithm="{crypto.AES256_CBC}"/>
<xenc:CipherData><xenc:CipherValue>{base64.b64encode(cipher).decode()}</xenc:CipherValue></xenc:CipherData>
</xenc:EncryptedData>
<xenc:EncryptedKey Recipient="{world.settings.sp.entity_id}"><xenc:EncryptionMethod Algorithm="{crypto.RSA_OAEP_MGF1P}"/>
<xenc:CipherData><xenc:CipherValue>{base64.b64encode(wrapped).decode()}</xenc:CipherValue></xenc:CipherData>
</xenc:EncryptedKey></saml:EncryptedID>""".encode()
    )


def _encrypted_plaintext(plaintext: bytes) -> Callable[[World], bytes]:
    def mutate(world: World) -> bytes:
        root = world.tree()
        assertion = world.assertion(root)
        holder = _attribute_value(assertion, "urn:etoegang:core:LegalSubjectID")
        holder.replace(World.one(holder, "saml:EncryptedID"), _raw_encrypted_id(world, plaintext))
        world.sign_assertion(assertion)
        return world.seal(root)

    return mutate


def encrypted_assertion_wrong_key(world: World) -> bytes:
    """The whole assertion encrypted (EncryptedAssertion) to a key that is not ours."""
    root = world.tree()
    response = world.response(root)
    assertion = world.assertion(root)
    encrypted = crypto.encrypt_id(assertion, world.stranger.cert_pem, recipient=world.settings.sp.entity_id)
    encrypted.tag = f"{{{SAML}}}EncryptedAssertion"
    response.replace(assertion, encrypted)
    return world.seal(root)


def _drop_response(world: World) -> bytes:
    root = world.tree()
    root.remove(world.response(root))
    return world.seal(root)


def _gcm_corrupted(world: World) -> bytes:
    root = world.tree()
    assertion = world.assertion(root)
    holder = _attribute_value(assertion, "urn:etoegang:core:LegalSubjectID")
    encrypted = crypto.encrypt_id(
        etree.fromstring(_name_id(KVK)),
        world.sp_cert_pem,
        recipient=world.settings.sp.entity_id,
        algorithm=crypto.AES128_GCM,
    )
    _flip_cipher("xenc:EncryptedData/xenc:CipherData/xenc:CipherValue")(encrypted)
    holder.replace(World.one(holder, "saml:EncryptedID"), encrypted)
    world.sign_assertion(assertion)
    return world.seal(root)


# ── pasted or uploaded files (servicedesk paste box, ``inloghulp explain``) ──


def _har(post_text: str) -> bytes:
    entry = {"request": {"method": "POST", "url": "https://dienst.example/saml/acs", "postData": {"text": post_text}}}
    return json.dumps({"log": {"version": "1.2", "entries": [entry]}}).encode()


def paste_base64_xsw(world: World) -> bytes:
    return base64.b64encode(xsw3_evil_before(world))


def paste_form_value_deflate_bomb(world: World) -> bytes:
    return b"SAMLResponse=" + deflate_bomb(world).replace(b"+", b"%2B").replace(b"/", b"%2F").replace(b"=", b"%3D")


def paste_har_tampered(world: World) -> bytes:
    return _har("SAMLResponse=" + base64.b64encode(sig_tampered_after_signing(world)).decode())


def paste_har_xxe(world: World) -> bytes:
    return _har("SAMLResponse=" + base64.b64encode(xxe_file(world)).decode())


def paste_tracer_unsigned(world: World) -> bytes:
    message = _scenario("unsigned")(world).decode("utf-8")
    return json.dumps({"requests": [{"url": "https://dienst.example/saml/acs", "saml": message}]}).encode()


def paste_soap_envelope_tampered(world: World) -> bytes:
    inner = sig_tampered_after_signing(world).split(b"?>", 1)[1]
    return (
        b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        + inner
        + b"</soap:Body></soap:Envelope>"
    )


def paste_json_nesting_bomb(_world: World) -> bytes:
    return b'{"log": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


def _paste_bytes(data: bytes) -> Callable[[World], bytes]:
    def mutate(_world: World) -> bytes:
        return data

    return mutate


# ── more structure and window cases ──


def _second_audience_restriction(assertion: etree._Element) -> None:
    """Audience restrictions are ANDed: a second one naming another DV excludes us."""
    restriction = etree.SubElement(World.one(assertion, "saml:Conditions"), f"{{{SAML}}}AudienceRestriction")
    etree.SubElement(restriction, f"{{{SAML}}}Audience").text = "urn:etoegang:DV:00000009999999999002:entities:1"


def _holder_of_key(assertion: etree._Element) -> None:
    World.one(assertion, "saml:Subject/saml:SubjectConfirmation").set(
        "Method", "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"
    )


def _remove(path: str) -> Callable[[etree._Element], None]:
    def change(assertion: etree._Element) -> None:
        element = World.one(assertion, path)
        parent = element.getparent()
        assert parent is not None
        parent.remove(element)

    return change


def _evil_subject_confirmation_first(assertion: etree._Element) -> None:
    confirmation = World.one(assertion, "saml:Subject/saml:SubjectConfirmation")
    evil = copy.deepcopy(confirmation)
    World.one(evil, "saml:SubjectConfirmationData").set("Recipient", "https://evil.example/saml/acs")
    confirmation.addprevious(evil)


def _second_loa(assertion: etree._Element) -> None:
    """A second, lower level after the real one: which one counts must not be the checker's guess."""
    reference = _loa_ref(assertion)
    lower = copy.deepcopy(reference)
    lower.text = LOA + "loa1"
    reference.addnext(lower)


def _second_authn_statement(assertion: etree._Element) -> None:
    statement = World.one(assertion, "saml:AuthnStatement")
    lower = copy.deepcopy(statement)
    World.one(lower, "saml:AuthnContext/saml:AuthnContextClassRef").text = LOA + "loa1"
    statement.addnext(lower)


def outer_status_requester(world: World) -> bytes:
    root = world.tree()
    World.one(root, "samlp:Status/samlp:StatusCode").set("Value", STATUS + "Requester")
    return world.seal(root)


def response_inside_extensions(world: World) -> bytes:
    root = world.tree()
    response = world.response(root)
    extensions = etree.Element(f"{{{SAMLP}}}Extensions")
    World.one(root, "saml:Issuer").addnext(extensions)
    root.remove(response)
    extensions.append(response)
    return world.seal(root)


CASES: tuple[Case, ...] = (
    # controls: the unspoiled message and a re-signed copy must pass, or every other row proves nothing
    Case("control-valid", "control", valid, "ok"),
    Case("control-resigned", "control", resealed, "ok"),
    # signature
    Case("sig-tampered-loa", "signature", sig_tampered_after_signing, "bad-signature"),
    Case("sig-tampered-attribute", "signature", sig_tampered_attribute, "bad-signature"),
    Case("sig-scenario-bad-signature", "signature", _scenario("bad-signature"), "bad-signature"),
    Case("sig-exclusion", "signature", sig_excluded, "unsigned"),
    Case("sig-scenario-unsigned", "signature", _scenario("unsigned"), "unsigned"),
    Case("sig-empty-signaturevalue", "signature", sig_empty_value, "bad-signature"),
    Case("sig-garbage-signaturevalue", "signature", sig_garbage_value, "bad-signature"),
    Case("sig-reference-to-response", "signature", sig_reference_to_response, "bad-signature"),
    Case("sig-reference-empty-uri", "signature", sig_reference_empty_uri, "bad-signature"),
    Case("sig-transform-xslt", "signature", _transform(XSLT), "bad-signature"),
    Case("sig-transform-xpath", "signature", _transform(XPATH), "bad-signature"),
    Case(
        "sig-transform-inclusive-c14n",
        "signature",
        _transform(C14N_INCLUSIVE, replace=crypto.EXC_C14N),
        "bad-signature",
    ),
    Case(
        "sig-transform-no-enveloped",
        "signature",
        _transform(crypto.EXC_C14N, replace=crypto.ENVELOPED),
        "bad-signature",
    ),
    Case("sig-c14n-inclusive", "signature", sig_c14n_inclusive, "bad-signature"),
    Case("sig-keyinfo-untrusted-cert", "signature", sig_untrusted_keyinfo, "untrusted-certificate"),
    Case("sig-scenario-untrusted-key", "signature", _scenario("untrusted-key"), "untrusted-certificate"),
    Case("sig-untrusted-key-trusted-cert-in-keyinfo", "signature", sig_untrusted_key_trusted_cert, "bad-signature"),
    Case("sig-untrusted-key-no-keyinfo", "signature", sig_untrusted_no_keyinfo, "bad-signature"),
    Case("sig-supplier-key", "signature", sig_by_supplier_key, "untrusted-certificate"),
    Case("sig-rsa-sha1", "signature", sig_rsa_sha1, "weak-algorithm"),
    Case("sig-sha1-digest", "signature", sig_sha1_digest, "weak-algorithm"),
    Case("sig-rsa-md5", "signature", _signature_method(RSA_MD5), "weak-algorithm"),
    Case("sig-hmac-sha256", "signature", _signature_method(HMAC_SHA256), "bad-signature"),
    Case("sig-two-references", "signature", sig_two_references, "bad-signature"),
    Case("sig-two-signatures", "signature", sig_two_signatures, "bad-signature"),
    Case("sig-artifactresponse-broken", "signature", sig_outer_broken, "bad-signature"),
    Case("sig-artifactresponse-untrusted", "signature", sig_outer_untrusted, "untrusted-certificate"),
    Case("sig-nested-signature-tampered", "signature", sig_nested_signature_tampered, "bad-signature"),
    Case("sig-nested-signature-object", "signature", sig_nested_signature_object, "bad-signature"),
    Case("sig-extra-signature-element", "signature", sig_extra_signature_element, "bad-signature"),
    # XML signature wrapping
    Case("xsw1-evil-artifactresponse-original-in-object", "xsw", xsw1_evil_artifact_response, "bad-signature"),
    Case("xsw2-evil-artifactresponse-original-detached", "xsw", xsw2_evil_artifact_response_detached, "bad-signature"),
    Case("xsw3-evil-assertion-before", "xsw", xsw3_evil_before, "bad-signature"),
    Case("xsw4-evil-assertion-around", "xsw", xsw4_evil_around, "unsigned"),
    Case("xsw5-evil-with-signature-original-after", "xsw", xsw5_evil_with_signature_original_after, "bad-signature"),
    Case("xsw6-original-in-signature-object", "xsw", xsw6_original_inside_signature_object, "bad-signature"),
    Case("xsw7-original-in-extensions", "xsw", xsw7_original_in_extensions, "unsigned"),
    Case("xsw8-original-in-evil-signature-object", "xsw", xsw8_original_in_evil_signature_object, "bad-signature"),
    Case("xsw-evil-assertion-after", "xsw", xsw_evil_after, "bad-signature"),
    Case("xsw-original-in-advice", "xsw", xsw_original_in_advice, "unsigned"),
    Case("xsw-only-advice-signed", "xsw", xsw_only_advice_signed, "unsigned"),
    Case("xsw-reference-to-advice-assertion", "xsw", xsw_reference_to_advice, "bad-signature"),
    Case("xsw-duplicate-id", "xsw", xsw_duplicate_id, "bad-signature"),
    Case("xsw-evil-response-before", "xsw", xsw_evil_response_before, "bad-signature"),
    Case("xsw-stranger-signed-assertion-before", "xsw", xsw_evil_assertion_signed_by_stranger_first, "bad-signature"),
    # comments and whitespace: the canonical value counts
    Case(
        "comment-serviceid-prefix",
        "canonical",
        _signed_with_comment(_service_id, "urn:etoegang:DV:00000009999999999000:services:90019", -1),
        "wrong-service",
    ),
    Case(
        "comment-audience-prefix",
        "canonical",
        _signed_with_comment(_audience, "urn:etoegang:DV:00000009999999999000:entities:90011", -1),
        "wrong-audience",
    ),
    Case(
        "comment-loa-prefix",
        "canonical",
        _signed_with_comment(_loa_ref, LOA + "loa2plusplus", len(LOA + "loa2plus")),
        "loa-too-low",
    ),
    Case(
        "comment-issuer-prefix",
        "canonical",
        _signed_with_comment(_issuer, responses.entities.BROKER_ENTITY_ID + "0", -1),
        "wrong-issuer",
    ),
    Case(
        "comment-serviceid-valid",
        "canonical",
        _signed_with_comment(_service_id, "urn:etoegang:DV:00000009999999999000:services:9001", 20),
        "ok",
    ),
    Case(
        "whitespace-serviceid-inside",
        "canonical",
        _whitespace_in(_service_id, lambda v: v.replace(":services:", ":services: ")),
        "wrong-service",
    ),
    Case(
        "whitespace-audience-newline",
        "canonical",
        _whitespace_in(_audience, lambda v: v[:20] + "\n" + v[20:]),
        "wrong-audience",
    ),
    Case(
        "comment-in-encrypted-kvk",
        "canonical",
        _encrypted_kvk(_name_id(KVK[:4] + "<!-- -->" + KVK[4:])),
        "ok",
        masked="******" + KVK[-2:],
    ),
    Case(
        "whitespace-around-encrypted-kvk",
        "canonical",
        _encrypted_kvk(_name_id("\n   " + KVK + "  \n")),
        "ok",
        masked="******" + KVK[-2:],
    ),
    # unsafe XML and encodings
    Case("xxe-external-entity-file", "xml", xxe_file, "malformed"),
    Case("xxe-parameter-entity", "xml", xxe_parameter_entity, "malformed"),
    Case("external-dtd", "xml", external_dtd, "malformed"),
    Case("doctype-internal", "xml", doctype_without_entities, "malformed"),
    Case("billion-laughs", "xml", billion_laughs, "malformed"),
    Case("quadratic-blowup", "xml", quadratic_blowup, "malformed"),
    Case("xinclude", "xml", xinclude, "malformed"),
    Case("deep-nesting", "xml", deep_nesting, "malformed"),
    Case("over-size-limit", "xml", over_size_limit, "too-large"),
    Case("invalid-utf8", "xml", invalid_utf8, "malformed"),
    Case("utf16-document", "xml", utf16_document, "malformed"),
    Case("not-xml", "xml", not_xml, "malformed"),
    Case("empty-message", "xml", empty_message, "malformed"),
    Case("truncated-xml", "xml", truncated, "malformed"),
    Case("redirect-deflate-bomb", "xml", deflate_bomb, "too-large", stage="redirect"),
    Case("redirect-invalid-base64", "xml", redirect_invalid_base64, "malformed", stage="redirect"),
    Case("redirect-invalid-deflate", "xml", redirect_invalid_deflate, "malformed", stage="redirect"),
    Case("redirect-xxe-inside-deflate", "xml", redirect_valid_but_xxe, "malformed", stage="redirect"),
    # protocol: replay, correlation, audience, destination, issuer
    Case("replay-assertion-id", "protocol", valid, "replay", twice=True),
    Case(
        "in-response-to-mismatch",
        "protocol",
        valid,
        "unsolicited",
        context={"expected_request_id": "_other"},
    ),
    Case("subject-in-response-to-mismatch", "protocol", subject_in_response_to_other, "unsolicited"),
    Case("response-in-response-to-mismatch", "protocol", response_in_response_to_other, "unsolicited"),
    Case("unsolicited-response", "protocol", unsolicited, "unsolicited"),
    Case("audience-scenario", "protocol", _scenario("wrong-audience"), "wrong-audience"),
    Case(
        "audience-other-dv",
        "protocol",
        _tweak_assertion(_set_text(_audience, "urn:etoegang:DV:00000009999999999002:entities:1")),
        "wrong-audience",
    ),
    Case("audience-missing", "protocol", _missing("saml:Conditions/saml:AudienceRestriction"), "wrong-audience"),
    Case("destination-scenario", "protocol", _scenario("wrong-destination"), "wrong-destination"),
    Case(
        "destination-response-only",
        "protocol",
        _tweak_response(_set_attr("", "Destination", "https://evil.example/saml/acs")),
        "wrong-destination",
    ),
    Case(
        "recipient-only",
        "protocol",
        _tweak_assertion(
            _set_attr(
                "saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData",
                "Recipient",
                "https://evil.example/saml/acs",
            )
        ),
        "wrong-destination",
    ),
    Case("issuer-assertion-other-broker", "protocol", issuer_other_broker, "wrong-issuer"),
    Case("issuer-response-other", "protocol", response_issuer_other, "wrong-issuer"),
    # protocol: time windows
    Case("expired-scenario", "time", _scenario("expired"), "expired"),
    Case("not-yet-valid-scenario", "time", _scenario("not-yet-valid"), "not-yet-valid"),
    Case(
        "conditions-notbefore-future",
        "time",
        _tweak_assertion(_set_attr("saml:Conditions", "NotBefore", _at(timedelta(minutes=5)))),
        "not-yet-valid",
    ),
    Case(
        "conditions-notonorafter-past",
        "time",
        _tweak_assertion(_set_attr("saml:Conditions", "NotOnOrAfter", _at(timedelta(minutes=-5)))),
        "expired",
    ),
    Case(
        "subject-notonorafter-past",
        "time",
        _tweak_assertion(
            _set_attr(
                "saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData",
                "NotOnOrAfter",
                _at(timedelta(minutes=-5)),
            )
        ),
        "expired",
    ),
    Case("checked-too-late", "time", valid, "expired", context={"now": CHECKED + timedelta(minutes=10)}),
    Case("checked-too-early", "time", valid, "not-yet-valid", context={"now": ISSUED - timedelta(minutes=10)}),
    # protocol: missing elements
    Case("missing-assertion", "structure", _missing("saml:Assertion", in_response=True), "malformed"),
    Case("missing-status", "structure", _missing("samlp:Status", in_response=True), "malformed"),
    Case("missing-subject", "structure", _missing("saml:Subject"), "malformed"),
    Case("missing-conditions", "structure", _missing("saml:Conditions"), "malformed"),
    Case("missing-authnstatement", "structure", _missing("saml:AuthnStatement"), "malformed"),
    Case(
        "missing-legalsubjectid",
        "structure",
        _missing("saml:AttributeStatement/saml:Attribute[@Name='urn:etoegang:core:LegalSubjectID']"),
        "malformed",
    ),
    Case(
        "missing-serviceid",
        "structure",
        _missing("saml:AttributeStatement/saml:Attribute[@Name='urn:etoegang:core:ServiceID']"),
        "wrong-service",
    ),
    Case("missing-response", "structure", _drop_response, "malformed"),
    # status codes
    Case("status-cancelled", "status", _scenario("cancelled"), "cancelled"),
    Case("status-auth-failed", "status", _scenario("auth-failed"), "auth-failed"),
    Case("status-unknown-principal", "status", _scenario("unknown-principal"), "unknown-principal"),
    Case("status-request-unsupported", "status", _scenario("request-unsupported"), "request-unsupported"),
    Case("status-responder-alone", "status", _status(STATUS + "Responder"), "broker-error"),
    Case("status-requester", "status", _status(STATUS + "Requester"), "config-error"),
    Case("status-unknown-code", "status", _status(STATUS + "Responder", STATUS + "RequestDenied"), "broker-error"),
    Case(
        "status-failed-with-assertion",
        "status",
        _status(STATUS + "Responder", STATUS + "AuthnFailed", keep_assertion=True),
        "stopped-at-broker",
    ),
    *_authn_failed_cases(),
    Case("status-loa-too-low", "status", _scenario("loa-too-low"), "loa-too-low"),
    Case("status-wrong-service", "status", _scenario("wrong-service"), "wrong-service"),
    # encryption
    Case("encrypted-id-wrong-key", "encryption", _reencrypt(stranger=True), "decryption-failed"),
    Case("encrypted-id-rsa-1_5-downgrade", "encryption", _reencrypt(key_transport=crypto.RSA_1_5), "decryption-failed"),
    Case("encrypted-id-tripledes", "encryption", _spoil_encrypted(_cipher_algorithm(TRIPLEDES)), "decryption-failed"),
    Case(
        "encrypted-id-unknown-cipher",
        "encryption",
        _spoil_encrypted(_cipher_algorithm("urn:x-evil:cipher")),
        "decryption-failed",
    ),
    Case(
        "encrypted-id-key-corrupted",
        "encryption",
        _spoil_encrypted(_flip_cipher("xenc:EncryptedKey/xenc:CipherData/xenc:CipherValue")),
        "decryption-failed",
    ),
    Case("encrypted-id-data-truncated", "encryption", _spoil_encrypted(_truncate_cipher), "decryption-failed"),
    Case("encrypted-id-gcm-tag-corrupted", "encryption", _gcm_corrupted, "decryption-failed"),
    Case("encrypted-id-content-type", "encryption", _spoil_encrypted(_content_type), "decryption-failed"),
    Case("encrypted-id-oaep-params-not-base64", "encryption", _spoil_encrypted(_bad_oaep_params), "decryption-failed"),
    Case(
        "encrypted-id-plaintext-xxe",
        "encryption",
        _encrypted_plaintext(
            b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><saml:NameID xmlns:saml="'
            + SAML.encode()
            + b'">&e;</saml:NameID>'
        ),
        "decryption-failed",
    ),
    Case(
        "encrypted-id-plaintext-not-xml", "encryption", _encrypted_plaintext(b"\x00\x01 not xml"), "decryption-failed"
    ),
    Case("encrypted-assertion-wrong-key", "encryption", encrypted_assertion_wrong_key, "decryption-failed"),
    # pasted or uploaded files: the same checker behind the decoding of HAR, SAML-tracer, form values
    Case("paste-base64-xsw3", "paste", paste_base64_xsw, "bad-signature", stage="paste"),
    Case("paste-form-value-deflate-bomb", "paste", paste_form_value_deflate_bomb, "too-large", stage="paste"),
    Case("paste-har-tampered", "paste", paste_har_tampered, "bad-signature", stage="paste"),
    Case("paste-har-xxe", "paste", paste_har_xxe, "malformed", stage="paste"),
    Case("paste-tracer-unsigned", "paste", paste_tracer_unsigned, "unsigned", stage="paste"),
    Case("paste-soap-envelope-tampered", "paste", paste_soap_envelope_tampered, "bad-signature", stage="paste"),
    Case("paste-json-nesting-bomb", "paste", paste_json_nesting_bomb, "malformed", stage="paste"),
    Case(
        "paste-har-wrong-shapes",
        "paste",
        _paste_bytes(b'{"log": {"entries": [{"request": "x", "response": 5}]}}'),
        "malformed",
        stage="paste",
    ),
    Case("paste-har-log-not-object", "paste", _paste_bytes(b'{"log": 5}'), "malformed", stage="paste"),
    Case(
        "paste-har-postdata-list",
        "paste",
        _paste_bytes(b'{"log": {"entries": [{"request": {"postData": []}}]}}'),
        "malformed",
        stage="paste",
    ),
    Case(
        "paste-tracer-post-not-list",
        "paste",
        _paste_bytes(b'{"requests": [{"post": {"SAMLResponse": 1}}]}'),
        "malformed",
        stage="paste",
    ),
    Case("paste-binary-garbage", "paste", _paste_bytes(bytes(range(256)) * 4), "malformed", stage="paste"),
    Case("paste-base64-invalid", "paste", _paste_bytes(b"PHNhbWxwOlJlc3BvbnNl!!!"), "malformed", stage="paste"),
    # more structure, audience and window cases
    Case(
        "audience-second-restriction-other-dv",
        "protocol",
        _tweak_assertion(_second_audience_restriction),
        "wrong-audience",
    ),
    Case("subject-confirmation-holder-of-key", "structure", _tweak_assertion(_holder_of_key), "malformed"),
    Case(
        "subject-confirmation-missing",
        "structure",
        _tweak_assertion(_remove("saml:Subject/saml:SubjectConfirmation")),
        "malformed",
    ),
    Case(
        "subject-confirmation-evil-first", "structure", _tweak_assertion(_evil_subject_confirmation_first), "malformed"
    ),
    Case(
        "loa-missing",
        "structure",
        _tweak_assertion(_remove("saml:AuthnStatement/saml:AuthnContext/saml:AuthnContextClassRef")),
        "malformed",
    ),
    Case("loa-second-value", "structure", _tweak_assertion(_second_loa), "malformed"),
    Case("loa-second-authnstatement", "structure", _tweak_assertion(_second_authn_statement), "malformed"),
    Case("loa-unknown-urn", "status", _tweak_assertion(_set_text(_loa_ref, LOA + "loa9")), "loa-too-low"),
    Case("assertion-issuer-missing", "structure", _tweak_assertion(_remove("saml:Issuer")), "malformed"),
    Case("assertion-version-1.1", "structure", _tweak_assertion(_set_attr("", "Version", "1.1")), "malformed"),
    Case("response-inside-extensions", "structure", response_inside_extensions, "malformed"),
    Case("artifactresponse-status-requester", "status", outer_status_requester, "artifact-resolve-failed"),
    Case(
        "subject-notbefore-future",
        "time",
        _tweak_assertion(
            _set_attr(
                "saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData",
                "NotBefore",
                _at(timedelta(minutes=5)),
            )
        ),
        "not-yet-valid",
    ),
    Case(
        "assertion-issued-tomorrow",
        "time",
        _tweak_assertion(_set_attr("", "IssueInstant", _at(timedelta(days=1)))),
        "not-yet-valid",
    ),
)
