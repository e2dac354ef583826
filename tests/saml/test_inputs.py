"""Finding the SAML answer in XML, form values, HAR files and SAML-tracer exports."""

from __future__ import annotations

import base64
import json
import urllib.parse
import zlib

import pytest

from diagnostics.saml import inputs

MESSAGE = (
    b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r" Version="2.0">'
    b"<samlp:Status/></samlp:Response>"
)
ARTIFACT_RESPONSE = (
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
    b'<samlp:ArtifactResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_ar"/>'
    b"</soapenv:Body></soapenv:Envelope>"
)
B64 = base64.b64encode(MESSAGE).decode()


def refused(data: bytes, **kwargs: int) -> inputs.InputError:
    with pytest.raises(inputs.InputError) as info:
        inputs.extract(data, **kwargs)
    assert info.value.message
    return info.value


def test_raw_xml_with_bom_and_whitespace() -> None:
    found = inputs.extract(b"\xef\xbb\xbf\n  " + MESSAGE + b"\n")
    assert found.message == MESSAGE
    assert found.source == "XML-bestand"


def test_base64_form_value_with_line_breaks() -> None:
    wrapped = "\n".join(B64[i : i + 76] for i in range(0, len(B64), 76))
    found = inputs.extract(wrapped.encode())
    assert found.message == MESSAGE
    assert "base64" in found.source


def test_urlencoded_form_body() -> None:
    body = urllib.parse.urlencode({"SAMLResponse": B64, "RelayState": "/start"})
    assert "%2B" in body or "+" not in B64  # the encoder really had to escape something
    found = inputs.extract(body.encode())
    assert found.message == MESSAGE
    assert "SAMLResponse" in found.source


def test_form_value_pasted_with_raw_plus_signs() -> None:
    text = "SAMLResponse=" + base64.b64encode(MESSAGE + b"\xfb\xff").decode()
    assert "+" in text or "/" in text
    assert inputs.extract(text.encode()).message.startswith(MESSAGE)


def test_redirect_binding_deflate() -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    deflated = compressor.compress(MESSAGE) + compressor.flush()
    found = inputs.extract(base64.b64encode(deflated))
    assert found.message == MESSAGE
    assert "DEFLATE" in found.source


def test_deflate_bomb_is_too_large() -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    bomb = compressor.compress(b"<" + b"a" * 20_000_000) + compressor.flush()
    assert refused(base64.b64encode(bomb)).diagnosis == "too-large"


def test_invalid_base64_is_malformed() -> None:
    assert refused(b"SAMLResponse=abc$def").diagnosis == "malformed"
    assert refused(b"abc*def").diagnosis == "malformed"
    assert refused(base64.b64encode(b"just some bytes, no xml")).diagnosis == "malformed"


def test_empty_and_binary() -> None:
    assert refused(b"  \n").diagnosis == "malformed"
    assert refused(b"\x00\xff\xfe binary").diagnosis == "malformed"


def har(*entries: dict[str, object]) -> bytes:
    return json.dumps({"log": {"version": "1.2", "entries": list(entries)}}).encode()


def test_har_post_params_last_answer_wins() -> None:
    other = base64.b64encode(MESSAGE.replace(b'"_r"', b'"_first"')).decode()
    document = har(
        {"request": {"url": "https://sp/acs", "postData": {"params": [{"name": "SAMLResponse", "value": other}]}}},
        {"request": {"url": "https://sp/other", "method": "GET"}, "response": {"content": {"text": "<html/>"}}},
        {
            "request": {
                "url": "https://sp/acs",
                "postData": {"params": [{"name": "SAMLResponse", "value": urllib.parse.quote(B64)}]},
            }
        },
    )
    found = inputs.extract(document)
    assert found.message == MESSAGE
    assert "HAR" in found.source and "2 gevonden" in found.source


def test_har_post_text_body() -> None:
    body = urllib.parse.urlencode({"SAMLResponse": B64})
    document = har({"request": {"url": "https://sp/acs", "postData": {"text": body}}})
    assert inputs.extract(document).message == MESSAGE


def test_har_artifact_response_in_response_content() -> None:
    encoded = base64.b64encode(ARTIFACT_RESPONSE).decode()
    document = har(
        {
            "request": {"url": "https://broker/ars", "postData": {"text": "<soapenv:Envelope/>"}},
            "response": {"content": {"mimeType": "text/xml", "text": encoded, "encoding": "base64"}},
        }
    )
    found = inputs.extract(document)
    assert found.message == ARTIFACT_RESPONSE
    assert "antwoord" in found.source


def test_har_with_only_an_artifact_explains_why() -> None:
    document = har({"request": {"url": "https://sp/acs?SAMLart=AAQAAA&RelayState=x"}})
    error = refused(document)
    assert error.diagnosis == "malformed"
    assert "SAMLart" in error.message


def test_saml_tracer_export() -> None:
    document = json.dumps(
        {
            "requests": [
                {"url": "https://broker/sso", "method": "GET", "get": [["SAMLRequest", "abc"]]},
                {
                    "url": "https://sp/acs",
                    "method": "POST",
                    "post": [["SAMLResponse", B64], ["RelayState", "/"]],
                    "saml": MESSAGE.decode(),
                },
            ]
        }
    ).encode()
    found = inputs.extract(document)
    assert found.message == MESSAGE
    assert "SAML-tracer" in found.source


def test_saml_tracer_post_pairs_without_decoded_copy() -> None:
    document = json.dumps({"requests": [{"url": "https://sp/acs", "post": [["SAMLResponse", B64]]}]}).encode()
    assert inputs.extract(document).message == MESSAGE


def test_unknown_json() -> None:
    assert refused(b'{"hello": 1}').diagnosis == "malformed"
    assert refused(b"[1, 2]").diagnosis == "malformed"
    assert refused(b"{not json").diagnosis == "malformed"


def test_size_caps() -> None:
    big = base64.b64encode(b"<a>" + b"x" * 2000 + b"</a>")
    assert refused(big, max_bytes=1024).diagnosis == "too-large"
    document = har(
        {
            "request": {
                "url": "https://sp/acs",
                "postData": {"params": [{"name": "SAMLResponse", "value": big.decode()}]},
            }
        }
    )
    assert refused(document, max_bytes=1024).diagnosis == "too-large"
