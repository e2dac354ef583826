"""Accepting an AuthnRequest like a strict broker: signed by the SP in its metadata, or refused."""

from __future__ import annotations

import binascii
from dataclasses import dataclass

from lxml import etree

from diagnostics import crypto, xmlsafe, xmltree
from diagnostics.saml.authn import RedirectSignatureError, decode_redirect_message, verify_redirect_query
from diagnostics.settings import Settings
from diagnostics.simulator.metadata import sso_url
from diagnostics.simulator.sp import SpTrust, sp_trust
from diagnostics.simulator.xml import BINDING_ARTIFACT, SAML, SAMLP


class RequestRefused(Exception):
    """The simulator will not handle this request; ``error_id`` is stable, ``message`` is Dutch."""

    def __init__(self, error_id: str, message: str) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.message = message


@dataclass(frozen=True)
class IncomingRequest:
    request_id: str
    issuer: str
    acs_url: str
    supplier_id: str | None
    relay_state: str | None


_SIGNATURE_ERRORS = {
    "unsigned": ("sim-request-unsigned", "Het inlogverzoek van de dienst is niet ondertekend."),
    "weak-algorithm": ("sim-request-weak-algorithm", "Het inlogverzoek is ondertekend met een te zwak algoritme."),
}
_BAD_SIGNATURE = (
    "sim-request-bad-signature",
    "De handtekening onder het inlogverzoek klopt niet met het certificaat in de metadata van de dienst.",
)


def _refuse_signature(diagnosis: str) -> RequestRefused:
    error_id, message = _SIGNATURE_ERRORS.get(diagnosis, _BAD_SIGNATURE)
    return RequestRefused(error_id, message)


def _malformed(detail: str) -> RequestRefused:
    return RequestRefused("sim-request-malformed", f"Het inlogverzoek is onleesbaar: {detail}")


def _parse(data: bytes, settings: Settings) -> etree._Element:
    try:
        root = xmlsafe.parse(data, max_bytes=settings.max_message_bytes)
    except xmlsafe.UnsafeXmlError as exc:
        raise _malformed(str(exc))
    if root.tag != f"{{{SAMLP}}}AuthnRequest":
        raise _malformed("het bericht is geen AuthnRequest.")
    return root


def _check(root: etree._Element, settings: Settings, trust: SpTrust, relay_state: str | None) -> IncomingRequest:
    request_id = root.get("ID") or ""
    if not request_id:
        raise _malformed("het verzoek heeft geen ID.")
    issuer = xmltree.text_of(xmltree.child(root, f"{{{SAML}}}Issuer"))  # a comment inside does not cut it short
    if issuer != trust.entity_id:
        raise RequestRefused(
            "sim-unknown-sp", "Deze dienst is niet bekend bij de simulator. Alleen de eigen dienst mag inloggen."
        )
    destination = root.get("Destination")
    if destination is not None and destination != sso_url(settings.public_base_url):
        raise RequestRefused(
            "sim-wrong-destination", "Het inlogverzoek is bestemd voor een ander adres dan deze simulator."
        )
    binding = root.get("ProtocolBinding")
    if binding is not None and binding != BINDING_ARTIFACT:
        raise RequestRefused(
            "sim-wrong-binding",
            "Het inlogverzoek vraagt een andere terugweg dan HTTP-Artifact. eHerkenning kent alleen die.",
        )
    acs_url = root.get("AssertionConsumerServiceURL") or (trust.acs_urls[0] if trust.acs_urls else "")
    if acs_url not in trust.acs_urls:
        raise RequestRefused(
            "sim-wrong-acs", "Het terugkeeradres in het inlogverzoek staat niet in de metadata van de dienst."
        )
    entries = root.findall(f"{{{SAMLP}}}Scoping/{{{SAMLP}}}IDPList/{{{SAMLP}}}IDPEntry")
    supplier_id = entries[0].get("ProviderID") if entries else None
    return IncomingRequest(request_id, issuer, acs_url, supplier_id, relay_state)


def from_redirect(
    settings: Settings, raw_query: str, saml_request: str | None, relay_state: str | None
) -> IncomingRequest:
    """An HTTP-Redirect request: signature over the raw query string, then the DEFLATEd XML."""
    if not saml_request:
        raise RequestRefused("sim-request-missing", "Er is geen inlogverzoek (SAMLRequest) meegestuurd.")
    trust = sp_trust(settings)
    try:
        verify_redirect_query(raw_query, "SAMLRequest", trust.signing_certs)
    except RedirectSignatureError as exc:
        raise _refuse_signature(exc.diagnosis)
    try:
        data = decode_redirect_message(saml_request, max_bytes=settings.max_message_bytes)
    except (ValueError, binascii.Error):
        raise _malformed("SAMLRequest is geen geldige DEFLATE- en base64-tekst.")
    return _check(_parse(data, settings), settings, trust, relay_state)


def from_post(settings: Settings, saml_request: str | None, relay_state: str | None) -> IncomingRequest:
    """An HTTP-POST request: base64 XML with an enveloped signature."""
    if not saml_request:
        raise RequestRefused("sim-request-missing", "Er is geen inlogverzoek (SAMLRequest) meegestuurd.")
    trust = sp_trust(settings)
    try:
        data = xmlsafe.b64decode(saml_request, max_bytes=settings.max_message_bytes)
    except (xmlsafe.UnsafeXmlError, ValueError):
        raise _malformed("SAMLRequest is geen geldige base64-tekst.")
    root = _parse(data, settings)
    try:
        crypto.verify(root, trust.signing_certs)
    except crypto.SignatureError as exc:
        raise _refuse_signature(exc.diagnosis)
    return _check(root, settings, trust, relay_state)
