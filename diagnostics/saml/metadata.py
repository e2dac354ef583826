"""Our SP metadata (EntityDescriptor), built with pysaml2's metadata classes from the settings.

Shaped after the eHerkenning DV rules: signed requests and assertions, signing and encryption
KeyDescriptors with ``KeyName`` = SHA-256 fingerprint (current certificate, plus the next one during a
rollover), an HTTP-Artifact ACS, one AttributeConsumingService whose first RequestedAttribute is the
ServiceID, and no NameIDFormat. pysaml2 builds the document; we sign it in process with
``diagnostics.crypto`` (RSA-SHA256, exc-c14n) with the SP's current key, because pysaml2 signs by running
the ``xmlsec1`` binary, which we do not want in the request path.
"""

from __future__ import annotations

import hashlib

from lxml import etree
from saml2 import BINDING_HTTP_ARTIFACT, SAMLError, md, samlp
from saml2 import xmldsig as ds

from diagnostics import certs, crypto
from diagnostics.certs import sp_certificates
from diagnostics.service_info import service_info
from diagnostics.settings import Settings

MEDIA_TYPE = "application/samlmetadata+xml"


def _key_descriptor(use: str, fingerprint: str, der_b64: str) -> md.KeyDescriptor:
    return md.KeyDescriptor(
        use=use,
        key_info=ds.KeyInfo(
            key_name=[ds.KeyName(text=fingerprint)],
            x509_data=[ds.X509Data(x509_certificate=ds.X509Certificate(text=der_b64))],
        ),
    )


def entity_descriptor(settings: Settings) -> md.EntityDescriptor:
    """The EntityDescriptor object (for callers that want to inspect it before serialising)."""
    info = service_info(settings)
    key_descriptors = []
    for sp_cert in sp_certificates(settings):
        fingerprint, der = certs.fingerprint_sha256(sp_cert.cert), certs.der_base64(sp_cert.cert)
        key_descriptors += [
            _key_descriptor("signing", fingerprint, der),
            _key_descriptor("encryption", fingerprint, der),
        ]
    service = md.AttributeConsumingService(
        index=str(info.attribute_consuming_service_index),
        is_default="true",
        service_name=[md.ServiceName(lang="nl", text=info.service_name)],
        service_description=[md.ServiceDescription(lang="nl", text=info.service_description)],
        # eHerkenning: the first RequestedAttribute names the service; no isRequired.
        requested_attribute=[md.RequestedAttribute(name=info.service_id)],
    )
    descriptor = md.SPSSODescriptor(
        protocol_support_enumeration=samlp.NAMESPACE,
        authn_requests_signed="true",
        want_assertions_signed="true",
        key_descriptor=key_descriptors,
        assertion_consumer_service=[
            md.AssertionConsumerService(
                binding=BINDING_HTTP_ARTIFACT, location=info.acs_url, index="0", is_default="true"
            )
        ],
        attribute_consuming_service=[service],
    )
    # A stable ID (same configuration, same document) that the signature can refer to.
    stable = hashlib.sha256(
        f"{info.entity_id}|{'|'.join(kd.key_info.key_name[0].text for kd in key_descriptors)}".encode()
    )
    return md.EntityDescriptor(
        entity_id=info.entity_id, id=f"_{stable.hexdigest()[:40]}", spsso_descriptor=[descriptor]
    )


def sp_metadata(settings: Settings, *, signed: bool = True) -> bytes:
    """The SP metadata document as UTF-8 XML with declaration, signed with the SP's current key."""
    xml = entity_descriptor(settings).to_string(nspair={"md": md.NAMESPACE, "ds": ds.NAMESPACE})
    if not isinstance(xml, bytes):  # pragma: no cover - pysaml2 returns bytes
        raise SAMLError("unexpected metadata serialisation")
    if not signed:
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + xml
    root = etree.fromstring(xml)  # our own document: no untrusted input here
    pair = certs.load(settings.sp.key_file, settings.sp.cert_file)
    crypto.sign(root, pair.key_pem, pair.cert_pem)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
