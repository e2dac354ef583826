"""The broker registry: what each herkenningsmakelaar's signed metadata and AD list say, verified and cached.

A broker's metadata comes from the embedded simulator, a file or a URL. It is fetched lazily on first
use, never at startup (the embedded simulator is served by this same process), and cached per process
for a short time: it is re-derivable data, not shared state. A failed fetch is remembered for a shorter
time, and no page waits longer than ``WAIT_SECONDS`` for a broker (``diagnostics.timed_cache``).

A signed document is only believed when its signature was made with a certificate we already trust:
the simulator's own certificate on disk, or the ``metadata_signing_cert_file`` pinned in the
configuration. The AD list (the user's suppliers) must be signed with one of the broker's signing
certificates from that verified metadata.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from lxml import etree

from diagnostics import broker_tls, certs, crypto, xmlsafe
from diagnostics.problems import Problem
from diagnostics.saml import artifact
from diagnostics.saml_names import BINDING_POST, BINDING_REDIRECT, BINDING_SOAP, DS, MD, SAMLP, XML_LANG
from diagnostics.settings import BrokerConfig, Settings
from diagnostics.timed_cache import TimedCache
from diagnostics.xmltree import text_of

log = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 300.0
FETCH_TIMEOUT_SECONDS = 10.0
# A page waits at most this long for a broker; the fetch goes on in the background and is kept.
WAIT_SECONDS = 5.0
# A broker that failed is asked again after this long: an outage is noticed quickly, and ends quickly too.
FAILURE_TTL_SECONDS = 30.0
# Metadata and AD lists are small; anything far larger is not what we asked for.
MAX_DOCUMENT_BYTES = 2_000_000


class BrokerError(Problem):
    """Broker metadata or an AD list could not be fetched or trusted; ``diagnosis`` is a catalogue id."""


@dataclass(frozen=True)
class ArsEndpoint:
    index: int
    location: str
    is_default: bool


@dataclass(frozen=True)
class BrokerInfo:
    """One broker as its verified metadata describes it, plus our configuration for it."""

    id: str
    name: str
    entity_id: str
    sso_redirect_url: str | None
    sso_post_url: str | None
    ars_endpoints: tuple[ArsEndpoint, ...]
    signing_certs: tuple[x509.Certificate, ...]
    soap_content_type: str
    valid_until: datetime | None
    # True when the metadata signature was verified against a trusted certificate.
    signature_verified: bool
    source: str

    @property
    def source_id(self) -> bytes:
        """The SourceID this broker's artifacts carry: SHA-1 of its entity id (SAML Bindings §3.6.4)."""
        return artifact.source_id(self.entity_id)

    @property
    def ars_urls(self) -> tuple[str, ...]:
        return tuple(endpoint.location for endpoint in self.ars_endpoints)

    @property
    def ars_url(self) -> str:
        """The default ArtifactResolutionService (isDefault, else the lowest index)."""
        return self.ars_endpoints[0].location

    def ars_url_for(self, endpoint_index: int) -> str:
        """The ARS an artifact's EndpointIndex names; the default one when the index is unknown."""
        for endpoint in self.ars_endpoints:
            if endpoint.index == endpoint_index:
                return endpoint.location
        return self.ars_url

    @property
    def signing_fingerprints(self) -> list[str]:
        return [certs.fingerprint_sha256(cert) for cert in self.signing_certs]


@dataclass(frozen=True)
class Supplier:
    """An authenticatiedienst from the broker's AD list: on the Dutch pages "uw eHerkenningsmakelaar"."""

    entity_id: str
    display_name: str


# ── trust ──


@dataclass(frozen=True)
class Trust:
    """Which certificates may sign a broker's metadata, and whether a signature is required."""

    certs: tuple[x509.Certificate, ...]
    require_signature: bool


