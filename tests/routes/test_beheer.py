"""The operator's certificate page shows what /api/v1/certificates reports, in words, without JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient

from diagnostics import certs
from diagnostics.settings import load_settings
from diagnostics.simulator.metadata import broker_metadata

PAGE = "/beheer/certificaten"


def _pair(tmp_path: Path, name: str, **kwargs: Any) -> Path:
    cert_file = tmp_path / f"{name}-cert.pem"
    certs.write(certs.generate(name, **kwargs), tmp_path / f"{name}-key.pem", cert_file)
    return cert_file


@pytest.fixture
def broker_from_file(write_config: Callable[..., Path], tmp_path: Path) -> dict[str, str]:
    """A broker whose metadata is a file (the simulator's), so no request leaves the test."""
    metadata_file = tmp_path / "broker-metadata.xml"
    metadata_file.write_bytes(broker_metadata(load_settings(write_config())))
    return {"id": "hm", "name": "Makelaar", "metadata_file": str(metadata_file)}


@pytest.fixture
def client(
    app_client: Callable[..., TestClient],
    write_config: Callable[..., Path],
    tmp_path: Path,
    broker_from_file: dict[str, str],
) -> TestClient:
    """Our current certificate, a next one that expires in 10 days, a broker from a file and one unreachable."""
    overrides = {
        "sp": {
            "next_cert_file": str(_pair(tmp_path, "Next", days=11)),
            "next_cert_activation": (datetime.now(UTC) + timedelta(days=5)).date().isoformat(),
        },
        "brokers": [broker_from_file, {"id": "gone", "name": "Weg", "metadata_url": "http://127.0.0.1:9/metadata"}],
    }
    return app_client(load_settings(write_config(overrides)))


def _articles(html: str) -> list[Tag]:
    return BeautifulSoup(html, "html.parser").select("article.certificate")


def _shown(article: Tag) -> tuple[str, str, str | None, int | None]:
    fingerprint = article.select_one("[data-fingerprint]")
    days = article.select_one("data[data-days-left]")
    return (
        str(article["data-owner"]),
        str(article["data-role"]),
        fingerprint.get_text() if fingerprint else None,
        int(str(days["value"])) if days else None,
    )


def _word(article: Tag) -> str:
    badge = article.select_one(".status")
    assert badge is not None
    return badge.get_text(" ", strip=True).removeprefix("! ").removeprefix("✓ ").removeprefix("✗ ")


def test_page_lists_every_certificate_of_the_json_with_the_same_fingerprints_and_days(client: TestClient) -> None:
    report = client.get("/api/v1/certificates").json()
    response = client.get(PAGE)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    expected = [
        (row["owner"], row["role"], row["fingerprint_sha256"], row["days_left"]) for row in report["certificates"]
    ]
    assert [_shown(article) for article in _articles(response.text)] == expected
    assert {owner for owner, *_ in expected} == {"sp", "hm", "gone"}
    assert all(fingerprint for owner, _, fingerprint, _ in expected if owner != "gone")
    # The days are also said in words next to the number the machine reads.
    for article in _articles(response.text):
        days = article.select_one("data[data-days-left]")
        if days is not None:
            assert f"{days['value']} dag" in days.get_text()


def test_a_certificate_expiring_in_10_days_says_so_and_who_acts(client: TestClient) -> None:
    articles = {(a["data-owner"], a["data-role"]): a for a in _articles(client.get(PAGE).text)}
    upcoming = articles[("sp", "next")]
    assert _shown(upcoming)[3] == 10
    assert _word(upcoming) == "Verloopt binnen 30 dagen"
    assert "Beheer (u)" in upcoming.get_text()
    assert _word(articles[("sp", "current")]) == "Geldig"
    assert _word(articles[("hm", "signing")]) == "Geldig"
    assert "De makelaar (Makelaar)" in articles[("hm", "signing")].get_text()
    assert _word(articles[("gone", "signing")]) == "Niet te lezen"


def test_an_expired_certificate_says_verlopen(
    app_client: Callable[..., TestClient],
    write_config: Callable[..., Path],
    tmp_path: Path,
    broker_from_file: dict[str, str],
) -> None:
    old = _pair(tmp_path, "Old", days=5, not_before=datetime.now(UTC) - timedelta(days=10))
    config = write_config({"sp": {"cert_file": str(old)}, "brokers": [broker_from_file]})
    page = BeautifulSoup(app_client(load_settings(config)).get(PAGE).text, "html.parser")
    current = page.select_one('article[data-owner="sp"][data-role="current"]')
    assert current is not None
    assert _word(current) == "Verlopen"
    days = _shown(current)[3]
    assert days is not None and days < 0
    assert f"Verlopen, {-days} dagen geleden" in current.get_text()
    summary = page.select_one("[data-summary]")
    assert summary is not None and summary["data-summary"] == "error"
    assert "Actie nodig" in summary.get_text()
    assert summary.select_one('a[href="#sp-current"]') is not None


def test_page_is_complete_without_javascript(client: TestClient) -> None:
    page = BeautifulSoup(client.get(PAGE).text, "html.parser")
    assert page.select("#inhoud button") == []  # the copy buttons come from card.js only
    for code in page.select("[data-fingerprint]"):
        # card.js reads these to make its copy buttons; the text itself is the whole fingerprint.
        assert code.get("data-bhk-field") and code.get("data-bhk-label")
        assert len(code.get_text()) == 64
    # The same frame as the other service pages: the operators' navigation and the contact block.
    assert page.select_one("nav[aria-label='Beheer']") is not None
    assert "support@broservicedesk.nl" in page.select_one("section.inloghulp-contact").get_text()  # type: ignore[union-attr]
    # card.js comes in the site's one script of its own (diagnostics/site_bundle.py).
    assert page.select_one('script[src^="/assets/javascripts/inloghulp."][src$=".min.js"]') is not None


def test_json_points_to_the_page(client: TestClient) -> None:
    assert client.get("/api/v1/certificates").headers["link"] == f'<{PAGE}>; rel="alternate"; type="text/html"'
    assert client.get("/api/v1/status").headers["link"] == f'<{PAGE}>; rel="alternate"; type="text/html"'


def test_page_is_open_like_the_json_and_refuses_other_methods(client: TestClient) -> None:
    assert client.get(PAGE).status_code == 200  # no servicedesk login, like /api/v1/certificates
    response = client.post(PAGE)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


def _rows(article: Tag) -> dict[str, str]:
    return {
        dt.get_text(strip=True): " ".join(dd.get_text(" ").split())
        for dt, dd in ((row.find("dt"), row.find("dd")) for row in article.select("dl > div"))
        if dt is not None and dd is not None
    }


def test_toelichting_only_says_what_the_rows_above_do_not(client: TestClient) -> None:
    articles = {(a["data-owner"], a["data-role"]): a for a in _articles(client.get(PAGE).text)}
    for key in [("sp", "current"), ("sp", "next"), ("hm", "signing")]:
        rows = _rows(articles[key])
        assert "Geldig tot:" in rows and "Toelichting:" not in rows, key
    unreadable = _rows(articles[("gone", "signing")])
    report = {(r["owner"], r["role"]): r for r in client.get("/api/v1/certificates").json()["certificates"]}
    assert unreadable["Toelichting:"] == report[("gone", "signing")]["message"]


def test_page_has_the_operators_navigation_not_the_medewerkers(client: TestClient) -> None:
    page = BeautifulSoup(client.get(PAGE).text, "html.parser")
    nav = page.select_one("nav[aria-label='Beheer']")
    assert nav is not None
    current = nav.select_one('[aria-current="page"]')
    assert current is not None and current["href"] == PAGE
    links = [str(a["href"]) for a in nav.select("a")]
    assert "/diagnose" not in links
    for href in links:
        assert client.get(href).status_code == 200, href
