"""Hostile XML, base64 and deflate are refused with a stable diagnosis id, never parsed or expanded."""

from __future__ import annotations

import base64
import zlib
from pathlib import Path

import pytest

from diagnostics import xmlsafe


def refused(data: bytes, **kwargs: int) -> str:
    with pytest.raises(xmlsafe.UnsafeXmlError) as info:
        xmlsafe.parse(data, **kwargs)
    assert info.value.message
    return info.value.diagnosis


def test_parses_plain_saml() -> None:
    root = xmlsafe.parse(b'<?xml version="1.0" encoding="UTF-8"?><samlp:Response xmlns:samlp="urn:x" ID="_1"/>')
    assert root.get("ID") == "_1"


def test_byte_order_mark_is_allowed() -> None:
    assert xmlsafe.parse(b"\xef\xbb\xbf<a/>").tag == "a"


def test_size_limit() -> None:
    assert refused(b"<a>" + b"x" * 2000 + b"</a>", max_bytes=1024) == "too-large"


def test_xxe_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("geheim")
    document = f'<!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}">]><a>&x;</a>'.encode()
    assert refused(document) == "malformed"


def test_external_dtd_is_refused() -> None:
    assert refused(b'<!DOCTYPE a SYSTEM "http://127.0.0.1:1/evil.dtd"><a/>') == "malformed"


def test_billion_laughs_is_refused() -> None:
    entities = '<!ENTITY l0 "ha">' + "".join(f'<!ENTITY l{i} "{"&l" + str(i - 1) + ";" * 10}">' for i in range(1, 10))
    assert refused(f"<!DOCTYPE a [{entities}]><a>&l9;</a>".encode()) == "malformed"


def test_doctype_hidden_in_lowercase_or_spacing_is_refused() -> None:
    assert refused(b"<!doctype a><a/>") == "malformed"


def test_undeclared_entity_reference_is_malformed() -> None:
    assert refused(b"<a>&evil;</a>") == "malformed"


def test_xinclude_is_refused() -> None:
    document = b'<a xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="/etc/passwd" parse="text"/></a>'
    assert refused(document) == "malformed"


def test_deep_nesting_is_refused() -> None:
    assert refused(b"<a>" * 150 + b"</a>" * 150) == "malformed"
    assert xmlsafe.parse(b"<a>" * 50 + b"</a>" * 50).tag == "a"


def test_very_deep_nesting_beyond_libxml2_is_refused() -> None:
    assert refused(b"<a>" * 5000 + b"</a>" * 5000) == "malformed"


def test_invalid_utf8_is_refused() -> None:
    assert refused(b"<a>\xff\xfe</a>") == "malformed"


def test_not_xml_and_empty() -> None:
    assert refused(b"hello") == "malformed"
    assert refused(b"   ") == "malformed"
    assert refused(b"<a><b></a>") == "malformed"


def test_b64decode() -> None:
    assert xmlsafe.b64decode(base64.b64encode(b"<a/>").decode() + "\n") == b"<a/>"
    with pytest.raises(xmlsafe.UnsafeXmlError) as info:
        xmlsafe.b64decode("not*base64!")
    assert info.value.diagnosis == "malformed"
    with pytest.raises(xmlsafe.UnsafeXmlError) as info:
        xmlsafe.b64decode(base64.b64encode(b"x" * 5000), max_bytes=1024)
    assert info.value.diagnosis == "too-large"


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def test_inflate_round_trip() -> None:
    assert xmlsafe.inflate(deflate(b"<samlp:Response/>")) == b"<samlp:Response/>"


def test_deflate_bomb_stops_at_the_cap() -> None:
    bomb = deflate(b"\0" * 50_000_000)
    assert len(bomb) < 100_000
    with pytest.raises(xmlsafe.UnsafeXmlError) as info:
        xmlsafe.inflate(bomb, max_bytes=512_000)
    assert info.value.diagnosis == "too-large"


def test_broken_deflate_is_malformed() -> None:
    with pytest.raises(xmlsafe.UnsafeXmlError) as info:
        xmlsafe.inflate(b"\xff\xff\xff garbage")
    assert info.value.diagnosis == "malformed"
    with pytest.raises(xmlsafe.UnsafeXmlError) as info:
        xmlsafe.inflate(deflate(bytes(range(256)) * 4)[:100])
    assert info.value.diagnosis == "malformed"