@dataclass(frozen=True)
class EmbeddedBroker:
    """The embedded simulator as this module sees it: the certificate its metadata is signed with, and that
    metadata built in process (for ``load_broker``, which may run while no server is up).

    Whoever wires the process hands it in: the composition root to the registry, the commands to
    ``load_broker``. So the SAML layer never imports the simulator (ARCHITECTURE.md, "Layers"). Both are
    called only when the embedded broker is asked for: its keys are made on first use.
    """

    signing_cert: Callable[[], x509.Certificate]
    metadata: Callable[[], bytes]


def metadata_trust(settings: Settings, broker: BrokerConfig, embedded: EmbeddedBroker | None = None) -> Trust:
    """The trust anchor for ``broker``'s metadata; BrokerError when the configuration gives none in production."""
    if broker.metadata_signing_cert_file is not None:
        try:
            return Trust((certs.load_cert(broker.metadata_signing_cert_file),), require_signature=True)
        except (OSError, ValueError) as exc:
            raise BrokerError(
                "config-error", f"Het certificaat voor de metadata van {broker.name} is niet te lezen: {exc}"
            )
    if broker.embedded:
        # Our own simulator: its certificate is read from its key directory (simulator.embedded).
        return Trust((_embedded(broker, embedded).signing_cert(),), require_signature=True)
    if broker.metadata_file is not None:
        # A file the operator installed is trusted as configuration; a signature on it cannot be checked.
        return Trust((), require_signature=False)
    if settings.environment == "production":
        raise BrokerError(
            "config-error",
            f"Voor {broker.name} is geen metadata_signing_cert_file ingesteld; "
            "metadata van een URL wordt in productie alleen met een vastgelegd certificaat vertrouwd.",
        )
    log.warning("broker %s: metadata from %s is not pinned (development only)", broker.id, broker.metadata_url)
    return Trust((), require_signature=False)


def _embedded(broker: BrokerConfig, embedded: EmbeddedBroker | None) -> EmbeddedBroker:
    """The embedded simulator handed in; without it nothing about the embedded broker is believed (fails closed)."""
    if embedded is None:
        log.error("broker %s is embedded, but no embedded simulator was handed in", broker.id)
        raise BrokerError("config-error", f"De ingebouwde simulator voor {broker.name} is niet aangesloten.")
    return embedded


def _verify(root: etree._Element, trust: Trust, what: str) -> bool:
    signed = root.find(f"{{{DS}}}Signature") is not None
    if trust.certs:
        try:
            crypto.verify(root, trust.certs)
        except crypto.SignatureError as exc:
            # Unsigned metadata is the broker's document, not the login answer the catalogue's "unsigned" explains.
            raise BrokerError(
                "metadata-unsigned" if exc.diagnosis == "unsigned" else exc.diagnosis, f"{what}: {exc.message}"
            )
        return True
    if trust.require_signature:
        raise BrokerError(
            "untrusted-certificate", f"{what}: er is geen vertrouwd certificaat om de handtekening te controleren."
        )
    if signed:
        log.info("%s is signed but no certificate is pinned; signature not checked", what)
    return False


# ── parsing ──


def _parse(data: bytes, what: str) -> etree._Element:
    try:
        return xmlsafe.parse(data, max_bytes=MAX_DOCUMENT_BYTES)
    except xmlsafe.UnsafeXmlError as exc:
        raise BrokerError(exc.diagnosis, f"{what} is geen leesbare, veilige XML.")


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _entities(root: etree._Element) -> list[etree._Element]:
    if root.tag == f"{{{MD}}}EntityDescriptor":
        return [root]
    if root.tag == f"{{{MD}}}EntitiesDescriptor":
        return list(root.iter(f"{{{MD}}}EntityDescriptor"))
    return []


