"""The diensten (SPs) the simulated broker trusts, read from their metadata like a real broker does.

Our own SP is always trusted (its metadata is built from the settings). Other diensten are listed in
``[simulator] trusted_sp_metadata``: a metadata file, or an http(s) URL on this machine. A URL is fetched on
every lookup, a file is parsed again when it changed (its stamp), so a dienst that rolls its key or changes
its ACS needs no restart; a source that cannot be read is logged and skipped (its diensten are then
unknown: fail closed).
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from diagnostics import xmlsafe
from diagnostics.saml.metadata import sp_metadata
from diagnostics.saml_names import BINDING_ARTIFACT, DS, MD, XML_LANG
from diagnostics.settings import Settings
from diagnostics.xmltree import text_of

log = logging.getLogger(__name__)

# SP metadata is small; a loopback server that takes longer than this is not going to answer.
FETCH_TIMEOUT_SECONDS = 5.0
MAX_METADATA_BYTES = 1_000_000


@dataclass(frozen=True)
class AcsEndpoint:
    index: int
    location: str
    binding: str
    is_default: bool


@dataclass(frozen=True)
class SpService:
    """One AttributeConsumingService: its index, the ServiceID (its first RequestedAttribute) and its name."""

    index: int
    service_id: str
    is_default: bool
    # The Dutch ServiceName (else any), shown on the login screens as "U logt in bij …".
    name: str


@dataclass(frozen=True)
class SpTrust:
    entity_id: str
    acs: tuple[AcsEndpoint, ...]
    signing_certs: tuple[x509.Certificate, ...]
    # The certificate the broker encrypts identifiers to (the first encryption key in the metadata).
    encryption_cert_pem: bytes
    services: tuple[SpService, ...] = ()

    @property
    def acs_urls(self) -> tuple[str, ...]:
        """The ACS locations for HTTP-Artifact, the only way back in eHerkenning; the default first."""
        return tuple(endpoint.location for endpoint in self.artifact_acs)

    @property
    def artifact_acs(self) -> tuple[AcsEndpoint, ...]:
        found = [endpoint for endpoint in self.acs if endpoint.binding == BINDING_ARTIFACT]
        # SAML metadata §2.2.3: the endpoint marked isDefault, else the first one.
        return tuple(sorted(found, key=lambda endpoint: not endpoint.is_default))

    def service(self, index: int | None) -> SpService | None:
        """The service an AuthnRequest's AttributeConsumingServiceIndex names; without one, the default."""
        if index is not None:
            return next((s for s in self.services if s.index == index), None)
        return next((s for s in self.services if s.is_default), self.services[0] if self.services else None)


class UnknownSp(LookupError):
    """No trusted metadata names this entity id; ``unreadable`` lists sources that could not be read."""

    def __init__(self, entity_id: str, unreadable: tuple[str, ...]) -> None:
        super().__init__(entity_id)
        self.entity_id = entity_id
        self.unreadable = unreadable


def _certs(descriptor: etree._Element, use: str) -> list[x509.Certificate]:
    found = []
    for key_descriptor in descriptor.iterfind(f"{{{MD}}}KeyDescriptor"):
        # A KeyDescriptor without ``use`` serves both signing and encryption.
        if key_descriptor.get("use", use) != use:
            continue
        for node in key_descriptor.iterfind(f".//{{{DS}}}X509Certificate"):
            try:
                der = base64.b64decode("".join(text_of(node).split()), validate=True)
                found.append(x509.load_der_x509_certificate(der))
            except (binascii.Error, ValueError):
                log.warning("unreadable X509Certificate in SP metadata skipped")
    return found


