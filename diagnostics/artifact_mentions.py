"""Artifacts in pasted text: which inlogtests a HAR, a SAML-tracer export, a URL or a bare artifact names.

With HTTP-Artifact (how eHerkenning answers) the browser carries only a short reference, the artifact
(``SAMLart``), and the RelayState back to our ACS; the answer itself goes from the broker to us over the
back channel. So a HAR of a real test normally holds no answer to check. What it does hold names the test:
our RelayState is ``/diagnose/<reference>`` (``roundtrip.relay_state_for``), and our ACS answers with a
redirect to that same result page. A test that never came back (no machtiging, a broker that hangs) left
only the way out: the AuthnRequest to the broker, with the same RelayState. This module only reads; the
console (``servicedesk/paste.py``) looks the tests up, and ``inloghulp explain`` names them.

Nothing read here is logged or kept: a pasted HAR holds cookies, names and the like. What leaves this
module is a reference code in canonical form, an artifact's SourceID (a hash of the broker's entity id)
and a position in the file.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from diagnostics import reference
from diagnostics.roundtrip import reference_from_relay_state
from diagnostics.saml.artifact import ArtifactError, parse_artifact

# A type 0x0004 artifact is 44 bytes: 60 base64 characters, maybe URL-encoded or with URL-safe characters.
_BARE_ARTIFACT = re.compile(r"^[A-Za-z0-9+/=%_-]{56,100}$")
# Our result page, the ACS's redirect target after it took the artifact.
_RESULT_PATH = re.compile(r"/diagnose/([A-Za-z0-9-]{10,20})$")


@dataclass(frozen=True)
class Mention:
    """One request that carried an inlogtest: back from the broker with an artifact, or out to it."""

    # The inlogtest's reference code (from the RelayState or our ACS's redirect), or None.
    reference: str | None
    # Which broker made the artifact: SHA-1 of its entity id; None without a type 0x0004 artifact.
    source_id: bytes | None
    # In Dutch, where in the pasted text: "item 7 van het HAR-bestand".
    where: str
    # True for the way back (an artifact), False for the AuthnRequest on its way to the broker.
    came_back: bool = True


@dataclass(frozen=True)
class Found:
    """What kind of text was pasted (a Dutch noun phrase) and the tests it mentions, in the browser's order."""

    kind: str
    mentions: tuple[Mention, ...]


def _source_id(artifact: str) -> bytes | None:
    try:
        return parse_artifact(artifact)[1]
    except ArtifactError:
        return None


def _reference(relay_state: str | None) -> str | None:
    return reference_from_relay_state(relay_state.strip()) if relay_state else None


def _same_endpoint(url: str, acs_url: str) -> bool:
    """Whether ``url`` is our ACS (scheme, host and path; the query does not matter)."""
    mine, theirs = urlsplit(acs_url), urlsplit(url)
    return (theirs.scheme, theirs.netloc.lower(), theirs.path) == (mine.scheme, mine.netloc.lower(), mine.path)


def _redirected_reference(location: str) -> str | None:
    """The reference our ACS redirected to (``/diagnose/BHP-…``), or None."""
    match = _RESULT_PATH.search(urlsplit(location).path)
    return reference.normalise(match[1]) if match else None


def _pairs(value: Any) -> dict[str, str]:
    """``{name: value}`` from a HAR list of ``{"name", "value"}`` objects or SAML-tracer ``[name, value]`` pairs."""
    found: dict[str, str] = {}
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            found.setdefault(item["name"], str(item.get("value", "")))
        elif isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[0], str):
            found.setdefault(item[0], str(item[1]))
    return found


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def _mention(values: dict[str, str], where: str) -> Mention | None:
    """The test one request's parameters mention: an artifact coming back, or an AuthnRequest of ours going out."""
    ref = _reference(values.get("RelayState"))
    if values.get("SAMLart"):
        return Mention(ref, _source_id(values["SAMLart"]), where)
    if values.get("SAMLRequest") and ref is not None:
        return Mention(ref, None, where, came_back=False)
    return None