def _signing_certs(descriptor: etree._Element) -> tuple[x509.Certificate, ...]:
    found: list[x509.Certificate] = []
    for key in descriptor.findall(f"{{{MD}}}KeyDescriptor"):
        if key.get("use", "signing") != "signing":
            continue
        for element in key.iter(f"{{{DS}}}X509Certificate"):
            try:
                der = base64.b64decode("".join(text_of(element).split()), validate=True)
                found.append(x509.load_der_x509_certificate(der))
            except (binascii.Error, ValueError):
                log.warning("unreadable X509Certificate in broker metadata skipped")
    return tuple(found)


def parse_metadata(
    data: bytes, broker: BrokerConfig, trust: Trust, *, source: str, now: datetime | None = None
) -> BrokerInfo:
    """A :class:`BrokerInfo` from metadata XML (EntitiesDescriptor or EntityDescriptor); BrokerError if unusable."""
    what = f"De metadata van {broker.name}"
    root = _parse(data, what)
    entities = _entities(root)
    if not entities:
        raise BrokerError("malformed", f"{what} bevat geen EntityDescriptor.")
    verified = _verify(root, trust, what)
    moment = now or datetime.now(UTC)
    for entity in entities:
        idp = next(
            (
                d
                for d in entity.findall(f"{{{MD}}}IDPSSODescriptor")
                if SAMLP in (d.get("protocolSupportEnumeration") or "").split()
            ),
            None,
        )
        if idp is None:
            continue
        entity_id = entity.get("entityID") or ""
        if not entity_id:
            raise BrokerError("malformed", f"{what}: de EntityDescriptor heeft geen entityID.")
        ends = [_instant(element.get("validUntil")) for element in (root, entity, idp)]
        valid_until = min((end for end in ends if end is not None), default=None)
        if valid_until is not None and valid_until <= moment:
            raise BrokerError("config-error", f"{what} is verlopen (validUntil {valid_until.isoformat()}).")
        sso = {s.get("Binding"): s.get("Location") for s in reversed(idp.findall(f"{{{MD}}}SingleSignOnService"))}
        ars = [
            ArsEndpoint(int(a.get("index") or 0), a.get("Location") or "", a.get("isDefault") in ("true", "1"))
            for a in idp.findall(f"{{{MD}}}ArtifactResolutionService")
            if a.get("Binding") == BINDING_SOAP and a.get("Location")
        ]
        ars.sort(key=lambda endpoint: (not endpoint.is_default, endpoint.index))
        if not ars:
            raise BrokerError("malformed", f"{what} noemt geen ArtifactResolutionService (SOAP).")
        if not sso.get(BINDING_REDIRECT) and not sso.get(BINDING_POST):
            raise BrokerError("malformed", f"{what} noemt geen SingleSignOnService voor Redirect of POST.")
        signing = _signing_certs(idp)
        if not signing:
            raise BrokerError("malformed", f"{what} noemt geen ondertekeningscertificaat.")
        return BrokerInfo(
            id=broker.id,
            name=broker.name,
            entity_id=entity_id,
            sso_redirect_url=sso.get(BINDING_REDIRECT),
            sso_post_url=sso.get(BINDING_POST),
            ars_endpoints=tuple(ars),
            signing_certs=signing,
            soap_content_type=broker.soap_content_type,
            valid_until=valid_until,
            signature_verified=verified,
            source=source,
        )
    raise BrokerError("malformed", f"{what} bevat geen IDPSSODescriptor voor SAML 2.0.")


def parse_ad_list(data: bytes, broker: BrokerInfo) -> list[Supplier]:
    """The suppliers from a signed AD list, in the broker's order; BrokerError when not proven."""
    what = f"De lijst met eHerkenningsmakelaars van {broker.name}"
    root = _parse(data, what)
    if root.tag != f"{{{MD}}}EntitiesDescriptor":
        raise BrokerError("malformed", f"{what} is geen EntitiesDescriptor.")
    _verify(root, Trust(broker.signing_certs, require_signature=True), what)
    suppliers: list[Supplier] = []
    for entity in root.findall(f"{{{MD}}}EntityDescriptor"):
        entity_id = entity.get("entityID")
        if not entity_id:
            continue
        suppliers.append(Supplier(entity_id, _display_name(entity) or entity_id))
    return suppliers


