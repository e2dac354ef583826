"""The console's last-line redaction: identifiers are masked, protocol values stay readable."""

from __future__ import annotations

import hashlib

import pytest

from diagnostics.servicedesk.redact import redact, redact_text

PSEUDONYM = hashlib.sha256(b"x").hexdigest()


@pytest.mark.parametrize(
    ("text", "hidden", "kept"),
    [
        ("KvK-nummer 90000001 gevonden", "90000001", "******01"),
        ("RSIN 123456789.", "123456789", "*******89"),
        (f"pseudoniem {PSEUDONYM}", PSEUDONYM, f"{PSEUDONYM[:4]}…{PSEUDONYM[-4:]}"),
    ],
)
def test_identifiers_are_masked(text: str, hidden: str, kept: str) -> None:
    result = redact_text(text)
    assert hidden not in result
    assert kept in result


@pytest.mark.parametrize(
    "text",
    [
        "urn:etoegang:DV:00000009999999999000:entities:9001",
        "2026-11-29T05:07:39+00:00",
        "BHP-7K3Q-9D2F",
        "urn:etoegang:core:assurance-class:loa2plus",
        "http://127.0.0.1:8000/saml/acs",
    ],
)
def test_protocol_values_stay_readable(text: str) -> None:
    assert redact_text(text) == text


def test_nested_structures_are_redacted() -> None:
    data = {"checks": [{"detail": "KvK 90000001", "data": {"kvk": "90000001"}}], "n": 3}
    assert redact(data) == {"checks": [{"detail": "KvK ******01", "data": {"kvk": "******01"}}], "n": 3}
