"""The signed AuthnRequest our SP sends to a broker, and the HTTP-Redirect signature both sides need.

HTTP-Redirect signs the query string, not the XML (SAML Bindings §3.4.4.1): the signed octets are
``SAMLRequest=…&RelayState=…&SigAlg=…`` exactly as they appear in the URL. HTTP-POST carries an
enveloped XML signature made with ``diagnostics.crypto``.
"""

from __future__ import annotations

import base64
import secrets
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote_plus, unquote_plus, urlencode

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from diagnostics import crypto
from diagnostics.certs import SigningKey
from diagnostics.problems import Problem
from diagnostics.saml_names import BINDING_ARTIFACT, SAML, SAMLP
from diagnostics.settings import Settings

NSMAP = {"samlp": SAMLP, "saml": SAML}

Binding = Literal["redirect", "post"]


@dataclass(frozen=True)
class AuthnRequestOut:
    """What the browser must be sent: a redirect URL, or a form to POST to ``url``."""

    request_id: str
    binding: Binding
    url: str
    xml: bytes
    form: dict[str, str] = field(default_factory=dict)


class RedirectSignatureError(Problem, ValueError):  # still a ValueError, as it always was
    """The query-string signature of an HTTP-Redirect message is missing, weak or wrong."""


def new_id() -> str:
    """A SAML ID: starts with a letter (xs:ID) and carries 160 random bits."""
    return "_" + secrets.token_hex(20)


def instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def authn_request_xml(
    settings: Settings, *, request_id: str, destination: str, supplier_id: str | None, now: datetime
) -> etree._Element:
    """The unsigned AuthnRequest element, shaped like the eHerkenning DV–HM profile asks."""
    request = etree.Element(
        f"{{{SAMLP}}}AuthnRequest",
        nsmap=NSMAP,
        ID=request_id,
        Version="2.0",
        IssueInstant=instant(now),
        Destination=destination,
        ForceAuthn="true",
        AssertionConsumerServiceURL=settings.acs_url,
        ProtocolBinding=BINDING_ARTIFACT,
        AttributeConsumingServiceIndex=str(settings.service.attribute_consuming_service_index),
    )
    etree.SubElement(request, f"{{{SAML}}}Issuer").text = settings.sp.entity_id
    if supplier_id:
        scoping = etree.SubElement(request, f"{{{SAMLP}}}Scoping")
        idp_list = etree.SubElement(scoping, f"{{{SAMLP}}}IDPList")
        etree.SubElement(idp_list, f"{{{SAMLP}}}IDPEntry", ProviderID=supplier_id)
    return request


def build_authn_request(
    settings: Settings,
    *,
    signing_key: SigningKey,
    destination: str,
    supplier_id: str | None = None,
    relay_state: str,
    binding: Binding = "redirect",
    now: datetime | None = None,
    request_id: str | None = None,
) -> AuthnRequestOut:
    """A signed AuthnRequest for ``destination`` (the broker's SSO endpoint for ``binding``)."""
    # A caller may draw the ID first, to store it with its session before the request exists.
    request_id = request_id or new_id()
    element = authn_request_xml(
        settings,
        request_id=request_id,
        destination=destination,
        supplier_id=supplier_id,
        now=now or datetime.now(UTC),
    )
    if binding == "post":
        crypto.sign(element, signing_key.key_pem, signing_key.cert_pem)
        xml = etree.tostring(element)
        form = {"SAMLRequest": base64.b64encode(xml).decode("ascii"), "RelayState": relay_state}
        return AuthnRequestOut(request_id, binding, destination, xml, form)
    xml = etree.tostring(element)
    query = signed_redirect_query("SAMLRequest", xml, relay_state, signing_key.private_key)
    separator = "&" if "?" in destination else "?"
    return AuthnRequestOut(request_id, binding, f"{destination}{separator}{query}", xml)


def encode_redirect_message(xml: bytes) -> str:
    """DEFLATE (raw, no zlib header) then base64, as HTTP-Redirect requires."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.b64encode(compressor.compress(xml) + compressor.flush()).decode("ascii")


def decode_redirect_message(value: str, *, max_bytes: int) -> bytes:
    """Undo :func:`encode_redirect_message`; refuses output above ``max_bytes`` (a deflate bomb)."""
    raw = base64.b64decode(value, validate=False)
    decompressor = zlib.decompressobj(-15)
    try:
        data = decompressor.decompress(raw, max_bytes + 1)
    except zlib.error as exc:  # not DEFLATE at all: the same refusal as any other unreadable message
        raise ValueError(f"not a DEFLATE stream: {exc}") from None
    if len(data) > max_bytes or decompressor.unconsumed_tail:
        raise ValueError("message too large")
    return data


def signed_redirect_query(param: str, xml: bytes, relay_state: str | None, key: rsa.RSAPrivateKey) -> str:
    """``SAMLRequest=…&RelayState=…&SigAlg=…&Signature=…`` signed RSA-SHA256 over the first three.

    ``key`` is parsed already (``certs.KeyFiles``): parsing costs a hundred times the signature.
    """
    parts = [(param, encode_redirect_message(xml))]
    if relay_state:
        parts.append(("RelayState", relay_state))
    parts.append(("SigAlg", crypto.RSA_SHA256))
    signed = urlencode(parts, quote_via=quote_plus)
    signature = key.sign(signed.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signed}&Signature={quote_plus(base64.b64encode(signature).decode('ascii'))}"


def verify_redirect_query(raw_query: str, param: str, trusted_certs: Sequence[x509.Certificate]) -> None:
    """Check the HTTP-Redirect signature over the query string exactly as received.

    Raises :class:`RedirectSignatureError` with diagnosis ``unsigned``, ``weak-algorithm`` or
    ``bad-signature``.
    """
    raw: dict[str, str] = {}
    for part in raw_query.split("&"):
        name, _, value = part.partition("=")
        if name in {param, "RelayState", "SigAlg", "Signature"} and name not in raw:
            raw[name] = value
    if "Signature" not in raw or "SigAlg" not in raw:
        raise RedirectSignatureError("unsigned", "Het verzoek heeft geen handtekening.")
    if unquote_plus(raw["SigAlg"]) != crypto.RSA_SHA256:
        raise RedirectSignatureError("weak-algorithm", "Het verzoek is niet met RSA-SHA256 ondertekend.")
    if param not in raw:
        raise RedirectSignatureError("malformed", f"{param} ontbreekt.")
    signed = "&".join(f"{name}={raw[name]}" for name in (param, "RelayState", "SigAlg") if name in raw)
    try:
        signature = base64.b64decode(unquote_plus(raw["Signature"]), validate=True)
    except ValueError:
        raise RedirectSignatureError("bad-signature", "De handtekening is geen geldige base64.")
    for cert in trusted_certs:
        public_key = cert.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            continue
        try:
            public_key.verify(signature, signed.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
            return
        except InvalidSignature:
            continue
    raise RedirectSignatureError("bad-signature", "De handtekening past niet bij het certificaat van de dienst.")
