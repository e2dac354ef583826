"""The business-address check: table tests for the function, and the API never echoes the address."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from diagnostics.app import create_app
from diagnostics.catalogue import load_catalogue
from diagnostics.email_check import check, consumer_domains
from diagnostics.settings import Settings

FORBIDDEN = ("ongeldig", "sorry", "oeps", "er is een fout opgetreden")


@pytest.mark.parametrize(
    ("address", "domain"),
    [
        ("jan.devries@gemeente-utrecht.nl", "gemeente-utrecht.nl"),
        ("J.de.Vries@Rijkswaterstaat.NL", "rijkswaterstaat.nl"),
        ("a.b+bro@hhnk.nl", "hhnk.nl"),
        ("piet@provincie.zeeland.nl", "provincie.zeeland.nl"),
        ("  info@wetterskip.frl  ", "wetterskip.frl"),
        ("jan@bücher.nl", "bücher.nl"),
        ("jan@xn--bcher-kva.nl", "bücher.nl"),
        ("josé@gemeente.nl", "gemeente.nl"),
    ],
)
def test_business_addresses_can_be_used(address: str, domain: str) -> None:
    result = check(address)
    assert result.ok, result
    assert result.reason == "business"
    assert result.domain == domain
    assert result.entry is None


@pytest.mark.parametrize(
    "address",
    [
        "jan@gmail.com",
        "jan@GMAIL.COM",
        "jan@outlook.com",
        "jan@hotmail.com",
        "jan@live.nl",
        "jan@ziggo.nl",
        "jan@kpnmail.nl",
        "jan@icloud.com",
        "jan@mail.gmail.com",
        "jan@gmail.com.",
    ],
)
def test_consumer_domains_are_refused_with_the_catalogue_explanation(address: str) -> None:
    result = check(address)
    assert not result.ok
    assert result.reason == "consumer-domain"
    assert result.entry == "email-not-business"
    entry = load_catalogue().entry("email-not-business")
    assert entry.cause in result.message
    assert "werk-e-mailadres" in result.message


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("jan.devries", "missing-at"),
        ("jan@@gemeente.nl", "missing-at"),
        ("jan@gemeente@nl", "missing-at"),
        ("@gemeente.nl", "bad-local-part"),
        ("jan..devries@gemeente.nl", "bad-local-part"),
        (".jan@gemeente.nl", "bad-local-part"),
        ("jan devries@gemeente.nl", "bad-local-part"),
        ('"jan"@gemeente.nl', "bad-local-part"),
        ("jan@", "bad-domain"),
        ("jan@gemeente", "bad-domain"),
        ("jan@gemeente..nl", "bad-domain"),
        ("jan@-gemeente.nl", "bad-domain"),
        ("jan@gemeente.n1", "bad-domain"),
        ("jan@gemeente .nl", "bad-domain"),
        ("jan@[127.0.0.1]", "bad-domain"),
    ],
)
def test_malformed_input_gets_a_specific_reason(address: str, reason: str) -> None:
    result = check(address)
    assert not result.ok
    assert result.reason == reason
    assert result.message
    assert not any(word in result.message.lower() for word in FORBIDDEN)


@pytest.mark.parametrize(
    "address",
    [
        "a" * 65 + "@gemeente.nl",
        "jan@" + ".".join(["a" * 60] * 5) + ".nl",
        "jan@" + "a" * 64 + ".nl",
        "x" * 5000,
        "a" * 64 + "@" + "b" * 62 + "." + "b" * 62 + "." + "b" * 63 + ".nl",
    ],
)
def test_very_long_input_is_refused(address: str) -> None:
    result = check(address)
    assert not result.ok
    assert result.reason in {"too-long", "bad-domain"}


def test_domain_list_comes_from_the_data_file() -> None:
    domains = consumer_domains()
    assert {"gmail.com", "outlook.com", "hotmail.com", "live.nl", "ziggo.nl", "kpnmail.nl", "icloud.com"} <= domains


def test_every_result_explains_the_gebruikersbeheerder_rule() -> None:
    assert "eHerkenning niveau 2+" in check("jan@gemeente.nl").gebruikersbeheerder_note


def test_result_never_holds_the_full_address() -> None:
    result = check("jan.devries@gmail.com")
    assert "jan.devries" not in result.model_dump_json()
    assert result.masked == "j***@gmail.com"


def test_api_answers_masked_and_logs_nothing(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(settings), base_url=settings.public_base_url) as client:
        response = client.post("/api/v1/email-check", json={"address": "pietje.puk@hotmail.com"})
        assert response.status_code == 200
        body = response.json()
        assert body["ok"] is False
        assert body["reason"] == "consumer-domain"
        assert body["masked"] == "p***@hotmail.com"
        assert "pietje.puk" not in response.text
        refused = client.post("/api/v1/email-check", json={"address": "x" * 4000 + "@secret-domain.nl"})
        assert refused.status_code == 422
        assert "secret-domain" not in refused.text
    assert "pietje.puk" not in caplog.text
    assert "secret-domain" not in caplog.text