def _display_name(entity: etree._Element) -> str | None:
    organisation = entity.find(f"{{{MD}}}Organization")
    if organisation is None:
        return None
    for tag in ("OrganizationDisplayName", "OrganizationName"):
        names = organisation.findall(f"{{{MD}}}{tag}")
        for lang in ("nl", "en", None):
            for name in names:
                text = text_of(name)
                if (lang is None or name.get(XML_LANG) == lang) and text:
                    return " ".join(text.split())
    return None


# ── fetching and caching ──


def _source(settings: Settings, broker: BrokerConfig) -> str:
    if broker.metadata_file is not None:
        return str(broker.metadata_file)
    url = settings.broker_metadata_url(broker)
    if url is None:  # excluded by BrokerConfig's validation
        raise BrokerError("config-error", f"Voor {broker.name} is geen metadatabron ingesteld.")
    return url


class BrokerRegistry:
    """Brokers and their AD lists for one process, fetched on first use and kept for ``ttl_seconds``.

    A caller waits at most ``wait_seconds`` for a fetch; a failed fetch is remembered for
    ``failure_ttl_seconds``, so a broker that is down costs one timeout then, not one per page view.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        failure_ttl_seconds: float = FAILURE_TTL_SECONDS,
        wait_seconds: float = WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        embedded: EmbeddedBroker | None = None,
    ) -> None:
        self.settings = settings
        self._embedded = embedded
        self._wait = wait_seconds

        def cache(what: str) -> TimedCache[Any]:
            return TimedCache(
                failure=BrokerError,
                ttl_seconds=ttl_seconds,
                failure_ttl_seconds=failure_ttl_seconds,
                wait_seconds=wait_seconds,
                on_wait_timeout=lambda broker_id, seconds: self._late(broker_id, what, seconds),
                clock=clock,
            )

        self._brokers: TimedCache[BrokerInfo] = cache("De metadata")
        self._suppliers: TimedCache[list[Supplier]] = cache("De lijst met eHerkenningsmakelaars")
        # One client per broker for the life of the process: its TLS context and connection pool are built
        # once (a new context costs tens of milliseconds), for metadata, AD list and ArtifactResolve alike.
        self._clients = {config.id: _client(config, transport) for config in settings.brokers}

    def client(self, broker_id: str) -> httpx.AsyncClient:
        """The long-lived HTTP client for ``broker_id`` (KeyError when not configured)."""
        return self._clients[broker_id]

    async def aclose(self) -> None:
        """Close every broker's connections (at shutdown)."""
        for client in self._clients.values():
            await client.aclose()

    def _late(self, broker_id: str, what: str, seconds: float) -> BrokerError:
        name = self.settings.broker(broker_id).name
        return BrokerError("broker-unreachable", f"{what} van {name} is niet binnen {seconds:g} seconden opgehaald.")

    async def _get(self, broker_id: str, url: str, what: str, params: dict[str, str] | None = None) -> bytes:
        client = self.client(broker_id)
        try:
            response = await client.get(url, params=params, timeout=FETCH_TIMEOUT_SECONDS)
        # OSError too: a TLS 1.3 alert after the handshake can reach us as a bare ssl.SSLError.
        except (httpx.HTTPError, OSError) as exc:
            failure = await broker_tls.explain_failure(exc, client, url)
            if failure is not None:
                log.warning("broker %s: TLS failed for %s: %s", broker_id, url, failure.technical)
            reason = failure.words if failure is not None else type(exc).__name__
            raise BrokerError("broker-unreachable", f"{what} is niet op te halen ({reason}).")
        if response.status_code != 200:
            raise BrokerError("broker-unreachable", f"{what} is niet op te halen (HTTP {response.status_code}).")
        if len(response.content) > MAX_DOCUMENT_BYTES:
            raise BrokerError("too-large", f"{what} is te groot.")
        return response.content

    async def broker(self, broker_id: str) -> BrokerInfo:
        """The verified metadata of the configured broker ``broker_id`` (KeyError when not configured)."""
        config = self.settings.broker(broker_id)

        async def fetch() -> BrokerInfo:
            trust = metadata_trust(self.settings, config, self._embedded)
            source = _source(self.settings, config)
            if config.metadata_file is not None:
                data = _read_file(config.metadata_file, config.name)
            else:
                data = await self._get(broker_id, source, f"De metadata van {config.name}")
            return parse_metadata(data, config, trust, source=source)

        return await self._brokers.get(broker_id, fetch)

    async def suppliers(self, broker_id: str) -> list[Supplier]:
        """The broker's signed AD list for our ServiceUUID, in its order; empty when it publishes none."""
        config = self.settings.broker(broker_id)
        url = self.settings.broker_ad_list_url(config)
        if url is None:
            return []
        # One deadline for both documents: the page waits at most ``wait_seconds`` in all, not per document.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait
        # Outside the list's own fetch: a broker that is down is remembered as such, once, in ``broker()``.
        info = await self.broker(broker_id)

        async def fetch() -> list[Supplier]:
            what = f"De lijst met eHerkenningsmakelaars van {config.name}"
            data = await self._get(broker_id, url, what, {"ServiceUUID": self.settings.service.uuid})
            return parse_ad_list(data, info)

        return await self._suppliers.get(broker_id, fetch, wait_seconds=max(0.0, deadline - loop.time()))

    def forget(self) -> None:
        """Drop every cached document and remembered failure (after a metadata change)."""
        self._brokers.clear()
        self._suppliers.clear()


