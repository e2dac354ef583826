"""Accepting an AuthnRequest like a strict broker: from a trusted dienst, signed with its key, or refused."""

from __future__ import annotations

import binascii
from dataclasses import dataclass

from lxml import etree

from diagnostics import crypto, xmlsafe, xmltree
from diagnostics.problems import Problem
from diagnostics.saml.authn import RedirectSignatureError, decode_redirect_message, verify_redirect_query
from diagnostics.saml_names import BINDING_ARTIFACT, SAML, SAMLP
from diagnostics.settings import Settings
from diagnostics.simulator.metadata import sso_url
from diagnostics.simulator.sp import SpTrust, UnknownSp, find_sp


class RequestRefused(Problem):
    """The simulator will not handle this request; ``diagnosis`` is its stable ``sim-*`` code, ``message`` Dutch."""


@dataclass(frozen=True)
class IncomingRequest:
    request_id: str
    issuer: str
    acs_url: str
    supplier_id: str | None
    relay_state: str | None
    # The dienst's ServiceID for the login answer: the AttributeConsumingService the request names.
    service_id: str


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


def unknown_sp(exc: UnknownSp) -> RequestRefused:
    """The refusal for a dienst that no trusted metadata names (also for one removed during its login)."""
    message = (
        f"Onbekende dienst: de simulator kent de dienst {exc.entity_id[:200]!r} niet. Alleen de eigen dienst en "
        "de diensten in trusted_sp_metadata mogen inloggen. De beheerder van de simulator kan de metadata van "
        "deze dienst toevoegen."
    )
    if exc.unreadable:
        message += f" Let op: {len(exc.unreadable)} metadatabron(nen) konden niet worden gelezen; zie het log."
    return RequestRefused("sim-unknown-sp", message)


def trusted_issuer(settings: Settings, issuer: str) -> SpTrust:
    """The trusted dienst that sent a message; RequestRefused ``sim-unknown-sp`` when there is none."""
    try:
        return find_sp(settings, issuer)
    except UnknownSp as exc:
        raise unknown_sp(exc)


def _parse(data: bytes, settings: Settings) -> etree._Element:
    try:
        root = xmlsafe.parse(data, max_bytes=settings.max_message_bytes)
    except xmlsafe.UnsafeXmlError as exc:
        raise _malformed(str(exc))
    if root.tag != f"{{{SAMLP}}}AuthnRequest":
        raise _malformed("het bericht is geen AuthnRequest.")
    return root


def _sender(root: etree._Element, settings: Settings) -> SpTrust:
    """Who sent the request, decided before any signature check: an unknown dienst has no key to check with."""
    issuer = xmltree.text_of(xmltree.child(root, f"{{{SAML}}}Issuer"))  # a comment inside does not cut it short
    return trusted_issuer(settings, issuer)


def _acs_url(root: etree._Element, trust: SpTrust) -> str:
    """The ACS the request asks for (by URL or by index), or the dienst's default one for HTTP-Artifact."""
    artifact_acs = trust.artifact_acs
    if not artifact_acs:
        raise RequestRefused(
            "sim-wrong-acs", "De metadata van de dienst noemt geen terugkeeradres (ACS) voor HTTP-Artifact."
        )
    url = root.get("AssertionConsumerServiceURL")
    index = root.get("AssertionConsumerServiceIndex")
    if url is not None:
        chosen = url if url in trust.acs_urls else None
    elif index is not None:
        chosen = next((acs.location for acs in artifact_acs if str(acs.index) == index.strip()), None)
    else:
        chosen = artifact_acs[0].location
    if chosen is None:
        raise RequestRefused(
            "sim-wrong-acs", "Het terugkeeradres in het inlogverzoek staat niet in de metadata van de dienst."
        )
    return chosen


def _service_id(root: etree._Element, trust: SpTrust) -> str:
    raw = root.get("AttributeConsumingServiceIndex")
    index = int(raw) if raw is not None and raw.strip().isdigit() else None
    service = trust.service(index)
    if service is None or (raw is not None and index is None):
        raise RequestRefused(
            "sim-unknown-service",
            "De dienst in het inlogverzoek staat niet in de metadata van de dienst. eHerkenning verwacht per "
            "dienst een AttributeConsumingService met de ServiceID als eerste RequestedAttribute.",
        )
    return service.service_id


def _check(root: etree._Element, settings: Settings, trust: SpTrust, relay_state: str | None) -> IncomingRequest:
    request_id = root.get("ID") or ""
    if not request_id:
        raise _malformed("het verzoek heeft geen ID.")
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
    acs_url = _acs_url(root, trust)
    entries = root.findall(f"{{{SAMLP}}}Scoping/{{{SAMLP}}}IDPList/{{{SAMLP}}}IDPEntry")
    supplier_id = entries[0].get("ProviderID") if entries else None
    return IncomingRequest(request_id, trust.entity_id, acs_url, supplier_id, relay_state, _service_id(root, trust))


def from_redirect(
    settings: Settings, raw_query: str, saml_request: str | None, relay_state: str | None
) -> IncomingRequest:
    """An HTTP-Redirect request: the DEFLATEd XML names the dienst, whose key must have signed the query string."""
    if not saml_request:
        raise RequestRefused("sim-request-missing", "Er is geen inlogverzoek (SAMLRequest) meegestuurd.")
    try:
        data = decode_redirect_message(saml_request, max_bytes=settings.max_message_bytes)
    except (ValueError, binascii.Error):
        raise _malformed("SAMLRequest is geen geldige DEFLATE- en base64-tekst.")
    root = _parse(data, settings)
    trust = _sender(root, settings)
    try:
        verify_redirect_query(raw_query, "SAMLRequest", trust.signing_certs)
    except RedirectSignatureError as exc:
        raise _refuse_signature(exc.diagnosis)
    return _check(root, settings, trust, relay_state)


def from_post(settings: Settings, saml_request: str | None, relay_state: str | None) -> IncomingRequest:
    """An HTTP-POST request: base64 XML with an enveloped signature by the dienst it names."""
    if not saml_request:
        raise RequestRefused("sim-request-missing", "Er is geen inlogverzoek (SAMLRequest) meegestuurd.")
    try:
        data = xmlsafe.b64decode(saml_request, max_bytes=settings.max_message_bytes)
    except (xmlsafe.UnsafeXmlError, ValueError):
        raise _malformed("SAMLRequest is geen geldige base64-tekst.")
    root = _parse(data, settings)
    trust = _sender(root, settings)
    try:
        crypto.verify(root, trust.signing_certs)
    except crypto.SignatureError as exc:
        raise _refuse_signature(exc.diagnosis)
    return _check(root, settings, trust, relay_state)
