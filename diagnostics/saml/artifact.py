"""HTTP-Artifact on the SP side: read an artifact, and resolve it over SOAP at the broker's ARS.

pysaml2 posts SOAP with ``application/soap+xml``; OneWelcome and Signicat refuse that since 2022 and
want ``text/xml``. The Content-Type is therefore a per-broker setting and the HTTP call is our own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from datetime import UTC, datetime

import httpx
from lxml import etree

from diagnostics import broker_tls, crypto, xmlsafe
from diagnostics.certs import SigningKey
from diagnostics.problems import Problem
from diagnostics.saml.authn import NSMAP, instant, new_id
from diagnostics.saml_names import SAML, SAMLP, SOAP_ENV
from diagnostics.settings import Settings

log = logging.getLogger(__name__)

ARTIFACT_TYPE_CODE = 4
ARTIFACT_LENGTH = 44


class ArtifactError(Problem):
    """An artifact could not be read or resolved; ``diagnosis`` is a stable catalogue id."""


def source_id(entity_id: str) -> bytes:
    """The 20-byte SourceID of a type 0x0004 artifact: SHA-1 of the issuer's entity id."""
    return hashlib.sha1(entity_id.encode("utf-8")).digest()


def parse_artifact(artifact: str) -> tuple[int, bytes]:
    """``(endpoint_index, source_id)`` of a type 0x0004 artifact; ArtifactError when it is not one."""
    try:
        raw = base64.b64decode(artifact.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ArtifactError("malformed", "Het artefact is geen geldige base64.")
    if len(raw) != ARTIFACT_LENGTH:
        raise ArtifactError("malformed", f"Het artefact is {len(raw)} bytes lang in plaats van 44.")
    if int.from_bytes(raw[0:2], "big") != ARTIFACT_TYPE_CODE:
        raise ArtifactError("malformed", "Het artefact is niet van type 0x0004.")
    return int.from_bytes(raw[2:4], "big"), raw[4:24]


def artifact_resolve_envelope(
    settings: Settings, *, signing_key: SigningKey, artifact: str, ars_url: str, now: datetime | None = None
) -> bytes:
    """A SOAP 1.1 envelope holding an ArtifactResolve signed with the SP key."""
    resolve = etree.Element(
        f"{{{SAMLP}}}ArtifactResolve",
        nsmap=NSMAP,
        ID=new_id(),
        Version="2.0",
        IssueInstant=instant(now or datetime.now(UTC)),
        Destination=ars_url,
    )
    etree.SubElement(resolve, f"{{{SAML}}}Issuer").text = settings.sp.entity_id
    etree.SubElement(resolve, f"{{{SAMLP}}}Artifact").text = artifact
    crypto.sign(resolve, signing_key.key_pem, signing_key.cert_pem)
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV})
    etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body").append(resolve)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def _headers(content_type: str) -> dict[str, str]:
    return {
        "Content-Type": f"{content_type}; charset=utf-8",
        "SOAPAction": '"http://www.oasis-open.org/committees/security"',
        "Accept": "text/xml, application/soap+xml",
    }


def artifact_response_from_soap(response: httpx.Response, *, max_bytes: int) -> bytes:
    """The ArtifactResponse element (bytes) from a broker's SOAP answer, or ArtifactError."""
    body = response.content
    try:
        root = xmlsafe.parse(body, max_bytes=max_bytes) if body else None
    except xmlsafe.UnsafeXmlError:
        root = None
    fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault") if root is not None else None
    if fault is not None:
        text = (fault.findtext("faultstring") or "").strip()[:200]
        raise ArtifactError("broker-error", f"De makelaar antwoordde met een SOAP-fout: {text or '(geen tekst)'}")
    if response.status_code >= 500:
        raise ArtifactError("broker-error", f"De makelaar antwoordde met HTTP {response.status_code}.")
    if response.status_code != 200:
        raise ArtifactError(
            "artifact-resolve-failed", f"De makelaar weigerde het verzoek met HTTP {response.status_code}."
        )
    if root is None or root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise ArtifactError("artifact-resolve-failed", "Het antwoord van de makelaar is geen SOAP-bericht.")
    found = root.find(f"{{{SOAP_ENV}}}Body/{{{SAMLP}}}ArtifactResponse")
    if found is None:
        raise ArtifactError("artifact-resolve-failed", "Het SOAP-antwoord bevat geen ArtifactResponse.")
    return etree.tostring(found)


async def resolve_artifact(
    client: httpx.AsyncClient,
    settings: Settings,
    *,
    signing_key: SigningKey,
    artifact: str,
    ars_url: str,
    content_type: str,
    timeout: float,
) -> bytes:
    """Resolve ``artifact`` at ``ars_url``; returns the ArtifactResponse element as bytes.

    ``client`` is the broker's long-lived client (``BrokerRegistry.client``): its TLS context and
    connection pool are built once, not per login. Never blocks the event loop, so the embedded
    simulator can answer from this same process.
    """
    envelope = artifact_resolve_envelope(settings, signing_key=signing_key, artifact=artifact, ars_url=ars_url)
    try:
        response = await client.post(ars_url, content=envelope, headers=_headers(content_type), timeout=timeout)
    except httpx.TimeoutException:
        raise ArtifactError("broker-unreachable", f"De makelaar antwoordde niet binnen {timeout:g} seconden.")
    # OSError too: a TLS 1.3 alert after the handshake can reach us as a bare ssl.SSLError.
    except (httpx.TransportError, OSError) as exc:
        raise await _transport_error(exc, client, ars_url)
    return artifact_response_from_soap(response, max_bytes=settings.max_message_bytes)


async def _transport_error(exc: Exception, client: httpx.AsyncClient, ars_url: str) -> ArtifactError:
    """A failed connection in words: a TLS handshake the broker or we refused is a reachable broker whose back
    channel is not set up right (artifact-resolve-failed, with the reason); anything else is unreachable."""
    failure = await broker_tls.explain_failure(exc, client, ars_url)
    if failure is None:
        return ArtifactError("broker-unreachable", f"De makelaar is niet bereikbaar: {type(exc).__name__}.")
    log.warning("ArtifactResolve at %s: TLS failed: %s", ars_url, failure.technical)
    return ArtifactError(
        "artifact-resolve-failed", f"De beveiligde verbinding met de makelaar lukte niet: {failure.words}."
    )
