"""Find the SAML answer in whatever the servicedesk was sent: XML, a form value, a HAR or a SAML-tracer export.

Accepted: a raw ``samlp:Response`` or ``samlp:ArtifactResponse`` (also inside a SOAP envelope), the
base64 ``SAMLResponse`` form value (also as ``SAMLResponse=...`` URL-encoded, or deflated as in the
Redirect binding), a HAR file from the browser's developer tools, and a SAML-tracer JSON export.
Every decoding step is size-capped by :mod:`diagnostics.xmlsafe`; nothing here parses the XML itself.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from diagnostics import xmlsafe
from diagnostics.problems import Problem

# A HAR of a whole login session is far larger than one SAML message.
MAX_CONTAINER_BYTES = 50_000_000
_SAML_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:ArtifactResponse|Response|Envelope)[\s>/]")
_BASE64ISH = re.compile(r"^[A-Za-z0-9+/=\s%_-]+$")


class InputError(Problem):
    """Nothing usable found; ``diagnosis`` is ``malformed`` or ``too-large``."""


@dataclass(frozen=True)
class Extracted:
    """The SAML message bytes and, in Dutch, where they were found."""

    message: bytes
    source: str


def _looks_like_saml(data: bytes) -> bool:
    return bool(_SAML_ROOT.search(data[:4096]))


def _from_text_value(value: str, *, max_bytes: int, where: str) -> Extracted:
    """A form value: base64 of XML, or base64 of deflated XML; URL-encoding tolerated."""
    value = value.strip()
    if "%" in value:
        value = urllib.parse.unquote(value)
    if value.startswith("<"):
        return Extracted(value.encode("utf-8"), f"{where} (XML)")
    # URL-safe alphabet seen in some copies; the SAML bindings use the standard one.
    value = value.replace("-", "+").replace("_", "/").replace(" ", "+")
    try:
        decoded = xmlsafe.b64decode(value, max_bytes=max_bytes)
    except xmlsafe.UnsafeXmlError as exc:
        raise InputError(exc.diagnosis, f"{where}: {exc.message}")
    if decoded.lstrip().startswith(b"<") or decoded.startswith(b"\xef\xbb\xbf"):
        return Extracted(decoded, f"{where} (base64)")
    try:
        inflated = xmlsafe.inflate(decoded, max_bytes=max_bytes)
    except xmlsafe.UnsafeXmlError as exc:
        if exc.diagnosis == "too-large":
            raise InputError(exc.diagnosis, f"{where}: {exc.message}")
        raise InputError("malformed", f"{where}: na base64-decoderen is dit geen XML.")
    return Extracted(inflated, f"{where} (base64 + DEFLATE)")


def _form_value(text: str, name: str = "SAMLResponse") -> str | None:
    """``name`` from an ``a=b&c=d`` body or query string, or None."""
    if f"{name}=" not in text:
        return None
    for key, value in urllib.parse.parse_qsl(text.strip().lstrip("?"), keep_blank_values=True):
        if key == name:
            return value
    return None


def _har_candidates(document: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(where, value, is_xml) for every SAML answer in a HAR, in the order the browser saw them."""
    found: list[tuple[str, str, bool]] = []
    entries = document.get("log", {}).get("entries", [])
    if not isinstance(entries, list):
        return found
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            continue
        request = entry.get("request") or {}
        url = str(request.get("url", ""))[:120]
        post = request.get("postData") or {}
        params = post.get("params") or []
        value = next(
            (str(p.get("value", "")) for p in params if isinstance(p, dict) and p.get("name") == "SAMLResponse"),
            None,
        )
        if value is None and isinstance(post.get("text"), str):
            text = post["text"]
            value = _form_value(text)
            if value is None and _looks_like_saml(text.encode("utf-8", "replace")) and "ArtifactResponse" in text:
                found.append((f"HAR-item {number} ({url}), verzoek", text, True))
        if value is None:
            query = urllib.parse.urlsplit(str(request.get("url", ""))).query
            value = _form_value(query)
        if value is not None:
            found.append((f"HAR-item {number} ({url}), SAMLResponse", urllib.parse.unquote(value), False))
        content = (entry.get("response") or {}).get("content") or {}
        body = content.get("text")
        if isinstance(body, str) and body:
            raw = body
            if content.get("encoding") == "base64":
                try:
                    raw = base64.b64decode(body).decode("utf-8", "replace")
                except (binascii.Error, ValueError):
                    continue
            if "ArtifactResponse" in raw and _looks_like_saml(raw.encode("utf-8", "replace")):
                found.append((f"HAR-item {number} ({url}), antwoord", raw, True))
    return found


