"""Safe reading of untrusted XML, base64 and deflate: every hostile trick ends in a stable diagnosis id.

SAML arrives from brokers and from files pasted by the servicedesk. Nothing here resolves entities,
loads a DTD, follows XInclude or touches the network; size and depth are capped before and after
parsing, so a billion-laughs, XXE or deflate bomb costs nothing and says ``malformed`` / ``too-large``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import threading
import zlib
from typing import Any

from lxml import etree

from diagnostics.problems import Problem

DEFAULT_MAX_BYTES = 512_000
MAX_DEPTH = 100
_XINCLUDE = etree.XPath(
    "boolean(//*[namespace-uri() = 'http://www.w3.org/2001/XInclude' or namespace-uri() = 'http://www.w3.org/2003/XInclude'])"
)
_DOCTYPE = re.compile(rb"<!\s*DOCTYPE|<!\s*ENTITY", re.IGNORECASE)
_WHITESPACE = re.compile(rb"\s+")


class UnsafeXmlError(Problem):
    """Input that is refused before any check runs: ``malformed`` or ``too-large``."""


_THREAD = threading.local()


def parser() -> etree.XMLParser:
    """This thread's parser that resolves nothing, loads nothing and keeps libxml2's size limits.

    Built once per thread: creating a parser costs more than parsing a NameID, and one parser
    object is not meant to be used by two threads at the same time.
    """
    safe: etree.XMLParser | None = getattr(_THREAD, "parser", None)
    if safe is None:
        safe = _THREAD.parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            dtd_validation=False,
            load_dtd=False,
            huge_tree=False,
            remove_blank_text=False,
            collect_ids=False,
        )
    return safe


@functools.cache
def _deeper_than(limit: int) -> etree.XPath:
    # One XPath step per level: levels below the actual depth are empty, so this stays cheap.
    return etree.XPath("boolean(" + "/*" * (limit + 1) + ")")


def parse(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = MAX_DEPTH) -> etree._Element:
    """The root element of ``data``; raises UnsafeXmlError for anything unsafe, too big or not XML."""
    if len(data) > max_bytes:
        raise UnsafeXmlError("too-large", f"Het bericht is {len(data)} bytes; de grens is {max_bytes} bytes.")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnsafeXmlError("malformed", f"Het bericht is geen geldige UTF-8 (fout op positie {exc.start}).")
    if _DOCTYPE.search(data):
        raise UnsafeXmlError("malformed", "Het bericht bevat een DOCTYPE of ENTITY. Dat is in SAML niet toegestaan.")
    if not data.strip():
        raise UnsafeXmlError("malformed", "Het bericht is leeg.")
    try:
        tree = etree.ElementTree(etree.fromstring(data, parser()))
    except etree.XMLSyntaxError as exc:
        raise UnsafeXmlError("malformed", f"Het bericht is geen geldige XML: {exc.msg}.")
    except ValueError as exc:  # e.g. an XML declaration with an encoding lxml cannot use on bytes
        raise UnsafeXmlError("malformed", f"Het bericht is geen geldige XML: {exc}.")
    # Belt and braces: the byte scan above should already have refused any document type declaration.
    docinfo: Any = tree.docinfo  # lxml-stubs lack DocInfo.doctype
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeXmlError("malformed", "Het bericht bevat een DOCTYPE. Dat is in SAML niet toegestaan.")
    root = tree.getroot()
    if _deeper_than(max_depth)(root):
        raise UnsafeXmlError("malformed", f"Het bericht is dieper genest dan {max_depth} niveaus.")
    if b"XInclude" in data and _XINCLUDE(root):
        raise UnsafeXmlError("malformed", "Het bericht bevat XInclude. Dat is in SAML niet toegestaan.")
    if next(root.iter(etree.Entity), None) is not None:
        raise UnsafeXmlError("malformed", "Het bericht bevat een entiteitsverwijzing.")
    return root


def b64decode(text: str | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Strict base64 (whitespace allowed, nothing else); refuses output over ``max_bytes``."""
    raw = text.encode("ascii", "replace") if isinstance(text, str) else text
    compact = _WHITESPACE.sub(b"", raw)
    if len(compact) // 4 * 3 > max_bytes:
        raise UnsafeXmlError("too-large", f"De base64-tekst is groter dan {max_bytes} bytes na decoderen.")
    if not compact:
        raise UnsafeXmlError("malformed", "De base64-tekst is leeg.")
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise UnsafeXmlError("malformed", "De tekst is geen geldige base64.")


def inflate(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Raw DEFLATE as used by the HTTP-Redirect binding, stopping at ``max_bytes`` (no deflate bombs)."""
    decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        output = decompressor.decompress(data, max_bytes + 1)
    except zlib.error:
        raise UnsafeXmlError("malformed", "De gecomprimeerde gegevens (DEFLATE) zijn ongeldig.")
    if len(output) > max_bytes or decompressor.unconsumed_tail:
        raise UnsafeXmlError("too-large", f"Uitgepakt is het bericht groter dan {max_bytes} bytes.")
    if not decompressor.eof:
        raise UnsafeXmlError("malformed", "De gecomprimeerde gegevens (DEFLATE) zijn onvolledig.")
    return output