def _index(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _services(descriptor: etree._Element) -> tuple[SpService, ...]:
    services = []
    for service in descriptor.iterfind(f"{{{MD}}}AttributeConsumingService"):
        index = _index(service.get("index"))
        first = service.find(f"{{{MD}}}RequestedAttribute")
        # eHerkenning: the first RequestedAttribute of a service is its ServiceID.
        if index is None or first is None or not first.get("Name"):
            continue
        service_id = first.get("Name", "")
        names = service.findall(f"{{{MD}}}ServiceName")
        dutch = [text_of(name) for name in names if name.get(XML_LANG) == "nl"]
        name = next((text for text in [*dutch, *(text_of(n) for n in names)] if text), service_id)
        services.append(SpService(index, service_id, service.get("isDefault") in ("true", "1"), name))
    return tuple(services)


def _trust(entity: etree._Element) -> SpTrust | None:
    """What the simulator needs from one EntityDescriptor; None when it is no usable SAML 2.0 SP."""
    descriptor = entity.find(f"{{{MD}}}SPSSODescriptor")
    entity_id = entity.get("entityID")
    if descriptor is None or not entity_id:
        return None
    encryption = _certs(descriptor, "encryption")
    if not encryption:
        log.warning("SP metadata of %s has no encryption certificate; not trusted", entity_id[:200])
        return None
    acs = tuple(
        AcsEndpoint(_index(node.get("index")) or 0, location, node.get("Binding", ""), node.get("isDefault") == "true")
        for node in descriptor.iterfind(f"{{{MD}}}AssertionConsumerService")
        if (location := node.get("Location"))
    )
    return SpTrust(
        entity_id=entity_id,
        acs=acs,
        signing_certs=tuple(_certs(descriptor, "signing")),
        encryption_cert_pem=encryption[0].public_bytes(serialization.Encoding.PEM),
        services=_services(descriptor),
    )


def parse_sp_metadata(data: bytes) -> list[SpTrust]:
    """Every usable SP in a metadata document (an EntityDescriptor, or an EntitiesDescriptor of them)."""
    root = xmlsafe.parse(data, max_bytes=MAX_METADATA_BYTES)
    if root.tag == f"{{{MD}}}EntityDescriptor":
        entities = [root]
    elif root.tag == f"{{{MD}}}EntitiesDescriptor":
        entities = list(root.iter(f"{{{MD}}}EntityDescriptor"))
    else:
        raise ValueError("geen EntityDescriptor of EntitiesDescriptor")
    return [trust for entity in entities if (trust := _trust(entity)) is not None]


Stamp = tuple[int, int, int]

# Our own SP's trust, by the settings object and the stamps of the certificate files it was read from. pysaml2
# builds the metadata in milliseconds, and every simulator request needs it; the settings never change in a
# process (frozen), and a new certificate file (a rollover) has a new stamp. The settings object is kept in its
# entry, so its id cannot be reused by another object meanwhile. A handful of entries: a test run has several.
_OWN_SP: dict[int, tuple[Settings, tuple[Stamp | None, Stamp | None], SpTrust]] = {}
_OWN_SP_ENTRIES = 8

K = TypeVar("K")
V = TypeVar("V")


def _keep(table: dict[K, V], key: K, value: V, entries: int) -> None:
    """Put ``value`` in a bounded table; when it is full, the oldest entry goes."""
    if key not in table and len(table) >= entries:
        table.pop(next(iter(table)))
    table[key] = value


def _file_stamp(path: Path | None) -> Stamp | None:
    if path is None:
        return None
    try:
        status = path.stat()
    except OSError:
        return None
    return (status.st_mtime_ns, status.st_size, status.st_ino)


def own_sp(settings: Settings) -> SpTrust:
    """Our own SP, from ``sp_metadata(settings)`` (unsigned: the signature adds nothing here and costs a key load)."""
    stamps = (_file_stamp(settings.sp.cert_file), _file_stamp(settings.sp.next_cert_file))
    kept = _OWN_SP.get(id(settings))
    if kept is not None and kept[0] is settings and kept[1] == stamps:
        return kept[2]
    trusted = parse_sp_metadata(sp_metadata(settings, signed=False))
    if not trusted:
        raise ValueError("our SP metadata has no SPSSODescriptor with an encryption certificate")
    _keep(_OWN_SP, id(settings), (settings, stamps, trusted[0]), _OWN_SP_ENTRIES)
    return trusted[0]


def _fetch(url: str) -> bytes:
    # The settings allow loopback URLs only; redirects could leave the machine, so they are not followed.
    response = httpx.get(url, timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=False)
    response.raise_for_status()
    return response.content


# The diensten in each metadata file, by path and the file's stamp: parsing a file and its certificates costs
# milliseconds, and a dienst is looked up two or three times per login. A changed (or replaced) file has a
# new stamp and is read again, so a rollover still needs no restart. URLs are fetched on every lookup.
_FILE_SPS: dict[str, tuple[Stamp, list[SpTrust]]] = {}
_FILE_SPS_ENTRIES = 32


def _sps_in(source: str) -> list[SpTrust]:
    if "://" in source:
        return parse_sp_metadata(_fetch(source))
    path = Path(source)
    stamp = _file_stamp(path)
    cached = _FILE_SPS.get(source)
    if stamp is not None and cached is not None and cached[0] == stamp:
        return cached[1]
    trusted = parse_sp_metadata(path.read_bytes())
    # Kept only when the file did not change while it was read: the stamp must describe what was parsed.
    if stamp is not None and _file_stamp(path) == stamp:
        _keep(_FILE_SPS, source, (stamp, trusted), _FILE_SPS_ENTRIES)
    return trusted


def _other_sps(settings: Settings, unreadable: list[str]) -> Iterator[SpTrust]:
    for source in settings.simulator.trusted_sp_metadata:
        try:
            yield from _sps_in(source)
        except (OSError, httpx.HTTPError, xmlsafe.UnsafeXmlError, ValueError) as exc:
            log.warning("trusted_sp_metadata %s unreadable: %s", source, type(exc).__name__)
            unreadable.append(source)


def find_sp(settings: Settings, entity_id: str) -> SpTrust:
    """The trusted SP with this entity id; :class:`UnknownSp` when none of the metadata names it.

    Our own SP comes first, so a listed document cannot replace its keys or ACS.
    """
    own = own_sp(settings)
    if entity_id == own.entity_id:
        return own
    unreadable: list[str] = []
    for trust in _other_sps(settings, unreadable):
        if trust.entity_id == entity_id:
            return trust
    raise UnknownSp(entity_id, tuple(unreadable))