def _tracer_candidates(document: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(where, value, is_xml) for every SAML answer in a SAML-tracer export."""
    found: list[tuple[str, str, bool]] = []
    requests = document.get("requests", [])
    if not isinstance(requests, list):
        return found
    for number, item in enumerate(requests, start=1):
        if not isinstance(item, dict):
            continue
        url = str(item.get("url", ""))[:120]
        saml = item.get("saml")
        if isinstance(saml, str) and re.search(r"<(?:\w+:)?(?:ArtifactResponse|Response)[\s>]", saml):
            found.append((f"SAML-tracer-item {number} ({url})", saml, True))
            continue
        for field in ("post", "get"):
            pairs = item.get(field) or []
            for pair in pairs if isinstance(pairs, list) else []:
                if isinstance(pair, list | tuple) and len(pair) == 2 and pair[0] == "SAMLResponse":
                    found.append((f"SAML-tracer-item {number} ({url}), SAMLResponse", str(pair[1]), False))
    return found


def _from_json(data: bytes, *, max_bytes: int) -> Extracted:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise InputError("malformed", "Het bestand lijkt JSON maar is niet leesbaar.")
    if not isinstance(document, dict):
        raise InputError("malformed", "Het JSON-bestand is geen HAR en geen SAML-tracer-export.")
    try:
        if "log" in document:
            kind, candidates = "HAR-bestand", _har_candidates(document)
        elif "requests" in document:
            kind, candidates = "SAML-tracer-export", _tracer_candidates(document)
        else:
            raise InputError("malformed", "Het JSON-bestand is geen HAR en geen SAML-tracer-export.")
    except (AttributeError, TypeError):
        # A member has another type than a HAR or SAML-tracer export gives it (e.g. "log": 5).
        raise InputError("malformed", "Het JSON-bestand heeft niet de vorm van een HAR of SAML-tracer-export.")
    if not candidates:
        artifact_only = b"SAMLart" in data
        hint = (
            " Er staat alleen een artefact (SAMLart) in; het antwoord zelf gaat niet via de browser."
            if artifact_only
            else ""
        )
        raise InputError("malformed", f"In dit {kind} staat geen SAML-antwoord (SAMLResponse).{hint}")
    # The last answer is the one that ended the login the user is asking about.
    where, value, is_xml = candidates[-1]
    more = f"; {len(candidates)} gevonden, de laatste gebruikt" if len(candidates) > 1 else ""
    if is_xml:
        message = value.encode("utf-8")
        if len(message) > max_bytes:
            raise InputError("too-large", f"{where}: het bericht is groter dan {max_bytes} bytes.")
        return Extracted(message, f"{kind}, {where}{more}")
    extracted = _from_text_value(value, max_bytes=max_bytes, where=f"{kind}, {where}{more}")
    return extracted


def extract(data: bytes, *, max_bytes: int = xmlsafe.DEFAULT_MAX_BYTES) -> Extracted:
    """The SAML message inside ``data``; InputError when there is none or it is too large."""
    if len(data) > MAX_CONTAINER_BYTES:
        raise InputError("too-large", f"Het bestand is groter dan {MAX_CONTAINER_BYTES} bytes.")
    stripped = data.removeprefix(b"\xef\xbb\xbf").strip()
    if not stripped:
        raise InputError("malformed", "Het bestand is leeg.")
    if stripped.startswith(b"<"):
        return Extracted(stripped, "XML-bestand")
    if stripped[:1] in (b"{", b"["):
        return _from_json(stripped, max_bytes=max_bytes)
    try:
        text = stripped.decode("ascii")
    except UnicodeDecodeError:
        raise InputError("malformed", "Het bestand is geen XML, geen JSON en geen base64-tekst.")
    value = _form_value(text)
    if value is not None:
        return _from_text_value(value, max_bytes=max_bytes, where="formulierwaarde SAMLResponse")
    if not _BASE64ISH.fullmatch(text):
        raise InputError("malformed", "Het bestand is geen XML, geen JSON en geen base64-tekst.")
    return _from_text_value(text, max_bytes=max_bytes, where="base64-tekst")