def _client(config: BrokerConfig, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
    """The broker's one client, with its TLS context (client certificate, CA bundle) built here, once."""
    try:
        context = broker_tls.ssl_context(config)
    except OSError as exc:  # ssl.SSLError included
        # check-config (run before every start) names the file; this only stops a start that skipped it.
        raise ValueError(f"brokers {config.id}: de TLS-bestanden zijn niet te gebruiken / unusable TLS files: {exc}")
    return broker_tls.BrokerClient(
        context=context,
        offers_client_cert=config.tls_client_cert is not None,
        transport=transport,
        timeout=FETCH_TIMEOUT_SECONDS,
    )


def _read_file(path: Path, name: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BrokerError("config-error", f"Het metadatabestand van {name} is niet te lezen: {exc.strerror}.")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise BrokerError("too-large", f"Het metadatabestand van {name} is te groot.")
    return data


def load_broker(
    settings: Settings, broker_id: str, *, embedded: EmbeddedBroker | None = None, now: datetime | None = None
) -> BrokerInfo:
    """Synchronous, uncached load for the CLI and the metadata watch (never call inside the event loop).

    The embedded simulator's metadata is built in process (``embedded``): this process may be the server
    itself, or a command run while no server is up.
    """
    config = settings.broker(broker_id)
    trust = metadata_trust(settings, config, embedded)
    if config.embedded:
        data = _embedded(config, embedded).metadata()
        return parse_metadata(data, config, trust, source="simulator", now=now)
    source = _source(settings, config)
    if config.metadata_file is not None:
        data = _read_file(config.metadata_file, config.name)
    else:
        try:
            # The broker's own trust (ca_bundle_file) for the cron job too, not only for the server's client.
            response = httpx.get(source, timeout=FETCH_TIMEOUT_SECONDS, verify=broker_tls.ssl_context(config))
        except (httpx.HTTPError, OSError) as exc:
            raise BrokerError("broker-unreachable", f"De metadata van {config.name} is niet op te halen: {exc}.")
        if response.status_code != 200:
            raise BrokerError(
                "broker-unreachable",
                f"De metadata van {config.name} is niet op te halen (HTTP {response.status_code}).",
            )
        data = response.content
    return parse_metadata(data, config, trust, source=source, now=now)
