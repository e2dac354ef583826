"""The operator's certificate page in Chromium: axe, copy buttons that copy exactly the fingerprint, no-JS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from diagnostics import certs
from tests.browser.pages import settled

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PAGE = "/beheer/certificaten"

pytestmark = pytest.mark.browser


@pytest.fixture
def server(live_server: Callable[..., Any], built_site_dir: Path, tmp_path: Path) -> Any:
    # A next certificate that expires in 10 days, so the page also shows a warning.
    certs.write(certs.generate("Next", days=11), tmp_path / "next-key.pem", tmp_path / "next-cert.pem")
    sp = {
        "next_cert_file": str(tmp_path / "next-cert.pem"),
        "next_cert_activation": (datetime.now(UTC) + timedelta(days=5)).date().isoformat(),
    }
    return live_server({"site_dir": str(built_site_dir), "sp": sp})


def _fingerprints(page: Page, base: str) -> list[str]:
    response = page.request.get(f"{base}/api/v1/certificates")
    assert response.ok
    found = [row["fingerprint_sha256"] for row in response.json()["certificates"]]
    assert len(found) == 3 and all(found), found  # sp current, sp next, the simulator's signing key
    return found


def test_certificate_page_passes_axe(page: Page, server: Any) -> None:
    page.goto(f"{server.url}{PAGE}")
    expect(page.locator("button[data-bhk-copy]").first).to_be_visible()
    expect(page.get_by_text("Verloopt binnen 30 dagen").first).to_be_visible()
    settled(page)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    assert results.violations_count == 0, results.generate_report()


def test_each_copy_button_copies_exactly_its_fingerprint(browser: Browser, server: Any) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(f"{server.url}{PAGE}")
    fingerprints = _fingerprints(page, server.url)
    articles = page.locator("article.certificate")
    expect(articles).to_have_count(len(fingerprints))
    for index, fingerprint in enumerate(fingerprints):
        article = articles.nth(index)
        button = article.locator("button[data-bhk-copy]")
        expect(button).to_have_count(1)
        button.click()
        expect(article.locator("[data-bhk-status]")).to_have_text(
            f"{article.locator('[data-bhk-field]').get_attribute('data-bhk-label')} is gekopieerd."
        )
        assert page.evaluate("navigator.clipboard.readText()") == fingerprint
    context.close()


def test_without_javascript_every_fingerprint_shows(browser: Browser, server: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    fingerprints = _fingerprints(page, server.url)
    page.goto(f"{server.url}{PAGE}")
    # The copy buttons are made by JavaScript; the page's own content has none without it.
    expect(page.locator("main button:not(.md-top)")).to_have_count(0)  # Material's own back-to-top button aside
    expect(page.locator("[data-fingerprint]")).to_have_text(fingerprints)
    expect(page.locator("main")).to_contain_text("Verloopt binnen 30 dagen")
    context.close()


def test_copy_button_keeps_clear_of_its_fingerprint(page: Page, server: Any) -> None:
    page.goto(f"{server.url}{PAGE}")
    expect(page.locator("button[data-bhk-copy]").first).to_be_visible()
    # Each line box of the fingerprint against the button, widened by 4 px: none may touch it.
    touching = page.evaluate(
        """() => [...document.querySelectorAll("[data-fingerprint]")].map((code) => {
            const button = code.parentNode.querySelector("button[data-bhk-copy]").getBoundingClientRect();
            return [...code.getClientRects()].some((line) =>
                line.left < button.right + 4 && button.left - 4 < line.right &&
                line.top < button.bottom && button.top < line.bottom);
        })"""
    )
    assert touching and not any(touching), touching