def _from_request(url: str, form: dict[str, str], where: str, *, location: str, acs_url: str) -> Mention | None:
    """The test in one request's URL (Redirect binding) or form (POST binding)."""
    found = _mention({**_query(url), **form}, where)
    if found is not None and found.reference is None and location and _same_endpoint(url, acs_url):
        # Our own ACS, reached without a RelayState: its redirect names the result page of the test.
        return Mention(_redirected_reference(location), found.source_id, where)
    return found


def _header(headers: Any, name: str) -> str:
    return next(
        (str(h.get("value", "")) for h in headers if isinstance(h, dict) and str(h.get("name", "")).lower() == name),
        "",
    )


def _member(document: dict[str, Any], name: str) -> dict[str, Any]:
    """``document[name]`` when it is an object; an empty one otherwise (a HAR from another tool may lack it)."""
    value = document.get(name)
    return value if isinstance(value, dict) else {}


def _har_mentions(document: dict[str, Any], acs_url: str) -> list[Mention]:
    entries = document["log"].get("entries") or []
    found: list[Mention] = []
    for number, entry in enumerate(entries if isinstance(entries, list) else [], start=1):
        if not isinstance(entry, dict):
            continue
        request, response = _member(entry, "request"), _member(entry, "response")
        post = _member(request, "postData")
        form = _pairs(post.get("params"))
        if not form and isinstance(post.get("text"), str) and "SAML" in post["text"]:
            form = dict(parse_qsl(post["text"]))
        headers = response.get("headers") if isinstance(response.get("headers"), list) else []
        location = str(response.get("redirectURL") or "") or _header(headers, "location")
        where = f"item {number} van het HAR-bestand"
        mention = _from_request(str(request.get("url", "")), form, where, location=location, acs_url=acs_url)
        if mention is not None:
            found.append(mention)
    return found


def _tracer_mentions(document: dict[str, Any], acs_url: str) -> list[Mention]:
    items = document.get("requests") or []
    found: list[Mention] = []
    for number, item in enumerate(items if isinstance(items, list) else [], start=1):
        if not isinstance(item, dict):
            continue
        form = {**_pairs(item.get("get")), **_pairs(item.get("post"))}
        where = f"item {number} van de SAML-tracer-export"
        mention = _from_request(str(item.get("url", "")), form, where, location="", acs_url=acs_url)
        if mention is not None:
            found.append(mention)
    return found


def _from_json(text: str, acs_url: str) -> Found | None:
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    try:
        if isinstance(document.get("log"), dict):
            return Found("Dit HAR-bestand", tuple(_har_mentions(document, acs_url)))
        if "requests" in document:
            return Found("Deze SAML-tracer-export", tuple(_tracer_mentions(document, acs_url)))
    except (AttributeError, TypeError):
        return None  # a member of another type than the format gives it: not ours to guess at
    return None


def _from_url(text: str) -> Found | None:
    """A pasted ``/saml/acs?SAMLart=…&RelayState=…`` (whole URL, path or query string), or the URL to the broker."""
    if any(character.isspace() for character in text):
        return None
    query = text.split("?", 1)[1] if "?" in text else text
    found = _mention(dict(parse_qsl(query.split("#", 1)[0])), "de geplakte URL")
    return Found("Deze URL", (found,)) if found is not None else None


def _bare_artifact(text: str) -> Found | None:
    """A pasted artifact on its own: only a 44-byte type 0x0004 artifact counts, not any base64."""
    if not _BARE_ARTIFACT.fullmatch(text):
        return None
    value = unquote(text).replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    source = _source_id(base64.b64encode(raw).decode("ascii"))
    if source is None:
        return None
    return Found("Deze tekst", (Mention(None, source, "de geplakte tekst"),))


def find(text: str, acs_url: str) -> Found | None:
    """The tests ``text`` mentions (by artifact or by our RelayState); None when it mentions none."""
    stripped = text.removeprefix("\ufeff").strip()
    if stripped[:1] in ("{", "["):
        found = _from_json(stripped, acs_url)
    elif "SAMLart=" in stripped or "SAMLRequest=" in stripped:
        found = _from_url(stripped)
    else:
        found = _bare_artifact(stripped)
    if found is None:
        return None
    # A SAMLart that is no artifact and names no test is just bad input: the paste box says "unreadable".
    useful = tuple(m for m in found.mentions if m.reference is not None or m.source_id is not None)
    return Found(found.kind, useful) if useful else None
