"""Our entry for the dienstencatalogus (``urn:etoegang:1.13:service-catalog``), from the same settings.

The fragment is one ``esc:ServiceProvider`` with a ServiceDefinition and a ServiceInstance, the part a
dienstverlener hands to its herkenningsmakelaar; the broker wraps it in the signed ServiceCatalogue.
Element order follows the dienstencatalogus schema as described in the Afsprakenstelsel. The attribute prefix of
``setNumber`` is not confirmed by a published example [unsure]; we qualify it like ``IsPublic``.
"""

from __future__ import annotations

from lxml import etree

from diagnostics import certs
from diagnostics.certs import sp_certificates
from diagnostics.saml_names import DS, ESC, KVK_NUMBER, MD, SAML, XML_LANG
from diagnostics.service_info import ServiceInfo, service_info
from diagnostics.settings import Settings

NSMAP = {"esc": ESC, "saml": SAML, "md": MD, "ds": DS}

# Who the user represents: an organisation identified by its KvK number (set 1, the only set).
ENTITY_CONCERNED_TYPES: tuple[tuple[int, tuple[str, ...]], ...] = ((1, (KVK_NUMBER,)),)


class FragmentError(ValueError):
    """The fragment cannot be made from this configuration (e.g. the broker's OIN is unknown)."""


def _esc(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ESC}}}{tag}", {f"{{{ESC}}}{k}": v for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _texts(parent: etree._Element, tag: str, nl: str, en: str) -> None:
    for lang, text in (("nl", nl), ("en", en)):
        _esc(parent, tag, text).set(XML_LANG, lang)


def _broker_oin(info: ServiceInfo, broker_id: str | None) -> str:
    brokers = [b for b in info.brokers if broker_id is None or b.id == broker_id]
    if not brokers:
        raise FragmentError(f"brokers: geen broker met id {broker_id!r} / no broker with that id")
    broker = brokers[0]
    if broker.oin is None:
        index = [b.id for b in info.brokers].index(broker.id)
        raise FragmentError(
            f"brokers.{index}.oin: nodig voor HerkenningsmakelaarId in de dienstencatalogus / "
            "the broker's OIN is needed for the dienstencatalogus"
        )
    return broker.oin


def fragment_element(settings: Settings, broker_id: str | None = None) -> etree._Element:
    """The ``esc:ServiceProvider`` element for the broker ``broker_id`` (default: the first broker)."""
    info = service_info(settings)
    broker_oin = _broker_oin(info, broker_id)
    provider = etree.Element(f"{{{ESC}}}ServiceProvider", {f"{{{ESC}}}IsPublic": "true"}, nsmap=NSMAP)
    _esc(provider, "ServiceProviderID", info.provider_oin)
    _esc(provider, "OrganizationDisplayName", info.provider_name).set(XML_LANG, "nl")

    definition = _esc(provider, "ServiceDefinition", IsPublic="true")
    _esc(definition, "ServiceUUID", info.service_uuid)
    _texts(definition, "ServiceName", info.service_name, info.service_name_en)
    _texts(definition, "ServiceDescription", info.service_description, info.service_description_en)
    etree.SubElement(definition, f"{{{SAML}}}AuthnContextClassRef").text = info.required_loa
    _esc(definition, "HerkenningsmakelaarId", broker_oin)
    for set_number, types in ENTITY_CONCERNED_TYPES:
        for urn in types:
            _esc(definition, "EntityConcernedTypesAllowed", urn, setNumber=str(set_number))

    instance = _esc(provider, "ServiceInstance", IsPublic="true")
    _esc(instance, "ServiceID", info.service_id)
    _esc(instance, "ServiceUUID", info.service_instance_uuid)
    _esc(instance, "InstanceOfService", info.service_uuid)
    _esc(instance, "HerkenningsmakelaarId", broker_oin)
    _esc(instance, "SSOSupport", "false")
    # Brokers encrypt identifiers for the certificate in the dienstencatalogus: the one in use now.
    current = sp_certificates(settings)[0].cert
    service_cert = _esc(instance, "ServiceCertificate")
    key_descriptor = etree.SubElement(service_cert, f"{{{MD}}}KeyDescriptor", use="encryption")
    key_info = etree.SubElement(key_descriptor, f"{{{DS}}}KeyInfo")
    etree.SubElement(key_info, f"{{{DS}}}KeyName").text = certs.fingerprint_sha256(current)
    x509_data = etree.SubElement(key_info, f"{{{DS}}}X509Data")
    etree.SubElement(x509_data, f"{{{DS}}}X509Certificate").text = certs.der_base64(current)
    _esc(instance, "ServiceIntermediation", "noIntermediation")
    return provider


def fragment(settings: Settings, broker_id: str | None = None) -> bytes:
    """The fragment as UTF-8 XML with declaration."""
    return etree.tostring(
        fragment_element(settings, broker_id), xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
