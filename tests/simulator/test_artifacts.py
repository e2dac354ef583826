"""The pending answer as it is kept in the shared store between the SSO and the ARS."""

from __future__ import annotations

import base64
import json

from lxml import etree

from diagnostics.simulator.artifacts import Pending, _BuiltResponses

RESPONSE = (
    b'<?xml version="1.0"?>\n<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">\n</samlp:Response>'
)


def test_the_stored_layout_is_the_one_the_previous_release_reads() -> None:
    """During a rolling restart an older worker may answer the ArtifactResolve for an artifact a newer one
    stored: one JSON object, the Response in base64, the dienst under "sp"."""
    pending = Pending("success-loa3", RESPONSE, "urn:etoegang:DV:00000009999999999000:entities:9001")

    assert json.loads(pending.dumps()) == {
        "scenario": "success-loa3",
        "response": base64.b64encode(RESPONSE).decode(),
        "sp": "urn:etoegang:DV:00000009999999999000:entities:9001",
    }
    assert Pending.loads(pending.dumps()) == pending


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
