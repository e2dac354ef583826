"""The pending answer as it is kept in the shared store between the SSO and the ARS."""

from __future__ import annotations

import base64
import json

from lxml import etree

from diagnostics.simulator.artifacts import Pending, _BuiltResponses

RESPONSE = (
    b'<?xml version="1.0"?>\n<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">\n</samlp:Response>'
)


def test_the_response_is_kept_as_it_is_not_in_base64() -> None:
    pending = Pending("success-loa3", RESPONSE, "urn:etoegang:DV:00000009999999999000:entities:9001")

    payload = pending.dumps()

    assert payload.endswith(b"\n" + RESPONSE)
    assert base64.b64encode(RESPONSE) not in payload
    assert Pending.loads(payload) == pending


def test_a_newline_in_a_name_does_not_cut_the_header_short() -> None:
    pending = Pending("success\nloa3", RESPONSE, "urn:x\n<samlp:Response/>")

    assert Pending.loads(pending.dumps()) == pending


def test_an_entry_written_by_an_older_worker_is_still_read() -> None:
    old = json.dumps(
        {"scenario": "success-loa3", "response": base64.b64encode(RESPONSE).decode(), "sp": "urn:x"}
    ).encode()
    before_sp = json.dumps({"scenario": "success-loa3", "response": base64.b64encode(RESPONSE).decode()}).encode()

    assert Pending.loads(old) == Pending("success-loa3", RESPONSE, "urn:x")
    assert Pending.loads(before_sp).sp_entity_id == ""  # names no dienst, so no dienst can resolve it


def test_logins_that_never_come_back_push_out_the_oldest_element() -> None:
    kept = _BuiltResponses(entries=2)
    for handle in ("a", "b", "c"):
        kept.keep(handle, handle.encode(), etree.Element(handle))

    assert kept.take("a", b"a") is None
    assert kept.take("c", b"c") is not None
    assert kept.take("c", b"c") is None  # handed out once


def test_an_element_whose_response_is_not_the_stored_one_is_not_handed_out() -> None:
    kept = _BuiltResponses(entries=2)
    kept.keep("a", b"<a/>", etree.Element("a"))

    assert kept.take("a", b"<changed/>") is None
    assert kept.take("a", b"<a/>") is None  # forgotten at the first take
