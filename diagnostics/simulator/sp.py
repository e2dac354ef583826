"""What the simulated broker knows about our SP, read from the SP metadata like a real broker does."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from diagnostics.saml.metadata import sp_metadata
from diagnostics.settings import Settings
from diagnostics.simulator.xml import DS, MD
from diagnostics.xmltree import text_of


@dataclass(frozen=True)
class SpTrust:
    entity_id: str
    acs_urls: tuple[str, ...]
    signing_certs: tuple[x509.Certificate, ...]
    # The certificate the broker encrypts identifiers to (the first encryption key in the metadata).
    encryption_cert_pem: bytes


def _certs(descriptor: etree._Element, use: str) -> list[x509.Certificate]:
    found = []
    for key_descriptor in descriptor.iterfind(f"{{{MD}}}KeyDescriptor"):
        if key_descriptor.get("use", use) != use:
            continue
        for node in key_descriptor.iterfind(f".//{{{DS}}}X509Certificate"):
            der = base64.b64decode("".join(text_of(node).split()))
            found.append(x509.load_der_x509_certificate(der))
    return found


def sp_trust(settings: Settings) -> SpTrust:
    """Entity id, ACS locations and certificates of our SP, from ``sp_metadata(settings)``."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(sp_metadata(settings), parser)
    descriptor = root.find(f"{{{MD}}}SPSSODescriptor")
    if descriptor is None:
        raise ValueError("SP metadata has no SPSSODescriptor")
    encryption = _certs(descriptor, "encryption")
    if not encryption:
        raise ValueError("SP metadata has no encryption certificate")
    return SpTrust(
        entity_id=root.get("entityID", ""),
        acs_urls=tuple(acs.get("Location", "") for acs in descriptor.iterfind(f"{{{MD}}}AssertionConsumerService")),
        signing_certs=tuple(_certs(descriptor, "signing")),
        encryption_cert_pem=encryption[0].public_bytes(serialization.Encoding.PEM),
    )
