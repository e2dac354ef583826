"""Broker documents made in the test: metadata shaped like OneWelcome's and an AD list, signed with a test key."""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from diagnostics import certs, crypto
from diagnostics.brokers import BINDING_POST, BINDING_REDIRECT, BINDING_SOAP, MD

DS = "http://www.w3.org/2000/09/xmldsig#"
BROKER_ID = "urn:etoegang:HM:00000009999999999001:entities:9999"


def metadata_xml(
    pair: certs.KeyPair,
    *,
    sign_with: certs.KeyPair | None = None,
    valid_until: datetime | None = None,
    ars: bool = True,
    entity_id: str = BROKER_ID,
) -> bytes:
    """Broker metadata shaped like OneWelcome's: a signed EntitiesDescriptor with one IdP entity."""
    root = etree.Element(f"{{{MD}}}EntitiesDescriptor", nsmap={"md": MD, "ds": DS}, ID="_md1")
    if valid_until is not None:
        root.set("validUntil", valid_until.strftime("%Y-%m-%dT%H:%M:%SZ"))
    entity = etree.SubElement(root, f"{{{MD}}}EntityDescriptor", entityID=entity_id)
    idp = etree.SubElement(
        entity,
        f"{{{MD}}}IDPSSODescriptor",
        protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol",
        WantAuthnRequestsSigned="true",
    )
    for use in ("signing", "encryption"):
        key = etree.SubElement(idp, f"{{{MD}}}KeyDescriptor", use=use)
        info = etree.SubElement(key, f"{{{DS}}}KeyInfo")
        etree.SubElement(info, f"{{{DS}}}KeyName").text = certs.fingerprint_sha256(pair.cert)
        data = etree.SubElement(info, f"{{{DS}}}X509Data")
        etree.SubElement(data, f"{{{DS}}}X509Certificate").text = certs.der_base64(pair.cert)
    if ars:
        for index, host, default in ((1, "ars-b", None), (0, "ars-a", "true")):
            attrs = {"Binding": BINDING_SOAP, "Location": f"https://{host}.example/ars", "index": str(index)}
            if default:
                attrs["isDefault"] = default
            etree.SubElement(idp, f"{{{MD}}}ArtifactResolutionService", attrs)
    etree.SubElement(
        idp, f"{{{MD}}}SingleSignOnService", Binding=BINDING_REDIRECT, Location="https://hm.example/sso/redirect"
    )
    etree.SubElement(idp, f"{{{MD}}}SingleSignOnService", Binding=BINDING_POST, Location="https://hm.example/sso/post")
    signer = sign_with or pair
    crypto.sign(root, signer.key_pem, signer.cert_pem)
    return etree.tostring(root)


def ad_list_xml(sign_with: certs.KeyPair | None, names: list[tuple[str, str]]) -> bytes:
    root = etree.Element(f"{{{MD}}}EntitiesDescriptor", nsmap={"md": MD}, ID="_ad1")
    for entity_id, name in names:
        entity = etree.SubElement(root, f"{{{MD}}}EntityDescriptor", entityID=entity_id)
        organisation = etree.SubElement(entity, f"{{{MD}}}Organization")
        etree.SubElement(
            organisation, f"{{{MD}}}OrganizationName", {"{http://www.w3.org/XML/1998/namespace}lang": "nl"}
        ).text = f"{name} B.V."
        etree.SubElement(
            organisation, f"{{{MD}}}OrganizationDisplayName", {"{http://www.w3.org/XML/1998/namespace}lang": "nl"}
        ).text = name
    if sign_with is not None:
        crypto.sign(root, sign_with.key_pem, sign_with.cert_pem)
    return etree.tostring(root)
