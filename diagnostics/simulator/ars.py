"""The ArtifactResolutionService: a signed SOAP ``ArtifactResolve`` in, an ``ArtifactResponse`` out."""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field

from lxml import etree

from diagnostics import crypto, xmlsafe, xmltree
from diagnostics.saml.artifact import ArtifactError, parse_artifact, source_id
from diagnostics.saml_names import SAML, SAMLP, SOAP_ENV
from diagnostics.settings import Settings
from diagnostics.simulator import entities
from diagnostics.simulator.artifacts import Pending, take_built, take_pending
from diagnostics.simulator.keys import keys_for
from diagnostics.simulator.responses import artifact_response_element, response_signer
from diagnostics.simulator.scenarios import scenario
from diagnostics.simulator.sp import UnknownSp, find_sp
from diagnostics.store import Store

log = logging.getLogger(__name__)


class SoapFault(Exception):
    """Answered as a SOAP 1.1 fault with HTTP 500; ``code`` is ``Client`` or ``Server``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Resolution:
    resolve_id: str
    pending: Pending | None
    # The pending Response as the element this process built it from, when it has it (``take_built``).
    built: etree._Element | None = field(default=None, compare=False)


def envelope(body: bytes | etree._Element) -> bytes:
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV})
    holder = etree.SubElement(root, f"{{{SOAP_ENV}}}Body")
    holder.append(etree.fromstring(body) if isinstance(body, bytes) else body)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def fault(code: str, message: str) -> bytes:
    element = etree.Element(f"{{{SOAP_ENV}}}Fault", nsmap={"soapenv": SOAP_ENV})
    etree.SubElement(element, "faultcode").text = f"soapenv:{code}"
    etree.SubElement(element, "faultstring").text = message
    return envelope(element)


def resolve(settings: Settings, store: Store, body: bytes) -> Resolution:
    """Check the ArtifactResolve and take its pending answer (None when unknown or already used)."""
    try:
        root = xmlsafe.parse(body, max_bytes=settings.max_message_bytes)
    except xmlsafe.UnsafeXmlError as exc:
        raise SoapFault("Client", f"Unreadable SOAP message: {exc.diagnosis}")
    request = root.find(f"{{{SOAP_ENV}}}Body/{{{SAMLP}}}ArtifactResolve")
    if root.tag != f"{{{SOAP_ENV}}}Envelope" or request is None:
        raise SoapFault("Client", "Expected a SOAP 1.1 envelope holding a samlp:ArtifactResolve.")
    issuer = xmltree.text_of(xmltree.child(request, f"{{{SAML}}}Issuer"))
    # Who asks is decided before the signature: an unknown dienst has no key to check the signature with.
    try:
        trust = find_sp(settings, issuer)
    except UnknownSp:
        raise SoapFault(
            "Client",
            "sim-unknown-sp: ArtifactResolve from a service provider the simulator does not trust "
            "(onbekende dienst; add its metadata to trusted_sp_metadata).",
        )
    try:
        crypto.verify(request, trust.signing_certs)
    except crypto.SignatureError as exc:
        raise SoapFault("Client", f"ArtifactResolve signature not accepted ({exc.diagnosis}).")
    artifact = xmltree.text_of(xmltree.child(request, f"{{{SAMLP}}}Artifact"))
    resolve_id = request.get("ID") or ""
    try:
        _, source = parse_artifact(artifact)
    except ArtifactError:
        return Resolution(resolve_id, None)
    if source != source_id(entities.BROKER_ENTITY_ID):
        return Resolution(resolve_id, None)
    handle = base64.b64decode(artifact)[24:].hex()
    pending = take_pending(store, handle)
    built = take_built(handle, pending)
    if pending is not None and pending.sp_entity_id != trust.entity_id:
        # Issued to another dienst: answered like an unknown artifact, and spent, so a guess costs the thief.
        log.warning("artifact issued to another service provider resolved by %s; refused", trust.entity_id[:200])
        return Resolution(resolve_id, None)
    return Resolution(resolve_id, pending, built)


def answer(settings: Settings, resolution: Resolution) -> bytes:
    """The SOAP envelope with the signed ArtifactResponse for ``resolution``."""
    keys = keys_for(settings.simulator.key_dir)
    if resolution.pending is None:
        return envelope(artifact_response_element(keys, None, in_response_to=resolution.resolve_id))
    message = resolution.built
    if message is None:
        message = xmlsafe.parse(resolution.pending.response, max_bytes=settings.max_message_bytes)
    signer = response_signer(keys, scenario(resolution.pending.scenario))
    return envelope(artifact_response_element(keys, message, in_response_to=resolution.resolve_id, signer=signer))
