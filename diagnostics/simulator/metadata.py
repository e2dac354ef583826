"""The simulated broker's signed metadata and its signed AD list (one entity per supplier).

Modelled on OneWelcome's broker metadata: a signed ``EntitiesDescriptor`` around the broker's
``EntityDescriptor``, ``WantAuthnRequestsSigned="true"``, a signing key with ``KeyName``, SSO for
HTTP-Redirect and HTTP-POST, and a SOAP ArtifactResolutionService.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lxml import etree

from diagnostics import certs, crypto
from diagnostics.loa import Loa
from diagnostics.saml.authn import new_id
from diagnostics.saml_names import (
    ATTRNAME_FORMAT_URI,
    BINDING_POST,
    BINDING_REDIRECT,
    BINDING_SOAP,
    DS,
    KVK_NUMBER,
    MD,
    MDATTR,
    PSEUDONYM,
    RSIN,
    SAML,
    SAMLP,
    XML_LANG,
)
from diagnostics.settings import Settings
from diagnostics.simulator import entities
from diagnostics.simulator.keys import keys_for
from diagnostics.simulator.xml import sub

MEDIA_TYPE = "application/samlmetadata+xml"
NAME_ID_FORMATS = (KVK_NUMBER, RSIN, PSEUDONYM)
NSMAP = {"md": MD, "ds": DS, "saml": SAML, "mdattr": MDATTR}


def sso_url(base_url: str) -> str:
    return f"{base_url}/simulator/sso"


def ars_url(base_url: str) -> str:
    return f"{base_url}/simulator/ars"


def _key_descriptor(parent: etree._Element, pair: certs.KeyPair) -> None:
    descriptor = sub(parent, MD, "KeyDescriptor", use="signing")
    key_info = sub(descriptor, DS, "KeyInfo")
    sub(key_info, DS, "KeyName", certs.fingerprint_sha256(pair.cert))
    sub(sub(key_info, DS, "X509Data"), DS, "X509Certificate", certs.der_base64(pair.cert))


def _organisation(parent: etree._Element, name: str, url: str) -> None:
    organisation = sub(parent, MD, "Organization")
    sub(organisation, MD, "OrganizationName", name).set(XML_LANG, "nl")
    sub(organisation, MD, "OrganizationDisplayName", name).set(XML_LANG, "nl")
    sub(organisation, MD, "OrganizationURL", url).set(XML_LANG, "nl")


def _signed(root: etree._Element, pair: certs.KeyPair) -> bytes:
    crypto.sign(root, pair.key_pem, pair.cert_pem)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@lru_cache(maxsize=8)
def _broker_metadata(base_url: str, key_dir: Path) -> bytes:
    keys = keys_for(key_dir)
    root = etree.Element(
        f"{{{MD}}}EntitiesDescriptor", nsmap=NSMAP, ID=new_id(), Name="urn:etoegang:simulator", cacheDuration="PT1H"
    )
    entity = sub(root, MD, "EntityDescriptor", entityID=entities.BROKER_ENTITY_ID)
    attributes = sub(sub(entity, MD, "Extensions"), MDATTR, "EntityAttributes")
    certification = sub(
        attributes,
        SAML,
        "Attribute",
        Name="urn:oasis:names:tc:SAML:attribute:assurance-certification",
        NameFormat=ATTRNAME_FORMAT_URI,
    )
    sub(certification, SAML, "AttributeValue", Loa.EH4.uri)
    idp = sub(entity, MD, "IDPSSODescriptor", protocolSupportEnumeration=SAMLP, WantAuthnRequestsSigned="true")
    _key_descriptor(idp, keys.broker)
    sub(
        idp,
        MD,
        "ArtifactResolutionService",
        Binding=BINDING_SOAP,
        Location=ars_url(base_url),
        index="0",
        isDefault="true",
    )
    for name_id_format in NAME_ID_FORMATS:
        sub(idp, MD, "NameIDFormat", name_id_format)
    sub(idp, MD, "SingleSignOnService", Binding=BINDING_REDIRECT, Location=sso_url(base_url))
    sub(idp, MD, "SingleSignOnService", Binding=BINDING_POST, Location=sso_url(base_url))
    _organisation(entity, entities.BROKER_NAME, f"{base_url}/simulator/")
    return _signed(root, keys.broker)


def broker_metadata(settings: Settings) -> bytes:
    """The simulator's signed metadata document (cached per process: keys and URLs do not change)."""
    return _broker_metadata(settings.public_base_url, settings.simulator.key_dir.resolve())


@lru_cache(maxsize=8)
def _ad_list(base_url: str, key_dir: Path) -> bytes:
    keys = keys_for(key_dir)
    root = etree.Element(f"{{{MD}}}EntitiesDescriptor", nsmap=NSMAP, ID=new_id(), Name="urn:etoegang:simulator:listAD")
    for supplier in sorted(entities.SUPPLIERS, key=lambda s: s.display_name.casefold()):
        entity = sub(root, MD, "EntityDescriptor", entityID=supplier.entity_id)
        idp = sub(entity, MD, "IDPSSODescriptor", protocolSupportEnumeration=SAMLP)
        _key_descriptor(idp, keys.supplier(supplier.entity_id))
        sub(idp, MD, "SingleSignOnService", Binding=BINDING_REDIRECT, Location=sso_url(base_url))
        _organisation(entity, supplier.display_name, f"{base_url}/simulator/")
    return _signed(root, keys.broker)


def ad_list(settings: Settings) -> bytes:
    """The signed AD list: one EntityDescriptor per supplier, ordered by OrganizationDisplayName."""
    return _ad_list(settings.public_base_url, settings.simulator.key_dir.resolve())
